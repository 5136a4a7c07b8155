"""Exactly once, by construction: once the end of a message has gone out, the pack never sends it again by itself. A
lost or late answer, or a connection dropped after that point, leaves the email unknown, for a person to settle with
--resend or --mark-sent. Each case against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import json
import re

from pack_support import (
    AnswersLate,
    BusyAtTheEnd,
    DropsAfterTheEnd,
    Mailbox,
    MailServer,
    local_email,
    no_wait,
    pack,
    set_email,
    write_appointments,
)

ROWS = ["Sam,sam@example.test,2030-12-03,09:30,facial,", "Jo,jo@example.test,2030-12-03,11:00,hair,"]


def send(folder, out, appointments, *extra, **options):
    options.setdefault("sleep", no_wait)
    options.setdefault("retry_delays", (0.01,))
    return pack(folder, out, "--appointments", str(appointments), "--send", *extra, **options)


def states(out) -> dict[str, tuple[str, str]]:
    """Per opaque id: (state, row), from the ledger as a run leaves it."""
    ledger = json.loads((out / ".private" / "harbour" / "ledger.json").read_text())["appointments"]
    return {opaque: (entry["state"], entry["row"]) for opaque, entry in ledger.items()}


def started(mailbox, folder, out):
    server = MailServer(mailbox).start()
    set_email(folder, local_email(server.port))
    return server


def test_a_connection_dropped_after_the_end_leaves_the_email_unknown_and_a_rerun_leaves_it_alone(
    clinic, tmp_path, capsys
):
    folder, out = clinic
    mailbox = DropsAfterTheEnd()
    server = started(mailbox, folder, out)
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    try:
        assert send(folder, out, appointments) == 1
        captured = capsys.readouterr()
        # Each went once, and each is unknown: the server may have delivered it.
        assert sorted(mailbox.recipients()) == ["jo@example.test", "sam@example.test"]
        found = states(out)
        assert sorted(found.values()) == [("unknown", "appointments.csv:2"), ("unknown", "appointments.csv:3")]
        for opaque, (_, row) in found.items():
            said = rf"  unknown +{opaque}  {re.escape(row)} \(the end of the message went out, then the connection was"
            assert re.search(said, captured.out)
            assert f"--resend {opaque}" in captured.err and f"--mark-sent {opaque}" in captured.err
        assert "2 emails may have been delivered" in captured.err
        # Never the patient.
        assert "sam@" not in captured.out + captured.err and "Sam" not in captured.out
        # Run again, as a receptionist or the evening's timer would: nothing goes again, and it is said again.
        assert send(folder, out, appointments) == 1
        again = capsys.readouterr()
        assert len(mailbox.received) == 2
        assert again.out.count("its delivery is unknown") == 2 and "2 emails may have been delivered" in again.err
        # Counted as what they are, not as sent.
        assert "; 2 whose delivery is unknown, left as they were (see above)" in again.out
        assert "already sent" not in again.out
        # A dry run leaves each email as it was, so a --resend sends what the server may already have.
        assert pack(folder, out, "--appointments", str(appointments)) == 0
        assert "  wrote " not in capsys.readouterr().out
    finally:
        server.stop()


def test_a_late_answer_is_unknown_and_never_sent_again(clinic, tmp_path, capsys):
    folder, out = clinic
    mailbox = AnswersLate(seconds=3.0)
    server = started(mailbox, folder, out)
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[:1])
    try:
        # The client waits half a second for an answer, as it waits 60 s for a real one.
        assert send(folder, out, appointments, timeout=0.5) == 1
        assert "then no answer came in time (within 0.5 s)" in capsys.readouterr().out
        assert [state for state, _ in states(out).values()] == ["unknown"]
        assert send(folder, out, appointments, timeout=0.5) == 1
    finally:
        server.stop()
    assert mailbox.recipients() == ["sam@example.test"]


def test_a_451_answer_to_the_end_is_tried_again_since_the_server_says_it_did_not_take_it(clinic, tmp_path):
    folder, out = clinic
    mailbox = BusyAtTheEnd(times=1)
    server = started(mailbox, folder, out)
    try:
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 0
    finally:
        server.stop()
    assert mailbox.recipients() == ["sam@example.test"]
    assert [state for state, _ in states(out).values()] == ["sent"]


class DropsAtFirstRecipient(Mailbox):
    """Drops the connection at the first RCPT, before any of the message has gone: safe to try again."""

    dropped = False

    async def handle_RCPT(self, server, session, envelope, address, options):
        if not self.dropped:
            self.dropped = True
            server.transport.close()
            return "250 OK"
        return await super().handle_RCPT(server, session, envelope, address, options)


def test_a_connection_lost_before_the_end_is_tried_again(clinic, tmp_path, capsys):
    folder, out = clinic
    mailbox = DropsAtFirstRecipient()
    server = started(mailbox, folder, out)
    try:
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 0
    finally:
        server.stop()
    assert mailbox.recipients() == ["sam@example.test"]
    assert "the connection was lost" in capsys.readouterr().out


def test_a_person_settles_each_unknown_email_with_resend_or_mark_sent(clinic, tmp_path, capsys):
    folder, out = clinic
    dropping = DropsAfterTheEnd()
    server = started(dropping, folder, out)
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    try:
        assert send(folder, out, appointments) == 1
    finally:
        server.stop()
    by_row = {row: opaque for opaque, (_, row) in states(out).items()}
    sam, jo = by_row["appointments.csv:2"], by_row["appointments.csv:3"]
    kept = (out / ".private" / "harbour" / f"{sam}.eml").read_bytes()
    capsys.readouterr()

    good = Mailbox()
    server = started(good, folder, out)
    try:
        # Only an unknown email can be sent again by hand: one that was not made is refused, and nothing goes.
        assert pack(folder, out, "--resend", "0" * 20, sleep=no_wait) == 2
        assert "expected the id of an email whose delivery is unknown" in capsys.readouterr().err
        # Sam does not have it: sent again, exactly as written (its Message-ID too). Jo has it: recorded.
        assert pack(folder, out, "--resend", sam, sleep=no_wait) == 0
        assert pack(folder, out, "--mark-sent", jo) == 0
        assert good.recipients() == ["sam@example.test"]
        assert good.received[0][2].replace(b"\r\n", b"\n") == kept.replace(b"\r\n", b"\n")
        assert states(out) == {sam: ("sent", "appointments.csv:2"), jo: ("sent", "appointments.csv:3")}
        # Once sent, never again: by hand or by a re-run.
        assert pack(folder, out, "--resend", sam, sleep=no_wait) == 2
        assert f"got {sam}, which was sent" in capsys.readouterr().err
        assert send(folder, out, appointments) == 0
        assert good.recipients() == ["sam@example.test"]
    finally:
        server.stop()
    assert pack(folder, out, "--status") == 0
    status = capsys.readouterr().out
    assert re.search(rf"appointments.csv:3 .* sent +{jo} .*\(marked by hand\)", status)
