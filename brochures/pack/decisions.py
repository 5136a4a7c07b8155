"""A person's choice for an email whose delivery is unknown (its end went out, and no answer was read): send it again
(`--resend ID`, once the patient says they do not have it), or record it as sent (`--mark-sent ID`, once they say they
do). Either acts on the email as it was written, kept in the private folder."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from email import message_from_bytes, policy
from pathlib import Path

from brochures import exits
from brochures.files.safe_read import read_regular_file
from brochures.load.loaded import Clinic
from brochures.pack.appointments import Appointment
from brochures.pack.delivery import MAX_MESSAGE_BYTES, deliver
from brochures.pack.ledger import UNKNOWN, Ledger
from brochures.pack.message import Composed
from brochures.problems import Problem, display_path, report_lines


def _not_unknown(ids: list[str], ledger: Ledger, flag: str) -> list[Problem]:
    problems = []
    for opaque in ids:
        state = ledger.state(opaque)
        if state == UNKNOWN:
            continue
        found = {
            None: "which is not in this clinic's record",
            "sent": f"which was sent {(ledger.sent(opaque) or {}).get('at', '')}".rstrip(),
            "prepared": "which has not been sent: the next --send sends it",
            "refused": "which the mail server refused: the next --send tries it again",
        }.get(state, f"which is {state}")
        problems.append(
            Problem(
                Path("generate.py pack"),
                None,
                flag,
                f"expected the id of an email whose delivery is unknown (pack --status lists them), got {opaque}, "
                f"{found}",
            )
        )
    return problems


def _invalid(problems: list[Problem]) -> int:
    print(f"Invalid input ({len(problems)} problem{'s' if len(problems) != 1 else ''}); nothing was done:",
          file=sys.stderr)
    for line in report_lines(problems):
        print(f"  {line}", file=sys.stderr)
    return exits.INVALID


def _kept(folder: Path, opaque: str) -> tuple[bytes | None, str | None]:
    """The email as it was written, and its Message-ID; (None, None) if it is no longer kept."""
    try:
        data = read_regular_file(folder / f"{opaque}.eml", MAX_MESSAGE_BYTES + 1)
    except OSError:
        return None, None
    return data, str(message_from_bytes(data, policy=policy.default)["Message-ID"] or "")


def mark_sent(ids: list[str], ledger: Ledger, folder: Path) -> int:
    """Record each as sent: the patient has it. Nothing is sent."""
    if problems := _not_unknown(ids, ledger, "--mark-sent"):
        return _invalid(problems)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for opaque in ids:
        entry = ledger.entry(opaque)
        ledger.record_sent(opaque, at, _kept(folder, opaque)[1] or "", by_hand=True)
        print(f"  marked sent {opaque}  ({entry.get('row', '')}): it is never sent again")
    ledger.save()
    return exits.OK


def resend(
    ids: list[str], clinic: Clinic, password: str | None, ledger: Ledger, folder: Path, send_options: dict
) -> int:
    """Send each again, exactly as it was written (the same Message-ID, so the patient's mail program can tell it is
    the same email), through the same checks as any send: if its end goes out with no answer again, it is unknown
    again."""
    problems = _not_unknown(ids, ledger, "--resend")
    messages = []
    for opaque in ids if not problems else ():
        data, message_id = _kept(folder, opaque)
        if data is None:
            problems.append(
                Problem(
                    Path("generate.py pack"), None, "--resend",
                    f"expected the email {opaque} in {display_path(folder)}/, got none (removed by --purge, or after "
                    "the appointment's day); prepare it again from the appointments file with --send",
                )
            )
            continue
        message = message_from_bytes(data, policy=policy.default)
        entry = ledger.entry(opaque)
        when = datetime.fromisoformat(entry["when"]) if entry.get("when") else datetime.fromisoformat(entry["day"])
        appointment = Appointment(
            first_name="", email=str(message["To"]), when=when, treatments=(), row=entry.get("row", "")
        )
        messages.append(
            Composed(
                appointment=appointment, opaque_id=opaque, message=message, data=data,
                content_hash=entry.get("content", ""), message_id=message_id,
            )
        )
    if problems:
        return _invalid(problems)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for composed in messages:
        # The person's choice, on record before anything goes.
        ledger.record_resend_chosen(composed.opaque_id, at)
    try:
        return deliver(messages, clinic, password, ledger, folder, send_options)
    finally:
        ledger.save()
