"""A pack killed (SIGKILL) at any point: while it writes the emails, before the end of a message has gone, while it
waits for the server's answer, or at a random moment. Afterwards, and after running it again, nothing was sent twice,
nothing sent is missing from the record, and nothing personal is left half-written."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from brochures import PROJECT_ROOT
from brochures.files.output_folder import TEMP_PREFIX
from pack_support import Mailbox, MailServer, local_email, no_wait, pack, set_email, write_appointments

ROWS = [
    "Sam,sam@example.test,2030-12-03,09:30,facial,", "Jo,jo@example.test,2030-12-03,11:00,hair,",
    "Alex,alex@example.test,2030-12-03,14:30,facial hair,", "Priya,priya@example.test,2030-12-04,10:15,body,",
]


class KillsTheClient(Mailbox):
    """Kills the pack (SIGKILL) at the n-th RCPT (before that message's end) or the n-th end of a message (after the
    whole message arrived, before the answer)."""

    def __init__(self, command: str | None = None, count: int = 0):
        super().__init__()
        self.command, self.count, self.seen, self.pid = command, count, 0, None

    def _maybe_kill(self, command: str) -> None:
        if command == self.command and self.pid is not None:
            self.seen += 1
            if self.seen == self.count:
                os.kill(self.pid, signal.SIGKILL)

    async def handle_RCPT(self, server, session, envelope, address, options):
        self._maybe_kill("rcpt")
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        self._maybe_kill("data")
        return "250 2.0.0 Ok: queued"


def made_lines(private) -> int:
    try:
        return (private / "ledger.journal").read_text().count('"state": "prepared"')
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(
    "point",
    [("made", 2), ("rcpt", 2), ("data", 2), ("data", 4), ("random", 1), ("random", 2)],
    ids=lambda point: f"{point[0]}-{point[1]}",
)
def test_a_run_killed_at_any_point_sends_nothing_twice_and_loses_nothing(clinic, tmp_path, point):
    folder, out = clinic
    kind, number = point
    mailbox = KillsTheClient(kind, number) if kind in ("rcpt", "data") else Mailbox()
    server = MailServer(mailbox).start()
    set_email(folder, local_email(server.port))
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    private = out / ".private" / "harbour"
    try:
        run = subprocess.Popen(
            [sys.executable, "generate.py", "pack", "--clinic", str(folder), "--out", str(out), "--appointments",
             str(appointments), "--send"],
            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        mailbox.pid = run.pid
        deadline = time.monotonic() + 120
        if kind == "made":
            while made_lines(private) < number and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            run.send_signal(signal.SIGKILL)
        elif kind == "random":
            # Somewhere between starting and having sent everything.
            time.sleep(random.Random(number).uniform(1.0, 6.0))
            run.send_signal(signal.SIGKILL)
        code = run.wait(timeout=120)
        assert code in (-signal.SIGKILL, 0, 1)
        before = list(mailbox.recipients())

        # Run again, as the evening's timer would.
        second = pack(folder, out, "--appointments", str(appointments), "--send", sleep=no_wait)
    finally:
        server.stop()
    received = mailbox.recipients()
    # Nothing twice.
    assert len(received) == len(set(received)), received
    assert set(before) <= set(received)
    ledger = json.loads((private / "ledger.json").read_text())["appointments"]
    states = [entry["state"] for entry in ledger.values()]
    # Nothing lost: every appointment has its email, sent or (its end out, no answer read) unknown for a person.
    assert len(ledger) == len(ROWS) and set(states) <= {"sent", "unknown"}
    sent = sum(state == "sent" for state in states)
    unknown = sum(state == "unknown" for state in states)
    # What the record says was sent, the server has; what the server has is recorded as sent or unknown.
    assert sent <= len(received) <= sent + unknown
    if kind == "data":
        # Killed while waiting for the answer to a message's end: it may have been delivered, so it is unknown.
        assert unknown == 1 and len(received) == len(ROWS)
    if kind in ("made", "rcpt"):
        assert unknown == 0 and sorted(received) == sorted(row.split(",")[1] for row in ROWS)
    assert second == (1 if unknown else 0)
    # Nothing half-written is left.
    assert not [path for path in private.iterdir() if path.name.startswith(TEMP_PREFIX)]
