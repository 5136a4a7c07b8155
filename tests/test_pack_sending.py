"""Sending the pack through a real SMTP server on 127.0.0.1 (aiosmtpd): delivery, refusals, retries, login, TLS,
re-runs."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import smtplib
from datetime import datetime
from email import message_from_bytes, policy

import pytest

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pack.appointments import Appointment
from brochures.pack.ledger import Ledger
from brochures.pack.message import Composed
from brochures.pack.sending import _failure, send_all
from conftest import DATA
from pack_support import (
    Mailbox,
    MailServer,
    check_login,
    local_email,
    no_wait,
    pack,
    set_email,
    write_appointments,
)

ROWS = [
    "Sam,sam@example.test,2030-12-03,09:30,facial,Dr Ana Reyes", "Jo,jo@example.test,2030-12-03,11:00,hair,",
    "Alex,alex@example.test,2030-12-03,14:30,facial hair,", "Priya,priya@example.test,2030-12-04,10:15,body,"
]


def send(folder, out, appointments, **options):
    options.setdefault("sleep", no_wait)
    return pack(folder, out, "--appointments", str(appointments), "--send", **options)


def test_delivered_and_parsed_back(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[2:3])
    assert send(folder, out, appointments) == 0
    ((sender, recipients, data),) = mail_server.mailbox.received
    assert sender == "hello@example-clinic.test" and recipients == ["alex@example.test"]
    message = message_from_bytes(data, policy=policy.default)
    assert message["Subject"] == "Your consultation at Example Aesthetics Clinic"
    assert message["From"] == "Example Aesthetics Clinic <hello@example-clinic.test>"
    assert message["To"] == "alex@example.test" and message["Reply-To"] == "bookings@example-clinic.test"
    assert message["Message-ID"].endswith("@example-clinic.test>")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Alex," in text and "Hello Alex," in html
    assert "Tuesday 3 December 2030" in text and "14:30" in text
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attachments.pop("appointment.ics").startswith("BEGIN:VCALENDAR")
    assert attachments == {
        "facial.pdf": (out / "harbour" / "facial.pdf").read_bytes(),
        "hair.pdf": (out / "harbour" / "hair.pdf").read_bytes(),
    }
    # The message sent is the one written for the dry run, byte for byte.
    (written,) = (out / ".private" / "harbour").glob("*.eml")
    assert written.read_bytes().replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n")
    # The send log says what happened, never to whom.
    log = (out / ".private" / "harbour" / "send-log.jsonl").read_text()
    record = json.loads(log)
    assert record["result"] == "sent" and record["message_id"] == message["Message-ID"]
    assert "alex" not in log.lower() and "Alex" not in capsys.readouterr().out


def test_a_550_for_one_patient_does_not_stop_the_others(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    mail_server.mailbox.refuse.add("jo@example.test")
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    set_email(folder, local_email(mail_server.port).replace("per_minute: 600", "per_minute: 6"))
    waits = []
    assert send(folder, out, appointments, sleep=waits.append) == 1
    # 6 a minute: the next one 10 s after the last.
    assert len(waits) == 3 and all(5 < wait <= 10 for wait in waits)
    assert sorted(mail_server.mailbox.recipients()) == ["alex@example.test", "priya@example.test", "sam@example.test"]
    output = capsys.readouterr().out
    assert output.count("  refused    ") == 1 and "550" in output
    # The server's reply quotes the address: it is masked.
    assert "jo@" not in output and "Jo," not in output
    # A re-run sends nothing twice; the refused one is tried again (and refused again).
    assert send(folder, out, appointments, sleep=waits.append) == 1
    assert sorted(mail_server.mailbox.recipients()) == ["alex@example.test", "priya@example.test", "sam@example.test"]
    assert capsys.readouterr().out.count("\n  already sent ") == 3


def test_an_address_mail_servers_cannot_take_never_reaches_them(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    rows = ["Zoë,zoë@example.test,2030-12-03,10:00,facial,", "José,jose@exämple.test,2030-12-03,11:00,facial,", ROWS[1]]
    assert send(folder, out, write_appointments(tmp_path / "a.csv", rows)) == 1
    assert sorted(mail_server.mailbox.recipients()) == ["jo@example.test", "jose@xn--exmple-cua.test"]
    ((_, _, data),) = [sent for sent in mail_server.mailbox.received if sent[1] == ["jose@xn--exmple-cua.test"]]
    assert message_from_bytes(data, policy=policy.default)["To"] == "jose@xn--exmple-cua.test"
    assert (
        "a.csv:2 email: expected an email address whose part before the @ is in plain letters"
        in capsys.readouterr().err
    )


def test_a_message_that_cannot_go_is_reported_and_the_others_are_sent(clinic, mail_server, tmp_path):
    """Defence in depth: whatever one message's failure (here an address no check let through, which smtplib cannot
    encode), it is reported for that patient and the batch goes on."""
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    assert pack(folder, out, "--appointments", str(write_appointments(tmp_path / "a.csv", ROWS[:2]))) == 0
    content = load_content(DATA)
    harbour = load_clinic(folder / "clinic.yaml", content)
    private = out / ".private" / "harbour"
    ledger = Ledger(private)
    sam, jo = (
        Composed(
            appointment=Appointment(
                first_name=name, email=address, when=datetime(2030, 12, 3, 10), treatments=("facial",)
            ),
            opaque_id=opaque,
            message=None,
            data=b"Subject: x\r\n\r\nx\r\n",
            content_hash="",
            message_id=f"<{opaque}@example-clinic.test>",
        )
        for name, address, opaque in (("Zoë", "zoë@example.test", "a" * 20), ("Jo", "jo@example.test", "b" * 20))
    )
    results, stopped = send_all([sam, jo], harbour, None, ledger, private, sleep=no_wait)
    assert [result.status for result in results] == ["not sent", "sent"] and stopped is None
    assert "could not be sent" in results[0].reason
    assert mail_server.mailbox.recipients() == ["jo@example.test"]


def test_a_451_is_tried_again_until_it_is_accepted(clinic, mail_server, tmp_path):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    mail_server.mailbox.busy["sam@example.test"] = 2
    waits = []
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[:1])
    assert send(folder, out, appointments, sleep=waits.append, retry_delays=(0.01, 0.02, 0.04)) == 0
    assert mail_server.mailbox.recipients() == ["sam@example.test"]
    # Backed off twice, then delivered.
    assert 0.01 in waits and 0.02 in waits and 0.04 not in waits
    log = [json.loads(line) for line in (out / ".private" / "harbour" / "send-log.jsonl").read_text().splitlines()]
    assert [(entry["result"], entry["code"]) for entry in log] == [("temporary failure", 451)] * 2 + [("sent", 250)]


def test_a_451_that_lasts_is_reported_after_a_bounded_number_of_tries(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    mail_server.mailbox.busy["sam@example.test"] = 100
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[:1])
    assert send(folder, out, appointments, retry_delays=(0.01, 0.01)) == 1
    # Three tries, no more.
    assert mail_server.mailbox.busy["sam@example.test"] == 97
    output = capsys.readouterr().out
    assert "temporary failure" in output
    # Each wait is said, so greylisting is not silent.
    assert output.count(": will try again in 0 s") == 2


def test_the_server_going_away_mid_batch_then_a_rerun_sends_the_rest_once(clinic, tmp_path, capsys):
    folder, out = clinic
    mailbox = Mailbox()
    server = MailServer(mailbox).start()
    set_email(folder, local_email(server.port))
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)

    def server_goes_away(seconds):
        if len(mailbox.received) == 2 and server.controller is not None:
            server.stop()

    try:
        assert send(folder, out, appointments, sleep=server_goes_away, retry_delays=(0.01,)) == 1
        assert len(mailbox.received) == 2
        captured = capsys.readouterr()
        assert "Run the same command again" in captured.err
        assert "(the mail server could not be used)" in captured.out and "None" not in captured.out
        # The one after it is named too, as not tried: each email has its line.
        assert re.search(r"  not sent +\w+  appointments\.csv:5 \(not attempted\)", captured.out), captured.out
        # Back again, on the same port.
        server.start()
        assert send(folder, out, appointments) == 0
    finally:
        server.stop()
    recipients = mailbox.recipients()
    # Each patient exactly once.
    assert sorted(recipients) == sorted(row.split(",")[1] for row in ROWS)


@pytest.fixture
def login_server(certificates):
    """A server that offers STARTTLS (with a certificate from the test's own authority) and requires a login after
    it."""
    server_context, client_context = certificates
    server = MailServer(
        Mailbox(), tls_context=server_context, require_starttls=True, auth_required=True, authenticator=check_login
    ).start()
    yield server, client_context
    server.stop()


def test_login_over_starttls(clinic, login_server, tmp_path, monkeypatch):
    server, client_context = login_server
    folder, out = clinic
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[:1])
    set_email(
        folder, local_email(server.port, security="starttls", extra="  user: reception\n  password_env: HARBOUR_SMTP\n")
    )
    monkeypatch.setenv("HARBOUR_SMTP", "s3cret-pass")
    assert send(folder, out, appointments, context=client_context) == 0
    assert server.mailbox.recipients() == ["sam@example.test"]

    monkeypatch.setenv("HARBOUR_SMTP", "wrong")
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[1:2])
    assert send(folder, out, appointments, context=client_context) == 1
    assert server.mailbox.recipients() == ["sam@example.test"]


def test_a_server_that_requires_a_login_refuses_a_clinic_without_one(clinic, login_server, tmp_path, capsys):
    server, client_context = login_server
    folder, out = clinic
    set_email(folder, local_email(server.port, security="starttls"))
    assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1]), context=client_context) == 1
    out_text = capsys.readouterr().out
    assert server.mailbox.received == [] and "530" in out_text and "set email.user" in out_text


def test_implicit_tls(clinic, certificates, tmp_path):
    server_context, client_context = certificates
    folder, out = clinic
    server = MailServer(Mailbox(), ssl_context=server_context).start()
    try:
        set_email(folder, local_email(server.port, security="tls"))
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1]), context=client_context) == 0
    finally:
        server.stop()
    assert server.mailbox.recipients() == ["sam@example.test"]


def test_a_server_without_starttls_gets_nothing(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port, security="starttls"))
    assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:2])) == 1
    assert mail_server.mailbox.received == []
    err = capsys.readouterr().err
    assert (
        "Nothing was sent, because the connection to the mail server could not be protected: the mail server "
        f"127.0.0.1:{mail_server.port} does not offer STARTTLS"
    ) in err
    assert "Check email.smtp_host, smtp_port and security in " in err
    # Nothing was.
    assert "send the rest" not in err and "what was sent" not in err


def test_an_untrusted_certificate_gets_nothing(clinic, certificates, tmp_path, capsys):
    server_context, _ = certificates
    folder, out = clinic
    mailbox = Mailbox()
    server = MailServer(mailbox, tls_context=server_context, require_starttls=True).start()
    set_email(folder, local_email(server.port, security="starttls"))
    try:
        # The system's trust store only.
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 1
    finally:
        server.stop()
    assert mailbox.received == [] and "encrypted connection failed" in capsys.readouterr().err


def test_no_encryption_to_another_machine_is_refused_before_connecting(clinic, tmp_path, capsys):
    folder, out = clinic
    set_email(
        folder,
        "  from_address: hello@example-clinic.test\n  smtp_host: mail.example-clinic.test\n"
        "  smtp_port: 25\n  security: none\n",
    )
    assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 2
    err = capsys.readouterr().err
    assert (
        "clinic.yaml:" in err
        and "email.security: expected starttls or tls for the mail server mail.example-clinic.test" in err
    )
    # Refused before anything was prepared.
    assert not list((out / ".private").rglob("*.eml"))


@pytest.mark.parametrize(
    "block, message",
    [
        ("  password: hunter2\n", "email.password: expected no password in the config"),
        (
            "  user: reception\n  password_file: secret.txt\n",
            "email.password_file: expected a file outside the clinic folder",
        ),
        (
            "  user: reception\n  password_env: HARBOUR_UNSET\n",
            "expected the environment variable HARBOUR_UNSET to hold",
        ),
        ("  user: reception\n", "expected password_env"),
    ],
)
def test_the_password_never_comes_from_the_clinic_folder(clinic, mail_server, tmp_path, capsys, block, message):
    folder, out = clinic
    (folder / "secret.txt").write_text("hunter2\n")
    set_email(folder, local_email(mail_server.port, extra=block))
    assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 2
    assert message in capsys.readouterr().err
    assert mail_server.mailbox.received == []


def test_a_password_in_the_config_is_never_printed(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port, extra="  password: hunter2-secret\n"))
    for extra in ([], ["--send"]):
        assert pack(folder, out, "--appointments", str(write_appointments(tmp_path / "a.csv", ROWS[:1])), *extra) == 2
        captured = capsys.readouterr()
        assert "email.password: expected no password in the config" in captured.err
        assert "got a password (not shown)" in captured.err
        assert "hunter2" not in captured.out + captured.err


def test_a_password_file_outside_the_clinic_folder(clinic, login_server, tmp_path):
    server, client_context = login_server
    folder, out = clinic
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-pass\n")
    secret.chmod(0o644)
    set_email(
        folder, local_email(server.port, security="starttls", extra=f"  user: reception\n  password_file: {secret}\n")
    )
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:1])
    # Others may read it: refused.
    assert send(folder, out, appointments, context=client_context) == 2
    secret.chmod(0o600)
    assert send(folder, out, appointments, context=client_context) == 0
    assert server.mailbox.recipients() == ["sam@example.test"]


def test_unapproved_leaflets_are_not_sent(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    config = folder / "clinic.yaml"
    original = config.read_text()
    try:
        config.write_text(original.replace("approval:\n", "approval_was:\n").split("approval_was:\n")[0])
        set_email(folder, local_email(mail_server.port))
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 2
    finally:
        config.write_text(original)
    assert mail_server.mailbox.received == [] and "expected leaflets approved" in capsys.readouterr().err


def test_send_needs_a_mail_server_in_the_config(clinic, tmp_path, capsys):
    folder, out = clinic
    assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 2
    assert "email: expected the mail server to send through" in capsys.readouterr().err
    assert not list((out / ".private").rglob("*.eml"))


def test_a_sent_message_is_never_rewritten(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS[:1])
    assert send(folder, out, appointments) == 0
    (eml,) = (out / ".private" / "harbour").glob("*.eml")
    before = eml.read_bytes()
    capsys.readouterr()
    # A dry run and a send, after the send.
    for extra in ([], ["--send"]):
        assert pack(folder, out, "--appointments", str(appointments), *extra) == 0
        output = capsys.readouterr().out
        assert "already sent" in output and "  wrote " not in output
        assert "Prepared 0 emails for" in output and "; 1 already sent, left as it was" in output
        assert eml.read_bytes() == before
    assert len(mail_server.mailbox.received) == 1


def test_a_missing_key_stops_the_pack_rather_than_sending_again(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:2])
    assert send(folder, out, appointments) == 0
    (out / ".private" / "secret").unlink()
    capsys.readouterr()
    assert send(folder, out, appointments) == 3
    # A dry run too: it would rename every email.
    assert pack(folder, out, "--appointments", str(appointments)) == 3
    err = capsys.readouterr().err
    assert "secret is missing, but" in err and "would be sent it again; restore it from a backup" in err
    assert "--out" not in err
    # Nobody twice.
    assert sorted(mail_server.mailbox.recipients()) == ["jo@example.test", "sam@example.test"]


def test_the_send_log_keeps_a_keyed_hash_of_the_address(clinic, mail_server, tmp_path):
    import hashlib
    import hmac

    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    assert send(folder, out, write_appointments(tmp_path / "appointments.csv", ROWS[:1])) == 0
    log = (out / ".private" / "harbour" / "send-log.jsonl").read_text()
    (record,) = [json.loads(line) for line in log.splitlines()]
    secret = (out / ".private" / "secret").read_bytes()
    assert record["address_hmac_sha256"] == hmac.new(secret, b"sam@example.test", hashlib.sha256).hexdigest()
    assert hashlib.sha256(b"sam@example.test").hexdigest() not in log and "sam@" not in log


def unkeyed_hashes(eml) -> set[str]:
    """The SHA-256 of what the patient reads, as anyone could compute it from a guessed patient and the leaflets (with
    and without the line end the email adds after each part)."""
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    logo = next(part.get_content() for part in message.walk() if part.get_content_type() == "image/png")
    files = [
        hashlib.sha256(blob).hexdigest()
        for blob in [part.get_payload(decode=True) for part in message.iter_attachments()] + [logo]
    ]
    text, html = (message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html"))
    found = set()
    for text_variant, html_variant in itertools.product(
        (text, text.removesuffix("\n")), (html, html.removesuffix("\n"))
    ):
        digest = hashlib.sha256()
        for part in (message["Subject"], message["To"], text_variant, html_variant, *files):
            digest.update(part.encode("utf-8") + b"\0")
        found.add(digest.hexdigest())
    return found


def test_the_message_hash_is_keyed_so_a_guessed_patient_cannot_be_confirmed(clinic, mail_server, tmp_path):
    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    # Another output folder: another key.
    other = tmp_path / "other-out"
    shutil.copytree(out, other)
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:1])
    found = []
    for where in (out, other):
        assert send(folder, where, appointments) == 0
        private = where / ".private" / "harbour"
        ledger = json.loads((private / "ledger.json").read_text())["appointments"]
        (entry,), (record,) = (
            ledger.values(),
            [json.loads(line) for line in (private / "send-log.jsonl").read_text().splitlines()],
        )
        (eml,) = private.glob("*.eml")
        stored = (private / "ledger.json").read_text() + (private / "send-log.jsonl").read_text()
        assert not [unkeyed for unkeyed in unkeyed_hashes(eml) if unkeyed[:12] in stored]
        assert entry["sent"]["message_id"] == record["message_id"]
        found.append((entry["content"], record["message_id"]))
    (content, message_id), (other_content, other_message_id) = found
    assert (
        content != other_content
        and message_id.split("@")[0].split(".")[1] != other_message_id.split("@")[0].split(".")[1]
    )


def test_the_clinic_sends_from_an_international_domain_in_its_ascii_form(clinic, mail_server, tmp_path, capsys):
    folder, out = clinic
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:1])
    set_email(folder, local_email(mail_server.port).replace("hello@example-clinic.test", "hé@exämple-clinic.test"))
    # A sender's address mail servers cannot take is a config error.
    assert send(folder, out, appointments) == 2
    assert (
        "email.from_address: expected an email address whose part before the @ is in plain letters"
        in capsys.readouterr().err
    )
    set_email(folder, local_email(mail_server.port).replace("hello@example-clinic.test", "hello@exämple-clinic.test"))
    assert send(folder, out, appointments) == 0
    ((sender, _, data),) = mail_server.mailbox.received
    assert sender == "hello@xn--exmple-clinic-cfb.test"
    assert "hello@xn--exmple-clinic-cfb.test" in message_from_bytes(data, policy=policy.default)["From"]


class LongReplies(Mailbox):
    """A server whose answer to RCPT for one address is a line longer than smtplib will read."""

    def __init__(self, address: str):
        super().__init__()
        self.address = address

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address == self.address:
            return "250 " + "a" * 9000
        return await super().handle_RCPT(server, session, envelope, address, options)


def test_an_overlong_reply_to_one_patient_is_reported_and_the_others_are_sent(clinic, tmp_path, capsys):
    folder, out = clinic
    mailbox = LongReplies("jo@example.test")
    server = MailServer(mailbox).start()
    set_email(folder, local_email(server.port))
    try:
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:3])) == 1
    finally:
        server.stop()
    captured = capsys.readouterr()
    assert sorted(mailbox.recipients()) == ["alex@example.test", "sam@example.test"]
    assert "Line too long" in captured.out and "Traceback" not in captured.err
    ledger = json.loads((out / ".private" / "harbour" / "ledger.json").read_text())["appointments"]
    # What was accepted is recorded.
    assert sum(1 for entry in ledger.values() if entry["sent"]) == 2


def test_an_overlong_greeting_stops_the_run_with_a_sentence(clinic, tmp_path, capsys):
    folder, out = clinic
    mailbox = Mailbox()
    server = MailServer(mailbox, ident="a" * 9000).start()
    set_email(folder, local_email(server.port))
    try:
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:2])) == 1
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert mailbox.received == [] and f"127.0.0.1:{server.port} cannot be reached (500 Line too long.)" in err


@pytest.mark.parametrize(
    "error, expected",
    [
        (smtplib.SMTPResponseException(500, "Line too long."), (500, "Line too long.")),
        (smtplib.SMTPResponseException(550, b"<sam@example.test>: no"), (550, "<address>: no")),
        (smtplib.SMTPRecipientsRefused({"sam@example.test": (550, "<sam@example.test> no")}), (550, "<address> no")),
        (smtplib.SMTPRecipientsRefused({}), (None, "{}")),
        (smtplib.SMTPResponseException("odd", None), (None, "odd None")),
        (RuntimeError(), (None, "RuntimeError")),
    ],
)
def test_any_shape_of_failure_is_described(error, expected):
    assert _failure(error) == expected


class RefusesStarttls(Mailbox):
    """Offers STARTTLS, then answers it 454."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-STARTTLS", responses[-1]]


def test_a_server_that_refuses_the_starttls_it_offers_gets_nothing(clinic, tmp_path, capsys):
    folder, out = clinic
    mailbox = RefusesStarttls()
    server = MailServer(mailbox).start()
    set_email(folder, local_email(server.port, security="starttls"))
    try:
        assert send(folder, out, write_appointments(tmp_path / "a.csv", ROWS[:1])) == 1
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert mailbox.received == [] and "could not be protected" in err and "stopped answering" not in err


def test_another_32_byte_key_is_refused_rather_than_sending_again(clinic, mail_server, tmp_path, capsys):
    import os

    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:2])
    assert send(folder, out, appointments) == 0
    secret = out / ".private" / "secret"
    right = secret.read_bytes()
    # Another --out's key, or a wrong backup.
    secret.write_bytes(os.urandom(32))
    capsys.readouterr()
    assert send(folder, out, appointments) == 3
    err = capsys.readouterr().err
    assert "is not the key this generator made" in err and "restore the key from a backup" in err
    # Nobody twice.
    assert len(mail_server.mailbox.received) == 2
    secret.write_bytes(right)
    assert send(folder, out, appointments) == 0 and len(mail_server.mailbox.received) == 2


def test_a_ledger_from_before_the_key_check_learns_it_on_first_use(clinic, mail_server, tmp_path, capsys):
    import os

    folder, out = clinic
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:1])
    assert send(folder, out, appointments) == 0
    ledger = out / ".private" / "harbour" / "ledger.json"
    old = json.loads(ledger.read_text())
    del old["key_check"]
    ledger.write_text(json.dumps(old))
    # A dry run with the right key: accepted.
    assert pack(folder, out, "--appointments", str(appointments)) == 0
    assert "key_check" in json.loads(ledger.read_text())
    (out / ".private" / "secret").write_bytes(os.urandom(32))
    assert send(folder, out, appointments) == 3 and len(mail_server.mailbox.received) == 1


def test_unapproved_leaflets_in_another_data_folder_name_it_in_the_approval_command(tmp_path, capsys):
    from brochures.pack.command import main
    from pack_support import CLOCK

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    set_email(data / "clinics" / "example", local_email(2525))
    appointments = write_appointments(tmp_path / "a.csv", ROWS[:1])
    assert (
        main(
            [
                "--data", str(data), "--clinic", "example", "--out", str(tmp_path / "out"), "--appointments",
                str(appointments), "--send"
            ],
            clock=CLOCK,
        )
        == 2
    )
    err = capsys.readouterr().err
    assert f"approve them first (python generate.py --clinic example --data {data} --approval)" in err
