"""A new clinic's first day: init, list, --version, and the logo and colour inputs people actually have."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader
from test_clinic_content import approve

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.quality.findings import ClinicFindings
from conftest import DATA, ROOT, edit_config, line_of, pdf_text
from generate import main


@pytest.fixture
def data_copy(tmp_path):
    """A writable copy of data/ without its clinics, as a new user's folder would be before init."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy, ignore=shutil.ignore_patterns("clinics"))
    (copy / "clinics").mkdir()
    return copy


# --- init ---

def test_init_makes_a_clinic_that_builds_at_once_and_says_what_to_do_next(data_copy, tmp_path, capsys):
    assert main(["init", "rosewood", "--data", str(data_copy)]) == 0
    said = capsys.readouterr().out
    folder = data_copy / "clinics" / "rosewood"
    assert sorted(path.name for path in folder.iterdir()) == ["clinic.yaml", "logo.svg"]
    serve = re.search(r"(\S+ \S+) serve --clinic rosewood --data \S+\n", said)
    # The command it prints runs from here: this Python (the project's virtual environment), this generate.py.
    assert serve and subprocess.run([*serve.group(1).split(), "--version"], capture_output=True).returncode == 0, said
    assert "Edit " in said and "--approval" in said
    config = (folder / "clinic.yaml").read_text()
    # Every setting is explained, the country says it is a default to change, and the approval is left to a person.
    for field in (
        "name:", "logo:", "primary:", "font:", "phone:", "email:", "country: GB", "page_size:", "treatments:"
    ):
        above = config.splitlines()[line_of(folder / "clinic.yaml", field) - 2]
        assert "#" in above or "#" in config.splitlines()[line_of(folder / "clinic.yaml", field) - 1], field
    assert "CHANGE IT" in config and "treatments: [facial, hair, body]" in config and "\napproval:" not in config
    # Its own id, for the pack's record of emails sent: it follows the clinic wherever its folder goes.
    assert re.search(r"^clinic_id: rosewood-[0-9a-f]{8}$", config, re.M) and "#" in config.splitlines()[
        line_of(folder / "clinic.yaml", "clinic_id:") - 2
    ]

    out = tmp_path / "out"
    assert main(["--data", str(data_copy), "--clinic", "rosewood", "--treatment", "facial", "--out", str(out)]) == 0
    text = pdf_text(out / "rosewood" / "facial.pdf")
    assert "Rosewood" in text and "Draft — not yet approved by Rosewood's medical lead" in text
    # The GB default's emergency number, as the config says.
    assert "999" in text
    # The placeholder logo is the clinic's initial, drawn as an outline: no text, so no font, in the SVG.
    logo = (folder / "logo.svg").read_text()
    assert "<path" in logo and "<text" not in logo and "<title>Rosewood</title>" in logo


def test_a_new_clinic_whose_contact_details_are_still_placeholders_needs_a_look_until_they_are_replaced(
    data_copy, tmp_path
):
    """Approved or not, a leaflet that gives patients a phone number, an email or a booking page that reach no one
    is not ready: each placeholder is named with its line, and the report gives the reason in words."""
    assert main(["init", "rosewood", "--data", str(data_copy)]) == 0
    folder = data_copy / "clinics" / "rosewood"
    approve(folder, data_copy)
    out = tmp_path / "out"
    build = ["--data", str(data_copy), "--clinic", "rosewood", "--treatment", "facial", "--out", str(out), "--strict"]

    def card() -> dict:
        return json.loads((out / "rosewood" / "report.json").read_text())["documents"][0]

    assert main(build) == 1
    assert card()["verdict"] == "needs_a_look" and card()["verdict_reasons"] == ["contact"]
    named = [warning.split(": ")[0] for warning in card()["warnings"]]
    assert named == [
        f"{folder / 'clinic.yaml'}:{line_of(folder / 'clinic.yaml', f'  {field}:')} contact.{field}"
        for field in ("phone", "email", "address")
    ], named
    assert "reaches no one" in card()["warnings"][0]
    assert "patients could not reach you" in (out / "rosewood" / "report.html").read_text()

    # The same placeholder, written another way.
    edit_config(folder, '"01632 960000"', '"+44 (0)1632 960000"')
    assert main(build) == 1 and "contact.phone" in card()["warnings"][0]
    edit_config(folder, '"+44 (0)1632 960000"', '"020 7123 4567"')
    edit_config(folder, "hello@your-clinic.example", "hello@rosewood-skin.co.uk")
    edit_config(folder, "- Your Town AB1 2CD", "- Leeds LS1 4AB")
    edit_config(folder, "# website: https://www.your-clinic.example", "website: https://www.example.com")
    edit_config(
        folder, "# booking_url: https://www.your-clinic.example/book", "booking_url: https://book.example/rosewood"
    )
    # Domains kept for examples reach no one either.
    assert main(build) == 1
    assert [warning.split(": ")[0].split(" ")[1] for warning in card()["warnings"]] == [
        "contact.website",
        "booking_url",
    ]

    edit_config(folder, "website: https://www.example.com", "website: https://rosewood-skin.co.uk")
    edit_config(folder, "booking_url: https://book.example/rosewood", "booking_url: https://rosewood-skin.co.uk/book")
    assert main(build) == 0
    assert card()["verdict"] == "ready"


@pytest.mark.parametrize("name", ["../escape", "Rose Wood", "/etc", "rosé", "clinic-130016", "x" * 41, "rose_wood", ""])
def test_init_refuses_a_name_that_is_not_a_safe_folder_name(data_copy, capsys, name):
    assert main(["init", name, "--data", str(data_copy)]) == 2
    err = capsys.readouterr().err
    assert "expected a clinic folder name of up to 40 lowercase letters" in err and "Traceback" not in err
    assert not list((data_copy / "clinics").iterdir()) and not (data_copy / "escape").exists()


def test_init_never_overwrites_a_clinic(data_copy, capsys):
    folder = data_copy / "clinics" / "rosewood"
    folder.mkdir()
    (folder / "clinic.yaml").write_text("name: Mine\n")
    assert main(["init", "rosewood", "--data", str(data_copy)]) == 2
    assert "already exists, and nothing in it was changed" in capsys.readouterr().err
    assert (folder / "clinic.yaml").read_text() == "name: Mine\n" and not (folder / "logo.svg").exists()


def test_init_says_when_it_cannot_write(data_copy, capsys):
    # A read-only disk, for real: root may write in any read-only folder.
    clinics = data_copy / "clinics"
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(clinics)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only file system here (needs root): {mounted.stderr.decode().strip()}")
    try:
        assert main(["init", "rosewood", "--data", str(data_copy)]) == 3
    finally:
        subprocess.run(["umount", str(clinics)], capture_output=True)
    err = capsys.readouterr().err
    assert "generate.py init: could not write" in err and "read-only" in err and "Traceback" not in err


def test_a_python_without_the_projects_libraries_is_told_what_to_run_instead(tmp_path):
    """`python generate.py` with the system's Python, not .venv/bin/python: a sentence, not a traceback. (-S: a
    Python that sees none of the installed libraries.)"""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    run = subprocess.run(
        [sys.executable, "-S", str(ROOT / "generate.py"), "init", "rosewood", "--data", "data"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "does not have the libraries the generator needs" in run.stderr and "sh scripts/setup.sh" in run.stderr
    assert ".venv/bin/python" in run.stderr and not (tmp_path / "data").exists()


# --- list and --version ---


def test_list_shows_the_treatments_and_fonts_a_clinic_can_choose(capsys):
    assert main(["list", "treatments"]) == 0
    said = capsys.readouterr().out
    assert "facial" in said and "Hair mesotherapy" in said and "body" in said
    assert main(["list", "fonts"]) == 0
    said = capsys.readouterr().out
    # The installed font packages.
    assert "Atkinson Hyperlegible" in said and "Lexend" in said


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == "generate.py 0.1.0"


# --- Colours as people write them ---

CONTENT = load_content(DATA)


@pytest.mark.parametrize(
    "written,meant",
    [
        ("teal", "#008080"),
        ("Dark Slate Gray", "#2F4F4F"),
        ("#0f6", "#00FF66"),
        ("#0F6E6E", "#0F6E6E"),
        ("RebeccaPurple", "#663399"),
    ],
)
def test_a_colour_may_be_a_css_name_or_a_shorthand(clinic_copy, written, meant):
    edit_config(clinic_copy, '"#0F6E6E"', f'"{written}"')
    assert load_clinic(clinic_copy / "clinic.yaml", CONTENT).config.colors.primary == meant


def test_an_adjusted_colour_is_named_as_the_clinic_wrote_it(clinic_copy):
    # Far too light for text on white.
    edit_config(clinic_copy, '"#0F6E6E"', '"gold"')
    findings = ClinicFindings(load_clinic(clinic_copy / "clinic.yaml", CONTENT), CONTENT, date(2026, 11, 25))
    messages = [problem.message for problem in findings.contrast]
    assert messages and all(message.startswith('"gold" (#FFD700) ') for message in messages), messages


@pytest.mark.parametrize(
    "written,meant", [("tealish", "teal"), ("0f6e6e", "#0F6E6E"), ("0F6", "#0F6"), ("rebeccapurpel", "rebeccapurple")]
)
def test_an_unknown_colour_gets_the_nearest_one(clinic_copy, capsys, tmp_path, written, meant):
    config = edit_config(clinic_copy, '"#0F6E6E"', f'"{written}"')
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        f'clinic.yaml:{line_of(config, "primary:")} colors.primary: '
        'expected a colour like "#0F6E6E" or "#0F6" (in quotes), '
        f'or a CSS colour name like "teal", got "{written}" (did you mean "{meant}"?)'
    ) in err


# --- A JPEG logo ---


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (15, 110, 110)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def test_a_jpeg_logo_is_printed(clinic_copy, tmp_path):
    (clinic_copy / "logo.jpeg").write_bytes(jpeg(600, 160))
    edit_config(clinic_copy, "logo: logo.svg", "logo: logo.jpeg")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0
    page = PdfReader(tmp_path / "mine" / "facial.pdf").pages[0]
    assert any(image.image.size == (600, 160) for image in page.images)


def test_a_jpeg_named_png_is_told_its_right_name(clinic_copy, capsys, tmp_path):
    (clinic_copy / "logo.png").write_bytes(jpeg(600, 160))
    config = edit_config(clinic_copy, "logo: logo.svg", "logo: logo.png")
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path)]) == 2
    assert (
        f'clinic.yaml:{line_of(config, "logo:")} logo: expected a file whose name says what it holds, got a JPEG image '
        'named "logo.png" (name it logo.jpg)'
    ) in capsys.readouterr().err


# --- A tab in YAML ---


def test_a_tab_that_indents_yaml_is_named_with_its_line(clinic_copy, capsys, tmp_path):
    config = edit_config(clinic_copy, '  accent: "#E8F4F4"', '\taccent: "#E8F4F4"')
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path)]) == 2
    line = line_of(config, "accent:")
    err = capsys.readouterr().err
    assert f"clinic.yaml:{line}: use spaces, not a tab, to indent (line {line})" in err
    assert "cannot start any token" not in err and "Traceback" not in err


def test_numbers_and_domains_kept_for_fiction_reach_no_one():
    """The example's details are a drama number and .test addresses: a copy approved as it is would tell patients
    to call no one. Ofcom's drama ranges, North America's 555-01xx, and the domains kept for examples and tests."""
    from brochures.load.clinic import load_clinic
    from brochures.load.content import load_content
    from brochures.quality.placeholders import fictional, placeholder_problems
    from conftest import DATA, EXAMPLE

    content = load_content(DATA)
    fields = [problem.field for problem in placeholder_problems(load_clinic(EXAMPLE / "clinic.yaml", content))]
    assert fields == ["contact.phone", "contact.email", "contact.website", "booking_url"]
    assert all(map(fictional, ["01632 960000", "+44 (0)20 7946 0123", "0113 496 0999", "07700 900123",
                               "(312) 555-0123", "+1 212 555 0199"]))
    assert not any(map(fictional, ["020 7123 4567", "0113 496 1000", "(312) 555-1234", "999", "911", "112"]))

