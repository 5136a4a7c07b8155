"""The clinic's day: dates read the way the file (or the clinic) settles them, the appointment in the patient's
calendar, a daily run for the next day's appointments, and the receptionist's view of what was sent."""

from __future__ import annotations

import argparse
import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pack.appointments import Appointment, Rules
from brochures.pack.command import Clock, rules
from brochures.pack.export import read_appointments
from brochures.pack.invitation import event_minutes
from conftest import DATA
from pack_support import NOW, copy_clinic, local_email, messages_in, no_wait, pack, set_email, write_appointments

RULES = Rules(treatments=("facial", "hair"), known=("facial", "hair", "body"), language="en-GB", day_first=True,
              now=NOW, settled=False)
HEADER = "first name,email,date,time,treatments\n"


def read(tmp_path, rows, rules=RULES):
    return read_appointments(write_appointments(tmp_path / "appointments.csv", rows, HEADER), rules)


# --- Which way round the dates are ---


def test_a_file_whose_every_date_reads_two_ways_is_refused_with_both_readings(clinic, tmp_path, capsys):
    folder, out = clinic
    rows = ["Sam,sam@example.test,05/01/2031,09:30,facial", "Jo,jo@example.test,06/01/2031,10:00,hair",
            "Alex,alex@example.test,2031-01-07,11:00,hair"]
    path = write_appointments(tmp_path / "a.csv", rows, HEADER)
    assert pack(folder, out, "--appointments", str(path)) == 2
    err = capsys.readouterr().err
    assert "The appointments file cannot be used (1 problem); nothing was prepared:" in err
    assert (
        'a.csv:2 date: expected dates that can be read only one way, got "05/01/2031", which reads as Sunday 5 '
        "January 2031 (day first) or Thursday 1 May 2031 (month first), and no date in the file has a day over 12 "
        "to settle it. Say which in clinic.yaml (appointments: {date_order: day_first}, or month_first), or give "
        "--date-order day_first (or month_first)"
    ) in err
    assert not list((out / ".private").rglob("*.eml"))


@pytest.mark.parametrize(
    "other, day, month",
    [
        # A day over 12 first: day first, so 05/01 is 5 January.
        ("13/01/2031", 5, 1),
        # A day over 12 second: month first, so 05/01 is May 1.
        ("01/13/2031", 1, 5),
    ],
)
def test_a_day_over_12_in_another_row_settles_the_order(tmp_path, other, day, month):
    result = read(tmp_path, ["Sam,sam@example.test,05/01/2031,09:30,facial", f"Jo,jo@example.test,{other},10:00,hair"])
    assert result.problems == []
    assert (result.appointments[0].when.day, result.appointments[0].when.month) == (day, month)


def test_dates_that_disagree_settle_nothing(tmp_path):
    result = read(tmp_path, ["Sam,sam@example.test,05/01/2031,09:30,facial", "Jo,jo@example.test,13/01/2031,10:00,hair",
                             "Alex,alex@example.test,01/14/2031,10:00,hair"])
    assert result.file_problem and result.appointments == []
    assert 'the file\'s other dates disagree (line 3: "13/01/2031" is day first; line 4: "01/14/2031"' in str(
        result.problems[0]
    )


def test_the_clinics_setting_settles_the_order(tmp_path):
    content = load_content(DATA)
    clinic_folder = tmp_path / "clinic"
    import shutil

    from conftest import EXAMPLE

    shutil.copytree(EXAMPLE, clinic_folder)
    config = clinic_folder / "clinic.yaml"
    config.write_text(config.read_text() + "appointments:\n  date_order: month_first\n  length_minutes: 50\n")
    clinic = load_clinic(config, content)
    options = argparse.Namespace(date_order=None, for_day=None, days_ahead=None)
    (sam,) = read(tmp_path, ["Sam,sam@example.test,05/01/2031,09:30,facial"], rules(options, clinic, content, NOW)
                  ).appointments
    assert sam.when == datetime(2031, 5, 1, 9, 30)
    # And --date-order, over the clinic's setting.
    options.date_order = "day_first"
    (sam,) = read(tmp_path, ["Sam,sam@example.test,05/01/2031,09:30,facial"], rules(options, clinic, content, NOW)
                  ).appointments
    assert sam.when == datetime(2031, 1, 5, 9, 30)


def test_one_appointment_given_with_an_ambiguous_date_is_refused(clinic, capsys):
    folder, out = clinic
    given = ["--name", "Sam", "--email", "sam@example.test", "--when", "05/01/2031 09:30", "--treatment", "facial"]
    assert pack(folder, out, *given) == 2
    assert "command line --when: expected dates that can be read only one way" in capsys.readouterr().err
    assert pack(folder, out, *given, "--date-order", "month_first") == 0


# --- The calendar invitation ---


def calendar_of(message):
    (part,) = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    return part, Calendar.from_ical(part.get_payload(decode=True))


def test_a_clinic_in_a_country_of_several_time_zones_names_its_own_before_any_invitation(approved, tmp_path, capsys):
    """The appointments file's times have no zone: a US clinic without `timezone:` would invite a patient in New
    York at 10:30 UTC (5:30 there). It is refused, naming the setting; with it, the invitation is at 10:30 there."""
    # A copy of its own: the approved clinic is shared by the tests.
    folder, out = copy_clinic(approved, tmp_path), tmp_path / "out"
    config = folder / "clinic.yaml"
    config.write_text(config.read_text().replace("country: GB", "country: US"))
    appointments = write_appointments(tmp_path / "appointments.csv", ["Sam,sam@example.test,2031-06-03,10:30,facial"],
                                      HEADER)
    assert pack(folder, out, "--appointments", str(appointments)) == 2
    said = capsys.readouterr().err
    assert "timezone: expected the clinic's time zone" in said and "US has several" in said, said
    assert not messages_in(out)
    config.write_text(config.read_text() + "\ntimezone: America/New_York\n")
    assert pack(folder, out, "--appointments", str(appointments)) == 0
    (message,) = messages_in(out)
    (event,) = calendar_of(message)[1].walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start.tzinfo.key == "America/New_York" and start.astimezone(timezone.utc).hour == 14


def test_each_email_carries_the_appointment_for_the_patients_calendar(clinic, tmp_path):
    folder, out = clinic
    rows = ["Sam,sam@example.test,2031-06-03,10:30,facial hair", "Jo,jo@example.test,2031-06-03,11:30,hair"]
    appointments = write_appointments(tmp_path / "appointments.csv", rows, HEADER)
    uids = []
    for _ in range(2):
        assert pack(folder, out, "--appointments", str(appointments)) == 0
        events = {}
        for message in messages_in(out):
            part, calendar = calendar_of(message)
            assert part.get_param("method") == "PUBLISH" and part.get_filename() == "appointment.ics"
            assert calendar["METHOD"] == "PUBLISH" and calendar["VERSION"] == "2.0"
            (event,) = calendar.walk("VEVENT")
            events[message["To"]] = event
            assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/London"
        sam = events["sam@example.test"]
        start = sam.decoded("DTSTART")
        # 10:30 in London in June is 09:30 UTC: the clinic's zone, not the machine's or UTC.
        assert start.tzinfo.key == "Europe/London" and start.astimezone(timezone.utc).hour == 9
        assert start.replace(tzinfo=None) == datetime(2031, 6, 3, 10, 30)
        # The longest session of the two (facial: about 30 to 45 minutes).
        assert sam.decoded("DTEND") - start == timedelta(minutes=45)
        assert events["jo@example.test"].decoded("DTEND") - events["jo@example.test"].decoded("DTSTART") == timedelta(
            minutes=30
        )
        # The clinic only: never the treatment, which others who see the calendar would read.
        assert str(sam["SUMMARY"]) == "Consultation at Example Aesthetics Clinic"
        assert str(sam["LOCATION"]) == "1 High Street, London N1 1AA"
        assert sam.decoded("DTSTAMP").tzinfo is not None
        uids.append({address: str(event["UID"]) for address, event in events.items()})
    # The same appointment keeps its UID from run to run (a calendar updates it, not doubles it); each has its own.
    assert uids[0] == uids[1] and len(set(uids[0].values())) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}@example-clinic.test", uid) for uid in uids[0].values())
    assert not any("sam" in uid for uid in uids[0].values())


def test_the_clinics_length_when_the_treatments_data_gives_none(tmp_path):
    content = load_content(DATA)
    facial = content.treatments["facial"]
    content.treatments["facial"] = facial.model_copy(
        update={"course": facial.course.model_copy(update={"session_length": "It varies."})}
    )
    clinic = load_clinic(DATA / "clinics" / "example" / "clinic.yaml", content)
    appointment = Appointment(first_name="Sam", email="sam@example.test", when=datetime(2031, 6, 3, 10, 30),
                              treatments=("facial",))
    assert event_minutes(appointment, clinic, content) == clinic.config.appointments.length_minutes == 30


# --- The daily run ---

THREE_DAYS = [
    # Today, already over by the evening: not a problem for tomorrow's run.
    "Ana,ana@example.test,2026-11-25,08:00,facial",
    "Sam,sam@example.test,2026-11-26,09:30,facial",
    "Jo,jo@example.test,2026-11-26,11:00,hair",
    "Alex,alex@example.test,2026-11-27,14:30,facial hair",
    "Priya,priya@example.test,2026-11-28,10:15,hair",
]


def test_tomorrow_from_a_longer_export_sent_once_however_often_it_runs(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    export = write_appointments(tmp_path / "export.csv", THREE_DAYS, HEADER)
    for _ in range(2):
        assert pack(folder, out, "--appointments", str(export), "--for", "tomorrow", "--send", sleep=no_wait) == 0
    assert sorted(mail_server.mailbox.recipients()) == ["jo@example.test", "sam@example.test"]
    said = capsys.readouterr()
    assert "; 3 appointments on other days left for their own day's run." in said.out
    # This morning's appointment is not a problem for tomorrow's run.
    assert "which has passed" not in said.err and "skipped" not in said.out


def text_part(data: bytes, kind: str) -> str:
    """The text of an email's part of one kind (text/plain, text/html), as it was received."""
    message = message_from_bytes(data, policy=policy.default)
    return next(part for part in message.walk() if part.get_content_type() == kind).get_content()


def test_a_moved_appointment_tells_the_patient_of_the_invitation_they_already_have(
    clinic, mail_server, tmp_path, capsys
):
    """Sam was invited for 9:30, then moved to 15:00: the second email cannot take the first event out of Sam's
    calendar, so it says so, naming the first time, and asks Sam to delete it if this one replaces it. The run
    tells the receptionist too. A patient with one invitation is told nothing of the kind."""
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    first = write_appointments(tmp_path / "first.csv", ["Sam,sam@example.test,2026-11-26,09:30,facial"], HEADER)
    assert pack(folder, out, "--appointments", str(first), "--send", sleep=no_wait) == 0
    moved = write_appointments(tmp_path / "moved.csv", ["Sam,sam@example.test,2026-11-26,15:00,facial"], HEADER)
    assert pack(folder, out, "--appointments", str(moved), "--send", sleep=no_wait) == 0
    said = capsys.readouterr().out
    assert ("the patient was also sent an invitation for Thursday 26 November 2026, 9:30: the email asks them to "
            "delete it if this one replaces it") in said
    (_, _, once), (_, _, again) = mail_server.mailbox.received
    note = ("We have also sent you an invitation for Thursday 26 November 2026, 9:30. If this appointment replaces "
            "that one, please delete the earlier one from your calendar. If you are not sure, call us.")
    for part in ("text/plain", "text/html"):
        assert note in " ".join(text_part(again, part).split()), part
        assert "also sent you an invitation" not in text_part(once, part)


def test_an_export_that_stopped_is_not_an_evening_that_went_well(clinic, tmp_path, capsys):
    """A file whose every row is of a day gone by (the booking system's export stopped): the evening's run says so
    and ends in failure, so the timer's log shows it; rows of past days among others are counted as such, never as
    left for their own day's run."""
    folder, out = clinic
    stale = write_appointments(tmp_path / "stale.csv", [
        "Sam,sam@example.test,2026-11-20,09:30,facial", "Jo,jo@example.test,2026-11-22,11:00,hair"], HEADER)
    assert pack(folder, out, "--appointments", str(stale), "--for", "tomorrow") == 1
    said = capsys.readouterr()
    assert ("No appointments to prepare: every row of the file (2) is of a day that has passed. Is the booking "
            "system's export up to date?") in said.err
    lee = "Lee,lee@example.test,2026-11-20,09:30,facial"
    mixed = write_appointments(tmp_path / "mixed.csv", [*THREE_DAYS[1:], lee], HEADER)
    assert pack(folder, out, "--appointments", str(mixed), "--for", "tomorrow") == 0
    said = capsys.readouterr().out
    assert "; 2 appointments on other days left for their own day's run; 1 on days that have passed, left out." in said


@pytest.mark.parametrize(
    "chosen, expected",
    [
        (["--for", "2026-11-28"], ["priya@example.test"]),
        (["--days-ahead", "2"], ["alex@example.test", "jo@example.test", "sam@example.test"]),
        (["--for", "today"], []),
    ],
)
def test_the_days_asked_for(clinic, tmp_path, chosen, expected):
    folder, out = clinic
    export = write_appointments(tmp_path / "export.csv", THREE_DAYS[1:], HEADER)
    assert pack(folder, out, "--appointments", str(export), *chosen) == 0
    assert sorted(message["To"] for message in messages_in(out)) == expected


def test_tomorrow_is_the_clinics_tomorrow(clinic, tmp_path):
    folder, out = clinic
    export = write_appointments(tmp_path / "export.csv", THREE_DAYS[1:], HEADER)
    # 23:30 on the 25th in Los Angeles is already 07:30 on the 26th in London: the clinic's tomorrow is the 27th.
    late = Clock(now=lambda: datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("America/Los_Angeles")))
    assert pack(folder, out, "--appointments", str(export), "--for", "tomorrow", clock=late) == 0
    assert [message["To"] for message in messages_in(out)] == ["alex@example.test"]


def test_a_day_that_cannot_be_read_is_a_usage_error(clinic, capsys):
    folder, out = clinic
    with pytest.raises(SystemExit) as stopped:
        pack(folder, out, "--for", "next tuesday")
    assert stopped.value.code == 2
    assert "expected today, tomorrow or a date like 2031-06-04" in capsys.readouterr().err


# --- The receptionist's view ---


def test_the_status_lists_each_email_and_names_patients_only_from_the_file(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    mail_server.mailbox.refuse.add("jo@example.test")
    export = write_appointments(tmp_path / "export.csv", THREE_DAYS[1:], HEADER)
    # Tomorrow's are sent (Jo's refused), the rest prepared.
    assert pack(folder, out, "--appointments", str(export)) == 0
    assert pack(folder, out, "--appointments", str(export), "--for", "tomorrow", "--send", sleep=no_wait) == 1
    capsys.readouterr()
    assert pack(folder, out, "--status") == 0
    status = capsys.readouterr().out
    lines = [line for line in status.splitlines() if "export.csv" in line]
    assert [line.split()[0] for line in lines] == ["export.csv:2", "export.csv:3", "export.csv:4", "export.csv:5"]
    assert "Thursday 26 November 2026, 9:30" in lines[0] and " sent " in lines[0]
    # When it was sent, in the clinic's words and time zone (not "2026-12-06T02:00:00+00:00").
    assert re.search(r" sent \w+ \d+ \w+ \d{4}, \d+:\d\d \((GMT|BST)\)$", lines[0]), lines[0]
    assert " refused " in lines[1] and "550" in lines[1]
    assert "Friday 27 November 2026, 14:30" in lines[2] and " prepared " in lines[2]
    assert "4 emails: 1 refused, 2 prepared, 1 sent." in status
    # No name or address without the file.
    assert "sam" not in status.lower() and "@example.test" not in status
    # With the file again: who each one is, read from it now.
    assert pack(folder, out, "--status", "--appointments", str(export), "--for", "tomorrow") == 0
    named = capsys.readouterr().out
    assert "Sam <sam@example.test>" in named and "Jo <jo@example.test>" in named and "Alex" not in named
    assert "2 emails: 1 refused, 1 sent." in named
    # Purged: the prepared ones have no file to send any more, and say so.
    assert pack(folder, out, "--purge") == 0
    capsys.readouterr()
    assert pack(folder, out, "--status") == 0
    purged = capsys.readouterr().out
    assert " prepared " not in purged and "4 emails: 1 refused, 2 removed, 1 sent." in purged, purged
    assert "its file was removed (--purge, or its appointment passed): prepare it again to send it" in purged


def test_a_day_to_take_from_a_file_is_refused_for_one_appointment(clinic, capsys):
    """--for picks one day's appointments from a file: with one appointment given on the command line it would
    quietly prepare nothing ("No appointments to prepare") when the days differ. It is refused, saying why."""
    folder, out = clinic
    with pytest.raises(SystemExit) as refused:
        pack(folder, out, "--name", "Sam", "--email", "sam@example.test", "--when", "2031-05-05 10:00",
             "--treatment", "facial", "--for", "tomorrow")
    assert refused.value.code == 2 and "expected --for with an appointments file" in capsys.readouterr().err

