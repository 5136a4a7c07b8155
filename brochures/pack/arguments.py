"""The pack's command line: what to prepare (a file, or one appointment; which days), what to do (a dry run, --send,
--status, --resend, --mark-sent, --purge), and where."""

from __future__ import annotations

import argparse
import re
from datetime import date, timedelta

from brochures import DATA_DIR, PROJECT_ROOT, given_path

# At most this many days ahead in one run: the export of a week or two, not a season.
MAX_DAYS_AHEAD = 31


def _day(text: str) -> str:
    """ "today", "tomorrow" or a date like 2031-06-04: which day is resolved in the clinic's time zone, later."""
    value = text.strip().lower()
    if value in ("today", "tomorrow"):
        return value
    try:
        return date.fromisoformat(value).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else _refuse()
    except ValueError:
        return _refuse()


def _refuse() -> str:
    raise argparse.ArgumentTypeError("expected today, tomorrow or a date like 2031-06-04")


def _days_ahead(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_DAYS_AHEAD:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to {MAX_DAYS_AHEAD}, got {text!r}")
    return value


def _email_id(text: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{20}", text.strip()):
        raise argparse.ArgumentTypeError(
            f"expected an email's id as the pack prints it (20 letters and digits, like 4192fcdece517f2066c3), "
            f"got {text!r}"
        )
    return text.strip()


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="generate.py pack",
        description="Before the consultation: one email per booked patient, with the approved leaflets for their "
        "treatments attached and the appointment for their calendar. A dry run by default (writes the .eml files); "
        "--send delivers them.",
        epilog="Exit codes: 0 done; 1 some appointments or deliveries failed, or an email's delivery is unknown (the "
        "rest were done); 2 invalid input or settings; 3 the output folder could not be used; 130 interrupted.",
    )
    parser.add_argument(
        "--clinic", metavar="PATH_OR_SLUG", help="the clinic (needed when data/clinics/ holds more than one)"
    )
    parser.add_argument(
        "--appointments",
        type=given_path,
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
    reading = parser.add_argument_group("reading the file")
    reading.add_argument(
        "--date-order",
        choices=("day_first", "month_first"),
        help="how to read a date like 05/01/2031: day_first (5 January) or month_first (May 1); default: the "
        "clinic's appointments: date_order, else what the file's own dates settle",
    )
    days = reading.add_mutually_exclusive_group()
    days.add_argument(
        "--for",
        dest="for_day",
        type=_day,
        metavar="DAY",
        help="only the appointments of this day, in the clinic's time zone: today, tomorrow or 2031-06-04",
    )
    days.add_argument(
        "--days-ahead",
        type=_days_ahead,
        metavar="N",
        help="only the appointments from tomorrow to N days ahead, in the clinic's time zone",
    )
    parser.add_argument(
        "--pack",
        choices=("eml", "pdf"),
        default="eml",
        help="eml: the approved leaflets attached as they are (default); pdf: one personal PDF instead, "
        "a cover letter then the leaflets, marked as personal",
    )
    actions = parser.add_mutually_exclusive_group()
    actions.add_argument(
        "--send",
        action="store_true",
        help="deliver the emails through the clinic's mail server (email: in clinic.yaml)",
    )
    actions.add_argument(
        "--status",
        action="store_true",
        help="list each email prepared for the clinic, from its record: row, date and time, and whether it was sent; "
        "with --appointments, each patient's name and address too (read from the file again, never stored)",
    )
    actions.add_argument(
        "--resend",
        type=_email_id,
        action="append",
        metavar="ID",
        help="send again an email whose delivery is unknown, after checking with the patient that they do not have "
        "it (repeatable)",
    )
    actions.add_argument(
        "--mark-sent",
        type=_email_id,
        action="append",
        metavar="ID",
        help="record an email whose delivery is unknown as sent, after checking with the patient that they have it "
        "(repeatable)",
    )
    actions.add_argument(
        "--purge", action="store_true", help="delete every patient's email and personal file for the clinic, then stop"
    )
    parser.add_argument(
        "--out", type=given_path, default=PROJECT_ROOT / "out", metavar="DIR", help="output folder (default: out/)"
    )
    parser.add_argument(
        "--data", type=given_path, default=DATA_DIR, metavar="DIR",
        help="treatments, strings and clinics (default: data/)",
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
    args.single = bool(single)
    if args.appointments is not None and single:
        parser.error(
            f"expected either an appointments file (--appointments) or one appointment ({', '.join(single)}), "
            "got both; give one of them"
        )
    decided = "--resend" if args.resend else "--mark-sent" if args.mark_sent else None
    if decided and (args.appointments is not None or single or args.for_day or args.days_ahead):
        parser.error(
            f"expected {decided} with the email's id alone (and --clinic, --out), got "
            f"{'an appointments file' if args.appointments is not None else 'appointments'} too; it acts on the "
            "email as it was written"
        )
    narrowing = [("--appointments", args.appointments is not None), ("--for", args.for_day),
                 ("--days-ahead", args.days_ahead), ("--send", args.send), ("--resend", args.resend),
                 ("--mark-sent", args.mark_sent), ("--status", args.status)]
    if args.purge and (others := [flag for flag, value in narrowing if value] + single):
        parser.error(
            f"expected --purge alone (with --clinic and --out): it deletes every patient's email and personal file of "
            f"the clinic, and cannot be narrowed to one patient or day; got {', '.join(others)} too"
        )
    if single and (args.for_day or args.days_ahead):
        parser.error(
            f"expected {'--for' if args.for_day else '--days-ahead'} with an appointments file, which it takes one "
            f"day's appointments from; got one appointment ({', '.join(single)}), whose day --when gives"
        )
    if args.status and single:
        parser.error(f"expected --status alone, or with --appointments FILE, got {', '.join(single)} too")
    if args.send and args.appointments is None and not single:
        parser.error(
            "expected the appointments to send: --appointments FILE (the booking system's export), or one "
            "appointment with --name, --email, --when and --treatment; got neither (the sample "
            "data/appointments.csv is for dry runs only)"
        )
    return args


def chosen_days(args: argparse.Namespace, today: date) -> frozenset[date] | None:
    """The days asked for (--for, --days-ahead), `today` being the clinic's; None for every day."""
    if args.days_ahead:
        return frozenset(today + timedelta(days=ahead) for ahead in range(1, args.days_ahead + 1))
    if args.for_day:
        named = {"today": today, "tomorrow": today + timedelta(days=1)}
        return frozenset([named.get(args.for_day) or date.fromisoformat(args.for_day)])
    return None
