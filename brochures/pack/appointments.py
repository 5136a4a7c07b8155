"""Reads booked appointments (a booking system's CSV export, or one from the command line), checked row by row."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import stat
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints, ValidationError

from brochures.files.safe_read import file_kind
from brochures.pack.columns import COLUMNS, WHEN_COLUMNS, columns_of
from brochures.pack.dates import date_example, parse_date, parse_time, parse_when
from brochures.pack.treatment_names import TreatmentNames, fold, treatment_names
from brochures.problems import Problem, describe, unsafe_character
from brochures.schema.fields import Language, Model, _email, mail_address

if TYPE_CHECKING:
    from brochures.load.loaded import Clinic, Content

# In one run: a day's or a week's bookings, not a whole history.
MAX_APPOINTMENTS = 2000
# Characters in one cell: a pasted essay is not a name.
MAX_FIELD = 2000
# Problems kept to print; the rest are only counted.
KEPT_PROBLEMS = 200
# A cell starting with one of these is run as a formula when a spreadsheet opens a file it was copied into.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Appointment:
    """One booked consultation, checked."""

    first_name: str
    email: str
    when: datetime
    treatments: tuple[str, ...]
    practitioner: str | None = None
    language: str | None = None
    # Where it was read: "appointments.csv:7" or "command line" (so staff can match an email to its row)
    row: str = ""

    @property
    def key(self) -> str:
        """What makes an appointment this one: who (address and first name), when and what for. The same key is never
        sent twice. The treatments are sorted, so rows merged in any order give the same key."""
        return (
            f"{self.email.casefold()}|{self.when.isoformat(timespec='minutes')}|{','.join(sorted(self.treatments))}"
            f"|{self.first_name.casefold()}"
        )


@dataclass
class Appointments:
    """What was read: the valid appointments, and each problem with the others."""

    appointments: list[Appointment] = field(default_factory=list)
    # The first KEPT_PROBLEMS.
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    rows: int = 0
    # The file as a whole could not be used: nothing in it is processed.
    file_problem: bool = False
    # One appointment given with --name, --email…, not a file.
    from_command_line: bool = False

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)


def _plain_text(value: str) -> str:
    if value.startswith(FORMULA_STARTS):
        start = {"\t": "a tab", "\r": "a carriage return"}.get(value[0], value[0])
        raise ValueError(f"expected plain text, not a spreadsheet formula (text starting with {start})")
    if problem := unsafe_character(value):
        raise ValueError(f"expected plain text, without {problem}")
    return value


def _no_formula(value: object) -> object:
    """Before surrounding spaces are stripped: a cell starting with a tab or a carriage return is a formula too."""
    return _plain_text(value) if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _name(value: str) -> str:
    if not any(char.isalpha() for char in value):
        raise ValueError("expected a name with at least one letter")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_plain_text),
    AfterValidator(_name),
    BeforeValidator(_no_formula),
]
PatientEmail = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_plain_text),
    AfterValidator(_email),
    AfterValidator(mail_address),
    BeforeValidator(_no_formula),
]


def _language_code(value: object) -> object:
    """ "EN", "en_gb" and "En-GB" as the code they mean: "en", "en-GB"."""
    if not isinstance(value, str) or not re.fullmatch(r"\s*[A-Za-z]{2}([-_][A-Za-z]{2})?\s*", value):
        return value
    language, _, region = value.strip().replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


PatientLanguage = Annotated[Language, BeforeValidator(_language_code)]


class AppointmentRow(Model):
    """The fields of one appointment that need no knowledge of the clinic or the clock."""

    first_name: Name
    email: PatientEmail
    practitioner: Name | None = None
    language: PatientLanguage | None = None


def _plain_message(detail: dict) -> str:
    message, kind, ctx = detail["msg"], detail["type"], detail.get("ctx") or {}
    if detail.get("input") is None:
        return "expected some text"
    if kind == "string_too_long":
        return f"expected at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        return "expected some text"
    if kind == "email":
        return 'expected an email address like "sam@example.test"'
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if message.startswith("expected"):
        return message
    return "expected text"


# --- Dates and times ---


# --- Checking one appointment ---


@dataclass(frozen=True)
class Rules:
    """What an appointment is checked against: the clinic's treatments and language, its date order, and the clock."""

    # The slugs this clinic offers.
    treatments: tuple[str, ...]
    # Every treatment slug there is.
    known: tuple[str, ...]
    # The clinic's, e.g. "en-GB".
    language: str
    day_first: bool
    now: datetime
    # What a treatment cell may call each treatment: its slug, its title, the clinic's alias (default: slugs only).
    names: TreatmentNames | None = None

    def __post_init__(self) -> None:
        if self.names is None:
            object.__setattr__(self, "names", TreatmentNames.of_slugs((*self.known, *self.treatments)))

    @staticmethod
    def names_of(clinic: Clinic, content: Content) -> TreatmentNames:
        """The names for `names`: the treatments' slugs and titles, and the clinic's `treatment_aliases`."""
        return treatment_names(clinic, content)


def check_appointment(
    values: dict[str, str | list[str] | None], rules: Rules, source: Path, line: int | None, names: dict[str, str]
) -> tuple[Appointment | None, list[Problem]]:
    """One appointment from raw text, or the problems with it (each naming its field as the user knows it: `names`)."""
    problems: list[Problem] = []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(source, line, names.get(key, key), message))

    row = None
    plain = {key: values.get(key) or None for key in AppointmentRow.model_fields}
    try:
        row = AppointmentRow.model_validate(plain)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            key = str(detail["loc"][0])
            # Why an address is not one mailbox: "a comma may not be in the part before the @: …".
            why = (detail.get("ctx") or {}).get("detail")
            found = describe(detail.get("input")) + (f" ({why})" if why else "")
            problem(key, f"{_plain_message(detail)}, got {found}")

    # The cells read as dates, times and lists are refused whole when a spreadsheet would run them ("-2+3" is a
    # formula, not two treatments), before they are split or parsed.
    unsafe = set()
    for key in ("when", "date", "time", "treatments"):
        if isinstance(value := values.get(key), str):
            try:
                _plain_text(value)
            except ValueError as error:
                problem(key, f"{error}, got {describe(value)}")
                unsafe.add(key)
    when = _check_when(values, rules, problem) if not unsafe & {"when", "date", "time"} else None
    treatments = _check_treatments(values.get("treatments"), rules, problem) if "treatments" not in unsafe else ()
    if row and row.language and row.language.split("-")[0] != rules.language.split("-")[0]:
        problem(
            "language",
            f'expected {rules.language.split("-")[0]} (the language of this clinic\'s leaflets), '
            f"got {describe(values.get('language'))}",
        )
    if problems or row is None or when is None or not treatments:
        return None, problems
    return Appointment(
        first_name=row.first_name,
        email=row.email,
        when=when,
        treatments=treatments,
        practitioner=row.practitioner,
        language=row.language,
        row=f"{source.name}:{line}" if line else str(source),
    ), []


def _check_when(values: dict, rules: Rules, problem) -> datetime | None:
    """The appointment's date and time, from one cell ("when") or two ("date" and "time"); still to come."""
    example = date_example(rules.day_first)
    if values.get("when") is not None:
        key = "when"
        text = str(values["when"]).strip()
        try:
            when = parse_when(text, rules.day_first)
        except ValueError:
            problem(key, f"expected a date and time like {example}, got {describe(text or None)}")
            return None
    else:
        key = "date"
        day, hour = str(values.get("date") or "").strip(), str(values.get("time") or "").strip()
        text = f"{day} {hour}"
        try:
            on = parse_date(day, rules.day_first)
        except ValueError:
            problem("date", f"expected a date like {example.split(' ')[0]}, got {describe(day or None)}")
            on = None
        try:
            at = parse_time(hour)
        except ValueError:
            problem("time", f"expected a time like 14:30 or 2:30 pm, got {describe(hour or None)}")
            return None
        if on is None:
            return None
        when = datetime.combine(on, at)
    if when <= rules.now:
        problem(key, f"expected an appointment still to come, got {describe(text)}, which has passed")
        return None
    return when


def _check_treatments(value, rules: Rules, problem) -> tuple[str, ...]:
    """The treatments a cell names (or each --treatment), by slug, title or the clinic's alias; several to a cell."""
    cells = value if isinstance(value, list) else [str(value or "")]
    found = [named for cell in cells for named in rules.names.read(str(cell or ""))]
    offered = ", ".join(rules.treatments)
    if not found:
        problem("treatments", f"expected one or more treatments ({offered}), got nothing")
        return ()
    unknown = [named for named in found if named.slug not in rules.treatments]
    for named in unknown:
        text = named.text
        why = "one this clinic does not offer" if named.slug in rules.known else "an unknown treatment"
        if where := rules.names.aliases.get(fold(named.text)):
            why = f"which treatment_aliases ({where}) names as {describe(named.slug)}, {why}"
        elif named.slug is None and (close := rules.names.suggestion(named, rules.treatments)):
            meant, text = close
            why += f'; did you mean "{meant}"?'
        problem("treatments", f"expected treatments this clinic offers ({offered}), got {describe(text)}, {why}")
    return () if unknown else tuple(dict.fromkeys(named.slug for named in found))


# --- Reading a file ---


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
            if len(cells) != len(header):
                hint = (
                    " (a comma or semicolon inside a cell needs quotes around the cell)"
                    if len(cells) > len(header)
                    else ""
                )
                result.add(
                    Problem(path, start, "", f"expected {len(header)} cells, one per column, got {len(cells)}{hint}")
                )
                continue
            values = {name: cells[position] if position < len(cells) else None for name, position in index.items()}
            appointment, problems = check_appointment(values, rules, path, start, names)
            for problem in problems:
                result.add(problem)
            if appointment is None:
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
                    practitioner=earlier.practitioner or appointment.practitioner,
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
