"""`python generate.py pack`: read appointments → build the approved leaflets → compose one email each →
write them → send.

    python generate.py pack                                   the sample data/appointments.csv, a dry run
    python generate.py pack --appointments tomorrow.csv --send
    python generate.py pack --appointments export.csv --for tomorrow --send      each evening
    python generate.py pack --name Sam --email sam@example.test --when "2030-12-03 14:30" --treatment facial
    python generate.py pack --status [--appointments export.csv]                what was prepared and sent
    python generate.py pack --resend ID | --mark-sent ID      a person's choice for an email whose delivery is unknown
    python generate.py pack --purge                           delete every patient's file now

No file name it writes holds a patient's name or address, and what it prints about emails is counts, opaque ids and
row numbers only. A problem line about a bad row quotes the offending cell (so staff can fix it), on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from brochures import exits
from brochures.files.output_folder import (
    BuildLock,
    OutputFolderError,
    WriteError,
    prepare,
)
from brochures.load.approval import approval_status, clinic_option
from brochures.load.clinic import clinic_slugs, find_clinic_file, load_clinic
from brochures.load.content import load_content
from brochures.load.loaded import Clinic, Content
from brochures.pack.appointments import EVER, Appointments, Rules, check_appointment
from brochures.pack.arguments import chosen_days, parse_arguments
from brochures.pack.connection import find_password
from brochures.pack.date_order import DateOrder
from brochures.pack.decisions import mark_sent, resend
from brochures.pack.delivery import deliver, write_messages
from brochures.pack.export import read_appointments
from brochures.pack.identity import clinic_record, registry_lock
from brochures.pack.leaflets import approved_leaflets
from brochures.pack.ledger import UNKNOWN, Ledger
from brochures.pack.message import date_words
from brochures.pack.private_files import install_secret, private_lock, purge, remove_leftovers, remove_past
from brochures.pack.status import show_status
from brochures.problems import InputError, Problem, display_path, report_lines

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Clock:
    """When "now" is: appointments before it have passed. Tests give a fixed one; one without a time zone is read as
    the clinic's own time."""

    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


def clinic_time(moment: datetime, zone: str) -> datetime:
    """The clinic's wall-clock time at `moment` (as the appointments file writes times: without a zone)."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if moment.tzinfo else moment


def main(argv: list[str] | None, clock: Clock = Clock(), **send_options) -> int:
    """The pack, top-down. The leaflets come from the brochure build itself (`build()`), so the ones attached are the
    ones the clinic approved, built the same way; `send_options` reach `send_all` (tests pass a TLS context)."""
    args = parse_arguments(argv)
    try:
        content = load_content(args.data)
        clinic, reference = choose_clinic(args.clinic, args.data, content)
    except InputError as error:
        return report_invalid(error.problems)
    now = clinic_time(clock.now(), clinic.timezone)
    try:
        prepare(args.out, inputs=[args.data, clinic.folder], outputs=[args.out / clinic.slug])
        # The clinic's record of what was sent: found by the clinic (its clinic_id, or the folder itself), never by
        # the folder's name alone, so a renamed, moved or linked folder sends nothing twice.
        with registry_lock(args.out):
            record = clinic_record(args.out, clinic, create=not args.status)
        if record is None:
            print(f"No emails have been prepared for {clinic.config.name} in {display_path(args.out)}/ yet.")
            return exits.OK
        folder = record.folder
        # One pack at a time per clinic: two would each send what the other has not recorded yet, and a purge would
        # delete what a send is reading. Another --out is never the way round it: its empty ledger would send again.
        private_lock(folder)
        with BuildLock(
            folder,
            busy="another pack is running for this clinic ({folder}/, pid {pid}); wait for it to "
            "finish, then run the same command again (what it sent is not sent again)",
            advice="check the folder; this one is the clinic's record of what was sent",
        ):
            if args.purge:
                removed = purge(folder)
                print(f"Removed {removed} personal file{'s' if removed != 1 else ''} from {display_path(folder)}/.")
                return exits.OK
            # What a killed run left half-written (a whole message, perhaps) goes before anything is made.
            remove_leftovers(folder)
            return run(args, content, clinic, reference, folder, record.clinic_id, now, send_options)
    except InputError as error:
        return report_invalid(error.problems)
    except (OutputFolderError, WriteError) as error:
        print(error, file=sys.stderr)
        return exits.OUTPUT
    except KeyboardInterrupt:
        print(
            "\nInterrupted: every email written or sent so far is recorded. Run the same command again to finish: "
            "nothing already sent is sent again.",
            file=sys.stderr,
        )
        return exits.INTERRUPTED


def run(
    args, content: Content, clinic: Clinic, reference: str, folder: Path, clinic_id: str, now: datetime,
    send_options: dict,
) -> int:
    sending = args.send or bool(args.resend)
    if problems := settings_problems(clinic, content, sending):
        return report_invalid(problems)
    password = None
    if sending:
        password, problems = find_password(clinic)
        if problems:
            return report_invalid(problems)

    # First: without the key that made them, the ledger's ids mean nothing.
    secret = install_secret(args.out)
    # And it must be that key: another one is refused before anything is made.
    ledger = Ledger(folder, secret)
    if args.status:
        # Every appointment in the file, passed or not, so that each email's patient can be named.
        return show_status(args, clinic, folder, ledger, now, secret, replace(rules(args, clinic, content, now),
                                                                              now=EVER))
    if args.mark_sent:
        return mark_sent(args.mark_sent, ledger, folder)
    if args.resend:
        return resend(args.resend, clinic, password, ledger, folder, {"secret": secret, **send_options})
    booked = appointments(args, clinic, content, now)
    # The one appointment given is wrong: nothing to prepare.
    if booked.problem_count and booked.from_command_line:
        return report_invalid(booked.problems)
    print_problems(booked)
    if booked.file_problem or not booked.appointments:
        if booked.passed_days and not booked.other_days and not booked.problem_count:
            # Every row is of a day gone by: the booking system's export has stopped, and each evening's run would
            # end well while no patient gets an email.
            print(f"No appointments to prepare: every row of the file ({booked.passed_days}) is of a day that has "
                  "passed. Is the booking system's export up to date?", file=sys.stderr)
            return exits.FAILED
        if not booked.problem_count:
            print("No appointments to prepare.")
        return exits.INVALID if booked.file_problem else exits.FAILED if booked.problem_count else exits.OK

    slugs = list(dict.fromkeys(slug for appointment in booked.appointments for slug in appointment.treatments))
    leaflets, code = approved_leaflets(args, clinic, content, reference, slugs)
    if leaflets is None:
        return code

    expired = remove_past(folder, ledger.entries, now.date())
    try:
        messages, not_made = write_messages(
            args, booked.appointments, clinic, content, leaflets, folder, ledger,
            now.replace(tzinfo=ZoneInfo(clinic.timezone)), secret, clinic_id,
        )
    finally:
        ledger.save()

    # Sent, or perhaps delivered (unknown): left as they were.
    kept = [composed for composed in messages if not composed.data]
    unknown = sum(1 for composed in kept if ledger.state(composed.opaque_id) == UNKNOWN)
    written = len(messages) - len(kept)
    summary = (
        f"Prepared {written} email{'s' if written != 1 else ''} for {clinic.config.name} in "
        f"{display_path(folder)}/ (kept until the appointment has passed, or --purge)"
    )
    if sent := len(kept) - unknown:
        summary += f"; {sent} already sent, left as {'they were' if sent != 1 else 'it was'}"
    if unknown:
        summary += (f"; {unknown} whose delivery is unknown, left as {'they were' if unknown != 1 else 'it was'} "
                    "(see above)")
    if expired:
        summary += f"; removed {expired} file{'s' if expired != 1 else ''} of appointments that have passed"
    if booked.problem_count:
        summary += f"; {booked.skipped} row{'s' if booked.skipped != 1 else ''} skipped (see above)"
    if booked.other_days:
        summary += (
            f"; {booked.other_days} appointment{'s' if booked.other_days != 1 else ''} on other days left for "
            "their own day's run"
        )
    if booked.passed_days:
        summary += f"; {booked.passed_days} on days that have passed, left out"
    if not_made:
        summary += f"; {not_made} not made (see above)"
    print(summary + ".")
    failed = booked.problem_count > 0 or not_made > 0

    if not args.send:
        print("Dry run: nothing was sent. Check a message, then run the same command with --send.")
        return exits.FAILED if failed else exits.OK
    try:
        delivered = deliver(messages, clinic, password, ledger, folder, {"secret": secret, **send_options})
    finally:
        ledger.save()
    return delivered or (exits.FAILED if failed else exits.OK)


def choose_clinic(reference: str | None, data_dir: Path, content: Content) -> tuple[Clinic, str]:
    if reference is None:
        slugs = clinic_slugs(data_dir)
        if len(slugs) != 1:
            raise InputError(
                [
                    Problem(
                        Path("generate.py pack"),
                        None,
                        "--clinic",
                        f"expected the clinic to prepare emails for (one of: {', '.join(slugs) or 'none'}), "
                        "got nothing",
                    )
                ]
            )
        reference = slugs[0]
    return load_clinic(find_clinic_file(reference, data_dir), content), reference


def settings_problems(clinic: Clinic, content: Content, sending: bool) -> list[Problem]:
    """What stops the pack before anything is read or written: no email strings; no time zone to read the
    appointments' times in; for --send, no mail server or no approval."""
    problems = []
    if clinic.strings.pack is None:
        problems.append(
            Problem(
                clinic.strings_doc.path, None, "pack",
                "expected the words of the email (a pack: group, as in data/strings/en.yaml), got none"
            )
        )
    if clinic.config.timezone is None and not (clinic.country and clinic.country.timezone):
        # Appointment times come without a zone: read in UTC, a patient in New York would be invited hours early.
        where = f"{clinic.config.country} has several" if clinic.country else "its country has none here"
        problems.append(
            Problem(
                clinic.config_file,
                clinic.doc.line_of(("country",)),
                "timezone",
                f"expected the clinic's time zone (timezone: in clinic.yaml, such as America/New_York), as the "
                f"appointments file gives its times without one and {where}; got none, so every appointment would "
                "be read, and each invitation timed, in UTC",
            )
        )
    if sending and clinic.config.email is None:
        problems.append(
            Problem(
                clinic.config_file,
                None,
                "email",
                "expected the mail server to send through (an email: "
                "group; see \"Before the consultation\" in README.md), got none",
            )
        )
    if sending and not (status := approval_status(clinic))["approved"]:
        problems.append(
            Problem(
                clinic.config_file,
                None,
                "approval",
                "expected leaflets approved by the clinic's medical lead before they are sent to patients, "
                f"got {'none' if status['state'] == 'unapproved' else 'an approval of older content'}; "
                f"approve them first (python generate.py {clinic_option(clinic, content)} --approval)",
            )
        )
    return problems


def rules(args, clinic: Clinic, content: Content, now: datetime) -> Rules:
    """What each appointment is checked against: the clinic's treatments and language, the date order (the command
    line's, else the clinic's setting; else its country's habit, unsettled), the days asked for, and `now`."""
    order = args.date_order or clinic.config.appointments.date_order
    date_pattern = clinic.strings.date
    return Rules(
        treatments=clinic.treatments,
        known=tuple(content.treatments),
        language=clinic.locale,
        day_first=order == "day_first" if order else date_pattern.index("{day}") < date_pattern.index("{month}"),
        now=now,
        names=Rules.names_of(clinic, content),
        settled=order is not None,
        days=chosen_days(args, now.date()),
        say_date=lambda day: date_words(clinic, day),
        zone=clinic.timezone,
    )


def appointments(args, clinic: Clinic, content: Content, now: datetime) -> Appointments:
    """From the file, or the one given on the command line."""
    checks = rules(args, clinic, content, now)
    single = {
        "first_name": args.name,
        "email": args.email,
        "when": args.when,
        "treatments": args.treatment,
        "practitioner": args.practitioner,
        "language": args.language,
    }
    if any(value is not None for value in single.values()):
        result = Appointments(rows=1, from_command_line=True)
        names = {
            "first_name": "--name",
            "email": "--email",
            "when": "--when",
            "treatments": "--treatment",
            "practitioner": "--practitioner",
            "language": "--language",
        }
        single["when"] = single["when"] or ""
        # One date alone settles nothing: 05/01/2031 needs the clinic's date_order, or --date-order.
        order = DateOrder()
        order.see(single["when"], None, "--when")
        if not checks.settled and (problem := order.problem(Path("command line"), checks.say_date, False)):
            result.add(problem)
            return result
        appointment, problems = check_appointment(single, checks, Path("command line"), None, names)
        for problem in problems:
            result.add(problem)
        if appointment:
            result.appointments.append(appointment)
        return result
    return read_appointments(args.appointments or args.data / "appointments.csv", checks)


def print_problems(booked: Appointments) -> None:
    if not booked.problem_count:
        return
    count = booked.problem_count
    if booked.file_problem:
        print(
            f"The appointments file cannot be used ({count:,} problem{'s' if count != 1 else ''}); "
            "nothing was prepared:",
            file=sys.stderr,
        )
    elif not booked.appointments:
        print(f"Problems in the appointments ({count:,}); no row could be prepared:", file=sys.stderr)
    else:
        print(
            f"Problems in the appointments ({count:,}); those rows were skipped, the others were prepared:",
            file=sys.stderr,
        )
    for line in report_lines(booked.problems[:SHOWN_PROBLEMS], per_file=SHOWN_PROBLEMS):
        print(f"  {line}", file=sys.stderr)
    if count > SHOWN_PROBLEMS:
        print(f"  … and {count - SHOWN_PROBLEMS:,} more", file=sys.stderr)


def report_invalid(problems: list[Problem]) -> int:
    print(
        f"Invalid input ({len(problems)} problem{'s' if len(problems) != 1 else ''}); nothing was prepared:",
        file=sys.stderr,
    )
    for line in report_lines(problems):
        print(f"  {line}", file=sys.stderr)
    return exits.INVALID
