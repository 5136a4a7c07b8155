"""Reading a booking system's appointments file: each bad row named by file, line and column, the good rows kept."""

from __future__ import annotations

import functools
import os
import shutil
import tracemalloc
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.load.loaded import Clinic, Content
from brochures.pack.appointments import Rules
from brochures.pack.export import MAX_APPOINTMENTS, read_appointments
from brochures.problems import InputError
from brochures.schema.clinic import EmailSettings
from conftest import DATA, EXAMPLE
from pack_support import messages_in, pack, write_appointments

RULES = Rules(treatments=("facial", "hair"), known=("facial", "hair", "body"), language="en-GB", day_first=True,
              now=datetime(2026, 11, 25, 9, 0))
HEADER = "first name,email,date,time,treatments\n"


def read(tmp_path: Path, text: str, encoding: str = "utf-8", rules: Rules = RULES):
    path = tmp_path / "appointments.csv"
    path.write_bytes(text.encode(encoding))
    return read_appointments(path, rules)


def messages(result) -> list[str]:
    return [str(problem).split("appointments.csv", 1)[1] for problem in result.problems]


def test_a_good_file_with_a_bom_and_semicolons_and_other_header_spellings(tmp_path):
    result = read(tmp_path, "\ufeffFirst_Name;E-mail Address;Appointment Date;Start Time;Services\r\n"
                            "Sam;sam@example.test;03/12/2026;2:30 pm;facial\r\n"
                            'Jo;jo@example.test;2026-12-04;09:15;"facial, hair"\r\n')
    assert result.problems == []
    sam, jo = result.appointments
    assert (sam.first_name, sam.email, sam.when, sam.treatments) == (
        "Sam",
        "sam@example.test",
        datetime(2026, 12, 3, 14, 30),
        ("facial",),
    )
    assert jo.treatments == ("facial", "hair") and jo.when == datetime(2026, 12, 4, 9, 15)


def test_a_quote_left_open_never_carries_one_patients_row_into_anothers(tmp_path):
    """A quote opened in the last cell and never closed takes the next patient's row into it: that row is refused,
    naming the lines it took, and nothing of the next patient reaches the first one's email."""
    result = read(tmp_path, HEADER.replace("\n", ",practitioner\n")
                  + 'Sam,sam@example.test,03/12/2026,09:30,facial,"Dr Ana\n'
                  + "Pia,pia@example.test,03/12/2026,11:00,hair,Dr Bo\n")
    assert result.appointments == []
    assert messages(result) == [
        ":2 practitioner: expected the practitioner cell on one line, got one that runs over lines 2 to 3: most often "
        "a quote left open, which takes the lines after it into the cell (check its quotes); this row and those "
        "lines were not prepared"
    ]
    # Opened in a cell in the middle: the row is short of cells, and the lines it took are named.
    result = read(tmp_path, HEADER + 'Sam,"sam@example.test,03/12/2026,09:30,facial\n'
                  + "Pia,pia@example.test,03/12/2026,11:00,hair\nLee,lee@example.test,03/12/2026,12:00,hair\n")
    assert result.appointments == [] and "lines 2 to 4 were read as this one row" in messages(result)[0]
    # A line break inside a quoted name is refused too: "Hello Sam\nJones," is no greeting.
    result = read(tmp_path, HEADER + '"Sam\nJones",sam@example.test,03/12/2026,09:30,facial\n')
    assert result.appointments == [] and messages(result)[0].startswith(":2 first name: expected the first name cell")


@pytest.mark.parametrize(
    "zone, day_first, rows, expected",
    [
        # 01:30 on the day British clocks go forward does not happen: the email would say 1:30 and the calendar
        # show 2:30.
        ("Europe/London", True, ("30/03/2031,01:30", "30/03/2031,02:30", "31/03/2031,01:30"),
         ':2 date: expected a time the clinic\'s clocks show, got "30/03/2031 01:30": the clocks go forward then '
         "(Europe/London), so that time does not happen that day"),
        # 01:30 on the day American clocks go back happens twice: the email would not say which, and a calendar
        # would take the first.
        ("America/Chicago", False, ("11/02/2031,01:30", "11/02/2031,02:00", "11/02/2031,00:59"),
         ':2 date: expected a time the clinic\'s clocks show once, got "11/02/2031 01:30": the clocks go back then '
         "(America/Chicago), so that time happens twice that day, and the email could not say which (book the "
         "appointment outside that hour, or tell the patient yourself)"),
    ],
)
def test_a_time_the_clocks_skip_or_show_twice_is_no_appointment(tmp_path, zone, day_first, rows, expected):
    """The row is refused, naming the zone; the hour after, and the same time another day, are fine."""
    rules = replace(RULES, zone=zone, day_first=day_first)
    names = ("Sam", "Jo", "Al")
    result = read(tmp_path, HEADER + "".join(f"{name},{name.lower()}@example.test,{when},facial\n"
                                             for name, when in zip(names, rows)), rules=rules)
    assert messages(result) == [expected]
    assert [appointment.first_name for appointment in result.appointments] == ["Jo", "Al"]


def test_a_year_mistyped_far_ahead_is_refused_row_by_row(tmp_path):
    """2126 for 2026, or the last day there is: the row is refused, naming it, and the others are prepared (the
    last day there is once ended the whole run in a traceback as its calendar event was made)."""
    result = read(tmp_path, HEADER + "Sam,sam@example.test,05/12/2126,09:30,facial\n"
                  "Max,max@example.test,31/12/9999,23:59,facial\nJo,jo@example.test,05/12/2026,09:30,facial\n")
    assert messages(result) == [
        ':2 date: expected an appointment within 10 years, got "05/12/2126 09:30", 100 years from now: check the year',
        ':3 date: expected an appointment within 10 years, got "31/12/9999 23:59", 7973 years from now: check the '
        "year",
    ]
    assert [appointment.first_name for appointment in result.appointments] == ["Jo"]


def test_one_date_and_time_column_and_american_dates(tmp_path):
    rules = Rules(**{**RULES.__dict__, "day_first": False})
    result = read(
        tmp_path, "name,email,appointment,treatment\nSam,sam@example.test,12/03/2026 14:30,hair\n", rules=rules
    )
    assert result.problems == [] and result.appointments[0].when == datetime(2026, 12, 3, 14, 30)


@pytest.mark.parametrize(
    "row, expected",
    [
        ("Sam,sam@,2026-12-03,14:30,facial", ':2 email: expected an email address like "sam@example.test", got "sam@"'),
        (
            "Sam,sam@example.test,2026-12-03,14:30,botox",
            ':2 treatments: expected treatments this clinic offers (facial, hair), got "botox", an unknown treatment',
        ),
        (
            "Sam,sam@example.test,2026-12-03,14:30,body",
            ':2 treatments: expected treatments this clinic offers (facial, hair), got "body", '
            "one this clinic does not offer",
        ),
        ("Sam,sam@example.test,2026-12-03,,facial", ":2 time: expected a time like 14:30 or 2:30 pm, got nothing"),
        (
            "Sam,sam@example.test,next Tuesday,14:30,facial",
            ':2 date: expected a date like 2026-12-03, got "next Tuesday"',
        ),
        ("Sam,sam@example.test,2026-02-30,14:30,facial", ':2 date: expected a date like 2026-12-03, got "2026-02-30"'),
        ("Sam,sam@example.test,2026-12-03,25:00,facial", ':2 time: expected a time like 14:30 or 2:30 pm, got "25:00"'),
        (
            "Sam,sam@example.test,2026-11-24,14:30,facial",
            ':2 date: expected an appointment still to come, got "2026-11-24 14:30", which has passed',
        ),
        (
            '"=HYPERLINK(""https://evil.test"",""Click"")",sam@example.test,2026-12-03,14:30,facial',
            ':2 first name: expected plain text, not a spreadsheet formula (text starting with =), got "=HYPERLINK',
        ),
        (
            "@SUM(1+1),sam@example.test,2026-12-03,14:30,facial",
            ":2 first name: expected plain text, not a spreadsheet formula",
        ),
        (
            "Sam,+sam@example.test,2026-12-03,14:30,facial",
            ":2 email: expected plain text, not a spreadsheet formula (text starting with +)",
        ),
        (
            '"\tTab",sam@example.test,2026-12-03,14:30,facial',
            ":2 first name: expected plain text, not a spreadsheet formula (text starting with a tab)",
        ),
        (
            'Sam,"\tsam@example.test",2026-12-03,14:30,facial',
            ":2 email: expected plain text, not a spreadsheet formula (text starting with a tab)",
        ),
        (
            "Zoë,zoë@example.test,2026-12-03,14:30,facial",
            ":2 email: expected an email address whose part before the @ is in plain letters a to z, "
            "digits and . _ - + "
            '(most mail servers cannot deliver to one with accents or other letters), got "zoë@example.test"',
        ),
        (
            "Sam,sam@example.test,2026-12-03,14:30,-2+3",
            ':2 treatments: expected plain text, not a spreadsheet formula (text starting with -), got "-2+3"',
        ),
        (
            "Sam,sam@example.test,=TODAY(),14:30,facial",
            ':2 date: expected plain text, not a spreadsheet formula (text starting with =), got "=TODAY()"',
        ),
        (
            "Sa\u202em,sam@example.test,2026-12-03,14:30,facial",
            ":2 first name: expected plain text, without the invisible character U+202E",
        ),
        (",sam@example.test,2026-12-03,14:30,facial", ":2 first name: expected some text, got nothing"),
        ("Sam,sam@example.test,2026-12-03,14:30", ":2: expected 5 cells, one per column, got 4"),
        (
            "Sam,sam@example.test,2026-12-03,14:30,facial,hair",
            ":2: expected 5 cells, one per column, got 6 (a comma or semicolon",
        ),
    ],
)
def test_each_bad_row_is_named_and_skipped(tmp_path, row, expected):
    result = read(tmp_path, HEADER + row + "\nJo,jo@example.test,2026-12-04,10:00,hair\n")
    assert any(message.startswith(expected) for message in messages(result)), messages(result)
    # The good row is kept.
    assert [appointment.first_name for appointment in result.appointments] == ["Jo"]
    assert not result.file_problem


def test_an_international_domain_is_written_in_its_ascii_form(tmp_path):
    result = read(tmp_path, HEADER + "José,jose@exämple.test,2026-12-03,14:30,facial\n")
    assert result.problems == [] and result.appointments[0].email == "jose@xn--exmple-cua.test"


def test_a_formula_cell_is_one_problem_not_a_list_of_unknown_treatments(tmp_path):
    result = read(tmp_path, HEADER + "Sam,sam@example.test,2026-12-03,14:30,-2+3\n")
    assert len(result.problems) == 1


def test_the_language_is_compared_in_any_case(tmp_path):
    result = read(
        tmp_path,
        "first name,email,date,time,treatments,language\n"
        "Sam,sam@example.test,2026-12-03,14:30,facial,EN\n"
        "Jo,jo@example.test,2026-12-03,15:30,facial,en_gb\n"
        "Al,al@example.test,2026-12-03,16:30,facial,FR\n",
    )
    assert [appointment.language for appointment in result.appointments] == ["en", "en-GB"]
    assert messages(result) == [
        ":4 language: expected en (the pack sends its emails and leaflets in the clinic's main language only), "
        'got "FR"'
    ]


def test_duplicate_rows_name_the_first(tmp_path):
    result = read(
        tmp_path,
        HEADER + "Sam,sam@example.test,2026-12-03,14:30,facial\n"
        "Jo,jo@example.test,2026-12-04,10:00,hair\n"
        "Sam,SAM@example.test,03/12/2026,2:30 pm,facial\n",
    )
    assert messages(result) == [
        ":4: expected each appointment once, got the same patient, time and treatments as line 2"
    ]
    assert len(result.appointments) == 2


def test_one_row_per_service_is_one_appointment(tmp_path):
    result = read(
        tmp_path,
        HEADER + "Sam,sam@example.test,2026-12-03,14:30,facial\n"
        "Jo,jo@example.test,2026-12-04,10:00,hair\n"
        "sam,SAM@example.test,03/12/2026,2:30 pm,hair\n",
    )
    assert messages(result) == []
    sam, jo = result.appointments
    assert sam.treatments == ("facial", "hair") and sam.row.endswith(":2+4") and jo.treatments == ("hair",)
    # The key (so the opaque id and the ledger entry) is the same whichever order the rows come in.
    swapped = read(
        tmp_path, HEADER + "Sam,sam@example.test,2026-12-03,14:30,hair\nSam,sam@example.test,2026-12-03,14:30,facial\n"
    )
    assert swapped.appointments[0].key == sam.key
    # One row per service, each with its practitioner: the email names both, not the first alone.
    both = read(tmp_path, HEADER.replace("\n", ",practitioner\n")
                + "Sam,sam@example.test,2026-12-03,14:30,facial,Dr Ana Reyes\n"
                + "Sam,sam@example.test,2026-12-03,14:30,hair,Nurse Tom Hale\n"
                + "Sam,sam@example.test,2026-12-03,14:30,body,Dr Ana Reyes\n")
    assert both.appointments[0].practitioner == "Dr Ana Reyes, Nurse Tom Hale"


def test_two_patients_sharing_an_address_at_one_time_are_two_appointments(tmp_path):
    result = read(
        tmp_path,
        HEADER + "Sam,family@example.test,2026-12-03,14:30,facial\nAlex,family@example.test,2026-12-03,14:30,facial\n",
    )
    assert messages(result) == []
    sam, alex = result.appointments
    assert (sam.first_name, alex.first_name) == ("Sam", "Alex") and sam.key != alex.key


def test_html_and_template_syntax_in_a_name_are_kept_as_text(tmp_path):
    result = read(tmp_path, HEADER + "<b>Sam</b> {{ 7*7 }},sam@example.test,2026-12-03,14:30,facial\n")
    # Printed as written; the email test escapes it.
    assert result.appointments[0].first_name == "<b>Sam</b> {{ 7*7 }}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ":1: expected a header row, then one row per appointment; got an empty file"),
        ("\n\n", ":1: expected a header row, then one row per appointment; got an empty file"),
        (
            "given name,mail,when\nSam,sam@example.test,2026-12-03 14:30\n",
            ":1 columns: expected a column for treatments (or treatments, treatment, services); "
            'found the columns "given name", "mail", "when"',
        ),
        (
            "first name,email,date,treatments\n",
            ":1 columns: expected a column for time (or time, appointment time, start time)",
        ),
        (
            "first name,email,date,time,treatments,email\nSam,a@example.test,2026-12-03,14:30,facial,b@example.test\n",
            ':1 columns: expected one column for email, got 2: "email" (column 2) and "email" (column 6); '
            "rename or remove all but one",
        ),
        (
            "name,patient,email,date,time,treatments\nSam Patel,Sam,sam@example.test,2026-12-03,14:30,facial\n",
            ':1 columns: expected one column for first name, got 2: "name" (column 1) and "patient" (column 2)',
        ),
        (
            "first name,email,appointment,date,time,treatments\n"
            "Sam,sam@example.test,2030-12-03 10:00,2030-12-03,09:30,facial\n",
            ':1 columns: expected the date and time in one column (appointment) or in two (date and time), got both: '
            '"appointment" (column 3) and "date" (column 4) and "time" (column 5)',
        ),
        (
            "first name,email,datetime,time,treatments\nSam,sam@example.test,2030-12-03 10:00,09:30,facial\n",
            ':1 columns: expected the date and time in one column (appointment) or in two (date and time), got both: '
            '"datetime" (column 3) and "time" (column 4)',
        ),
        (
            "first name,email,start,date,time,treatments\nSam,sam@example.test,10:00,2030-12-03,09:30,facial\n",
            ':1 columns: expected the date and time in one column (appointment) or in two (date and time), got both: '
            '"start" (column 3) and "date" (column 4) and "time" (column 5)',
        ),
        (
            "first name,email,appointment,appointment,treatments\n",
            ":1 columns: expected one column for date and time, got 2: "
            '"appointment" (column 3) and "appointment" (column 4)',
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_whole(tmp_path, text, expected):
    result = read(tmp_path, text)
    assert result.file_problem and result.appointments == []
    assert messages(result)[0].startswith(expected), messages(result)


def test_a_column_named_exactly_for_its_field_wins_over_an_alias(tmp_path):
    result = read(
        tmp_path,
        "name,first name,patient email,email,date,time,treatments\n"
        "Sam Patel,Sam,office@example.test,sam@example.test,2026-12-03,14:30,facial\n",
    )
    assert result.problems == []
    assert (result.appointments[0].first_name, result.appointments[0].email) == ("Sam", "sam@example.test")


def test_a_file_that_is_not_utf8(tmp_path):
    result = read(tmp_path, HEADER + "Zoë,zoe@example.test,2026-12-03,14:30,facial\n", encoding="cp1252")
    assert result.file_problem and 'expected UTF-8 text (in Excel: Save As "CSV UTF-8")' in str(result.problems[0])


def test_a_huge_cell_stops_reading_with_a_message(tmp_path):
    result = read(tmp_path, HEADER + "Sam," + "x" * 100_000 + "@example.test,2026-12-03,14:30,facial\n")
    assert result.file_problem and "a cell longer than 2,000 characters" in str(result.problems[0])


def test_a_50000_row_file_is_read_as_a_stream_and_refused_past_the_cap(tmp_path):
    rows = "".join(
        f"P{i},p{i}@example.test,2027-{1 + i % 12:02d}-{1 + i % 28:02d},{8 + i % 10}:{i % 60:02d},facial\n"
        for i in range(50_000)
    )
    path = tmp_path / "appointments.csv"
    path.write_text(HEADER + rows)
    tracemalloc.start()
    try:
        result = read_appointments(path, RULES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.file_problem and result.appointments == []
    assert f"expected at most {MAX_APPOINTMENTS:,} appointments in one file" in str(result.problems[-1])
    # The 3 MB file is never held whole, nor 50,000 appointments.
    assert peak < 20 * 1024 * 1024


def test_a_50000_row_file_of_bad_rows_is_counted_not_kept(tmp_path):
    path = tmp_path / "appointments.csv"
    path.write_text(HEADER + "".join(f"P{i},p{i}@,2026-12-03,14:30,facial\n" for i in range(50_000)))
    result = read_appointments(path, RULES)
    assert result.problem_count == 50_000 and len(result.problems) == 200 and result.appointments == []


# --- From the command line ---


def test_the_good_rows_are_prepared_and_the_exit_code_says_some_were_not(clinic, tmp_path, capsys):
    folder, out = clinic
    appointments = write_appointments(
        tmp_path / "appointments.csv",
        [
            "Sam,sam@example.test,2030-12-03,09:30,facial,",
            "Jo,jo@,2030-12-03,11:00,hair,",
            # One row with four problems: one row skipped.
            "Kim,kim@,2030-13-45,25:99,nothing,",
        ],
    )
    assert pack(folder, out, "--appointments", str(appointments)) == 1
    said = capsys.readouterr()
    err = said.err
    assert 'appointments.csv:3 email: expected an email address like "sam@example.test", got "jo@"' in err
    assert "those rows were skipped, the others were prepared" in err
    assert "; 2 rows skipped (see above)" in said.out, said.out
    assert [message["To"] for message in messages_in(out)] == ["sam@example.test"]


def test_a_file_of_only_bad_rows_says_none_could_be_prepared(clinic, tmp_path, capsys):
    folder, out = clinic
    appointments = write_appointments(tmp_path / "appointments.csv", ["Jo,jo@,2030-12-03,11:00,hair,"])
    assert pack(folder, out, "--appointments", str(appointments)) == 1
    err = capsys.readouterr().err
    assert "Problems in the appointments (1); no row could be prepared:" in err and "the others" not in err
    assert messages_in(out) == []


def test_one_patient_booked_by_phone(clinic, capsys):
    folder, out = clinic
    assert (
        pack(
            folder, out, "--name", "Sam", "--email", "sam@example.test", "--when", "2030-12-03 14:30", "--treatment",
            "facial", "--treatment", "hair"
        )
        == 0
    )
    (message,) = messages_in(out)
    assert message["To"] == "sam@example.test"
    assert pack(folder, out, "--name", "Sam", "--email", "sam@", "--when", "yesterday", "--treatment", "facial") == 2
    err = capsys.readouterr().err
    assert "Invalid input (2 problems); nothing was prepared:" in err and "the others were prepared" not in err
    assert 'command line --email: expected an email address like "sam@example.test", got "sam@"' in err
    assert 'command line --when: expected a date and time like 2026-12-03 14:30' in err


def test_the_shipped_sample_prepares_one_email_per_patient(capsys, tmp_path):
    from generate import main

    assert main(["pack", "--out", str(tmp_path / "out")]) == 0
    sample = (Path(__file__).parent.parent / "data" / "appointments.csv").read_text().splitlines()
    assert len(list((tmp_path / "out" / ".private" / "example").glob("*.eml"))) == len(sample) - 1
    captured = capsys.readouterr()
    # The example clinic is not approved: said, and --send would refuse.
    assert "Draft" in captured.err
    assert "Leaflets (drafts: not yet approved by the clinic's medical lead):" in captured.out
    assert "as the clinic approved them" not in captured.out


def test_send_needs_an_appointments_file_or_a_patient(clinic, capsys):
    folder, out = clinic
    with pytest.raises(SystemExit) as stopped:
        pack(folder, out, "--send")
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "expected the appointments to send: --appointments FILE" in err and "Traceback" not in err
    assert not (out / ".private" / "harbour").exists() or not list((out / ".private" / "harbour").glob("*.eml"))


def test_a_file_and_a_patient_together_are_refused(clinic, tmp_path, capsys):
    folder, out = clinic
    appointments = write_appointments(tmp_path / "appointments.csv", ["Sam,sam@example.test,2030-12-03,09:30,facial,"])
    with pytest.raises(SystemExit) as stopped:
        pack(folder, out, "--appointments", str(appointments), "--name", "Jo", "--email", "jo@example.test")
    assert stopped.value.code == 2
    assert "got both; give one of them" in capsys.readouterr().err
    assert messages_in(out) == []


def test_an_unreadable_when_for_one_patient_is_invalid_input(clinic, capsys):
    folder, out = clinic
    assert (
        pack(folder, out, "--name", "Sam", "--email", "sam@example.test", "--when", "tomorrow", "--treatment", "facial")
        == 2
    )
    err = capsys.readouterr().err
    assert "Invalid input (1 problem); nothing was prepared:" in err
    assert 'command line --when: expected a date and time like 2026-12-03 14:30' in err and "skipped" not in err
    assert messages_in(out) == []


@pytest.mark.parametrize("text", ["", "given name,mail,when\nSam,sam@example.test,2026-12-03 14:30\n"])
def test_a_refused_file_says_nothing_was_prepared(clinic, tmp_path, capsys, text):
    folder, out = clinic
    path = tmp_path / "appointments.csv"
    path.write_text(text)
    fifo = tmp_path / "fifo.csv"
    if not fifo.exists():
        os.mkfifo(fifo)
    for appointments in (path, tmp_path, tmp_path / "missing.csv", fifo):
        assert pack(folder, out, "--appointments", str(appointments)) == 2
        err = capsys.readouterr().err
        assert "The appointments file cannot be used (1 problem); nothing was prepared:" in err
        assert "the others were prepared" not in err


def test_start_beside_a_date_column_is_the_time(tmp_path):
    result = read(
        tmp_path, "first name,email,date,start,end,treatments\nSam,sam@example.test,2030-12-03,10:00,10:45,facial\n"
    )
    assert result.problems == [] and result.appointments[0].when == datetime(2030, 12, 3, 10, 0)


# --- One mailbox per address (RFC 5321's dot-atom) ---


BEFORE_AT = "may not be in the part before the @"
DOMAIN = "the part after the @ must be a domain name: letters, digits and hyphens, in two or more parts joined by dots"


@pytest.mark.parametrize(
    "cell, address, why",
    [
        # A quoted cell reaches the check whole: the To: header would name two recipients.
        ('"a,b@example.test"', "a,b@example.test", f"a comma {BEFORE_AT}: it would make two addresses"),
        ("ed@example.test;x.test", "ed@example.test;x.test", DOMAIN),
        ("bo%evil.test@example.test", "bo%evil.test@example.test", f'"%" {BEFORE_AT}'),
        ("de@[127.0.0.1].test", "de@[127.0.0.1].test", DOMAIN),
        ("jo@example.test(x).test", "jo@example.test(x).test", DOMAIN),
        ('"""jo""@example.test"', '"jo"@example.test', f"a quotation mark {BEFORE_AT}"),
        ("jo@@example.test", "jo@@example.test", "one address has one @"),
        (".jo@example.test", ".jo@example.test", "a dot may not start or end the part before the @"),
        ("jo..x@example.test", "jo..x@example.test", "a dot may not start or end the part before the @, nor follow"),
        ("jo@-x.test", "jo@-x.test", DOMAIN),
        ("jo@x", "jo@x", DOMAIN),
        ("jo@localhost", "jo@localhost", DOMAIN),
    ],
)
def test_an_address_that_is_not_one_mailbox_is_refused_naming_its_cell(tmp_path, cell, address, why):
    result = read(tmp_path, HEADER + f"Sam,{cell},2026-12-03,14:30,facial\nJo,jo@example.test,2026-12-04,10:00,hair\n")
    assert [message.partition(" (")[0] for message in messages(result)] == [
        f':2 email: expected an email address like "sam@example.test", got "{address}"'
    ]
    assert why in messages(result)[0]
    assert [appointment.email for appointment in result.appointments] == ["jo@example.test"]


def test_every_character_of_the_dot_atom_and_an_international_domain_are_accepted(tmp_path):
    result = read(
        tmp_path,
        HEADER + "Sam,o'brien.sam+pack@sub.example-clinic.test,2026-12-03,14:30,facial\n"
        "Jo,!#$&*/=?^_`{|}~-@EXAMPLE.test,2026-12-03,15:00,facial\n"
        "Al,al@пример.рф,2026-12-03,15:30,facial\n",
    )
    assert messages(result) == []
    assert [appointment.email for appointment in result.appointments] == [
        "o'brien.sam+pack@sub.example-clinic.test", "!#$&*/=?^_`{|}~-@EXAMPLE.test", "al@xn--e1afmkfd.xn--p1ai"
    ]


def test_the_clinics_own_addresses_are_one_mailbox_each():
    settings = {"smtp_host": "smtp.example-clinic.test"}
    assert EmailSettings(from_address="hello@example-clinic.test", **settings).from_address
    for address in ("hello@example-clinic.test,bcc@evil.test", "hello%evil.test@example-clinic.test"):
        with pytest.raises(ValidationError, match="expected an email address"):
            EmailSettings(from_address=address, **settings)
        with pytest.raises(ValidationError, match="expected an email address"):
            EmailSettings(from_address="hello@example-clinic.test", reply_to=address, **settings)


def test_an_address_with_a_comma_on_the_command_line_is_invalid_input(clinic, capsys):
    folder, out = clinic
    arguments = ("--name", "Sam", "--when", "2030-12-03 14:30", "--treatment", "facial")
    assert pack(folder, out, "--email", "eve,sam@example.test", *arguments) == 2
    err = capsys.readouterr().err
    assert '--email: expected an email address like "sam@example.test", got "eve,sam@example.test" (' in err
    assert "(a comma may not be in the part before the @: it would make two addresses)" in err
    assert messages_in(out) == []


# --- The booking system's words: slugs, titles and the clinic's aliases ---


@functools.cache
def content() -> Content:
    return load_content(DATA)


def clinic_with_aliases(tmp_path: Path, aliases: str, treatments: str | None = "[facial, hair]") -> tuple[Clinic, Path]:
    """A copy of the example clinic offering `treatments` (None: every one there is), with these treatment_aliases:
    lines."""
    folder = tmp_path / "aliased"
    shutil.copytree(EXAMPLE, folder)
    config = folder / "clinic.yaml"
    listed = f"treatments: {treatments}\n" if treatments else ""
    text = config.read_text().replace("treatments: [facial, hair, body]\n", listed)
    config.write_text(text + "treatment_aliases:\n" + aliases)
    return load_clinic(config, content()), config


def named_rules(tmp_path: Path, aliases: str = '  "Meso – Face (30 min)": facial\n') -> Rules:
    clinic, _ = clinic_with_aliases(tmp_path, aliases)
    return Rules(**{**RULES.__dict__, "names": Rules.names_of(clinic, content())})


def test_a_treatment_is_named_by_its_slug_its_title_in_any_case_or_the_clinics_alias(tmp_path):
    rules = named_rules(tmp_path)
    result = read(
        tmp_path,
        HEADER + "Sam,sam@example.test,2026-12-03,14:30,Facial mesotherapy\n"
        "Jo,jo@example.test,2026-12-03,15:00,FACIAL   MESOTHERAPY\n"
        "Al,al@example.test,2026-12-03,15:30,meso – FACE  (30 MIN)\n"
        'Bo,bo@example.test,2026-12-03,16:00,"Hair mesotherapy, Facial Mesotherapy"\n'
        "Cy,cy@example.test,2026-12-03,16:30,facial hair\n"
        "Di,di@example.test,2026-12-03,17:00,Meso – Face (30 min) Hair mesotherapy\n",
        rules=rules,
    )
    assert messages(result) == []
    assert [appointment.treatments for appointment in result.appointments] == [
        ("facial",), ("facial",), ("facial",), ("hair", "facial"), ("facial", "hair"), ("facial", "hair")
    ]


def test_a_title_in_the_clinics_language_names_its_treatment_too(tmp_path):
    clinic, _ = clinic_with_aliases(tmp_path, "  Meso: facial\n")
    # The same clinic, in Spanish: its treatments' Spanish titles, as well as the English ones.
    names = Rules.names_of(replace(clinic, language="es"), content())
    assert [named.slug for named in names.read("MESOTERAPIA FACIAL, Mesoterapia  capilar; Facial mesotherapy")] == [
        "facial", "hair", "facial"
    ]


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("Facal", 'got "Facal", an unknown treatment; did you mean "facial"?'),
        ("Facial Mesotherapie", 'got "Facial Mesotherapie", an unknown treatment; did you mean "Facial mesotherapy"?'),
        ("Meso - Face (30 min)", 'an unknown treatment; did you mean "Meso – Face (30 min)"?'),
        ("botox", 'got "botox", an unknown treatment'),
    ],
)
def test_an_unknown_name_gets_a_did_you_mean(tmp_path, cell, expected):
    result = read(
        tmp_path,
        HEADER + f'Sam,sam@example.test,2026-12-03,14:30,"{cell}"\nJo,jo@example.test,2026-12-04,10:00,hair\n',
        rules=named_rules(tmp_path),
    )
    (message,) = messages(result)
    assert message.startswith(":2 treatments: expected treatments this clinic offers (facial, hair), ") and (
        message.endswith(expected)
    ), message
    assert cell != "botox" or "did you mean" not in message
    assert [appointment.first_name for appointment in result.appointments] == ["Jo"]


def test_an_alias_of_a_treatment_the_clinic_does_not_offer_is_refused_naming_its_line(tmp_path):
    aliases = '  "Meso – Face (30 min)": facial\n  "Meso – Body": body\n  "MESO  – face (30 MIN)": hair\n'
    with pytest.raises(InputError) as error:
        clinic_with_aliases(tmp_path, aliases)
    lines = (tmp_path / "aliased" / "clinic.yaml").read_text().splitlines()
    body, twice = (lines.index(line) + 1 for line in ('  "Meso – Body": body', '  "MESO  – face (30 MIN)": hair'))
    assert [str(problem).split("clinic.yaml", 1)[1] for problem in error.value.problems] == [
        f":{body} treatment_aliases.Meso – Body: expected a treatment this clinic offers "
        '(in its treatments: facial, hair), got "body"',
        f":{twice} treatment_aliases.MESO  – face (30 MIN): expected each service name once (compared in any case, "
        'with runs of spaces as one), got "hair" (the same name as "Meso – Face (30 min)")',
    ]


def test_an_alias_of_an_unknown_treatment_is_refused_in_the_row_naming_its_line(tmp_path):
    # A clinic that lists no treatments offers every one in data/treatments/: its aliases are checked when read.
    clinic, config = clinic_with_aliases(tmp_path, "  Meso – Botox: botox\n", treatments=None)
    rules = Rules(**{**RULES.__dict__, "names": Rules.names_of(clinic, content())})
    line = config.read_text().splitlines().index("  Meso – Botox: botox") + 1
    result = read(tmp_path, HEADER + "Sam,sam@example.test,2026-12-03,14:30,meso – botox\n", rules=rules)
    assert messages(result) == [
        ':2 treatments: expected treatments this clinic offers (facial, hair), got "meso – botox", which '
        f'treatment_aliases (clinic.yaml:{line}) names as "botox", an unknown treatment'
    ]
