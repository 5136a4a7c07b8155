"""The clinic's mail server: the password (never from the config), and a connection that is encrypted, or to this
machine, and logged in."""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import socket
import ssl
import stat
from pathlib import Path

from brochures.files.safe_read import read_regular_file
from brochures.load.loaded import Clinic
from brochures.problems import Problem, display_path
from brochures.schema.clinic import LOCAL_HOSTS, EmailSettings

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


def mask_addresses(text: str) -> str:
    """A server's reply without the addresses it may quote (`<sam@example.test>: unknown user`)."""
    return re.sub(r"<[^\s<>\"']+@[^\s<>\"']+>|[^\s<>\"']+@[^\s<>\"']+", "<address>", text)


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


def connect(
    settings: EmailSettings, password: str | None, context: ssl.SSLContext | None = None, timeout: float = TIMEOUT
) -> smtplib.SMTP:
    """A connection that is encrypted (or to this machine), logged in if the config names a user; each answer awaited
    at most `timeout` seconds."""
    host, port = settings.smtp_host, settings.smtp_port
    where = f"the mail server {host}:{port}"
    if settings.security == "none" and host.lower() not in LOCAL_HOSTS:
        raise SendError(
            f"{where}: refused to send without encryption to a server that is not on this machine", UNPROTECTED
        )
    context = context or ssl.create_default_context()
    try:
        if settings.security == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
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
