"""Shared by the pack tests: a clinic approved by its medical lead, its leaflets built once, and a real SMTP server."""

from __future__ import annotations

import shutil
import socket
import ssl
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from brochures.load.approval import content_fingerprint
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pack.command import Clock
from brochures.pack.command import main as pack_main
from conftest import DATA, EXAMPLE
from generate import main as build_main

NOW = datetime(2026, 11, 25, 9, 0)
CLOCK = Clock(now=lambda: NOW)
HEADER = "first name,email,date,time,treatments,practitioner\n"


@pytest.fixture(scope="session")
def approved(tmp_path_factory) -> tuple[Path, Path]:
    """(clinic folder, output folder with all its documents built): a copy of the example clinic
    whose medical lead approved its content."""
    root = tmp_path_factory.mktemp("approved")
    clinic = root / "clinics" / "harbour"
    shutil.copytree(EXAMPLE, clinic)
    config = clinic / "clinic.yaml"
    content = load_content(DATA)
    fingerprint = content_fingerprint(load_clinic(config, content), content)
    config.write_text(
        config.read_text() + f"approval:\n  name: Dr Jane Smith\n  role: Medical lead\n  date: 2026-11-24\n"
        f"  fingerprint: {fingerprint}\n"
    )
    out = root / "out"
    # Every document, as the pack builds them.
    assert build_main(["--clinic", str(clinic), "--out", str(out)]) == 0
    return clinic, out


@pytest.fixture
def clinic(approved, tmp_path) -> tuple[Path, Path]:
    """The approved clinic with its leaflets already built (so unchanged) in an output folder of this test's own."""
    folder, built = approved
    out = tmp_path / "out"
    shutil.copytree(built, out)
    set_email(folder, None)
    return folder, out


def set_email(folder: Path, block: str | None) -> None:
    """Give the clinic config this email: block (or none)."""
    config = folder / "clinic.yaml"
    text = config.read_text().split("\nemail:\n")[0].rstrip("\n") + "\n"
    config.write_text(text + (f"email:\n{block}" if block else ""))


def write_appointments(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def pack(folder: Path, out: Path, *args: str, **options) -> int:
    options.setdefault("clock", CLOCK)
    return pack_main(["--clinic", str(folder), "--out", str(out), *args], **options)


def messages_in(out: Path, slug: str = "harbour") -> list:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted((out / ".private" / slug).glob("*.eml"))
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An SMTP server's handler that keeps what it receives, and refuses what a test tells it to."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        # 550 for these recipients.
        self.refuse: set[str] = set()
        # 451 for these recipients, so many times.
        self.busy: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.busy.get(address, 0) > 0:
            self.busy[address] -= 1
            return f"451 4.7.1 <{address}>: Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 Ok: queued"

    def recipients(self) -> list[str]:
        return [to for _, tos, _ in self.received for to in tos]


class MailServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, started and stopped by the test."""

    def __init__(self, mailbox: Mailbox, port: int | None = None, **options):
        self.mailbox, self.port, self.options = mailbox, port or free_port(), options
        self.controller = None

    def start(self) -> MailServer:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_server():
    """A plain SMTP server on this machine (security: none is allowed for 127.0.0.1 only)."""
    server = MailServer(Mailbox()).start()
    yield server
    server.stop()


def local_email(port: int, extra: str = "", security: str = "none") -> str:
    return (
        f"  from_address: hello@example-clinic.test\n  reply_to: bookings@example-clinic.test\n"
        f"  smtp_host: 127.0.0.1\n  smtp_port: {port}\n  security: {security}\n  per_minute: 600\n{extra}"
    )


@pytest.fixture(scope="session")
def certificates():
    """A certificate authority made for the test, and a server certificate for 127.0.0.1 signed by it."""
    import trustme

    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    return server_context, client_context


def no_wait(seconds: float) -> None:
    """The tests' sleep: the rate limit and back-off are asked for, but not waited out."""


def check_login(server, session, envelope, mechanism, auth_data):
    if (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"reception"
        and auth_data.password == b"s3cret-pass"
    ):
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


class DropsAfterTheEnd(Mailbox):
    """A server that takes the whole message, then drops the connection instead of answering: the patient may well
    have it."""

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        server.transport.close()
        return "250 2.0.0 Ok: queued"


class AnswersLate(Mailbox):
    """A server that takes the whole message and answers after `seconds`: later than a short client timeout."""

    def __init__(self, seconds: float = 3.0):
        super().__init__()
        self.seconds = seconds

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        await asyncio.sleep(self.seconds)
        return "250 2.0.0 Ok: queued"


class BusyAtTheEnd(Mailbox):
    """A server that answers the end of the message 451 (not taken) `times` times, then takes it."""

    def __init__(self, times: int = 1):
        super().__init__()
        self.times = times

    async def handle_DATA(self, server, session, envelope):
        if self.times > 0:
            self.times -= 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def copy_clinic(approved, where: Path, name: str = "harbour") -> Path:
    """A copy of the approved clinic, in a folder of this test's own (renamed, linked or copied by the test)."""
    folder = where / name
    shutil.copytree(approved[0], folder)
    # Without the email: block another test may have left in the shared clinic.
    set_email(folder, None)
    return folder
