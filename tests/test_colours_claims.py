"""Brand colours that never fail a clinic, claims a negation cannot hide, and one channel for warnings."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pypdfium2 as pdfium
import pytest
import yaml
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import HTML

from brochures.brand.colours import (
    ALERT,
    ALERT_BACKGROUND,
    INK,
    WARNING_DISTANCE,
    WHITE,
    contrast,
    oklab,
    palette,
    warning_distance,
)
from brochures.brand.css import brand_css
from brochures.brand.fonts import find_font
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pdf.facts import Inspection
from brochures.pdf.inspection import inspect_pdf
from brochures.pdf.printer import Printer
from brochures.plan.documents import plan_documents
from brochures.quality.claims import ClaimChecker
from brochures.quality.findings import print_warnings, printing_problems
from brochures.quality.scorecard import Scorecard
from brochures.render.html import HtmlRenderer
from brochures.schema.reference import ClaimRules
from conftest import DATA, EXAMPLE, ROSEWOOD, edit_config, png
from generate import main

# Brand colours that each made every document fail: the text shade was derived against white and the accent only.
PROBLEM_COLOURS = ["#FFD700", "#E2A8B4", "#FCB63C", "#F5F5F5", "#F4A7B9"]


def report(out, clinic):
    """A clinic's report.json; after a --check, which writes check-report.json beside it, that one."""
    folder = out / clinic
    return json.loads((folder / ("check-report.json" if (folder / "check-report.json").exists() else "report.json"))
                      .read_text())


def sweep(count: int = 240) -> list[tuple[str, str | None]]:
    """Brand colours from every corner of the RGB cube, with and without an accent colour."""
    rng = random.Random(9)
    colours = [f"#{r:02X}{g:02X}{b:02X}" for r in (0, 0x80, 0xFF) for g in (0, 0x80, 0xFF) for b in (0, 0x80, 0xFF)]
    colours += PROBLEM_COLOURS + ["#C8102E", "#B00020", ALERT, "#FF69B4", "#FFC0CB", "#FFFF00", "#00FFFF"]
    while len(colours) < count:
        colours.append(f"#{rng.randrange(0x1000000):06X}")
    accents = [None, None, "#FFFFFF", "#E8F4F4", "#333333", "#FFF3B0", "#FDF1F1"]
    return [(colour, accents[index % len(accents)]) for index, colour in enumerate(colours)]


# --- 1. Brand colours ---

@pytest.mark.parametrize("primary,accent", sweep())
def test_every_brand_colour_gives_readable_text_on_every_background(primary, accent):
    colours = palette(primary, accent)
    # Brand-coloured text (headings, markers, the booking address) on each background it sits on.
    assert set(colours.text_backgrounds) == {WHITE, colours.accent, ALERT_BACKGROUND}
    for background in colours.text_backgrounds:
        assert contrast(colours.text, background) >= 4.5, (colours.text, background)
    # Table headings, the tri-fold's cover.
    assert contrast(colours.on_primary, colours.primary) >= 4.5
    # Body text in callouts.
    assert contrast(INK, colours.accent) >= 4.5
    # The warning itself.
    assert contrast(ALERT, ALERT_BACKGROUND) >= 4.5
    # Brand headings never read as a safety warning.
    assert warning_distance(colours.text) >= WARNING_DISTANCE


def test_a_pale_pink_keeps_its_look_instead_of_turning_warning_red():
    for pink in ("#F4A7B9", "#E2A8B4", "#FFC0CB"):
        text = palette(pink, None).text
        assert warning_distance(text) >= WARNING_DISTANCE, text
        # Still a pink: its hue is that of the brand, within a few degrees, and it is not a saturated red.
        assert _hue_degrees(text) == pytest.approx(_hue_degrees(pink), abs=12)
    # The rule itself: the old HLS shade of #F4A7B9 (#DC1C49) is too near the warning red; a dusty rose is not.
    assert warning_distance("#DC1C49") < WARNING_DISTANCE <= warning_distance("#9F5A6C")
    # A clinic's own readable colour stays as it is unless it is near the warning red.
    assert palette("#0F6E6E", "#E8F4F4").text == "#0F6E6E"
    assert palette("#7A1F3D", "#FBEFD9").text == "#7A1F3D"
    red = palette("#B00020", None)
    assert red.text != "#B00020"
    assert any("too close to the red of the safety warnings" in m for _, m, _ in red.adjustments)


def _hue_degrees(colour: str) -> float:
    _, a, b = oklab(colour)
    return math.degrees(math.atan2(b, a)) % 360


def test_the_palette_is_computed_once_per_clinic_colours():
    assert palette("#F4A7B9", None) is palette("#F4A7B9", None)


# The five colours that failed, and others from the sweep: the default accent (a tint) for every other one.
REAL_BUILDS = [(colour, index % 2 == 1) for index, colour in
               enumerate(PROBLEM_COLOURS + ["#C8102E", "#00FF00", "#FFFFFF", "#7FFFD4", "#1E90FF"])]


@pytest.mark.parametrize("colour,default_accent", REAL_BUILDS)
def test_brand_colours_build_and_measure_aa_on_the_pdf(clinic_copy, tmp_path, colour, default_accent):
    """Real PDFs (leaflet and tri-fold), measured glyph by glyph against the pixels behind each one."""
    edit_config(clinic_copy, 'primary: "#0F6E6E"', f'primary: "{colour}"')
    if default_accent:
        edit_config(clinic_copy, '  accent: "#E8F4F4"\n', "")
    # The booklet (cover, contents, comparison tables) too, for the first two.
    booklet = ["--treatment", "booklet"] if colour in PROBLEM_COLOURS[:2] else []
    assert (
        main(
            [
                "--clinic", str(clinic_copy), "--layout", "all", "--treatment", "facial", *booklet, "--check", "--out",
                str(tmp_path)
            ]
        )
        == 0
    )
    for card in report(tmp_path, "mine")["documents"]:
        assert card["error"] is None, (card["document"], card["error"])
        assert card["text_contrast_failures"] == 0 and card["lowest_text_contrast"] >= 4.5, card["document"]


# The parts of a real leaflet where brand colours meet text: the title block (accent behind ink), a table (headings on
# the primary colour), the course (brand-coloured terms), who should not have it, when to get help (the brand's text
# beside the warning red) and the booking box.
BRAND_PARTS = ("title-block", "ingredients", "course", "suitability", "get-help", "contact")


def test_every_colour_of_the_sweep_measures_aa_on_the_printed_page():
    """All 240 colours of the sweep, printed by WeasyPrint in the real stylesheets and the real leaflet's markup (its
    coloured parts, one copy per colour, under that colour's generated variables) and measured on the PDF glyph by
    glyph against the pixels behind each, as the gate measures every document."""
    content = load_content(DATA)
    clinic = load_clinic(EXAMPLE / "clinic.yaml", content)
    document = plan_documents([clinic], content, Path("/nonexistent"), only={"facial"})[0]
    html = HtmlRenderer(content).render(document)
    parts = [re.search(rf'<section class="{name}".*?</section>', html, re.DOTALL).group(0) for name in BRAND_PARTS]
    samples = []
    for primary, accent in sweep():
        colours = palette(primary, accent)
        variables = (
            f"--brand-primary: {colours.primary}; --brand-on-primary: {colours.on_primary}; "
            f"--brand-accent: {colours.accent}; --brand-text: {colours.text}"
        )
        samples.append(f'<div style="{variables}">{"".join(parts)}</div>')
    body = re.search(r"<body[^>]*>", html)
    sheet = html[: body.end()] + "".join(samples) + "</body></html>"
    printer = Printer()
    pdf = HTML(string=sheet, base_url=EXAMPLE.as_uri() + "/").write_pdf(
        stylesheets=[css for css, _ in printer.stylesheets(document)], font_config=printer.font_config
    )
    found = inspect_pdf(pdf, False)
    # Every sample was printed.
    assert len(PdfReader(BytesIO(pdf)).pages) > len(sweep()) / 2
    assert found.text_contrast_failures == 0 and found.lowest_text_contrast >= 4.5, found.lowest_text_contrast


def test_the_warning_colours_come_from_one_place():
    """The shades are derived against the warning colours, so the stylesheets get them from branding.py."""
    css = brand_css(
        palette("#F4A7B9", None), (find_font("Atkinson Hyperlegible", EXAMPLE),), "A4", "Page {page} of {pages}"
    )
    assert f"--alert: {ALERT};" in css and f"--alert-background: {ALERT_BACKGROUND};" in css
    sheets = "".join(path.read_text() for path in (DATA.parent / "styles").glob("*.css") if path.name != "report.css")
    assert ALERT not in sheets.upper() and ALERT_BACKGROUND not in sheets.upper()


# --- 2. Claims a negation cannot hide ---

UK = ClaimRules.model_validate(yaml.safe_load((DATA / "claims" / "uk.yaml").read_text()))
US = ClaimRules.model_validate(yaml.safe_load((DATA / "claims" / "us.yaml").read_text()))

# (text, the claims it makes, as written). An empty list: honest.
PHRASES = [
    # The negation hides nothing beyond its own clause.
    (
        "No needles, no downtime, guaranteed permanent results. Never painful, risk-free.",
        ["no downtime", "guaranteed", "permanent", "Never painful", "risk-free"],
    ),
    ("No pain and permanent results.", ["No pain", "permanent"]),
    ("No downtime means permanent results.", ["No downtime", "permanent"]),
    ("Not only painless but permanent.", ["painless", "permanent"]),
    ("No surgery; results are guaranteed.", ["guaranteed"]),
    ("Nothing to worry about, it is risk-free.", ["risk-free"]),
    ("It is not surgery, so it is painless.", ["painless"]),
    ("We never rush you, and results are permanent.", ["permanent"]),
    ("No needles needed with our risk-free device.", ["risk-free"]),
    ("Don't wait: limited time offer.", ["limited time"]),
    # Claims that carry their own "no" or "never".
    ("There are no side effects.", ["no side effects"]),
    ("Zero downtime and no recovery time.", ["Zero downtime", "no recovery time"]),
    ("It doesn't hurt.", ["doesn't hurt"]),
    # Quoted as written.
    ("It doesn\u2019t hurt at all.", ["doesn\u2019t hurt"]),
    ("Mesotherapy never hurts.", ["never hurts"]),
    ("A harmless treatment without side effects.", ["harmless", "without side effects"]),
    # Split by characters that print as nothing (a soft hyphen, a zero-width space): read as printed, quoted as written.
    ("Results guar\u00adanteed and pain\u00adless.", ["guar\u00adanteed", "pain\u00adless"]),
    ("Be\u00adst Med Spa", ["Be\u00adst Med"]),
    ("It is risk\u200b-free.", ["risk\u200b-free"]),
    # Superlatives, in a name too.
    ("Best Med Spa", ["Best Med"]),
    ("The best clinic in town.", ["The best"]),
    ("London's top-rated skin clinic.", ["top-rated"]),
    ("Clinically proven, world-class care.", ["Clinically proven", "world-class"]),
    # Honest: the negation denies the claim in its own clause.
    ("Results are not permanent.", []),
    ("No treatment is risk-free.", []),
    ("We cannot guarantee results.", []),
    ("It is not painless for everyone.", []),
    ("Results are not guaranteed or permanent.", []),
    ("There is no guarantee that it will work for you.", []),
    ("Mesotherapy is never risk-free.", []),
    ("It is neither painless nor risk-free.", []),
    ("Results vary, and they are not permanent.", []),
    ("We do not offer a risk-free treatment.", []),
    ("It works best as a course, with regular sessions.", []),
    ("It works best when you follow the aftercare.", []),
    ("Redness, swelling or pain gets worse after 2 days.", []),
    ("Some people choose a top-up session every few months.", []),
    ("Tiny injections with fine needles, just under the skin.", []),
]


@pytest.mark.parametrize("text,claims", PHRASES, ids=[text[:40] for text, _ in PHRASES])
def test_claims_and_honest_negations(text, claims):
    for rules in (UK, US):
        assert [phrase for phrase, _, _ in ClaimChecker(rules).find(text)] == claims


def test_the_table_covers_honest_and_dishonest_text():
    assert len(PHRASES) >= 30
    assert sum(not claims for _, claims in PHRASES) >= 10 and sum(bool(claims) for _, claims in PHRASES) >= 10


def test_every_claim_rule_gives_its_reason():
    for rules in (UK, US):
        checker = ClaimChecker(rules)
        for phrase in ("never painful", "no downtime", "no pain", "pain-free", "Best Med Spa"):
            [(_, rule, reason)] = checker.find(phrase)
            assert rule in {"trivialising-risk", "superlative"} and len(reason) > 40


def test_a_superlative_clinic_name_is_a_claim(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: Best Med Spa")
    assert (
        main(["--clinic", str(clinic_copy), "--check", "--strict", "--treatment", "facial", "--out", str(tmp_path)])
        == 1
    )
    [card] = report(tmp_path, "mine")["documents"]
    assert any('name: "Best Med": An unprovable superlative' in claim for claim in card["claims"])
    assert any(warning.startswith("claim ") and '"Best Med"' in warning for warning in card["warnings"])


# --- 3. One channel for warnings ---


def expect_print_warnings(records):
    for record in records:
        # These warnings are what the test is about.
        record.expected_by_test = True


def test_a_low_resolution_logo_reaches_the_report_strict_and_an_unchanged_rebuild(
    tmp_path, capsys, assert_no_weasyprint_logs
):
    """A press file with a 480×128 px PNG logo: the warning is in report.json, fails --strict, and comes back
    unchanged."""
    clinic = tmp_path / "clinics" / "rosewood"
    shutil.copytree(ROSEWOOD, clinic)
    (clinic / "logo.png").write_bytes(png(480, 128, rows=128))
    args = ["--clinic", str(clinic), "--variant", "press", "--treatment", "facial", "--out", str(tmp_path / "out")]
    for run, action in enumerate(("wrote", "unchanged")):
        assert main([*args, "--strict"]) == 1, run
        expect_print_warnings(assert_no_weasyprint_logs)
        out, err = capsys.readouterr()
        assert f"{action}  " in out and "--strict: " in err
        [card] = report(tmp_path / "out", "rosewood")["documents"]
        assert card["document"] == "facial.press.pdf"
        [warning] = card["print_warnings"]
        assert re.fullmatch(r"an image \(480×128 px\) prints at \d+ dpi, below the 300 dpi print shops need.*", warning)
        assert f"facial.press.pdf: {warning}" in card["warnings"]
        html = (tmp_path / "out" / "rosewood" / "report.html").read_text()
        assert "an image (480×128 px) prints at" in html
        # In the scorecard on screen, not only beside the file.
        assert f"warning: facial.press.pdf: {warning}" in out
    # Without --strict, a warning does not fail the build.
    assert main(args) == 0
    expect_print_warnings(assert_no_weasyprint_logs)


def test_a_weasyprint_warning_reaches_the_report_and_strict(clinic_copy, tmp_path, capsys, assert_no_weasyprint_logs):
    folder = clinic_copy / "templates" / "partials"
    folder.mkdir(parents=True)
    (folder / "takeaway.html.j2").write_text('<p style="colr: red">{{ treatment.takeaway }}</p>')
    args = ["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]
    assert main([*args, "--strict"]) == 1
    # Unchanged: the same warning, from the build cache.
    assert main([*args, "--strict"]) == 1
    expect_print_warnings(assert_no_weasyprint_logs)
    assert "unchanged" in capsys.readouterr().out
    [card] = report(tmp_path, "mine")["documents"]
    assert any("colr" in warning for warning in card["print_warnings"])
    assert any(warning.startswith("facial.pdf: ") and "colr" in warning for warning in card["warnings"])


def test_inspection_warnings_and_print_warnings_are_one_list():
    printed = SimpleNamespace(
        warnings=["an image prints at 120 dpi"],
        inspection=Inspection(warnings=["6 pages, 2 over the budget of 4", "an image prints at 120 dpi"]),
    )
    assert print_warnings(printed) == ["an image prints at 120 dpi", "6 pages, 2 over the budget of 4"]
    card = Scorecard(document="facial.pdf", problems=printing_problems("facial.pdf", printed))
    assert card.warnings() == ["facial.pdf: an image prints at 120 dpi", "facial.pdf: 6 pages, 2 over the budget of 4"]
    assert card.as_dict()["warnings"] == card.warnings()


# --- 4. Fonts the README promises ---


def embedded_fonts(path) -> dict[str, TTFont]:
    """Every font program embedded in a PDF, by its PDF name."""
    fonts = {}
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            program = descriptor["/FontFile2"].get_object().get_data()
            fonts[str(font["/BaseFont"])] = TTFont(BytesIO(program))
    return fonts


def test_a_variable_font_package_gives_regular_and_bold():
    pytest.importorskip("fontpkg_lexend", reason="pip install fontpkg-lexend (in the test extras)")
    for name in ("Lexend", "lexend", "LEXEND"):
        family = find_font(name, EXAMPLE)
        assert family is not None and family.name == "Lexend"
        assert [(face.weight, face.style) for face in family.faces] == [(400, "normal"), (700, "normal")]
        # One variable file.
        assert len(family.files) == 1 and "[wght]" in next(iter(family.files)).name


@pytest.mark.parametrize("font,family", [("lexend", "Lexend"), ("atkinson hyperlegible", "Atkinson Hyperlegible")])
def test_a_brochure_in_a_font_named_in_any_case(clinic_copy, tmp_path, font, family):
    if family == "Lexend":
        pytest.importorskip("fontpkg_lexend", reason="pip install fontpkg-lexend (in the test extras)")
    edit_config(clinic_copy, "font: Atkinson Hyperlegible", f"font: {font}")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0
    pdf = tmp_path / "mine" / "facial.pdf"
    fonts = embedded_fonts(pdf)
    # Every font in the PDF is the clinic's, embedded, with real regular and bold instances (not a fallback).
    assert {font["name"].getBestFamilyName() for font in fonts.values()} == {family}
    assert {font["OS/2"].usWeightClass for font in fonts.values()} >= {400, 700}
    # WeasyPrint made static instances.
    assert not any("fvar" in font for font in fonts.values())
    # The glyphs are drawn: pdfium reads the text back, and every character has outlines in its font.
    document = pdfium.PdfDocument(pdf.read_bytes())
    text = " ".join(page.get_textpage().get_text_bounded() for page in document)
    assert "Facial mesotherapy" in text and "Example Aesthetics Clinic" in text
    for font in fonts.values():
        glyphs = font["glyf"]
        drawn = [name for name in font.getGlyphOrder() if name != ".notdef" and glyphs[name].numberOfContours]
        assert len(drawn) >= 10
    image = document[0].render(scale=1).to_pil().convert("L")
    # Dark ink on the first page.
    assert image.getextrema()[0] < 80
    card = report(tmp_path, "mine")["documents"][0]
    assert card["text_contrast_failures"] == 0 and card["body_text_pt"] >= 12


def test_a_clinics_own_variable_font_file_gives_regular_and_bold(clinic_copy):
    lexend = pytest.importorskip("fontpkg_lexend", reason="pip install fontpkg-lexend (in the test extras)")
    (clinic_copy / "fonts").mkdir()
    variable = next((Path(lexend.__file__).parent / "files").glob("*.ttf"))
    shutil.copy(variable, clinic_copy / "fonts" / "OurFont-VF.ttf")
    family = find_font("LEXEND", clinic_copy)
    assert [(face.weight, face.path.parent) for face in family.faces] == [
        (400, (clinic_copy / "fonts").resolve()),
        (700, (clinic_copy / "fonts").resolve()),
    ]


def test_a_leaflet_over_its_page_budget_reaches_the_report_and_strict(clinic_copy, tmp_path, capsys):
    """The inspection's warnings (page budget, near-empty pages) go the same way as printing's."""
    folder = clinic_copy / "templates" / "partials"
    folder.mkdir(parents=True)
    paragraph = "<p>{{ treatment.takeaway }}</p>\n"
    (folder / "takeaway.html.j2").write_text('<section class="takeaway">' + paragraph * 40 + "</section>")
    args = ["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]
    # The second time unchanged: the warning comes back from the build cache.
    for run in range(2):
        assert main([*args, "--strict"]) == 1, run
        [card] = report(tmp_path, "mine")["documents"]
        assert card["error"] is None and card["pages"] > 4
        [budget] = [w for w in card["print_warnings"] if "page budget" in w]
        assert f"facial.pdf: {budget}" in card["warnings"]
        assert budget in (tmp_path / "mine" / "report.html").read_text()
    assert "unchanged" in capsys.readouterr().out


def test_a_claim_in_the_strings_variant_is_found_where_it_was_written(tmp_path, capsys):
    """en-US.yaml is laid over en.yaml: its own words reach patients, so they are checked too."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    overlay = data / "strings" / "en-US.yaml"
    overlay.write_text(
        overlay.read_text() + '\nbooking_prompt: "Guaranteed results: scan the code with your phone camera."\n'
    )
    clinic = data / "clinics" / "example"
    edit_config(clinic, "language: en", "language: en-US")
    assert (
        main(["--data", str(data), "--check", "--strict", "--treatment", "facial", "--out", str(tmp_path / "out")]) == 1
    )
    line = (
        overlay.read_text()
        .splitlines()
        .index('booking_prompt: "Guaranteed results: scan the code with your phone camera."')
        + 1
    )
    assert f'en-US.yaml:{line} booking_prompt: "Guaranteed": Promises a result.' in capsys.readouterr().out
