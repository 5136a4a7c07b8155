"""Delivers composed emails through the clinic's SMTP server: encrypted, at a bounded rate, each appointment at most
once. Once the end of a message has gone out, the message is never sent again by itself: unless the server's answer
is read, it is recorded as unknown, for a person to decide."""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from brochures.load.loaded import Clinic
from brochures.pack.connection import TIMEOUT, SendError, _close, _closed, _reason, _text, connect
from brochures.pack.ledger import SENT as SENT_STATE
from brochures.pack.ledger import UNKNOWN as UNKNOWN_STATE
from brochures.pack.ledger import Ledger
from brochures.pack.message import Composed, moment_words
from brochures.pack.private_files import address_hash, append_send_log, install_secret
from brochures.schema.clinic import EmailSettings

SENT, ALREADY_SENT, REFUSED, TEMPORARY, NOT_SENT = "sent", "already sent", "refused", "temporary failure", "not sent"
# Its end went out, and no answer was read (lost, late, or the connection dropped): it may have been delivered.
UNKNOWN = "unknown"
# Seconds before each retry of a temporary (4xx) failure.
RETRY_DELAYS = (10.0, 30.0, 90.0)


@dataclass
class Result:
    opaque_id: str
    status: str
    code: int | None = None
    # The server's reply, with any address in it masked.
    reason: str = ""
    attempts: int = 0
    # Where the appointment was read ("appointments.csv:7").
    row: str = ""


class AfterTheEnd(Exception):
    """The end of the message went out and no answer to it was read: it may have been delivered."""


def _lines_for_smtp(data: bytes) -> bytes:
    """The message as SMTP carries it (RFC 5321 4.5.2): CRLF line ends, a leading dot doubled, ending in CRLF."""
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _refused_before_the_end(server: smtplib.SMTP, code: int) -> None:
    """The server refused a command before the message went: start over on this connection (RSET), or, when it is
    closing it (421), drop it."""
    if code == 421:
        _closed(server)
        return
    with contextlib.suppress(smtplib.SMTPException, OSError):
        server.rset()


def transmit(server: smtplib.SMTP, sender: str, recipient: str, data: bytes, before_the_end: Callable[[], None]):
    """Send one message by hand, so that the moment its end (the line with one dot) goes out is known: `before_the_end`
    is called just before it (the ledger records the message as unknown, on disk). A refusal before then raises what
    smtplib's sendmail raises, so it may be tried again; once the end is out, only the server's answer settles it:
    2xx delivered (returns), 4xx or 5xx SMTPDataError (the server says it did not take it), anything else, or no
    answer at all, AfterTheEnd."""
    server.ehlo_or_helo_if_needed()
    options = [f"size={len(data)}"] if server.does_esmtp and server.has_extn("size") else []
    code, reply = server.mail(sender, options)
    if code != 250:
        _refused_before_the_end(server, code)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = server.rcpt(recipient)
    if code not in (250, 251):
        _refused_before_the_end(server, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = server.docmd("data")
    if code != 354:
        _refused_before_the_end(server, code)
        raise smtplib.SMTPDataError(code, reply)
    server.send(_lines_for_smtp(data))
    before_the_end()
    try:
        server.send(b".\r\n")
        code, reply = server.getreply()
    # Lost, late (the timeout), cut off, or an answer too long to read: the server may have taken it.
    except Exception as error:
        if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
            raise AfterTheEnd(f"no answer came in time (within {server.timeout:g} s)") from None
        if isinstance(error, smtplib.SMTPServerDisconnected):
            raise AfterTheEnd("the connection was closed before any answer") from None
        raise AfterTheEnd(f"its answer could not be read ({_reason(error)})") from None
    if 200 <= code < 300:
        return
    if 400 <= code < 600:
        raise smtplib.SMTPDataError(code, reply)
    raise AfterTheEnd(f"an answer that is not one: {_text(reply)}")


def _failure(error: Exception) -> tuple[int | None, str]:
    """The SMTP code and (masked) reply of a failed send."""
    code, reply = None, None
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        with contextlib.suppress(Exception):
            code, reply = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, reply = getattr(error, "smtp_code", None), getattr(error, "smtp_error", "")
    if not isinstance(code, int):
        return None, _reason(error)
    reason = _text(reply)
    # The server wants a login the config does not give.
    if code == 530:
        reason += (
            "; the server requires a login: set email.user, with password_env or password_file, in the clinic's config"
        )
    return code, reason


def send_all(
    messages: list[Composed],
    clinic: Clinic,
    password: str | None,
    ledger: Ledger,
    folder: Path,
    *,
    context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
    retry_delays: tuple[float, ...] = RETRY_DELAYS,
    report: Callable[[Result], None] = lambda result: None,
    secret: bytes | None = None,
    retrying: Callable[[Result, float], None] = lambda result, seconds: None,
    timeout: float = TIMEOUT,
) -> tuple[list[Result], SendError | None]:
    """Send each message not already sent (nor unknown), at most `per_minute` a minute. A temporary failure (4xx) is
    tried again after each of `retry_delays` (`retrying` is told first); a permanent one (5xx) is reported for that
    patient and the batch goes on. A message whose end went out without an answer read within `timeout` seconds is
    unknown: recorded so, reported, and never sent again by itself.

    Returns one result per message, and why the batch stopped early (the server went away), if it did.
    """
    settings: EmailSettings = clinic.config.email
    # Out/.private/<clinic> → out.
    secret = secret if secret is not None else install_secret(folder.parent.parent)
    interval = 60.0 / settings.per_minute
    results: list[Result] = []
    server: smtplib.SMTP | None = None
    stopped: SendError | None = None
    last_sent: float | None = None
    try:
        for composed in messages:
            row = composed.appointment.row
            if stopped:
                results.append(Result(composed.opaque_id, NOT_SENT, reason="not attempted", row=row))
                report(results[-1])
                continue
            if (state := ledger.state(composed.opaque_id)) in (SENT_STATE, UNKNOWN_STATE):
                entry = ledger.entry(composed.opaque_id)
                if state == SENT_STATE:
                    said = Result(composed.opaque_id, ALREADY_SENT,
                                  reason=f"sent {moment_words(clinic, entry['sent']['at'])}", row=row)
                else:
                    said = Result(composed.opaque_id, UNKNOWN, reason=_unknown_since(entry), row=row)
                results.append(said)
                report(results[-1])
                continue
            result = Result(composed.opaque_id, NOT_SENT, row=row)
            for attempt, delay in enumerate((*retry_delays, None), start=1):
                # A bounded rate: mail servers throttle or block a burst.
                if last_sent is not None:
                    sleep(max(0.0, interval - (time.monotonic() - last_sent)))
                result.attempts = attempt
                try:
                    if server is None:
                        server = connect(settings, password, context, timeout)
                    last_sent = time.monotonic()
                    transmit(
                        server, settings.from_address, composed.appointment.email, composed.data,
                        lambda opaque=composed.opaque_id: ledger.record_end_sent(opaque, _now()),
                    )
                except SendError as error:
                    stopped = error
                    result.status, result.reason = NOT_SENT, "the mail server could not be used"
                    break
                except AfterTheEnd as error:
                    # Never again by itself: the patient may have it. The connection is in an unknown state too.
                    server = _closed(server)
                    result.status, result.code = UNKNOWN, None
                    result.reason = f"the end of the message went out, then {error}"
                    ledger.record_unknown(composed.opaque_id, result.reason)
                    break
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                    result.code, result.reason = _failure(error)
                    if server is not None and getattr(server, "sock", None) is None:
                        # Closed (a reply too long to read, or 421): the next attempt reconnects.
                        server = None
                    if result.code is None or not 400 <= result.code < 500:
                        result.status = REFUSED if result.code else NOT_SENT
                        if result.code:
                            ledger.record_refused(composed.opaque_id, f"{result.code} {result.reason}")
                        break
                    result.status = TEMPORARY
                    if ledger.state(composed.opaque_id) == UNKNOWN_STATE:
                        # Answered 4xx at its end: the server says it did not take it, so it may go again.
                        ledger.record_not_delivered(composed.opaque_id, f"{result.code} {result.reason}")
                except (smtplib.SMTPNotSupportedError, ValueError) as error:
                    # This message cannot go (an address the server cannot take, an extension it lacks, text that
                    # cannot be encoded): report it for this patient and go on. The server may be left in the middle
                    # of the message, so the next one starts on a new connection.
                    server = _closed(server)
                    result.status, result.code = NOT_SENT, None
                    result.reason = f"this message could not be sent ({_reason(error)})"
                    break
                # The connection was lost before the end of the message (SMTPServerDisconnected is an OSError too).
                except OSError as error:
                    # Reconnect for the next attempt; if the server is gone, connecting says so.
                    server = _closed(server)
                    result.status, result.code = TEMPORARY, None
                    result.reason = f"the connection was lost ({_reason(error)})"
                # Anything else smtplib raises for one message: this patient alone.
                except Exception as error:
                    server = _closed(server)
                    result.status, result.code = NOT_SENT, None
                    result.reason = f"this message could not be sent ({_reason(error)})"
                    break
                else:
                    # Accepted: recorded before anything else can fail, so a re-run never sends it again.
                    ledger.record_sent(composed.opaque_id, _now(), composed.message_id)
                    result.status, result.code, result.reason = SENT, 250, ""
                    break
                finally:
                    _log(folder, composed, result, secret)
                if delay is not None:
                    # Said, so a greylisted send is not a silent wait.
                    retrying(result, delay)
                    sleep(delay)
            results.append(result)
            report(result)
    finally:
        if server is not None:
            _close(server)
    return results, stopped


def _unknown_since(entry: dict) -> str:
    return (
        f"its end went out {entry.get('end_sent_at') or 'in an earlier run'} and no answer was read "
        f"({entry.get('reason') or 'the run stopped'})"
    )


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _log(folder: Path, composed: Composed, result: Result, secret: bytes) -> None:
    append_send_log(
        folder,
        {
            "time": _now(),
            "id": composed.opaque_id,
            "message_id": composed.message_id,
            "result": result.status,
            "code": result.code,
            "attempt": result.attempts,
            "address_hmac_sha256": address_hash(secret, composed.appointment.email),
        },
    )
