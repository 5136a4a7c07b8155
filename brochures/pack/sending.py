"""Delivers composed emails through the clinic's SMTP server: encrypted, at a bounded rate,
each appointment at most once."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import socket
import ssl
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from brochures.files.safe_read import read_regular_file
from brochures.load.loaded import Clinic
from brochures.pack.message import Composed
from brochures.pack.private_files import (
    Ledger,
    address_hash,
    append_send_log,
    install_secret,
)
from brochures.problems import Problem, display_path
from brochures.schema.clinic import LOCAL_HOSTS, EmailSettings

SENT, ALREADY_SENT, REFUSED, TEMPORARY, NOT_SENT = "sent", "already sent", "refused", "temporary failure", "not sent"
# Seconds before each retry of a temporary (4xx) failure.
RETRY_DELAYS = (10.0, 30.0, 90.0)
# Seconds the server may take to answer.
TIMEOUT = 60.0
MAX_PASSWORD_FILE = 4096


# Why a batch stopped: what to do about it.
UNREACHABLE, UNPROTECTED, SETTINGS = "unreachable", "unprotected", "settings"


class SendError(Exception):
    """Nothing more can be sent in this run: the server cannot be reached (`UNREACHABLE`: try again later), the
    connection could not be encrypted (`UNPROTECTED`), or it refuses the settings, such as the login (`SETTINGS`)."""

    def __init__(self, message: str, kind: str = UNREACHABLE):
        super().__init__(message)
        self.kind = kind


@dataclass
class Result:
    opaque_id: str
    status: str
    code: int | None = None
    # The server's reply, with any address in it masked.
    reason: str = ""
    attempts: int = 0


def mask_addresses(text: str) -> str:
    """A server's reply without the addresses it may quote (`<sam@example.test>: unknown user`)."""
    return re.sub(r"[^\s<>\"']+@[^\s<>\"']+", "<address>", text)


# --- The password: never in the config ---


def find_password(clinic: Clinic) -> tuple[str | None, list[Problem]]:
    """The SMTP password from the environment variable or file the config names;
    a file inside the clinic folder is refused."""
    settings: EmailSettings = clinic.config.email
    config, doc = clinic.config_file, clinic.doc
    if settings.user is None:
        return None, []
    if settings.password_env:
        value = os.environ.get(settings.password_env, "")
        if not value:
            return None, [
                Problem(
                    config,
                    doc.line_of(("email", "password_env")),
                    "email.password_env",
                    f"expected the environment variable {settings.password_env} to hold the mail server's "
                    "password, got nothing (it is not set, or empty)",
                )
            ]
        return value, []
    if settings.password_file:
        path = Path(os.path.expanduser(settings.password_file))
        path = path if path.is_absolute() else clinic.folder / path
        line, field = doc.line_of(("email", "password_file")), "email.password_file"
        real = Path(os.path.realpath(path))
        if real.is_relative_to(Path(os.path.realpath(clinic.folder))):
            return None, [
                Problem(
                    config,
                    line,
                    field,
                    "expected a file outside the clinic folder (the folder is copied, "
                    "shared and sent to head office; a password must not travel with it), "
                    f"got {display_path(path)}",
                )
            ]
        try:
            mode = os.stat(real).st_mode
            data = read_regular_file(real, MAX_PASSWORD_FILE + 1)
        except OSError as error:
            return None, [
                Problem(
                    config,
                    line,
                    field,
                    f"expected a file holding the mail server's password, got "
                    f"{display_path(path)}, which cannot be read ({error.strerror or error})",
                )
            ]
        if mode & 0o077:
            return None, [
                Problem(
                    config,
                    line,
                    field,
                    f"expected a file only you can read (chmod 600 {display_path(path)}), "
                    f"got one others can read (mode {stat.S_IMODE(mode):o})",
                )
            ]
        value = data.decode("utf-8", "replace").strip("\r\n")
        if not value or len(data) > MAX_PASSWORD_FILE:
            return None, [
                Problem(
                    config,
                    line,
                    field,
                    f"expected the password on the file's first line, got "
                    f"{'an empty file' if not value else 'a file too large to be one'}",
                )
            ]
        return value, []
    return None, [
        Problem(
            config,
            doc.line_of(("email", "user")),
            "email.user",
            "expected password_env (an environment variable's name) or password_file (a file outside the "
            "clinic folder) beside user, got neither",
        )
    ]


# --- The connection ---


def connect(settings: EmailSettings, password: str | None, context: ssl.SSLContext | None = None) -> smtplib.SMTP:
    """A connection that is encrypted (or to this machine), logged in if the config names a user."""
    host, port = settings.smtp_host, settings.smtp_port
    where = f"the mail server {host}:{port}"
    if settings.security == "none" and host.lower() not in LOCAL_HOSTS:
        raise SendError(
            f"{where}: refused to send without encryption to a server that is not on this machine", UNPROTECTED
        )
    context = context or ssl.create_default_context()
    try:
        if settings.security == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
    except ssl.SSLError as error:
        raise SendError(f"{where}: the encrypted connection failed ({error.reason or error})", UNPROTECTED) from None
    # OSError, SMTPException, or whatever an odd greeting makes smtplib raise.
    except Exception as error:
        raise SendError(
            f"{where} cannot be reached ({_reason(error)}); check smtp_host and smtp_port, and try again"
        ) from None
    try:
        server.ehlo()
        if settings.security == "starttls":
            if not server.has_extn("starttls"):
                raise SendError(f"{where} does not offer STARTTLS, so the email would travel unencrypted", UNPROTECTED)
            try:
                server.starttls(context=context)
            # Offered, then refused (454 TLS not available)
            except smtplib.SMTPResponseException as error:
                raise SendError(
                    f"{where} offers STARTTLS but refused to start it ({_reason(error)}), so the email would "
                    "travel unencrypted",
                    UNPROTECTED,
                ) from None
            server.ehlo()
        if settings.user:
            server.login(settings.user, password or "")
    except SendError:
        _close(server)
        raise
    except smtplib.SMTPAuthenticationError as error:
        _close(server)
        raise SendError(
            f"{where} refused the user name or password ({error.smtp_code}); check email.user and the password",
            SETTINGS,
        ) from None
    except smtplib.SMTPNotSupportedError:
        _close(server)
        raise SendError(f"{where} does not accept a login; remove email.user, or check the server", SETTINGS) from None
    except ssl.SSLError as error:
        _close(server)
        raise SendError(
            f"{where}: the encrypted connection failed ({error.reason or error}); if the server's certificate "
            "is issued by your own authority, point SSL_CERT_FILE at it",
            UNPROTECTED,
        ) from None
    # OSError, SMTPException, or whatever an odd reply makes smtplib raise.
    except Exception as error:
        _close(server)
        raise SendError(f"{where} stopped answering ({_reason(error)}); try again later") from None
    return server


def _text(reply: object) -> str:
    """A server's reply as text, masked: smtplib gives bytes, or a str of its own (`Line too long.`)."""
    if isinstance(reply, (bytes, bytearray)):
        reply = bytes(reply).decode("utf-8", "replace")
    text = mask_addresses(str(reply))
    return text if len(text) <= 200 else text[:200] + "…"


def _reason(error: BaseException) -> str:
    """What went wrong, in a few words, whatever the exception's shape."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{getattr(error, 'smtp_code', '')} {_text(getattr(error, 'smtp_error', ''))}".strip()
    if isinstance(error, socket.timeout):
        return "no answer in time"
    return _text(getattr(error, "strerror", None) or str(error) or type(error).__name__)


def _closed(server: smtplib.SMTP | None) -> None:
    """Close a connection that went wrong, and say it is gone."""
    if server is not None:
        with contextlib.suppress(Exception):
            server.close()
    return None


def _close(server: smtplib.SMTP) -> None:
    try:
        server.quit()
    except Exception:  # noqa: BLE001 - closing; whatever the server said, the connection goes
        with contextlib.suppress(Exception):
            server.close()


# --- Sending a batch ---


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
) -> tuple[list[Result], SendError | None]:
    """Send each message not already sent, at most `per_minute` a minute. A temporary failure (4xx) is tried again
    after each of `retry_delays` (`retrying` is told first); a permanent one (5xx) is reported for that patient and the
    batch goes on.

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
            if stopped:
                results.append(Result(composed.opaque_id, NOT_SENT, reason="not attempted"))
                continue
            if sent := ledger.sent(composed.opaque_id):
                results.append(Result(composed.opaque_id, ALREADY_SENT, reason=f"sent {sent['at']}"))
                report(results[-1])
                continue
            result = Result(composed.opaque_id, NOT_SENT)
            for attempt, delay in enumerate((*retry_delays, None), start=1):
                # A bounded rate: mail servers throttle or block a burst.
                if last_sent is not None:
                    sleep(max(0.0, interval - (time.monotonic() - last_sent)))
                result.attempts = attempt
                try:
                    if server is None:
                        server = connect(settings, password, context)
                    last_sent = time.monotonic()
                    server.sendmail(settings.from_address, [composed.appointment.email], composed.data)
                except SendError as error:
                    stopped = error
                    result.status, result.reason = NOT_SENT, "the mail server could not be used"
                    break
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
                    result.code, result.reason = _failure(error)
                    if server is not None and getattr(server, "sock", None) is None:
                        # Smtplib closed it (a reply too long to read): the next attempt reconnects.
                        server = None
                    if result.code is None or not 400 <= result.code < 500:
                        result.status = REFUSED if result.code else NOT_SENT
                        break
                    result.status = TEMPORARY
                    # The server is closing the connection.
                    if result.code == 421:
                        server = _closed(server)
                except (smtplib.SMTPNotSupportedError, ValueError) as error:
                    # This message cannot go (an address the server cannot take, an extension it lacks, text that
                    # cannot be encoded): report it for this patient and go on. The server may be left in the middle
                    # of the message, so the next one starts on a new connection.
                    server = _closed(server)
                    result.status, result.code, result.reason = (
                        NOT_SENT,
                        None,
                        f"this message could not be sent ({_reason(error)})",
                    )
                    break
                # The connection was lost (SMTPServerDisconnected is an OSError too)
                except OSError as error:
                    # Reconnect for the next attempt; if the server is gone, connecting says so.
                    server = _closed(server)
                    result.status, result.code, result.reason = (
                        TEMPORARY,
                        None,
                        f"the connection was lost ({_reason(error)})",
                    )
                # Anything else smtplib raises for one message: this patient alone.
                except Exception as error:
                    server = _closed(server)
                    result.status, result.code, result.reason = (
                        NOT_SENT,
                        None,
                        f"this message could not be sent ({_reason(error)})",
                    )
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
