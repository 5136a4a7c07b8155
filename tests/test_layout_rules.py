"""The rules a designer lays pages out by (brochures/pdf/layout_rules.py), checked on the pages WeasyPrint laid out:
each rule on a small page made to break it, then on the shipped content as clinics print it — A4, Letter and A5, in
English, Spanish and Arabic, with 2, 3 and 6 treatments — and the draft mark, which must move nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from test_clinic_content import approve
from weasyprint import HTML

from brochures.pdf.layout_rules import Rules, layout_warnings
from conftest import DATA, EXAMPLE, struct_nodes, walk_structure
from generate import main

LANGUAGES = (
    "languages: [en, es, ar]\n"
    "in_language:\n"
    '  es: {disclaimer: "Este folleto da información general. No sustituye el consejo de su profesional."}\n'
    '  ar: {disclaimer: "تقدم هذه النشرة معلومات عامة. وهي لا تغني عن نصيحة الممارس الذي يعالجك."}\n'
)


def warnings_of(body: str, css: str = "", rules: Rules | None = None) -> list[str]:
    """The layout warnings of a small A5 page."""
    page = "@page { size: A5; margin: 15mm; }"
    return layout_warnings(HTML(string=f"<style>{page}{css}</style>{body}").render(), rules or Rules())


def spacer(mm: float) -> str:
    return f'<div style="height: {mm}mm"></div>'


def test_a_heading_left_at_the_foot_of_a_page_is_named():
    # The page holds 180 mm: the heading fits at its foot, what it heads does not.
    body = spacer(160) + "<h2 style='margin:0'>Side effects</h2>" + spacer(30)
    loose = "h2 { break-after: auto; } div { break-inside: avoid; }"
    assert warnings_of(body, loose) == ['page 1 ends with the heading "Side effects": what it heads starts on page 2']
    # Kept with what it heads, as every stylesheet here does: no warning.
    assert warnings_of(body, "h2 { break-after: avoid; } div { break-inside: avoid; }") == []


def test_a_list_keeps_two_items_each_side_of_a_page_break():
    items = "\n".join(f"<li style='height: 20mm'>Item {n}</li>" for n in range(1, 5))
    # Three items fit on the first page, one is carried over alone.
    body = spacer(115) + f"<ul style='margin:0'>{items}</ul>"
    assert warnings_of(body) == [
        'page 1: the list "Item 1 Item 2 Item 3 Item 4" breaks with 3 items before the page turn and 1 after it '
        "(at least 2 each side)"
    ]
    assert warnings_of(body, "li:nth-child(2), li:last-child { break-before: avoid; }") == []


def test_the_emergency_box_is_whole_and_on_the_page_of_its_heading():
    def box(height: float, css: str = "") -> str:
        lines = "".join(f"<p style='margin: 0; height: 10mm'>Line {n}</p>" for n in range(int(height // 10)))
        return f"<div class='emergency' style='{css}'><h3>Call 999 straight away if</h3>{lines}</div>"

    heading = "<h2 style='margin: 0'>When to get help</h2>"
    assert warnings_of(spacer(120) + heading + box(80)) == [
        'page 1: the "Call 999 straight away if" box is split across pages 1–2'
    ]
    assert warnings_of(heading + spacer(150) + box(20, "break-inside: avoid")) == [
        'page 2: the "Call 999 straight away if" box is not on the page of its heading "When to get help" (page 1)'
    ]
    assert warnings_of(spacer(120) + heading + box(20)) == []


def test_a_footer_that_wraps_is_named_once_with_its_pages():
    footer = "@page { @bottom-left { content: '%s'; width: 30mm; } }"
    body = spacer(170) + spacer(170)
    (said,) = warnings_of(body, footer % ("Example Aesthetics Clinic, London"))
    assert re.fullmatch(r"pages 1, 2: the footer \(left\) wraps onto [2-9] lines", said)
    assert warnings_of(body, footer % "Example") == []


def test_a_figure_with_a_second_caption_under_its_picture_is_named():
    picture = '<img style="width: 40mm; height: 20mm; display: block" src="data:image/svg+xml,<svg xmlns=\'http://www.w3.org/2000/svg\'/>">'
    twice = f"<figure>{picture}<p>Where the ingredients go</p><figcaption>Where the injections go</figcaption></figure>"
    assert warnings_of(twice) == [
        'page 1: a figure has 2 captions under its picture ("Where the ingredients go", "Where the injections go")'
    ]
    assert warnings_of(f"<figure>{picture}<figcaption>Where the ingredients go</figcaption></figure>") == []


def test_a_comparison_page_part_empty_before_the_last_is_named():
    body = "<p style='margin: 0; line-height: 80mm'>Some</p><p style='break-before: page'>More</p>" + spacer(100)
    (said,) = warnings_of(body, rules=Rules(fill_but_last=0.6))
    assert re.fullmatch(r"page 1 is only 4\d% full, and a later page follows: its content should run on", said)
    # The last page may be as empty as it likes; and a leaflet is not held to it.
    full = "<p style='margin: 0; line-height: 170mm'>Some</p><p>End</p>"
    assert warnings_of(full, rules=Rules(fill_but_last=0.6)) == []
    assert warnings_of(body) == []


def lab_data(root: Path) -> Path:
    """The shipped data with three clinics offering English, Spanish and Arabic: the example on A4 (3 treatments), a
    2-treatment clinic on Letter, and a 6-treatment clinic on A5 (three more treatments, copies of the others under
    other titles)."""
    data = root / "data"
    shutil.copytree(DATA, data)
    for source, slug, title in (
        ("facial", "neck", "Neck mesotherapy"),
        ("hair", "scalp", "Scalp mesotherapy"),
        ("body", "thigh", "Thigh mesotherapy"),
    ):
        text = (data / "treatments" / f"{source}.yaml").read_text()
        old = re.search(r"^title: (.*)$", text, re.M).group(1)
        (data / "treatments" / f"{slug}.yaml").write_text(text.replace(f"title: {old}", f"title: {title}", 1))
        for language in ("es", "ar"):
            folder = data / "translations" / language / "treatments"
            shutil.copy(folder / f"{source}.yaml", folder / f"{slug}.yaml")
    clinics = data / "clinics"
    config = (clinics / "example" / "clinic.yaml").read_text()
    config = config.replace("# languages: [en, es, ar]", "#", 1) + LANGUAGES
    (clinics / "example" / "clinic.yaml").write_text(config)
    for name, size, treatments in (
        ("two", "Letter", "[hair, facial]"),
        ("six", "A5", "[facial, hair, body, neck, scalp, thigh]"),
    ):
        shutil.copytree(clinics / "example", clinics / name)
        text = config.replace("page_size: A4", f"page_size: {size}", 1)
        text = text.replace("treatments: [facial, hair, body]", f"treatments: {treatments}", 1)
        assert f"page_size: {size}" in text and f"treatments: {treatments}" in text
        (clinics / name / "clinic.yaml").write_text(text)
    return data


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Path:
    """Every leaflet and comparison sheet of the three clinics, in the three languages, built with the real command."""
    root = tmp_path_factory.mktemp("layout")
    data = lab_data(root)
    out = root / "out"
    documents = ["facial", "hair", "body", "neck", "scalp", "thigh", "comparison"]
    for clinic in ("example", "two", "six"):
        treatments = [arg for slug in documents if (clinic == "six" or slug in ("facial", "hair", "body", "comparison"))
                      for arg in ("--treatment", slug)]
        if clinic == "two":
            treatments = ["--treatment", "facial", "--treatment", "hair", "--treatment", "comparison"]
        assert main(["--data", str(data), "--clinic", clinic, "--out", str(out), "--quiet", *treatments]) == 0
    return out


BUDGET = {"A4": 4, "Letter": 4, "A5": 8}


@pytest.mark.parametrize("clinic, size", [("example", "A4"), ("two", "Letter"), ("six", "A5")])
def test_the_shipped_content_keeps_every_layout_rule_in_every_language(lab, clinic, size):
    report = json.loads((lab / clinic / "report.json").read_text())
    documents = {document["document"]: document for document in report["documents"]}
    languages = {name.split("/")[0] if "/" in name else "en" for name in documents}
    assert languages == {"en", "es", "ar"}
    for name, document in documents.items():
        said = [problem["message"] for problem in document["problems"] if problem["reason"] == "printing"]
        assert said == [], (name, said)
        pdf = lab / clinic / name
        pages = len(PdfReader(pdf).pages)
        assert pages <= BUDGET[size], (name, pages)


def test_six_treatments_on_a5_compare_at_most_two_side_by_side(lab):
    """Built, so the gate passed (no text over text); the shipped-content test above reads its page checks."""
    for language in ("", "es/", "ar/"):
        tables = [node for node in struct_nodes(lab / "six" / f"{language}comparison.pdf") if node["/S"] == "/Table"]
        # Three tables of two (each part of a table on a page of its own is tagged as a table).
        assert len(tables) >= 3
        for table in tables:
            heads = [n for n in walk_structure(table) if n["/S"] == "/TH" and n["/A"]["/Scope"] == "/Column"]
            # The row labels, then two treatments.
            assert len(heads) == 3


def test_a_six_treatment_comparison_on_a5_leaves_out_the_rows_each_leaflet_gives_and_says_so(lab):
    def text(pdf: Path) -> str:
        return " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())

    for language in ("", "es/", "ar/"):
        assert len(PdfReader(lab / "six" / f"{language}comparison.pdf").pages) <= 8
    six = text(lab / "six" / "comparison.pdf")
    assert "Each type has its own leaflet" in six and "Thigh mesotherapy" in six
    assert "Common ingredients" not in six and "Main goal" in six
    # Three treatments on A4 keep every row, and no such line.
    three = text(lab / "example" / "comparison.pdf")
    assert "Common ingredients" in three and "Each type has its own leaflet" not in three


def lines(pdf: Path) -> list[list[tuple[float, float, str]]]:
    """Each page's pieces of text with where they stand: (top, left, text), in points."""
    document = pdfium.PdfDocument(str(pdf))
    try:
        pages = []
        for page in document:
            text = page.get_textpage()
            found = []
            for index in range(text.count_rects()):
                left, bottom, right, top = text.get_rect(index)
                found.append((round(top, 1), round(left, 1), text.get_text_bounded(left, bottom, right, top).strip()))
            pages.append(sorted(found))
        return pages
    finally:
        document.close()


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_the_draft_mark_moves_nothing(tmp_path, size):
    """A draft and the approved document break at the same lines, each line in the same place: the medical lead
    approves the very pages patients get. Only the mark itself and the approval line (on the last page) differ."""
    clinic = tmp_path / "clinics" / "mine"
    shutil.copytree(EXAMPLE, clinic)
    config = clinic / "clinic.yaml"
    config.write_text(config.read_text().replace("page_size: A4", f"page_size: {size}", 1))
    only = ["--treatment", "facial", "--treatment", "comparison"]
    assert main(["--clinic", str(clinic), "--out", str(tmp_path / "draft"), "--quiet", *only]) == 0
    approve(clinic)
    assert main(["--clinic", str(clinic), "--out", str(tmp_path / "approved"), "--quiet", *only]) == 0
    for name in ("facial.pdf", "comparison.pdf"):
        draft, approved = lines(tmp_path / "draft" / "mine" / name), lines(tmp_path / "approved" / "mine" / name)
        assert any("Draft" in piece for page in draft for *_, piece in page)
        assert len(draft) == len(approved), name
        for number, (before, after) in enumerate(zip(draft, approved), start=1):
            before = [line for line in before if "Draft" not in line[2] and "medical lead" not in line[2]]
            if signed := [top for top, _, piece in after if "Reviewed for" in piece]:
                # The last page: the same, down to the approval line.
                assert number == len(approved)
                before = [line for line in before if line[0] > signed[0] + 0.5]
                after = [line for line in after if line[0] > signed[0] + 0.5]
            assert before == after, (name, number)
