"""`python generate.py pack`: read appointments → build the approved leaflets → compose one email each →
write them → send.

    python generate.py pack                                   the sample data/appointments.csv, a dry run
    python generate.py pack --appointments tomorrow.csv --send
    python generate.py pack --name Sam --email sam@example.test --when "2030-12-03 14:30" --treatment facial
    python generate.py pack --purge                           delete every patient's file now

No file name it writes holds a patient's name or address, and what it prints about emails is counts, opaque ids and
row numbers only. A problem line about a bad row quotes the offending cell (so staff can fix it), on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from brochures import DATA_DIR, PROJECT_ROOT, exits
from brochures.files.output_folder import (
    BuildLock,
    OutputFolderError,
    WriteError,
    prepare,
)
from brochures.load.approval import approval_status, clinic_reference
from brochures.load.clinic import clinic_slugs, find_clinic_file, load_clinic
from brochures.load.content import load_content
from brochures.load.loaded import Clinic, Content
from brochures.pack.appointments import (
    Appointments,
    Rules,
    check_appointment,
    read_appointments,
)
from brochures.pack.delivery import deliver, write_messages
from brochures.pack.leaflets import approved_leaflets
from brochures.pack.private_files import (
    Ledger,
    install_secret,
    private_folder,
    private_lock,
    purge,
    remove_leftovers,
    remove_past,
)
from brochures.pack.sending import (
    find_password,
)
from brochures.problems import InputError, Problem, display_path, report_lines

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Clock:
    """When "now" is: appointments before it have passed. Tests give a fixed one."""

    now: Callable[[], datetime] = datetime.now


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="generate.py pack",
        description="Before the consultation: one email per booked patient, with the approved leaflets for their "
        "treatments attached. A dry run by default (writes the .eml files); --send delivers them.",
        epilog="Exit codes: 0 done; 1 some appointments or deliveries failed (the rest were done); 2 invalid input or "
        "settings; 3 the output folder could not be used; 130 interrupted.",
    )
    parser.add_argument(
        "--clinic", metavar="PATH_OR_SLUG", help="the clinic (needed when data/clinics/ holds more than one)"
    )
    parser.add_argument(
        "--appointments",
        type=Path,
        metavar="CSV",
        help="the booking system's export (default, for a dry run only: the sample data/appointments.csv)",
    )
    one = parser.add_argument_group("one appointment, instead of a file")
    one.add_argument("--name", help="the patient's first name")
    one.add_argument("--email", help="the patient's email address")
    one.add_argument("--when", metavar='"YYYY-MM-DD HH:MM"', help="the appointment's date and time")
    one.add_argument("--treatment", action="append", metavar="SLUG", help="a treatment to talk about (repeatable)")
    one.add_argument("--practitioner", help="who the patient will see (optional)")
    one.add_argument("--language", help="the patient's language (optional; must be the clinic's)")
    parser.add_argument(
        "--pack",
        choices=("eml", "pdf"),
        default="eml",
        help="eml: the approved leaflets attached as they are (default); pdf: one personal PDF instead, "
        "a cover letter then the leaflets, marked as personal",
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help="deliver the emails through the clinic's mail server (email: in clinic.yaml)",
    )
    parser.add_argument(
        "--purge", action="store_true", help="delete every patient's email and personal file for the clinic, then stop"
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "out", metavar="DIR", help="output folder (default: out/)"
    )
    parser.add_argument(
        "--data", type=Path, default=DATA_DIR, metavar="DIR", help="treatments, strings and clinics (default: data/)"
    )
    args = parser.parse_args(argv)
    single = [
        flag
        for flag, value in (
            ("--name", args.name),
            ("--email", args.email),
            ("--when", args.when),
            ("--treatment", args.treatment),
            ("--practitioner", args.practitioner),
            ("--language", args.language),
        )
        if value is not None
    ]
    if args.appointments is not None and single:
        parser.error(
            f"expected either an appointments file (--appointments) or one appointment ({', '.join(single)}), "
            "got both; give one of them"
        )
    if args.send and not args.purge and args.appointments is None and not single:
        parser.error(
            "expected the appointments to send: --appointments FILE (the booking system's export), or one "
            "appointment with --name, --email, --when and --treatment; got neither (the sample "
            "data/appointments.csv is for dry runs only)"
        )
    return args


def main(argv: list[str] | None, clock: Clock = Clock(), **send_options) -> int:
    """The pack, top-down. The leaflets come from the brochure build itself (`build()`), so the ones attached are the
    ones the clinic approved, built the same way; `send_options` reach `send_all` (tests pass a TLS context)."""
    args = parse_arguments(argv)
    now = clock.now()
    try:
        content = load_content(args.data)
        clinic, reference = choose_clinic(args.clinic, args.data, content)
    except InputError as error:
        return report_invalid(error.problems)
    try:
        prepare(args.out, inputs=[args.data, clinic.folder], outputs=[args.out / clinic.slug])
        folder = private_folder(args.out, clinic.slug)
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
            return run(args, content, clinic, reference, folder, now, send_options)
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


def run(args, content: Content, clinic: Clinic, reference: str, folder: Path, now: datetime, send_options: dict) -> int:
    if problems := settings_problems(clinic, content, args.send):
        return report_invalid(problems)
    password = None
    if args.send:
        password, problems = find_password(clinic)
        if problems:
            return report_invalid(problems)

    # First: without the key that made them, the ledger's ids mean nothing.
    secret = install_secret(args.out)
    # And it must be that key: another one is refused before anything is made.
    ledger = Ledger(folder, secret)
    booked = appointments(args, clinic, content, now)
    # The one appointment given is wrong: nothing to prepare.
    if booked.problem_count and booked.from_command_line:
        return report_invalid(booked.problems)
    print_problems(booked)
    if booked.file_problem or not booked.appointments:
        if not booked.problem_count:
            print("No appointments to prepare.")
        return exits.INVALID if booked.file_problem else exits.FAILED if booked.problem_count else exits.OK

    slugs = list(dict.fromkeys(slug for appointment in booked.appointments for slug in appointment.treatments))
    leaflets, code = approved_leaflets(args, clinic, content, reference, slugs)
    if leaflets is None:
        return code

    expired = remove_past(folder, ledger, now.date())
    try:
        messages, not_made = write_messages(
            args, booked.appointments, clinic, content, leaflets, folder, ledger, now, secret
        )
    finally:
        ledger.save()

    # Already sent: left as they were.
    kept = sum(1 for composed in messages if not composed.data)
    written = len(messages) - kept
    summary = (
        f"Prepared {written} email{'s' if written != 1 else ''} for {clinic.config.name} in "
        f"{display_path(folder)}/ (kept until the appointment has passed, or --purge)"
    )
    if kept:
        summary += f"; {kept} already sent, left as {'they were' if kept != 1 else 'it was'}"
    if expired:
        summary += f"; removed {expired} file{'s' if expired != 1 else ''} of appointments that have passed"
    if booked.problem_count:
        summary += f"; {booked.problem_count} row{'s' if booked.problem_count != 1 else ''} skipped (see above)"
    if not_made:
        summary += f"; {not_made} not made (see above)"
    print(summary + ".")
    failed = booked.problem_count > 0 or not_made > 0

    if not args.send:
        print("Dry run: nothing was sent. Check a message, then run the same command with --send.")
        return exits.FAILED if failed else exits.OK
    delivered = deliver(messages, clinic, password, ledger, folder, {"secret": secret, **send_options})
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
    """What stops the pack before anything is read or written: no email strings;
    for --send, no mail server or no approval."""
    problems = []
    if clinic.strings.pack is None:
        problems.append(
            Problem(
                clinic.strings_doc.path, None, "pack",
                "expected the words of the email (a pack: group, as in data/strings/en.yaml), got none"
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
                f"approve them first (python generate.py --clinic {clinic_reference(clinic, content)} --approval)",
            )
        )
    return problems


def appointments(args, clinic: Clinic, content: Content, now: datetime) -> Appointments:
    """From the file, or the one given on the command line."""
    date_pattern = clinic.strings.date
    rules = Rules(
        treatments=clinic.treatments,
        known=tuple(content.treatments),
        language=clinic.locale,
        day_first=date_pattern.index("{day}") < date_pattern.index("{month}"),
        now=now,
        names=Rules.names_of(clinic, content),
    )
    single = {
        "first_name": args.name,
        "email": args.email,
        "when": args.when,
        "treatments": args.treatment,
        "practitioner": args.practitioner,
        "language": args.language,
    }
    if any(value is not None for value in single.values()):
        result = Appointments(rows=1)
        names = {
            "first_name": "--name",
            "email": "--email",
            "when": "--when",
            "treatments": "--treatment",
            "practitioner": "--practitioner",
            "language": "--language",
        }
        single["when"] = single["when"] or ""
        appointment, problems = check_appointment(single, rules, Path("command line"), None, names)
        for problem in problems:
            result.add(problem)
        if appointment:
            result.appointments.append(appointment)
        result.from_command_line = True
        return result
    return read_appointments(args.appointments or args.data / "appointments.csv", rules)


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
