"""The emails of a pack: each one written as a .eml file, then delivered through the clinic's mail server."""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from pathlib import Path

from brochures import exits
from brochures.load.loaded import Clinic, Content
from brochures.pack.appointments import (
    Appointment,
)
from brochures.pack.connection import UNPROTECTED, UNREACHABLE, SendError
from brochures.pack.invitation import calendar_event, event_uid
from brochures.pack.ledger import SENT as SENT_STATE
from brochures.pack.ledger import UNKNOWN as UNKNOWN_STATE
from brochures.pack.ledger import Ledger
from brochures.pack.message import (
    Composed,
    Leaflet,
    appointment_words,
    compose,
    logo_png,
    mail_environment,
    moment_words,
    when_words,
)
from brochures.pack.personal_pdf import PACK_FILE, personal_pdf
from brochures.pack.private_files import opaque_id, patient_hash, write_private
from brochures.pack.sending import ALREADY_SENT, SENT, UNKNOWN, send_all
from brochures.pdf.checks import PrintError
from brochures.problems import display_path
from brochures.render.errors import RenderError

# The whole email, attachments included: most mailboxes take 10 MB, phones prefer less.
MAX_MESSAGE_BYTES = 1024 * 1024


def write_messages(
    args,
    booked: list[Appointment],
    clinic: Clinic,
    content: Content,
    leaflets: dict[str, Leaflet],
    folder: Path,
    ledger: Ledger,
    now: datetime,
    secret: bytes,
    clinic_id: str,
) -> tuple[list[Composed], int]:
    """Compose each appointment's email (and personal PDF), with its calendar event, write it to the private folder,
    and note it in the ledger. `now` is the clinic's time, with its zone. One the ledger says was sent, or may have
    been (unknown), is left as it is on disk (its entry in the list carries no data: it is not sent again by itself).
    Returns the messages written or kept, and how many could not be made (too large to send, or a personal PDF or
    message that failed for this patient alone: reported with its row, and the others are still made)."""
    environment = mail_environment(clinic)
    logo = logo_png(clinic)
    printer = None
    if args.pack == "pdf":
        from brochures.pdf.printer import Printer

        printer = Printer()
    messages, not_made = [], 0
    for appointment in booked:
        opaque = opaque_id(secret, appointment.key)
        # What the patient received, or may have, stays on disk as it was: never composed again.
        if (state := ledger.state(opaque)) in (SENT_STATE, UNKNOWN_STATE):
            entry = ledger.entry(opaque)
            said = (
                f"already sent {moment_words(clinic, entry['sent']['at'])}" if state == SENT_STATE
                else f"its delivery is unknown: run --resend {opaque} or --mark-sent {opaque}"
            )
            print(f"  kept       {display_path(folder / opaque)}.eml  ({appointment.row}; {said}, so left as it was)")
            messages.append(
                Composed(
                    appointment=appointment,
                    opaque_id=opaque,
                    message=None,
                    data=b"",
                    content_hash="",
                    message_id=(entry.get("sent") or {}).get("message_id", ""),
                )
            )
            continue
        theirs, attachments = [leaflets[slug] for slug in appointment.treatments], None
        try:
            if printer is not None:
                pdf = personal_pdf(appointment, clinic, content, printer, folder / f"{opaque}.pdf")
                theirs = [dataclasses.replace(leaflet, path=Path(PACK_FILE), data=b"") for leaflet in theirs]
                attachments = [
                    Leaflet(slug="pack", title=clinic.strings.pack.letter_title, path=Path(PACK_FILE), data=pdf)
                ]
            domain = calendar_domain(clinic)
            calendar = calendar_event(
                appointment, clinic, content, event_uid(secret, clinic_id, appointment, domain), now
            )
            # Invitations this patient has for other times (a moved appointment leaves the first in their calendar).
            patient = patient_hash(secret, appointment.email, appointment.first_name)
            others = ledger.invited(patient, now.replace(tzinfo=None), opaque)
            composed = compose(
                appointment, opaque, clinic, content, theirs, environment, now, secret, attachments, logo, calendar,
                also_invited=others,
            )
        # This patient's letter alone: the others are still made.
        except (RenderError, PrintError) as error:
            not_made += 1
            print(
                f"  FAILED     {appointment.row}: expected an email{' and personal PDF' if printer else ''} for this "
                f"appointment, got an error ({error}); nothing was written for it",
                file=sys.stderr,
            )
            continue
        if printer is not None:
            write_private(folder / f"{opaque}.pdf", pdf)
        size = len(composed.data)
        if size > MAX_MESSAGE_BYTES:
            not_made += 1
            print(
                f"  TOO LARGE  {opaque}.eml  ({size / 1024:.0f} KB, over {MAX_MESSAGE_BYTES // 1024} KB): not written",
                file=sys.stderr,
            )
            continue
        write_private(folder / f"{opaque}.eml", composed.data)
        ledger.record_made(opaque, appointment.when, appointment.row, composed.content_hash, size, patient)
        # What was read, as the clinic would say it, so a person can check it without opening the email; never the
        # patient's name or address.
        words = appointment_words(appointment, clinic, [content.of(clinic).treatments[s].title
                                                        for s in appointment.treatments])
        also = "".join(f"; the patient was also sent an invitation for {when_words(clinic, when)}: the email asks "
                       "them to delete it if this one replaces it" for when in others)
        print(f"  wrote      {display_path(folder / opaque)}.eml  ({size / 1024:.0f} KB, {appointment.row}): "
              f"{words['date']}, {words['time']}; {words['treatments']}{also}")
        messages.append(composed)
    return messages, not_made


def calendar_domain(clinic: Clinic) -> str:
    """The domain of the calendar event's UID: the clinic's contact address's, the same for a dry run and a send."""
    return clinic.config.contact.email.rpartition("@")[2]


def deliver(
    messages: list[Composed], clinic: Clinic, password: str | None, ledger: Ledger, folder: Path, send_options: dict
) -> int:
    settings = clinic.config.email

    def report(result) -> None:
        said = " ".join(str(part) for part in (result.code, result.reason) if part)
        detail = f" ({said})" if said and result.status not in (SENT, ALREADY_SENT) else ""
        if result.status == ALREADY_SENT:
            detail = f" ({result.reason}; not sent again)"
        elif result.status == UNKNOWN:
            detail = f" ({result.reason}): it may have been delivered, so it is not sent again by itself"
        where = f"  {result.row}" if result.row else ""
        print(f"  {result.status:10} {result.opaque_id}{where}{detail}", flush=True)

    def retrying(result, seconds: float) -> None:
        said = " ".join(str(part) for part in (result.code, result.reason) if part)
        print(
            f"  {result.status} {result.opaque_id}{f' ({said})' if said else ''}: will try again in {seconds:.0f} s",
            flush=True,
        )

    security = {"starttls": "STARTTLS", "tls": "TLS"}.get(settings.security, "no encryption: this machine only")
    print(
        f"Sending through {settings.smtp_host}:{settings.smtp_port} ({security}), "
        f"at most {settings.per_minute} a minute:"
    )
    try:
        results, stopped = send_all(
            messages, clinic, password, ledger, folder, report=report, retrying=retrying, **send_options
        )
    except SendError as error:
        print(f"Nothing sent: {error}", file=sys.stderr)
        return exits.FAILED
    counts = {
        status: sum(result.status == status for result in results)
        for status in dict.fromkeys(r.status for r in results)
    }
    print("Sent: " + ", ".join(f"{count} {status}" for status, count in counts.items()) + ".")
    if stopped:
        print(stopped_message(stopped, counts.get(SENT, 0), clinic), file=sys.stderr)
    if unknown := [result for result in results if result.status == UNKNOWN]:
        print(unknown_message(unknown, clinic), file=sys.stderr)
    return exits.FAILED if stopped or any(result.status not in (SENT, ALREADY_SENT) for result in results) else exits.OK


def unknown_message(unknown: list, clinic: Clinic) -> str:
    """What a person decides for each email whose end went out with no answer read, and how."""
    reference = display_path(clinic.folder)
    lines = [
        f"{len(unknown)} email{'s' if len(unknown) != 1 else ''} may have been delivered: the mail server was sent "
        "the whole message, then its answer was lost, late or cut off. The pack does not send "
        f"{'them' if len(unknown) != 1 else 'it'} again by itself. Ask the patient (pack --status --appointments FILE "
        "shows who each is), then run one of:"
    ]
    for result in unknown:
        lines.append(
            f"  python generate.py pack --clinic {reference} --resend {result.opaque_id}      "
            f"# {result.row or 'this one'}: they did not get it"
        )
        lines.append(
            f"  python generate.py pack --clinic {reference} --mark-sent {result.opaque_id}   "
            f"# {result.row or 'this one'}: they have it"
        )
    return "\n".join(lines)


def stopped_message(stopped: SendError, sent: int, clinic: Clinic) -> str:
    """Why the batch stopped, what was and was not sent, and what to do: try again later only if that can help."""
    if stopped.kind == UNREACHABLE:
        return f"Stopped: {stopped}. Run the same command again to send the rest: what was sent is not sent again."
    done = "Nothing was sent" if not sent else f"The other emails were not sent ({sent} were, before it stopped)"
    if stopped.kind == UNPROTECTED:
        return (
            f"{done}, because the connection to the mail server could not be protected: {stopped}. "
            "Check email.smtp_host, "
            f"smtp_port and security in {display_path(clinic.config_file)} (security: tls for a server's TLS port, "
            "usually 465; starttls for port 587), or ask your email provider; then run the same command again."
        )
    return f"{done}: {stopped}. Then run the same command again: what was sent is not sent again."
