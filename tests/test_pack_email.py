"""The email each patient gets, and what is kept private: read back as a patient's email program and a privacy
review would."""

from __future__ import annotations

import json
import re
import stat
from datetime import datetime

import pytest

from brochures.pack.command import Clock
from pack_support import messages_in, pack, write_appointments

ROWS = [
    "<b>Sam</b> {{ 7*7 }},sam.patel@example.test,2030-12-03,14:30,facial hair,Dr Ana Reyes",
    "Priya,priya.shah@example.test,2030-12-04,10:15,body,",
]
PATIENT_DATA = ("Sam", "sam.patel", "Priya", "priya.shah", "Ana Reyes")


def prepare(clinic, tmp_path, rows=ROWS, *args, **options):
    folder, out = clinic
    appointments = write_appointments(tmp_path / "appointments.csv", rows)
    return pack(folder, out, "--appointments", str(appointments), *args, **options), out


def test_the_email_says_what_a_patient_needs(clinic, tmp_path):
    code, out = prepare(clinic, tmp_path, ROWS[:1])
    assert code == 0
    (message,) = messages_in(out)
    # Never the treatment: lock screens.
    assert message["Subject"] == "Your consultation at Example Aesthetics Clinic"
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "Tuesday 3 December 2030" in part and "14:30" in part and "Dr Ana Reyes" in part
        # The place, and how to find it.
        assert "1 High Street" in part and "above the pharmacy" in part
        # How to change it.
        assert "020 7946 0000" in part and "example-clinic.test/book" in part
        # Before it: facial.
        assert "fillers or other treatments you have had on your face" in part
        # And hair.
        assert "when your hair loss started" in part
        # Not body, which was not booked.
        assert "liver or kidney disease" not in part
        # Questions worth asking.
        assert "What side effects could I have" in part
        # Contact details.
        assert "hello@example-clinic.test" in part


def test_html_is_table_laid_out_inlined_and_accessible(clinic, tmp_path):
    code, out = prepare(clinic, tmp_path, ROWS[:1])
    html = messages_in(out)[0].get_body(("html",)).get_content()
    assert '<html lang="en-GB">' in html
    # Inlined: email programs drop style sheets and variables.
    assert "<style" not in html and "var(--" not in html
    # The clinic's colour, inlined.
    assert re.search(r'class="band" style="[^"]*background: #0F6E6E', html)
    assert 'role="presentation"' in html and '<th scope="row"' in html
    images = re.findall(r"<img[^>]*>", html)
    assert images and all(' alt="' in img for img in images)
    assert 'src="cid:clinic-logo"' in images[0] and 'alt="Example Aesthetics Clinic logo"' in images[0]
    (logo,) = [part for part in messages_in(out)[0].walk() if part["Content-ID"] == "<clinic-logo>"]
    # SVG is not shown by email programs.
    assert logo.get_content_type() == "image/png" and logo.get_content().startswith(b"\x89PNG")
    # Real headings, real text.
    assert "<h1" in html and "<h2" in html


def test_a_name_with_html_or_template_syntax_is_plain_text(clinic, tmp_path):
    code, out = prepare(clinic, tmp_path, ROWS[:1])
    (message,) = messages_in(out)
    assert "Hello <b>Sam</b> {{ 7*7 }}," in message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello &lt;b&gt;Sam&lt;/b&gt; {{ 7*7 }}," in html and "<b>Sam" not in html and "49" not in html


def test_attachments_are_the_approved_generic_leaflets_and_the_email_stays_under_1_mb(clinic, tmp_path, capsys):
    code, out = prepare(clinic, tmp_path, ROWS[:1])
    (message,) = messages_in(out)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    # The leaflets byte for byte, and the appointment for the patient's calendar.
    assert attached.pop("appointment.ics").startswith("BEGIN:VCALENDAR")
    assert attached == {name: (out / "harbour" / name).read_bytes() for name in ("facial.pdf", "hair.pdf")}
    (eml,) = (out / ".private" / "harbour").glob("*.eml")
    size = eml.stat().st_size
    assert size <= 1024 * 1024
    # Its size, its row.
    assert f"{eml.stem}.eml  ({size / 1024:.0f} KB, appointments.csv:2)" in capsys.readouterr().out


def test_nothing_private_leaks(clinic, tmp_path, capsys):
    code, out = prepare(clinic, tmp_path)
    assert code == 0
    said = capsys.readouterr()
    private = out / ".private"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700 and stat.S_IMODE((private / "harbour").stat().st_mode) == 0o700
    # The lock: a pid.
    files = [path for path in private.rglob("*") if path.is_file() and path.name != ".build.lock"]
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}
    names = [path.name for path in out.rglob("*")]
    readable = {
        "stdout": said.out,
        "stderr": said.err,
        "file names": " ".join(names),
        "ledger": (private / "harbour" / "ledger.json").read_text(),
        "build cache": (out / ".build-cache.json").read_text(),
    }
    readable |= {path.name: path.read_text(errors="replace") for path in (out / "harbour").iterdir()}
    for where, text in readable.items():
        for data in PATIENT_DATA:
            assert data not in text, f"{data} in {where}"
    for message in messages_in(out):
        assert message["Subject"] == "Your consultation at Example Aesthetics Clinic"
        assert all(re.fullmatch(r"[0-9a-f]{20}", path.stem) for path in (private / "harbour").glob("*.eml"))


def test_personal_files_are_purged_and_expire_after_the_appointment(clinic, tmp_path, capsys):
    folder, out = clinic
    code, out = prepare(clinic, tmp_path)
    assert len(list((out / ".private" / "harbour").glob("*.eml"))) == 2
    # The day after Sam's appointment, the next run removes Sam's message; Priya's (a day later) stays.
    later = Clock(now=lambda: datetime(2030, 12, 4, 8, 0))
    assert pack(folder, out, "--appointments", str(write_appointments(tmp_path / "none.csv", [])), clock=later) == 0
    # Nothing to prepare: nothing is touched.
    assert len(list((out / ".private" / "harbour").glob("*.eml"))) == 2
    assert (
        pack(
            folder,
            out,
            "--name",
            "Jo",
            "--email",
            "jo@example.test",
            "--when",
            "2030-12-05 10:00",
            "--treatment",
            "hair",
            clock=later,
        )
        == 0
    )
    # Sam's went, Jo's came.
    assert len(list((out / ".private" / "harbour").glob("*.eml"))) == 2
    assert "removed 1 file of appointments that have passed" in capsys.readouterr().out
    # One patient's alone cannot be purged: every patient's would go, so it is refused, and nothing is removed.
    with pytest.raises(SystemExit) as refused:
        pack(folder, out, "--purge", "--name", "Jo", "--email", "jo@example.test")
    assert refused.value.code == 2 and "expected --purge alone" in capsys.readouterr().err
    assert len(list((out / ".private" / "harbour").glob("*.eml"))) == 2
    assert pack(folder, out, "--purge") == 0
    assert list((out / ".private" / "harbour").glob("*.eml")) == []
    # Kept: no double sends.
    assert json.loads((out / ".private" / "harbour" / "ledger.json").read_text())["appointments"]


def test_the_personal_pdf(clinic, tmp_path):
    from pypdf import PdfReader

    from conftest import pdf_text, struct_elements

    code, out = prepare(clinic, tmp_path, ROWS[:1], "--pack", "pdf")
    assert code == 0
    (message,) = messages_in(out)
    (attached,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    # The same name for every patient.
    assert attached.get_filename() == "before-your-consultation.pdf"
    (pdf,) = (out / ".private" / "harbour").glob("*.pdf")
    assert attached.get_content() == pdf.read_bytes() and stat.S_IMODE(pdf.stat().st_mode) == 0o600
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root and root["/Lang"] == "en"
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "pdfuaid:part" in xmp
    metadata = " ".join(str(value) for value in reader.metadata.values()) + xmp
    assert "Before your consultation" in metadata and "Example Aesthetics Clinic" in metadata
    # No patient data in the metadata.
    assert not any(data in metadata for data in PATIENT_DATA + ("&lt;b&gt;",))

    def titles(outline):
        return [title for item in outline for title in (titles(item) if isinstance(item, list) else [item.title])]

    bookmarks = titles(reader.outline)
    assert (
        bookmarks[0] == "Before your consultation"
        and "Facial mesotherapy" in bookmarks
        and "Hair mesotherapy" in bookmarks
    )
    # Only the patient's treatments.
    assert "Body mesotherapy" not in bookmarks
    first = " ".join(reader.pages[0].extract_text().split())
    # Marked, and the name is text, not markup.
    assert first.startswith("Personal — for <b>Sam</b> {{ 7*7 }} only")
    # On every page.
    assert all("Personal — for" in page.extract_text() for page in reader.pages[1:])
    assert "Hello <b>Sam</b> {{ 7*7 }}," in pdf_text(pdf)
    # The appointment's details are a real table.
    assert struct_elements(pdf, "/Table")
    headers = [node for node in struct_elements(pdf, "/TH")]
    assert headers and all(node["/A"]["/Scope"] in ("/Column", "/Row") for node in headers)
    report = pytest.importorskip("pdfua").validate(str(pdf))
    assert not [f for f in report.findings if f.rule_id.startswith("UA-15")], [f.message for f in report.findings]


def test_a_damaged_ledger_stops_the_pack_rather_than_risk_sending_twice(clinic, tmp_path, capsys):
    folder, out = clinic
    ledger = out / ".private" / "harbour" / "ledger.json"
    # The key and the ledger exist.
    assert prepare(clinic, tmp_path, ROWS[:1])[0] == 0
    for made in ledger.parent.glob("*.eml"):
        made.unlink()
    ledger.write_text("{not json")
    code, out = prepare(clinic, tmp_path, ROWS[:1])
    assert code == 3
    assert "could not read" in capsys.readouterr().err and not list(ledger.parent.glob("*.eml"))


def test_a_link_in_place_of_the_private_folder_is_refused(clinic, tmp_path, capsys):
    folder, out = clinic
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / ".private").symlink_to(elsewhere)
    code, out = prepare(clinic, tmp_path, ROWS[:1])
    err = capsys.readouterr().err
    # Another --out would send again.
    assert code == 3 and "got a link or a file" in err and "--out" not in err
    assert list(elsewhere.rglob("*.eml")) == []


def test_one_pack_at_a_time_per_clinic(clinic, tmp_path, capsys):
    from brochures.files.output_folder import BuildLock
    from brochures.pack.private_files import private_folder

    folder, out = clinic
    assert prepare(clinic, tmp_path, ROWS[:1])[0] == 0
    with BuildLock(private_folder(out, "harbour")):
        code, out = prepare(clinic, tmp_path, ROWS[1:])
        # A purge waits too: it would delete what a send is reading.
        assert pack(folder, out, "--purge") == 3
    err = capsys.readouterr().err
    assert code == 3 and err.count("another pack is running for this clinic") == 2
    # Another output folder has an empty ledger: it would send again.
    assert "--out" not in err
    assert len(list((out / ".private" / "harbour").glob("*.eml"))) == 1
    # A brochure build into the same folder: the build's own message suggests another --out.
    with BuildLock(out):
        code, out = prepare(clinic, tmp_path, ROWS[1:])
    err = capsys.readouterr().err
    assert code == 3 and "Keep --out " in err and "another folder would send every email again" in err


def test_an_email_over_the_size_limit_is_reported_and_not_written(clinic, tmp_path, capsys, monkeypatch):
    from brochures.pack import delivery

    # Between a one-leaflet and a two-leaflet email.
    monkeypatch.setattr(delivery, "MAX_MESSAGE_BYTES", 120 * 1024)
    rows = ["Sam,sam@example.test,2030-12-03,14:30,facial hair,", "Jo,jo@example.test,2030-12-03,15:30,hair,"]
    code, out = prepare(clinic, tmp_path, rows)
    assert code == 1
    assert [message["To"] for message in messages_in(out)] == ["jo@example.test"]
    assert "TOO LARGE" in capsys.readouterr().err


def test_a_clinic_in_the_us_gets_american_dates_and_a_12_hour_clock(tmp_path):
    from brochures.pack.command import main
    from conftest import ROSEWOOD
    from pack_support import CLOCK

    out = tmp_path / "out"
    assert (
        main(
            [
                "--clinic", str(ROSEWOOD), "--out", str(out), "--name", "Jo", "--email", "jo@example.test", "--when",
                "12/03/2030 2:30 pm", "--treatment", "hair", "--date-order", "month_first"
            ],
            clock=CLOCK,
        )
        == 0
    )
    (message,) = messages_in(out, "rosewood")
    text = message.get_body(("plain",)).get_content()
    # Month first, as the US writes it.
    assert "Date: Tuesday, December 3, 2030" in text and "Time: 2:30 PM" in text


def test_a_strings_file_without_the_email_words_is_named(tmp_path, capsys):
    import shutil

    from brochures.pack.command import main
    from conftest import DATA
    from pack_support import CLOCK

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    strings = data / "strings" / "en.yaml"
    strings.write_text(strings.read_text().split("\n# The pre-consultation email")[0] + "\n")
    assert main(["--data", str(data), "--out", str(tmp_path / "out")], clock=CLOCK) == 2
    assert "en.yaml pack: expected the words of the email" in capsys.readouterr().err


def test_a_damaged_or_swapped_key_is_refused_rather_than_giving_new_ids(clinic, tmp_path, capsys):
    import os

    folder, out = clinic
    secret = out / ".private" / "secret"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"short")
    assert prepare(clinic, tmp_path, ROWS[:1])[0] == 3
    secret.unlink()
    os.mkfifo(secret)
    # A named pipe: refused at once, without hanging.
    assert prepare(clinic, tmp_path, ROWS[:1])[0] == 3
    err = capsys.readouterr().err
    assert "is not the key this generator made" in err and "could not read" in err
    secret.unlink()
    key = tmp_path / "key"
    key.write_bytes(bytes(32))
    # A link: whoever can change its target could swap the key.
    secret.symlink_to(key)
    assert prepare(clinic, tmp_path, ROWS[:1])[0] == 3
    assert "secret is a link" in capsys.readouterr().err


def test_every_file_in_the_private_folder_is_only_its_owners(clinic, tmp_path):
    import os

    folder, out = clinic
    private = out / ".private" / "harbour"
    private.mkdir(parents=True)
    (private / ".build.lock").write_text("")
    # Made by an older run.
    os.chmod(private / ".build.lock", 0o644)
    assert prepare(clinic, tmp_path, ROWS[:1])[0] == 0
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in private.iterdir()}
    assert ".build.lock" in modes and set(modes.values()) == {0o600}, modes


def test_a_pack_for_one_treatment_leaves_the_clinic_report_whole(clinic, capsys):
    folder, out = clinic
    report = out / "harbour" / "report.json"
    # The full build.
    assert len(json.loads(report.read_text())["documents"]) == 5
    assert (
        pack(
            folder, out, "--name", "Sam", "--email", "sam@example.test", "--when", "2030-12-03 14:30", "--treatment",
            "facial"
        )
        == 0
    )
    assert len(json.loads(report.read_text())["documents"]) == 5


# 59 characters.
LONG_NAMES = [
    "Alex",
    "Anna-Maria Magdalena Theresia Josepha Walburga von Habsburg",
    # 60, one unbroken word.
    "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaf",
    # 60 of the widest letters, unbroken or not.
    "W" * 60,
    "Mmmmmmmmmm " * 5 + "Mmmmm",
]
# 60 characters, one unbroken word, beside the first long name.
PRACTITIONER = "Dr" + "Wm" * 29


@pytest.mark.parametrize("page_size", ["A4", "Letter", "A5"])
def test_a_personal_pdf_for_any_first_name_up_to_60_characters_beside_a_draft_mark(tmp_path, page_size, capsys):
    """The running header ("Personal — for … only") wraps in its own box, beside the draft mark, and never reaches the
    page's edge or the text below it: the quality gate every personal PDF passes measures both."""
    import shutil

    from conftest import EXAMPLE

    folder = tmp_path / "clinics" / "example"
    # Not approved: every page has the draft mark too.
    shutil.copytree(EXAMPLE, folder)
    config = folder / "clinic.yaml"
    config.write_text(config.read_text().replace("page_size: A4", f"page_size: {page_size}"))
    rows = [
        f"{name},p{number}@example.test,2030-12-03,1{number}:00,facial,{PRACTITIONER if number == 1 else ''}"
        for number, name in enumerate(LONG_NAMES)
    ]
    code, out = prepare((folder, tmp_path / "out"), tmp_path, rows, "--pack", "pdf")
    assert code == 0, capsys.readouterr().err
    assert len(list((out / ".private" / "example").glob("*.pdf"))) == len(LONG_NAMES)


def test_a_personal_pdf_that_fails_for_one_patient_skips_that_row_only(tmp_path, capsys):
    import shutil

    from conftest import EXAMPLE, ROOT

    folder = tmp_path / "clinics" / "example"
    shutil.copytree(EXAMPLE, folder)
    override = folder / "templates" / "email" / "personal_pack.html.j2"
    override.parent.mkdir(parents=True)
    override.write_text(
        (ROOT / "templates" / "email" / "personal_pack.html.j2")
        .read_text()
        .replace(
            "{% block masthead %}",
            "{% block masthead %}{% if patient.first_name == 'Broken' %}{{ no_such_value }}{% endif %}",
        )
    )
    rows = ["Broken,b@example.test,2030-12-03,10:00,facial,", "Alex,a@example.test,2030-12-03,11:00,facial,"]
    code, out = prepare((folder, tmp_path / "out"), tmp_path, rows, "--pack", "pdf")
    captured = capsys.readouterr()
    # Not 2: the other patient's email was prepared.
    assert code == 1
    assert len(messages_in(out, "example")) == 1 and len(list((out / ".private" / "example").glob("*.pdf"))) == 1
    assert "  FAILED     appointments.csv:2: expected an email and personal PDF for this appointment" in captured.err
    assert "1 not made (see above)" in captured.out


def test_a_name_the_font_cannot_draw_fails_its_row_with_one_message_each(tmp_path, capsys, assert_no_weasyprint_logs):
    import shutil

    from conftest import EXAMPLE

    folder = tmp_path / "clinics" / "example"
    shutil.copytree(EXAMPLE, folder)
    rows = ["山田,y@example.test,2030-12-03,10:00,facial,", "سارة,s@example.test,2030-12-03,11:00,facial,"]
    code, out = prepare((folder, tmp_path / "out"), tmp_path, rows, "--pack", "pdf")
    err = capsys.readouterr().err
    assert code == 1
    assert not messages_in(out, "example") and not list((out / ".private" / "example").glob("*.pdf")), (
        "nothing for either"
    )
    failed = [line for line in err.splitlines() if "FAILED" in line]
    assert len(failed) == 2, err
    for row, (name, codes) in enumerate(
        [("山田", "U+5C71, U+7530"), ("سارة", "U+0633, U+0627, U+0631, U+0629")], start=2
    ):
        (line,) = [line for line in failed if f"appointments.csv:{row}:" in line]
        # Which words follow depends on the machine's fonts, not on this project: "has no glyph for" where no font
        # has the letters, "cannot draw …, so they are drawn in <fallback> instead" where fontconfig finds one
        # (DejaVu Sans for Arabic; Droid Sans Fallback for Chinese where Ghostscript or ImageMagick pulled it in).
        assert re.search(
            "not fit to give to patients as it is: Atkinson Hyperlegible (has no glyph for|cannot draw) "
            + re.escape(f'"{name}" ({codes})'),
            line,
        ), line
        # One message, though the name is printed in two weights.
        assert err.count(f'"{name}"') == 1, err
    # The missing glyphs this test asks for.
    for record in assert_no_weasyprint_logs:
        record.expected_by_test = True
