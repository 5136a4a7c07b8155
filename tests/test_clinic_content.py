"""Text that is true for each clinic (its treatments, its country, cited sources) and each clinic's sign-off of its
content.

Every test builds real PDFs and reads them as a patient or a screen reader would: text, links, metadata.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from brochures.files.yaml_reader import read_yaml
from brochures.load.approval import (
    APPROVED,
    OUTDATED,
    UNAPPROVED,
    approval_request,
    approval_status,
    content_fingerprint,
)
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.load.locale import respell
from brochures.render.data import ensure_plain_data
from brochures.schema.clinic import Contact
from brochures.schema.errors import validate
from brochures.schema.reference import ClaimRules
from conftest import (
    DATA,
    EXAMPLE,
    ROOT,
    ROSEWOOD,
    edit_config,
    line_of,
    pdf_text,
    struct_nodes,
)
from generate import main

CONTENT = load_content(DATA)
DRAFT = "Draft — not yet approved by {}'s medical lead"


def build(clinic_folder: Path, out: Path, *extra: str) -> Path:
    assert main(["--clinic", str(clinic_folder), "--out", str(out), *extra]) == 0
    return next(p for p in out.iterdir() if p.is_dir())


def page_texts(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


def link_uris(path: Path) -> list[str]:
    uris = []
    for page in PdfReader(path).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris


def copy_clinic(source: Path, tmp_path: Path, name: str = "mine") -> Path:
    folder = tmp_path / "clinics" / name
    shutil.copytree(source, folder)
    return folder


def approve(
    folder: Path, data: Path = DATA, name: str = "Dr Jane Smith", role: str = "Medical lead", day: str = "2026-11-25"
) -> str:
    """Approve a clinic as its medical lead would: run the request, fill in the block it prints, paste it."""
    config = folder / "clinic.yaml"
    content = load_content(data)
    request = approval_request(load_clinic(config, content), content)
    block = request[request.index("approval:\n") :].split("\n\n")[0]
    block = (
        block.replace('name: ""', f'name: "{name}"')
        .replace('role: ""', f'role: "{role}"')
        .replace('date: ""', f"date: {day}")
    )
    config.write_text(config.read_text() + "\n" + block + "\n")
    return request


# --- 1. Shared text speaks of the treatments this clinic offers ---


def test_comparison_of_two_treatments_speaks_of_those_two(clinic_copy, tmp_path):
    edit_config(clinic_copy, "treatments: [facial, hair, body]", "treatments: [facial, hair]")
    folder = build(clinic_copy, tmp_path / "out", "--treatment", "comparison")
    text = pdf_text(folder / "comparison.pdf")
    assert "The two types we offer, side by side" in text
    assert "At our clinic, we offer two types: facial and hair mesotherapy." in text
    assert "Facial treatments can help" in text and "Hair treatments aim to feed" in text
    assert "three" not in text.lower()
    assert "Body treatments" not in text and "Body mesotherapy" not in text and "body mesotherapy" not in text
    # What every clinic is told still comes first and last.
    assert CONTENT.shared.in_summary[0] in text and CONTENT.shared.in_summary_closing[0] in text


def test_comparison_of_three_and_of_one(example_build, clinic_copy, tmp_path):
    text = pdf_text(example_build / "comparison.pdf")
    assert "The three types we offer, side by side" in text
    assert "we offer three types: facial, hair and body mesotherapy." in text
    assert "Body treatments can help" in text

    edit_config(clinic_copy, "treatments: [facial, hair, body]", "treatments: [body]")
    text = pdf_text(build(clinic_copy, tmp_path / "out", "--treatment", "comparison") / "comparison.pdf")
    assert "Our treatment at a glance" in text and "we offer body mesotherapy." in text
    assert "types we offer" not in text and "Facial treatments" not in text and "Hair treatments" not in text
    assert "compare" not in text and "the type we offer, to help you decide" in " ".join(text.split())


def test_the_list_is_joined_by_the_strings_file(tmp_path):
    """The joiner and the number words are data: a strings file that says "&" prints "&"."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    strings = data / "strings" / "en.yaml"
    strings.write_text(
        strings.read_text()
        .replace('last: "{rest} and {last}"', 'last: "{rest} & {last}"')
        .replace("numbers: [one, two, three,", "numbers: [one, two, 3,")
    )
    out = tmp_path / "out"
    assert main(["--data", str(data), "--treatment", "comparison", "--out", str(out)]) == 0
    text = pdf_text(out / "example" / "comparison.pdf")
    assert "we offer 3 types: facial, hair & body mesotherapy." in text


def test_shared_content_names_no_treatment():
    """Every sentence of shared content is true whichever treatments a clinic offers."""
    shared = json.dumps(CONTENT.shared.model_dump(mode="json", exclude={"sources", "review"})).lower()
    for treatment in CONTENT.treatments.values():
        assert not re.search(rf"\b{treatment.type_name}\b", shared), treatment.type_name
    assert "three" not in shared


# --- 2. Country, not language, decides local facts ---


def test_country_sets_emergency_number_date_and_spelling(example_build, rosewood_build):
    gb = pdf_text(example_build / "facial.pdf")
    assert "Call 999 straight away if" in gb and "24 November 2026" in gb and "Early signs of ageing" in gb
    us = pdf_text(rosewood_build / "facial.pdf")
    assert "Call 911 straight away if" in us and "November 24, 2026" in us
    assert "Early signs of aging" in us and "ageing" not in us.lower()
    assert "skin color" in us and "colour" not in us.lower()
    assert "999" not in us and "24 November 2026" not in us


def test_country_sets_the_claims_profile():
    def rules(profile: str) -> ClaimRules:
        return validate(ClaimRules, read_yaml(DATA / "claims" / f"{profile}.yaml"))

    content = load_content(DATA)
    assert load_clinic(ROSEWOOD / "clinic.yaml", content).claim_rules == rules("us")
    assert load_clinic(EXAMPLE / "clinic.yaml", content).claim_rules == rules("uk")


@pytest.mark.parametrize("country, number", [("IE", "112"), ("AU", "000"), ("ES", "112"), ("gb", "999"), ("NZ", "111")])
def test_each_country_has_its_own_emergency_number(clinic_copy, tmp_path, country, number):
    edit_config(clinic_copy, "country: GB", f"country: {country}")
    text = pdf_text(build(clinic_copy, tmp_path / "out", "--treatment", "hair") / "hair.pdf")
    assert f"Call {number} straight away if" in text
    assert f"tel:{number}" in link_uris(tmp_path / "out" / "mine" / "hair.pdf")


def test_the_clinics_own_emergency_number_wins(clinic_copy, tmp_path):
    edit_config(clinic_copy, "country: GB", 'country: FR\nemergency_number: "15"')
    text = pdf_text(build(clinic_copy, tmp_path / "out", "--treatment", "hair") / "hair.pdf")
    assert "Call 15 straight away if" in text and "Call 112" not in text


def test_no_country_and_no_emergency_number_is_an_input_error(clinic_copy, tmp_path, capsys):
    config = edit_config(clinic_copy, "country: GB", "")
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "clinic.yaml" in err and " country: expected the clinic's country" in err and "emergency_number" in err
    assert not list((tmp_path / "out").rglob("*.pdf"))
    # An emergency number alone is enough: the clinic chose it.
    config.write_text(config.read_text() + 'emergency_number: "112"\n')
    text = pdf_text(build(clinic_copy, tmp_path / "out2", "--treatment", "hair") / "hair.pdf")
    assert "Call 112 straight away if" in text


@pytest.mark.parametrize("value, fragment", [("XX", 'got "XX"'), ("GBR", "two-letter country code")])
def test_unknown_country_is_an_input_error(clinic_copy, tmp_path, capsys, value, fragment):
    edit_config(clinic_copy, "country: GB", f"country: {value}")
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"clinic.yaml:{line_of(clinic_copy / 'clinic.yaml', 'country:')} country:" in err and fragment in err


def test_every_country_names_the_source_of_its_emergency_number():
    countries = CONTENT.countries
    ids = {source.id for source in countries.sources}
    assert {"GB": "999", "US": "911", "IE": "112", "ES": "112", "AU": "000"}.items() <= {
        code: country.emergency_number for code, country in countries.countries.items()
    }.items()
    assert all(country.source in ids for country in countries.countries.values())


@pytest.mark.parametrize(
    "phone",
    [
        "(843) 555-0142", "+1 (843) 555-0142", "843-555-0142", "843.555.0142", "+33 1.23.45.67.89", "020 7946 0000",
        "+44 20 7946 0000"
    ],
)
def test_phone_formats_are_valid(phone):
    assert Contact(phone=phone, email="a@b.test").phone == phone


@pytest.mark.parametrize("phone", ["(843 555-0142", "call me", "12", "843..555.0142", "843. 555"])
def test_bad_phones_are_refused(clinic_copy, tmp_path, capsys, phone):
    edit_config(clinic_copy, '"020 7946 0000"', f'"{phone}"')
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    assert "contact.phone: expected a phone number" in capsys.readouterr().err


def test_phone_email_and_emergency_number_are_tap_to_call_links(example_build, rosewood_build):
    for folder, phone, emergency in (
        (rosewood_build, "tel:8435550142", "tel:911"),
        (example_build, "tel:02079460000", "tel:999"),
    ):
        for name in ("facial.pdf", "booklet.pdf"):
            uris = link_uris(folder / name)
            assert phone in uris and emergency in uris, (name, uris)
            assert any(uri.startswith("mailto:") and "@" in uri for uri in uris)
            assert all(re.fullmatch(r"tel:\+?[0-9]+", uri) for uri in uris if uri.startswith("tel:"))
    assert "(843) 555-0142" in pdf_text(rosewood_build / "facial.pdf")


def test_an_international_phone_keeps_its_plus(clinic_copy, tmp_path):
    edit_config(clinic_copy, '"020 7946 0000"', '"+44 (0)20 7946 0000"')
    folder = build(clinic_copy, tmp_path / "out", "--treatment", "hair")
    assert "tel:+4402079460000" in link_uris(folder / "hair.pdf")


def test_spelling_keeps_capitals_and_whole_words():
    table = {"ageing": "aging", "colour": "color"}
    assert respell(["Ageing skin", "AGEING", "discolouration", "colour."], table) == [
        "Aging skin", "AGING", "discolouration", "color."
    ]


def test_language_en_us_uses_the_overlay_without_a_country(clinic_copy, tmp_path):
    edit_config(clinic_copy, "language: en", "language: en-US")
    text = pdf_text(build(clinic_copy, tmp_path / "out", "--treatment", "facial") / "facial.pdf")
    # The spelling from the language, the number from the country.
    assert "signs of aging" in text and "Call 999" in text


# --- 3. Sources are cited, not pathed ---


@pytest.mark.parametrize("name", ["facial.pdf", "comparison.pdf", "booklet.pdf"])
def test_sources_are_cited_with_title_and_publisher_never_a_path(example_build, name):
    text = pdf_text(example_build / name)
    assert (
        "Types of Mesotherapy in Medical & Aesthetic Practices. Online article; author and publisher not recorded."
        in text
    )
    assert "seed" not in text and ".txt" not in text and "../" not in text and "shared/" not in text
    # The booklet's own introduction is cited in the booklet only: a comparison sheet has no such introduction.
    assert ("introduction to this booklet" in text) == (name == "booklet.pdf")


def test_a_source_with_a_web_address_prints_and_links_it(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    facial = data / "treatments" / "facial.yaml"
    facial.write_text(
        facial.read_text().replace(
            "    publisher: Online article; author and publisher not recorded\n",
            "    publisher: Example Journal\n    url: https://journal.example.test/mesotherapy-types\n",
            1,
        )
    )
    out = tmp_path / "out"
    assert main(["--data", str(data), "--treatment", "facial", "--out", str(out)]) == 0
    text = pdf_text(out / "example" / "facial.pdf")
    assert (
        "Types of Mesotherapy in Medical & Aesthetic Practices. Example Journal. journal.example.test/mesotherapy-"
        in text
    )
    assert "https://journal.example.test/mesotherapy-types" in link_uris(out / "example" / "facial.pdf")


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "    publisher: Online article; author and publisher not recorded\n",
            "",
            "sources[0].publisher: required, but missing",
        ),
        (
            "    publisher: Online article; author and publisher not recorded\n",
            "    publisher: Online article; author and publisher not recorded\n"
            "    reference: ../shared/seed/000_a7a9bfaa3a5444c2.txt\n",
            "sources[0].reference: unknown field",
        ),
        (
            "covers: [title, type_name, summary,",
            "covers: [title, summary,",
            "sources: expected every content field to name its source, got none for: type_name",
        ),
    ],
)
def test_a_source_is_cited_and_every_field_has_one(tmp_path, capsys, old, new, message):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    hair = data / "treatments" / "hair.yaml"
    assert old in hair.read_text()
    hair.write_text(hair.read_text().replace(old, new, 1))
    assert main(["--data", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "hair.yaml:" in err and message in err, err


# --- 4. Each clinic signs off its own content ---


def test_the_example_ships_unapproved_and_every_page_says_draft(example_build):
    mark = DRAFT.format("Example Aesthetics Clinic")
    for path in sorted(example_build.glob("*.pdf")):
        pages = page_texts(path)
        missing = [i + 1 for i, text in enumerate(pages) if mark not in text]
        assert not missing, f"{path.name}: no draft mark on pages {missing}"
        assert "Reviewed for" not in " ".join(pages)
    assert pdf_text(example_build / "facial.pdf").count(mark) == len(page_texts(example_build / "facial.pdf"))


@pytest.mark.parametrize("mark", [
    "",
    # On the first page, white on white: in the text layer, seen by no one.
    '<p class="draft-mark" style="color: #fff" data-running="{{ t.draft_mark_running }}">'
    "{{ t.draft_mark | fill(clinic=clinic.config.name) }}</p>",
])
def test_a_clinic_template_cannot_take_the_draft_mark_off_unapproved_content(clinic_copy, tmp_path, mark):
    """The scorecard says every page of unapproved content is marked as a draft: a clinic's own template that
    leaves the mark out, or hides it, fails the document, naming the pages that do not show it."""
    (clinic_copy / "templates" / "partials").mkdir(parents=True)
    (clinic_copy / "templates" / "partials" / "draft_mark.html.j2").write_text(
        "{% if not approval.approved %}" + mark + "{% endif %}")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 1
    (card,) = json.loads((tmp_path / "mine" / "report.json").read_text())["documents"]
    pages = "pages 1–4" if not mark else "page 1"
    assert f'{pages}: the draft mark ("Draft — not yet approved by Example Aesthetics Clinic' in card["error"]
    assert not (tmp_path / "mine" / "facial.pdf").exists()


def test_a_long_clinic_name_keeps_the_running_header_short(clinic_copy, tmp_path, assert_no_weasyprint_logs):
    """A 100-character name on A5 would make a header of four lines: the header says "the clinic" instead,
    and the full mark with the name still opens the document."""
    name = "The Riverside Aesthetic and Dermatology Clinic of the Northern Quarter, Including Satellite Offices"
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", f"name: {name}")
    edit_config(clinic_copy, "page_size: A4", "page_size: A5")
    folder = build(clinic_copy, tmp_path / "out", "--treatment", "hair", "--treatment", "booklet", "--variant", "press")
    for path in (folder / "hair.press.pdf", folder / "booklet.press.pdf"):
        pages = page_texts(path)
        assert DRAFT.format(name) in " ".join(pages[0].split())
        # every later page has the short running header, but the first page of each leaflet a booklet binds,
        # which opens with the full mark as the leaflet itself does
        short = [
            number
            for number, text in enumerate(pages[1:], start=2)
            if "Draft — not yet approved by the clinic's medical lead" in text
        ]
        full = [number for number, text in enumerate(pages[1:], start=2) if DRAFT.format(name) in text]
        assert sorted(short + full) == list(range(2, len(pages) + 1)), path.name
        assert len(full) == (0 if path.stem.startswith("hair") else 4), path.name
    # The name cannot stand on one line of an A5 footer either: the page check says so, for a person to look at.
    # The page number beside it never wraps.
    said = [record.getMessage() for record in assert_no_weasyprint_logs]
    assert said and all("the footer (left) wraps onto 2 lines" in message for message in said), said
    for record in assert_no_weasyprint_logs:
        record.expected_by_test = True


def test_the_tri_fold_says_draft_on_both_sides(clinic_copy, tmp_path):
    folder = build(clinic_copy, tmp_path / "out", "--treatment", "hair", "--layout", "trifold")
    pages = page_texts(folder / "hair.trifold.pdf")
    assert len(pages) == 2 and all(DRAFT.format("Example Aesthetics Clinic") in text for text in pages)


def marked_text(page) -> dict[int, str]:
    """The text of each marked-content sequence (MCID) of a page: what the structure tree can point to."""
    found: dict[int, str] = {}
    stack: list[int | None] = []

    def operator(op, args, *_):
        if op == b"BDC":
            properties = args[1] if len(args) > 1 else None
            stack.append(int(properties["/MCID"]) if hasattr(properties, "get") and "/MCID" in properties else None)
        elif op == b"BMC":
            stack.append(None)
        elif op == b"EMC" and stack:
            stack.pop()

    def text(value, *_):
        mcid = next((m for m in reversed(stack) if m is not None), None)
        if mcid is not None:
            found[mcid] = found.get(mcid, "") + value

    page.extract_text(visitor_operand_before=operator, visitor_text=text)
    return found


def structure_text(node, marked: dict[int, str]) -> str:
    """The text a screen reader reads for one structure element (the marked content below it)."""
    node = node.get_object()
    kids = node.get("/K")
    kids = kids if isinstance(kids, list) else [kids]
    parts = []
    for kid in kids:
        kid = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(kid, int):
            parts.append(marked.get(kid, ""))
        elif hasattr(kid, "get") and "/S" in kid:
            parts.append(structure_text(kid, marked))
        elif hasattr(kid, "get") and "/MCID" in kid:
            parts.append(marked.get(int(kid["/MCID"]), ""))
    return " ".join(" ".join(parts).split())


def test_the_draft_mark_is_the_first_thing_a_screen_reader_reads(example_build):
    """The mark is a paragraph of the tagged PDF, before the masthead and the title; the running header on later
    pages is not in the structure tree, so it is not read again on every page."""
    path = example_build / "facial.pdf"
    reader = PdfReader(path)
    marked = marked_text(reader.pages[0])
    paragraphs = [node for node in struct_nodes(path) if node["/S"] in ("/P", "/H1")]
    first = paragraphs[0]
    assert first["/S"] == "/P"
    assert structure_text(first, marked) == DRAFT.format("Example Aesthetics Clinic")
    first_page = reader.pages[0].indirect_reference.idnum
    texts = [structure_text(node, marked) for node in paragraphs if node.raw_get("/Pg").idnum == first_page]
    assert texts.count(DRAFT.format("Example Aesthetics Clinic")) == 1


def test_an_approved_clinic_prints_who_reviewed_it_and_no_draft_mark(tmp_path):
    folder = copy_clinic(ROSEWOOD, tmp_path, "rosewood")
    approve(folder)
    out = build(folder, tmp_path / "out", "--layout", "all")
    reviewed = "Reviewed for Rosewood Skin & Hair Clinic by Dr Jane Smith, Medical lead, on November 25, 2026."
    for path in sorted(out.glob("*.pdf")):
        text = pdf_text(path)
        assert "Draft" not in text, path.name
        assert reviewed in text, path.name


def test_changed_content_brings_the_draft_mark_back(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    folder = copy_clinic(EXAMPLE, tmp_path)
    approve(folder, data)
    content = load_content(data)
    assert approval_status(load_clinic(folder / "clinic.yaml", content))["state"] == APPROVED

    hair = data / "treatments" / "hair.yaml"
    assert "Often 4 to 8 sessions." in hair.read_text()
    hair.write_text(hair.read_text().replace("Often 4 to 8 sessions.", "Often 5 to 8 sessions."))
    content = load_content(data)
    status = approval_status(load_clinic(folder / "clinic.yaml", content))
    assert status["state"] == OUTDATED and not status["approved"]
    assert (
        f"clinic.yaml:{line_of(folder / 'clinic.yaml', 'fingerprint:')} approval.fingerprint: "
        "the content changed since Dr Jane Smith"
        in status["warning"]
    )
    out = tmp_path / "out"
    assert main(["--data", str(data), "--clinic", str(folder), "--treatment", "facial", "--out", str(out)]) == 0
    assert all(DRAFT.format("Example Aesthetics Clinic") in text for text in page_texts(out / "mine" / "facial.pdf"))


def test_the_fingerprint_covers_content_not_branding(tmp_path):
    folder = copy_clinic(EXAMPLE, tmp_path)

    def fingerprint(data: Path = DATA) -> str:
        content = load_content(data)
        return content_fingerprint(load_clinic(folder / "clinic.yaml", content), content)

    before = fingerprint()
    assert re.fullmatch(r"[0-9a-f]{12}", before)
    for old, new in (
        ('"#0F6E6E"', '"#7A1F3D"'),
        ("name: Example Aesthetics Clinic", "name: Another Clinic"),
        ("page_size: A4", "page_size: Letter"),
        ('"020 7946 0000"', '"020 7946 0001"'),
    ):
        edit_config(folder, old, new)
    # Rebranding needs no new approval.
    assert fingerprint() == before
    edit_config(folder, "treatments: [facial, hair, body]", "treatments: [facial, hair]")
    fewer = fingerprint()
    assert fewer != before
    # Another emergency number.
    edit_config(folder, "country: GB", "country: IE")
    assert fingerprint() != fewer
    # Another spelling.
    edit_config(folder, "country: IE", "country: US")
    assert fingerprint() not in (before, fewer)


def test_the_fingerprint_covers_the_clinics_own_font_files(tmp_path):
    """A clinic's own font draws every character a patient reads: another file under the same name needs a new
    approval (a font whose digits draw other digits would change a phone number). A packaged font's name does not."""
    lexend = pytest.importorskip("fontpkg_lexend", reason="pip install fontpkg-lexend (in the test extras)")
    folder = copy_clinic(EXAMPLE, tmp_path)

    def fingerprint() -> str:
        content = load_content(DATA)
        return content_fingerprint(load_clinic(folder / "clinic.yaml", content), content)

    before = fingerprint()
    files = sorted((Path(lexend.__file__).parent / "files").glob("*.ttf"))
    (folder / "fonts").mkdir()
    shutil.copy(files[0], folder / "fonts" / "OurFont-Regular.ttf")
    edit_config(folder, "font: Atkinson Hyperlegible", "font: Lexend")
    own = fingerprint()
    assert own != before
    # The same font, the same fingerprint, on every load.
    assert fingerprint() == own
    # Another file under the same name: the medical lead approves again.
    data = bytearray((folder / "fonts" / "OurFont-Regular.ttf").read_bytes())
    data[-1] ^= 1
    (folder / "fonts" / "OurFont-Regular.ttf").write_bytes(bytes(data))
    assert fingerprint() not in (before, own)


def test_the_fingerprint_covers_the_clinics_own_templates_and_disclaimer(tmp_path):
    folder = copy_clinic(EXAMPLE, tmp_path)

    def fingerprint() -> str:
        content = load_content(DATA)
        return content_fingerprint(load_clinic(folder / "clinic.yaml", content), content)

    before = fingerprint()
    # An override that leaves out the emergency section changes what patients are told: approve it again.
    (folder / "templates" / "partials").mkdir(parents=True)
    (folder / "templates" / "partials" / "get_help.html.j2").write_text("<p>Side effects are rare.</p>")
    with_template = fingerprint()
    assert with_template != before
    edit_config(folder, "disclaimer: >-\n", "disclaimer: >-\n  Ask us anything.\n")
    assert fingerprint() not in (before, with_template)


def test_the_fingerprint_is_the_same_in_every_process():
    code = (
        "from pathlib import Path; from brochures.load.approval import content_fingerprint; "
        "from brochures.load.clinic import load_clinic; from brochures.load.content import load_content; "
        "c = load_content(Path('data')); "
        "print(content_fingerprint(load_clinic(Path('data/clinics/example/clinic.yaml'), c), c))"
    )
    results = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, PYTHONHASHSEED=str(seed)),
        ).stdout.strip()
        for seed in (1, 2)
    }
    content = load_content(DATA)
    assert results == {content_fingerprint(load_clinic(EXAMPLE / "clinic.yaml", content), content)}


def test_approval_status_is_plain_data_the_scorecard_can_use():
    content = load_content(DATA)
    status = approval_status(load_clinic(EXAMPLE / "clinic.yaml", content))
    ensure_plain_data(status)
    assert status["state"] == UNAPPROVED and status["approved"] is False and status["approval"] is None
    assert "clinic.yaml" in status["warning"] and "python generate.py --clinic example --approval" in status["warning"]


def test_approval_request_says_what_to_paste():
    content = load_content(DATA)
    clinic = load_clinic(EXAMPLE / "clinic.yaml", content)
    text = approval_request(clinic, content)
    fingerprint = content_fingerprint(clinic, content)
    assert f"Content fingerprint for Example Aesthetics Clinic: {fingerprint}" in text
    assert "approval:\n  name: \"\"" in text and f"  fingerprint: {fingerprint}" in text
    assert "data/clinics/example/clinic.yaml" in text


def test_an_unfilled_approval_block_is_an_input_error(clinic_copy, tmp_path, capsys):
    content = load_content(DATA)
    text = approval_request(load_clinic(clinic_copy / "clinic.yaml", content), content)
    block = text[text.index("approval:\n") :].split("\n\n")[0]
    (clinic_copy / "clinic.yaml").write_text((clinic_copy / "clinic.yaml").read_text() + block + "\n")
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "approval.name" in err and "approval.date" in err


def test_a_mistyped_fingerprint_is_an_input_error(clinic_copy, tmp_path, capsys):
    config = clinic_copy / "clinic.yaml"
    config.write_text(
        config.read_text() + 'approval:\n  name: A\n  role: B\n  date: 2026-11-25\n  fingerprint: "12345"\n'
    )
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    assert "approval.fingerprint: expected the 12-character fingerprint" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["-rf", "Ex ample é", "it's"])
def test_the_command_a_hint_gives_runs_as_pasted_whatever_the_clinic_folder_is_called(tmp_path, capsys, name):
    """A clinic folder named as `cp -r` allows: the approval hint's command, pasted into a shell, names it."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("clinics"))
    shutil.copytree(EXAMPLE, data / "clinics" / name)
    assert main(["--data", str(data), f"--clinic={name}", "--check", "--treatment", "facial",
                 "--out", str(tmp_path / "out")]) == 0
    said = capsys.readouterr().out
    command = said[said.index("run python generate.py ") + len("run python "):said.index(" and paste the block")]
    argv = shlex.split(command)
    assert argv[0] == "generate.py" and "--approval" in argv
    assert main(argv[1:]) == 0
    assert "Content fingerprint for Example Aesthetics Clinic" in capsys.readouterr().out


def test_an_approval_or_review_dated_in_the_future_is_an_input_error(clinic_copy, tmp_path, capsys):
    """A brochure would print "Reviewed on 1 January 2099" as done: a date to come is refused, naming the field."""
    config = clinic_copy / "clinic.yaml"
    config.write_text(config.read_text() + "approval:\n  name: A\n  role: B\n  date: 2099-01-01\n  fingerprint: "
                      "abcdef123456\n")
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    assert "approval.date: expected the day it was done: today (" in capsys.readouterr().err
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    facial = data / "treatments" / "facial.yaml"
    facial.write_text(facial.read_text().replace("reviewed_on: 2026-11-24", "reviewed_on: 2062-11-24"))
    assert main(["--data", str(data), "--out", str(tmp_path / "out2")]) == 2
    assert "review.reviewed_on: expected the day it was done" in capsys.readouterr().err


def test_a_picture_of_the_clinics_own_is_part_of_what_its_medical_lead_approves(clinic_copy):
    """A clinic's own template may show a picture from its folder: changed after approval, the content is a draft
    again. Its logo (branding) is not part of it."""
    from brochures.load.approval import content_fingerprint

    content = load_content(DATA)

    def fingerprint() -> str:
        return content_fingerprint(load_clinic(clinic_copy / "clinic.yaml", content), content)

    bare = fingerprint()
    (clinic_copy / "pictures").mkdir()
    (clinic_copy / "pictures" / "results.png").write_bytes(b"\x89PNG one")
    shown = fingerprint()
    assert shown != bare
    (clinic_copy / "pictures" / "results.png").write_bytes(b"\x89PNG another")
    another = fingerprint()
    assert another not in (bare, shown)
    logo = clinic_copy / "logo.svg"
    logo.write_text(logo.read_text().replace("</svg>", "<!-- rebranded --></svg>"))
    assert fingerprint() == another



def test_files_no_page_shows_take_none_of_the_pictures_an_approval_covers_and_too_many_are_never_approved(
    clinic_copy, monkeypatch
):
    """Notes and backups in the clinic's folder do not push a stylesheet out of the fingerprint; a folder with more
    pictures and stylesheets than the fingerprint reads is a draft however it is approved, and --approval says so."""
    from brochures.load import approval as approvals

    monkeypatch.setattr(approvals, "MAX_OWN_FILES", 3)
    content = load_content(DATA)

    def clinic():
        return load_clinic(clinic_copy / "clinic.yaml", content)

    (clinic_copy / "aa").mkdir()
    for number in range(5):
        (clinic_copy / "aa" / f"note{number}.txt").write_text("a note")
    style = clinic_copy / "zz.css"
    style.write_text("p { color: black }")
    before = approvals.content_fingerprint(clinic(), content)
    style.write_text("p { color: black } h3::before { content: 'Do not ' }")
    assert approvals.content_fingerprint(clinic(), content) != before
    # Approved as it is, with three pictures: approved.
    for number in range(2):
        (clinic_copy / f"picture{number}.png").write_bytes(b"\x89PNG %d" % number)
    config = clinic_copy / "clinic.yaml"
    text = config.read_text()
    config.write_text(text + "approval:\n  name: Dr A\n  role: Medical lead\n  date: 2026-11-25\n  fingerprint: "
                      f"{approvals.content_fingerprint(clinic(), content)}\n")
    assert approvals.approval_state(clinic(), content)["state"] == approvals.APPROVED
    # A fourth: the fourth is past what the fingerprint reads, so no approval covers it.
    (clinic_copy / "picture2.png").write_bytes(b"\x89PNG 2")
    config.write_text(text + "approval:\n  name: Dr A\n  role: Medical lead\n  date: 2026-11-25\n  fingerprint: "
                      f"{approvals.content_fingerprint(clinic(), content)}\n")
    state = approvals.approval_state(clinic(), content)
    assert state["state"] == approvals.OUTDATED and not state["approved"]
    assert "expected at most 3 pictures and stylesheets in the clinic's folder" in state["warning"].message
    assert "got 4: no approval can cover them all" in state["warning"].message
    assert "It cannot be approved as it is: expected at most 3" in approvals.approval_request(clinic(), content)
