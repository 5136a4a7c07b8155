"""The receptionist's view (`pack --status`): each email prepared for the clinic, from its record: the row it came
from, the appointment's day and time, and whether it was sent. The patient's name and address are shown only when the
appointments file is given again: read from it then, never stored."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from brochures import exits
from brochures.load.loaded import Clinic
from brochures.pack.appointments import Rules
from brochures.pack.export import read_appointments
from brochures.pack.ledger import PREPARED, REFUSED, SENT, UNKNOWN, Ledger
from brochures.pack.message import moment_words, when_words
from brochures.pack.private_files import opaque_id
from brochures.problems import display_path, report_lines

# Shown for an appointment in the file that has no email yet.
NOT_PREPARED = "not prepared"
# Shown for an email prepared, never sent, whose file is gone (--purge, or its appointment passed): there is nothing
# to send until it is prepared again.
REMOVED = "removed"
STATE_ORDER = (UNKNOWN, REFUSED, PREPARED, REMOVED, SENT, NOT_PREPARED)


def show_status(args, clinic: Clinic, folder: Path, ledger: Ledger, now: datetime, secret: bytes, rules: Rules) -> int:
    """Print the clinic's emails from today on (or of the days asked for), and every one whose delivery is unknown,
    whatever its day; with --appointments, each one's patient, and the file's appointments not prepared yet."""
    today = now.date().isoformat()
    days = {day.isoformat() for day in rules.days} if rules.days is not None else None
    shown = {
        opaque: entry
        for opaque, entry in ledger.entries.items()
        if (entry.get("day", "") in days if days is not None else entry.get("day", "") >= today)
        or ledger.state(opaque) == UNKNOWN
    }
    patients: dict[str, tuple[str, str, str, datetime]] = {}
    if args.appointments is not None:
        booked = read_appointments(args.appointments, rules)
        if booked.file_problem:
            print("The appointments file cannot be used; nothing is shown:", file=sys.stderr)
            for line in report_lines(booked.problems):
                print(f"  {line}", file=sys.stderr)
            return exits.INVALID
        for appointment in booked.appointments:
            patients[opaque_id(secret, appointment.key)] = (
                appointment.first_name, appointment.email, appointment.row, appointment.when
            )
        if booked.problem_count:
            print(
                f"({booked.problem_count} row{'s' if booked.problem_count != 1 else ''} of the file could not be read: "
                "the dry run says why)",
                file=sys.stderr,
            )
    lines = []
    for opaque, entry in shown.items():
        when = datetime.fromisoformat(entry["when"]) if entry.get("when") else None
        state = ledger.state(opaque)
        if state == PREPARED and not (folder / f"{opaque}.eml").is_file():
            state = REMOVED
        lines.append((state, opaque, entry.get("row") or "", when, entry))
    for opaque, (_, _, row, when) in patients.items():
        if opaque not in ledger.entries and (days is None or when.date().isoformat() in days):
            lines.append((NOT_PREPARED, opaque, row, when, {}))
    lines.sort(key=lambda line: (line[3] or datetime.max, line[2]))

    print(f"Emails for {clinic.config.name}, from its record in {display_path(folder)}/:")
    if not lines:
        print("  none" + (" on the days asked for" if days is not None else " from today on") + ".")
    width = max((len(line[2]) for line in lines), default=0)
    days_said = [when_words(clinic, when) if when else entry.get("day", "")
                 for _, _, _, when, entry in lines]
    # As wide as the longest, so the states line up ("Wednesday, December 4, 2030, 10:15 AM" is wider than British).
    day_width = max((len(said) for said in days_said), default=0)
    for (state, opaque, row, _, entry), said in zip(lines, days_said):
        detail = ""
        if state == SENT:
            by_hand = " (marked by hand)" if entry["sent"].get("marked_by_hand") else ""
            detail = f"  sent {moment_words(clinic, entry['sent']['at'])}{by_hand}"
        elif state in (UNKNOWN, REFUSED) and entry.get("reason"):
            detail = f"  {entry['reason']}"
        who = ""
        if opaque in patients:
            name, address = patients[opaque][:2]
            who = f"  {name} <{address}>"
        if state == REMOVED:
            detail = "  its file was removed (--purge, or its appointment passed): prepare it again to send it"
        print(f"  {row:{width}}  {said:{day_width}} {state:12} {opaque}{who}{detail}")
    counts = {state: sum(line[0] == state for line in lines) for state in STATE_ORDER}
    said = ", ".join(f"{count} {state}" for state, count in counts.items() if count)
    print(f"{len(lines)} email{'s' if len(lines) != 1 else ''}" + (f": {said}." if said else "."))
    if counts[UNKNOWN]:
        print(
            "An unknown email may have reached the patient: ask them, then run --resend ID (they do not have it) "
            "or --mark-sent ID (they do)."
        )
    return exits.OK
