"""Reads a booking system's export (CSV) as a stream, row by row: its header, which way round its dates are, each
row checked, rows of one appointment merged."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import stat
from dataclasses import replace
from pathlib import Path

from brochures.files.safe_read import file_kind
from brochures.pack.appointments import Appointments, Rules, check_appointment, day_of
from brochures.pack.columns import COLUMNS, WHEN_COLUMNS, columns_of
from brochures.pack.date_order import DateOrder
from brochures.problems import Problem

# In one run: a day's or a week's bookings, not a whole history.
MAX_APPOINTMENTS = 2000
# Characters in one cell: a pasted essay is not a name.
MAX_FIELD = 2000


def open_text(path: Path) -> io.TextIOWrapper:
    """The file as UTF-8 text (a BOM is skipped), opened without blocking and only if it is a regular file."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise IsADirectoryError(f"expected a regular file, got {file_kind(mode)}")
        raw = io.FileIO(descriptor, "r", closefd=True)
    except BaseException:
        os.close(descriptor)
        raise
    return io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8-sig", newline="")


def sniff_delimiter(header_line: str) -> str:
    """Comma or semicolon (as Excel writes CSV where the comma is the decimal mark): the one the header uses more."""
    outside_quotes = re.sub(r'"[^"]*"', "", header_line)
    return ";" if outside_quotes.count(";") > outside_quotes.count(",") else ","


def read_appointments(path: Path, rules: Rules) -> Appointments:
    """Every row of an appointments file, checked. Read as a stream, so a huge file costs time, not memory."""
    result = Appointments()
    try:
        stream = open_text(path)
    except FileNotFoundError:
        result.add(Problem(path, None, "", "expected an appointments file (CSV), got a path that does not exist"))
        result.file_problem = True
        return result
    except OSError as error:
        result.add(
            Problem(
                path,
                None,
                "",
                str(error)
                if isinstance(error, IsADirectoryError) and str(error).startswith("expected")
                else f"expected a file this program may read, got one that cannot be read ({error.strerror})",
            )
        )
        result.file_problem = True
        return result
    previous_limit = csv.field_size_limit(MAX_FIELD)
    try:
        if not rules.settled:
            order = _date_order(path)
            if problem := order.problem(path, rules.say_date):
                stream.close()
                result.add(problem)
                result.file_problem = True
                return result
            settled = order.settled()
            rules = replace(rules, day_first=rules.day_first if settled is None else settled, settled=True)
        with stream:
            _read_rows(stream, path, rules, result)
    except UnicodeDecodeError:
        result.add(
            Problem(
                path, None, "", "expected UTF-8 text (in Excel: Save As \"CSV UTF-8\"), got bytes that are not UTF-8"
            )
        )
        result.file_problem = True
    finally:
        csv.field_size_limit(previous_limit)
    return result


def _date_order(path: Path) -> DateOrder:
    """A first, quick pass over the file's date cells alone: which way round its dates are. What it cannot read
    (not UTF-8, not CSV) the full reading reports."""
    order = DateOrder()
    try:
        with open_text(path) as stream:
            header_line = stream.readline()
            while header_line and not header_line.strip():
                header_line = stream.readline()
            reader = csv.reader(itertools.chain([header_line], stream), delimiter=sniff_delimiter(header_line))
            header = next(reader, [])
            index, _, ambiguous = columns_of(header)
            key = "when" if "when" in index else "date"
            if ambiguous or key not in index:
                return order
            position, line = index[key], reader.line_num + 1
            for cells in reader:
                start, line = line, reader.line_num + 1
                if position < len(cells):
                    order.see(cells[position], start, header[position].strip())
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return order


# What a cell that runs over lines most often is.
UNCLOSED = "most often a quote left open, which takes the lines after it into the cell (check its quotes)"


def _read_rows(stream: io.TextIOWrapper, path: Path, rules: Rules, result: Appointments) -> None:
    header_line = stream.readline()
    # Blank lines before the header.
    while header_line and not header_line.strip():
        header_line = stream.readline()
    if not header_line.strip():
        result.add(Problem(path, 1, "", "expected a header row, then one row per appointment; got an empty file"))
        result.file_problem = True
        return
    reader = csv.reader(itertools.chain([header_line], stream), delimiter=sniff_delimiter(header_line))
    header = next(reader)
    index, unknown, ambiguous = columns_of(header)
    if ambiguous:
        for name, positions in ambiguous.items():
            which = " and ".join(f'"{header[position].strip()}" (column {position + 1})' for position in positions)
            if name == WHEN_COLUMNS:
                message = (
                    f"expected the date and time in one column (appointment) or in two (date and time), got both: "
                    f"{which}; rename or remove the ones not to use"
                )
            else:
                label = "date and time" if name == "when" else name.replace("_", " ")
                message = (
                    f"expected one column for {label}, got {len(positions)}: {which}; rename or remove all but one"
                )
            result.add(Problem(path, reader.line_num, "columns", message))
        result.file_problem = True
        return
    missing = [name for name in ("first_name", "email", "treatments") if name not in index]
    if "when" not in index:
        missing += [name for name in ("date", "time") if name not in index]
    if missing:
        wanted = "; ".join(f"{name.replace('_', ' ')} (or {', '.join(COLUMNS[name][:3])})" for name in missing)
        found = ", ".join(f'"{text.strip()}"' for text in header if text.strip()) or "none"
        result.add(
            Problem(path, reader.line_num, "columns", f"expected a column for {wanted}; found the columns {found}")
        )
        result.file_problem = True
        return
    names = {name: header[position].strip() for name, position in index.items()}
    # Who and when: (the first line, the position in result.appointments)
    seen: dict[str, tuple[int, int]] = {}
    line = reader.line_num + 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            result.rows += 1
            # The row's last line: more than its first when a quoted cell runs over lines.
            end = reader.line_num
            if len(cells) != len(header):
                hint = (
                    " (a comma or semicolon inside a cell needs quotes around the cell)"
                    if len(cells) > len(header)
                    else ""
                )
                if end > start:
                    hint += f"; lines {start} to {end} were read as this one row: {UNCLOSED}"
                result.add(
                    Problem(path, start, "", f"expected {len(header)} cells, one per column, got {len(cells)}{hint}")
                )
                continue
            values = {name: cells[position] if position < len(cells) else None for name, position in index.items()}
            if broken := [name for name, value in values.items() if value and ("\n" in value or "\r" in value)]:
                # A name, an address, a date... is one line. A quote left open in it takes the lines after it in,
                # other patients' rows among them: none of it may reach an email.
                result.add(Problem(path, start, names[broken[0]], (
                    f"expected the {names[broken[0]]} cell on one line, got one that runs over lines {start} to "
                    f"{end}: {UNCLOSED}; this row and those lines were not prepared")))
                continue
            appointment, problems = check_appointment(values, rules, path, start, names)
            for problem in problems:
                result.add(problem)
            if appointment is None:
                if not problems:
                    # On a day not asked for: one still to come is left for its own day's run.
                    day = day_of(values, rules)
                    if day is not None and day < rules.now.date():
                        result.passed_days += 1
                    else:
                        result.other_days += 1
                continue
            # Booking systems export one row per service: the same patient (first name and address) at the same time
            # is one appointment, with the treatments of every row. A row that adds no treatment is a duplicate.
            booked = (
                f"{appointment.email.casefold()}|{appointment.when.isoformat()}|{appointment.first_name.casefold()}"
            )
            if booked in seen:
                first_line, position = seen[booked]
                earlier = result.appointments[position]
                added = tuple(slug for slug in appointment.treatments if slug not in earlier.treatments)
                if not added:
                    result.add(
                        Problem(
                            path,
                            start,
                            "",
                            f"expected each appointment once, got the same patient, time and "
                            f"treatments as line {first_line}",
                        )
                    )
                    continue
                result.appointments[position] = replace(
                    earlier,
                    treatments=earlier.treatments + added,
                    # Each practitioner the rows name: one row each for two services can be two people.
                    practitioner=", ".join(dict.fromkeys(
                        name for name in (earlier.practitioner, appointment.practitioner) if name)) or None,
                    row=f"{earlier.row}+{start}",
                )
                continue
            seen[booked] = (start, len(result.appointments))
            if len(result.appointments) >= MAX_APPOINTMENTS:
                result.add(
                    Problem(
                        path,
                        start,
                        "",
                        f"expected at most {MAX_APPOINTMENTS:,} appointments in one file, got "
                        "more; export a shorter period (a day or a week) from the booking system",
                    )
                )
                result.file_problem = True
                result.appointments.clear()
                return
            result.appointments.append(appointment)
    except csv.Error as error:
        reason = f"a cell longer than {MAX_FIELD:,} characters" if "field larger" in str(error) else str(error)
        result.add(Problem(path, line, "", f"expected CSV, got {reason}; the rest of the file was not read"))
        result.file_problem = True
