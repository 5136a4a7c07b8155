"""The gate judges the rendered page: nothing off the page or over other text, the QR code scans, every glyph
comes from the clinic's font, pages are used well, tri-fold overflow is named, table headers carry their scope."""

from __future__ import annotations

import base64
import io
import re
import shutil
import threading
from pathlib import Path

import pikepdf
import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from brochures.brand.fonts import find_font, font_face_css
from brochures.pdf.facts import Expected
from brochures.pdf.finishing import table_header_scopes
from brochures.pdf.inspection import inspect_pdf
from conftest import (
    DATA,
    EXAMPLE,
    ROOT,
    edit_config,
    pdf_text,
    pdf_words,
    struct_nodes,
    walk_structure,
)
from generate import main

FONT = find_font("Atkinson Hyperlegible", ROOT)
URL = "https://example-clinic.test/book"
# 40 characters.
LONG_WORD = "Dermatologicalhyperlegibilityaestheticsx"
LONG_NAME = f"The {LONG_WORD} Clinic"
# 150 characters.
# As long as an address may be: 64 characters before the @ (RFC 5321), labels of up to 63 after it.
LONG_EMAIL = "appointments." + "a" * 51 + "@" + "b" * 63 + "." + "c" * 16 + ".test"
# 250 characters.
LONG_URL = "https://example-clinic.test/book/" + "x" * 200 + "?ref=" + "c" * 12


def expected(**changes) -> Expected:
    return Expected(
        font=FONT.css_name, font_family=FONT.name, font_files=tuple(str(f.path) for f in FONT.faces), **changes
    )


def pdf_of(body: str, css: str = "", finisher=None) -> bytes:
    """A small real PDF, printed by WeasyPrint in the clinic's font: the checks are tested on what they will read."""
    fonts = FontConfiguration()
    sheet = CSS(
        string=font_face_css(FONT) + f'html {{ font-family: "{FONT.css_name}"; font-size: 12pt; }} '
        "@page { size: A4; margin: 13mm 15mm 17mm; } " + css,
        font_config=fonts,
    )
    return HTML(string=f'<html lang="en"><body>{body}</body></html>').write_pdf(
        stylesheets=[sheet], font_config=fonts, finisher=finisher, pdf_tags=True
    )


def qr(url: str = URL) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=4)


# --- The checks, each on a PDF that breaks it (and one that does not) ---


def test_text_past_the_page_edge_fails_naming_the_page():
    found = inspect_pdf(pdf_of("<p>Fine</p>" + '<p style="break-before: page">' + "x" * 150 + "</p>"), True, expected())
    assert any(
        re.match(r"page 2: text \(\"x+\"\) runs \d+ mm past the page's safe area", p) for p in found.page_problems
    ), found.page_problems
    assert not inspect_pdf(
        pdf_of("<p>" + "x" * 150 + "</p>", "p { overflow-wrap: anywhere; }"), True, expected()
    ).page_problems


def test_an_image_laid_out_beyond_the_page_fails():
    found = inspect_pdf(
        pdf_of(f'<img src="{qr()}" alt="Booking code" style="width: 30mm; margin-left: 180mm">'),
        True,
        expected(booking_url=URL),
    )
    assert any("'Booking code' is laid out" in p and "beyond the page edge" in p for p in found.page_problems), (
        found.page_problems
    )


def test_text_over_text_fails():
    body = (
        '<p style="position: absolute; top: 0">Hello there, patients</p>'
        '<p style="position: absolute; top: 1mm">Other words on top</p>'
    )
    found = inspect_pdf(pdf_of(body), True, expected())
    assert any(p.startswith("page 1: text overlaps other text") for p in found.page_problems), found.page_problems
    apart = body.replace("top: 1mm", "top: 10mm")
    assert not inspect_pdf(pdf_of(apart), True, expected()).page_problems


def test_letters_squeezed_over_each_other_in_one_word_fail():
    # Glyphs are compared only within words that overlap another word or themselves (page_text._crowded). Squeezed
    # this much, "Emergency" stays one word (its glyphs still run left to right) whose "g" runs over its "e".
    squeezed = inspect_pdf(pdf_of('<p style="letter-spacing: -0.3em">Emergency</p>'), True, expected())
    assert any(p.startswith("page 1: text overlaps other text") for p in squeezed.page_problems), (
        squeezed.page_problems
    )
    assert not inspect_pdf(pdf_of('<p style="letter-spacing: -0.05em">Emergency</p>'), True, expected()).page_problems


@pytest.mark.parametrize(
    "body, booking_url, problem",
    [
        (f'<img src="{qr()}" alt="QR" style="width: 30mm">', URL, None),
        (f'<img src="{qr()}" alt="QR" style="width: 12mm">', URL, r"the QR code is \d+ mm wide, below the 20 mm"),
        (f'<img src="{qr(LONG_URL)}" alt="QR" style="width: 24mm">', LONG_URL, r"modules are 0\.\d+ mm each"),
        (
            f'<img src="{qr()}" alt="QR" style="width: 30mm">',
            "https://other.test/",
            r"gives 'https://example-clinic\.test/book', not the booking address",
        ),
        (
            f'<div style="position: relative"><img src="{qr()}" alt="QR" style="width: 30mm">'
            '<span style="position: absolute; '
            'left: 0; top: 0; width: 30mm; height: 30mm; border: 1.5mm solid black"></span></div>',
            URL,
            "quiet zone",
        ),
        ("<p>No code at all</p>", URL, "no QR code on the page scans to the booking address"),
    ],
)
@pytest.mark.parametrize("described", [False, True], ids=["alt QR", "alt names the address"])
def test_the_qr_code_must_scan_to_the_booking_address(body, booking_url, problem, described):
    # A figure whose alternative text names the booking address is where the code should be: only that part of the
    # page is read at full resolution (inspection._code_region). Otherwise the whole page is.
    if described:
        body = body.replace('alt="QR"', f'alt="Scan to book: {booking_url}"')
    found = inspect_pdf(pdf_of(body), True, expected(booking_url=booking_url))
    if problem is None:
        assert found.qr_codes == [URL] and not found.page_problems
    else:
        assert any(re.search(problem, p) for p in found.page_problems), found.page_problems


def test_every_qr_code_on_the_page_is_read_not_only_the_booking_one():
    """A code in a clinic's logo or picture that leads elsewhere fails, naming its page and address; one that
    gives the clinic's own website is the clinic's."""
    booking = f'<img src="{qr()}" alt="Scan to book: {URL}" style="width: 30mm">'
    elsewhere = "https://pay.example.test/deposit"
    logo = f'<p><img src="{qr(elsewhere)}" alt="Our logo" style="width: 22mm"></p>'
    found = inspect_pdf(pdf_of(logo + booking), True, expected(booking_url=URL))
    assert found.page_problems == [
        f"page 1: a QR code gives {elsewhere!r}, not the booking address {URL!r} nor the clinic's website: a "
        "patient's phone would follow it"
    ]
    website = inspect_pdf(pdf_of(logo + booking), True, expected(booking_url=URL, other_codes=(elsewhere,)))
    assert website.page_problems == [] and website.qr_codes == [URL]
    # The clinic's own site however the code writes it (a trailing slash, www., another page), its phone number
    # written internationally, and its email address: the clinic's own.
    own = ("https://example-clinic.test", "tel:020 7946 0000", "mailto:hello@example-clinic.test")
    for code in ("https://www.example-clinic.test/", "tel:+442079460000", "mailto:Hello@example-clinic.test"):
        page = f'<p><img src="{qr(code)}" alt="Our logo" style="width: 22mm"></p>' + booking
        assert inspect_pdf(pdf_of(page), True, expected(booking_url=URL, other_codes=own)).page_problems == [], code
    # No booking address at all: a code is still read, and named.
    assert inspect_pdf(pdf_of(logo), True, expected()).page_problems == [
        f"page 1: a QR code gives {elsewhere!r}, not the booking address (the clinic has none) nor the clinic's "
        "website: a patient's phone would follow it"
    ]


def test_text_the_font_cannot_draw_fails_naming_the_font_used_and_the_characters(assert_no_weasyprint_logs):
    # Which font draws a letter the clinic's font lacks is this machine's choice (fontconfig's fallback: DejaVu Sans
    # for Arabic, Droid Sans Fallback for Chinese where fonts-droid-fallback is installed, none on a bare machine).
    # So each kind of failure is made certain with what the project brings: a font it installs (Tajawal) next in the
    # font stack, and a noncharacter, which Unicode never assigns and no font draws.
    tajawal = find_font("Tajawal", ROOT)
    stacked = font_face_css(tajawal) + f'html {{ font-family: "{FONT.css_name}", "{tajawal.css_name}"; }}'
    other = inspect_pdf(pdf_of("<p>Clinic عيادة</p>", stacked), True, expected())
    assert (
        'Atkinson Hyperlegible cannot draw "عيادة" (U+0639, U+064A, U+0627, U+062F, U+0629), so they are drawn in '
        f"{tajawal.css_name} instead"
    ) in other.page_problems, other.page_problems
    none = inspect_pdf(pdf_of("<p>Clinic \ufdd0</p>"), True, expected())
    assert (
        'Atkinson Hyperlegible has no glyph for "\ufdd0" (U+FDD0): they print as empty boxes' in none.page_problems
    ), none.page_problems
    # Real text the clinic's font lacks fails either way, naming the font that really drew it, whichever this machine
    # has.
    for text, codes in (("عيادة", "U+0639, U+064A, U+0627, U+062F, U+0629"), ("東京", "U+6771, U+4EAC")):
        found = inspect_pdf(pdf_of(f"<p>Clinic {text}</p>"), True, expected())
        named = [p for p in found.page_problems if f'"{text}"' in p]
        assert len(named) == 1, found.page_problems
        problem = named[0]
        drawn = re.fullmatch(
            re.escape(f'Atkinson Hyperlegible cannot draw "{text}" ({codes}), so they are drawn in ') + "(.+) instead",
            problem,
        )
        assert (
            drawn
            and drawn[1] in found.fonts
            and drawn[1] != FONT.css_name
            or problem == f'Atkinson Hyperlegible has no glyph for "{text}" ({codes}): they print as empty boxes'
        ), found
    for record in assert_no_weasyprint_logs:
        # WeasyPrint's own word for the empty boxes.
        record.expected_by_test = "notdef" in record.getMessage()
    assert not inspect_pdf(pdf_of("<p>Clinic café – ‘naïve’</p>"), True, expected()).page_problems


def test_near_empty_pages_and_pages_over_budget_are_warnings_naming_them():
    filler = "".join(
        f"<p>Paragraph {n} of the leaflet, long enough to fill a line of text on the page.</p>" for n in range(25)
    )
    found = inspect_pdf(
        pdf_of(filler + '<p style="break-before: page">A stray line.</p>'), True, expected(page_budget=1)
    )
    assert found.warnings == [
        "2 pages, 1 more than the 1-page budget (the sheets it is printed on, folded): "
        "shorten the content or check the layout",
        "page 2 is nearly empty: its content fills 1% of the page",
    ]
    assert not found.page_problems and len(found.page_fill) == 2 and found.page_fill[0] > 0.8
    cover = inspect_pdf(
        pdf_of("<p>Cover</p>" + '<div style="break-before: page">' + filler + "</div>"),
        True,
        expected(cover_pages=(1,)),
    )
    assert not cover.warnings


def test_text_below_aa_contrast_fails_counting_each_character_on_any_background():
    """Measured on the rendered page, word by word, against what lies around the words: grey on white, white on a
    pale box, and a pale word inside a dark sentence are each caught; large bold text needs only 3:1."""
    body = (
        '<p>Readable words, then <span style="color: #999999">pale grey</span> ones.</p>'
        '<p style="background: #F4A7B9; color: #FFFFFF; padding: 2mm">On pink</p>'
        '<p style="color: #767676">Grey at 4.54 to one passes.</p>'
        '<p style="color: #949494; font-size: 18pt; font-weight: bold">Large bold grey</p>'
    )
    found = inspect_pdf(pdf_of(body), True, expected())
    assert found.text_contrast_failures == len("palegrey") + len("Onpink")
    assert {"#999999 on #FFFFFF: 2.85:1", "#FFFFFF on #F4A7B9: 1.9:1"} <= set(found.contrast_examples)
    assert found.lowest_text_contrast == 1.9


@pytest.mark.parametrize(
    "faint",
    ['<div style="opacity: 0.4"><p>Faint words</p></div>', '<p style="color: rgba(0, 0, 0, 0.4)">Faint words</p>',
     '<div style="opacity: 0.8"><p style="opacity: 0.5">Faint words</p></div>'],
    ids=["opacity", "translucent colour", "groups in groups"],
)
def test_translucent_text_is_measured_as_faint_as_the_page_shows_it(faint):
    """Black at 40% opacity shows as grey on white: 2.85:1, however the opacity is given."""
    found = inspect_pdf(pdf_of("<p>Readable words.</p>" + faint), True, expected())
    assert found.text_contrast_failures == len("Faintwords")
    assert found.contrast_examples == ["#000000 at 40% opacity on #FFFFFF: 2.85:1"]


def soft_mask(alpha: int) -> str:
    """CSS that paints a box through a soft mask of `alpha` (0 to 255) all over it (mask-border, as WeasyPrint
    draws it): a fading its text's fill alpha does not show."""
    buffer = io.BytesIO()
    Image.new("RGBA", (3, 3), (0, 0, 0, alpha)).save(buffer, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return (f"position: relative; z-index: 0; mask-border-source: url({url}); mask-border-slice: 1 fill; "
            "mask-border-width: 1px; mask-border-mode: alpha")


def test_text_faded_by_a_soft_mask_is_measured_as_it_shows_on_the_page():
    """Its strokes show at about a third of black: 2.2:1 on white, and every glyph fails. Through an opaque mask,
    the same words pass."""
    faded = inspect_pdf(pdf_of(f'<p style="{soft_mask(90)}">Faint words</p>'), True, expected())
    assert faded.text_contrast_failures == len("Faintwords")
    assert re.fullmatch(r"#000000 at 3\d% opacity on #FFFFFF: 2\.\d+:1", faded.contrast_examples[0]), faded
    whole = inspect_pdf(pdf_of(f'<p style="{soft_mask(255)}">Faint words</p>'), True, expected())
    assert whole.text_contrast_failures == 0 and whole.contrast_examples == []


def test_safety_text_missing_from_the_pages_fails_however_it_is_laid_out():
    must = (("Call 999 straight away if", 1), ("You are pregnant or breastfeeding.", 2))
    wrapped = (
        '<p style="width: 30mm">Call 999 straight away if</p>'
        '<p lang="en" style="width: 28mm; hyphens: auto; hyphenate-character: &quot;-&quot;">'
        "You are pregnant or breastfeeding.</p>"
        '<p style="break-before: page">YOU ARE PREGNANT OR BREASTFEEDING.</p>'
    )
    assert not inspect_pdf(pdf_of(wrapped), True, expected(must_show=must)).page_problems
    once = inspect_pdf(
        pdf_of("<p>You are pregnant or breastfeeding.</p>"), True, expected(must_show=must)
    ).page_problems
    assert once == [
        'safety information is missing from the pages: "Call 999 straight away if"; '
        '"You are pregnant or breastfeeding."'
    ]


def test_a_clinic_template_that_leaves_out_the_emergency_advice_fails_its_documents(clinic_copy, tmp_path, capsys):
    partials = clinic_copy / "templates" / "partials"
    partials.mkdir(parents=True)
    original = (ROOT / "templates" / "partials" / "get_help.html.j2").read_text()
    (partials / "get_help.html.j2").write_text(re.sub(r'<div class="emergency">.*?</div>', "", original, flags=re.S))
    assert (
        main(
            [
                "--clinic", str(clinic_copy), "--out", str(tmp_path / "out"), "--treatment", "facial", "--treatment",
                "comparison"
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert re.search(
        r"facial\.pdf: not fit to give to patients as it is: "
        r'safety information is missing from the pages: "You find it hard to breathe',
        err,
    )
    assert "comparison.pdf: patients" not in err and (tmp_path / "out" / "mine" / "comparison.pdf").exists()
    assert not (tmp_path / "out" / "mine" / "facial.pdf").exists()


def test_table_headers_carry_their_scope_only_after_finishing():
    table = (
        '<table><thead><tr><th scope="col">Ingredient</th><th scope="col">Why</th></tr></thead>'
        '<tbody><tr><th scope="row">Hyaluronic acid</th><td>Holds water</td></tr></tbody></table>'
    )
    bare = inspect_pdf(pdf_of(table), True, expected())
    assert bare.table_headers == 3 and any("3 of 3 table header cells carry no /Scope" in p for p in bare.page_problems)
    finished = pdf_of(table, finisher=table_header_scopes)
    assert not inspect_pdf(finished, True, expected()).page_problems
    scopes = [node["/A"]["/Scope"] for node in _struct(finished) if node["/S"] == "/TH"]
    assert scopes == ["/Column", "/Column", "/Row"]


def test_a_structure_tree_that_leads_back_into_itself_is_walked_once():
    """A table header cell whose kids lead back to its table: each element is counted once, and the check ends (it
    ran for ever, or out of stack, when it walked whatever the tree led to)."""
    table = (
        '<table><thead><tr><th scope="col">Ingredient</th><th scope="col">Why</th></tr></thead>'
        '<tbody><tr><th scope="row">Hyaluronic acid</th><td>Holds water</td></tr></tbody></table>'
    )
    with pikepdf.open(io.BytesIO(pdf_of(table))) as pdf:
        elements, stack = [], [pdf.Root.StructTreeRoot]
        while stack:
            node = stack.pop()
            if isinstance(node, pikepdf.Array):
                stack.extend(node)
            elif isinstance(node, pikepdf.Dictionary):
                elements.append(node)
                stack.extend([node["/K"]] if "/K" in node else [])
        first = next(node for node in elements if node.get("/S") == "/TH")
        first.K = pikepdf.Array([first.K, next(node for node in elements if node.get("/S") == "/Table")])
        looped = io.BytesIO()
        pdf.save(looped)
    found = []
    checking = threading.Thread(target=lambda: found.append(inspect_pdf(looped.getvalue(), True, expected())),
                                daemon=True)
    checking.start()
    checking.join(timeout=60)
    assert found, "the check did not end"
    assert found[0].table_headers == 3
    assert any("3 of 3 table header cells carry no /Scope" in problem for problem in found[0].page_problems)


def _struct(pdf: bytes) -> list:
    return walk_structure(PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/StructTreeRoot"])


# --- Real builds: the layouts meet the checks ---


def long_clinic(tmp_path: Path, page_size: str) -> Path:
    folder = tmp_path / "clinics" / "long"
    shutil.copytree(EXAMPLE, folder)
    edit_config(folder, "name: Example Aesthetics Clinic", f"name: {LONG_NAME}")
    edit_config(folder, "email: hello@example-clinic.test", f"email: {LONG_EMAIL}")
    edit_config(folder, f"booking_url: {URL}", f"booking_url: {LONG_URL}")
    edit_config(folder, "page_size: A4", f"page_size: {page_size}")
    return folder


@pytest.mark.parametrize(
    "page_size, options",
    [
        ("A4", ["--layout", "all", "--variant", "all", "--treatment", "facial"]),
        ("Letter", ["--layout", "trifold", "--treatment", "hair"]),
        ("A5", ["--treatment", "body", "--treatment", "comparison"]),
    ],
)
def test_long_names_emails_and_addresses_fit_and_the_code_still_scans(
    tmp_path, page_size, options, assert_no_weasyprint_logs
):
    assert (len(LONG_WORD), len(LONG_EMAIL), len(LONG_URL)) == (40, 150, 250)
    out = tmp_path / "out"
    # The gate passed.
    assert main(["--clinic", str(long_clinic(tmp_path, page_size)), "--out", str(out), *options]) == 0
    for pdf in (out / "long").glob("*.pdf"):
        found = inspect_pdf(pdf.read_bytes(), ".press" not in pdf.name, expected(booking_url=LONG_URL))
        assert found.qr_codes == [LONG_URL] and not found.page_problems, (pdf.name, found.page_problems)
        assert LONG_WORD[:12] in pdf_text(pdf)
    # A 40-letter word in a 74-character name cannot stand on one line beside the page number of an A5 page: the
    # page check says so (a warning, for a person to look at). On A4 and Letter the footer is one line.
    for record in assert_no_weasyprint_logs:
        record.expected_by_test = page_size == "A5" and "the footer (" in record.getMessage()


# 74 characters.
LONG_US_NAME = "Northern Virginia Dermatology and Aesthetic Medicine Center of Excellence"
LONG_US_ADDRESS = (
    '["Suite 1200, Tysons Corner Professional Building", "8150 Leesburg Pike, Vienna, VA 22182", "United States"]'
)


def line_pitch(pdf: Path, first: str, second: str) -> float:
    """The distance in points between the lines two consecutive list items start with, on the first page."""
    bottoms = {word: bottom for page, word, _left, _right, bottom in pdf_words(pdf) if page == 0}
    return round(bottoms[first] - bottoms[second], 1)


def test_a_long_name_and_a_three_line_address_still_fit_every_leaflet_on_one_letter_sheet(
    clinic_copy, tmp_path, rosewood_build
):
    """Over its 4 pages, a leaflet is laid out again with lines and sections a little closer (styles/fit.css), and
    kept so when that fits; one that fits as it is keeps its roomier spacing."""
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", f"name: {LONG_US_NAME}")
    edit_config(clinic_copy, 'address: ["1 High Street", "London N1 1AA"]', f"address: {LONG_US_ADDRESS}")
    edit_config(clinic_copy, "page_size: A4", "page_size: Letter")
    edit_config(clinic_copy, "country: GB", "country: US")
    out = tmp_path / "out"
    assert (
        main(
            [
                "--clinic",
                str(clinic_copy),
                "--out",
                str(out),
                "--treatment",
                "facial",
                "--treatment",
                "hair",
                # Its one warning: not yet approved.
                "--treatment",
                "body",
                "--strict",
            ]
        )
        == 1
    )
    assert page_warnings(out / "mine") == {}
    assert [len(PdfReader(out / "mine" / f"{name}.pdf").pages) for name in ("facial", "hair", "body")] == [4, 4, 4]
    assert "Suite 1200, Tysons Corner" in pdf_text(out / "mine" / "hair.pdf")
    closer, roomier = (
        line_pitch(folder / "hair.pdf", "Thinning", "Early") for folder in (out / "mine", rosewood_build)
    )
    assert 12 * 1.2 <= closer < roomier


def test_a_too_full_tri_fold_panel_is_named_with_how_much(tmp_path, capsys):
    """The flap is placed by position: what does not fit is carried onto the inside of the sheet, not below it."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    facial = data / "treatments" / "facial.yaml"
    extra = "".join(f"  - You feel very unwell in some other way, number {n}, after the treatment.\n" for n in range(8))
    text = facial.read_text()
    assert "\nemergency:\n" in text
    facial.write_text(text.replace("\nemergency:\n", "\nemergency:\n" + extra, 1))
    assert (
        main(["--data", str(data), "--layout", "trifold", "--treatment", "facial", "--out", str(tmp_path / "out")]) == 1
    )
    assert re.search(r"facial\.trifold\.pdf: the tri-fold's flap panel is \d+ mm too full", capsys.readouterr().err)


def page_warnings(folder: Path, booking_url: str = "https://example-clinic.test/book") -> dict[str, list[str]]:
    """Each document's page warnings, measured as the gate measures them (a leaflet on A4 or Letter: 4 pages), for
    a clinic whose booking address is `booking_url`."""
    found = {}
    for pdf in sorted(folder.glob("*.pdf")):
        budget = (
            4
            if pdf.stem not in ("comparison", "booklet")
            and "." not in pdf.stem
            and PdfReader(pdf).pages[0].mediabox.width > 500
            else None
        )
        inspection = inspect_pdf(
            pdf.read_bytes(), True, expected(page_budget=budget, cover_pages=(1,) if pdf.stem == "booklet" else (),
                                             booking_url=booking_url)
        )
        if inspection.warnings or inspection.page_problems:
            found[pdf.name] = inspection.warnings + inspection.page_problems
    return found


def test_the_shipped_clinics_use_their_pages_well(example_build, rosewood_build):
    assert page_warnings(example_build) == {}
    assert page_warnings(rosewood_build, "https://rosewood-clinic.test/appointments") == {}


def test_every_table_header_in_the_shipped_files_carries_its_scope(example_build):
    for name in ("facial.pdf", "comparison.pdf", "booklet.pdf"):
        headers = [node for node in struct_nodes(example_build / name) if node["/S"] == "/TH"]
        assert headers and all(
            node["/A"]["/O"] == "/Table" and node["/A"]["/Scope"] in ("/Column", "/Row") for node in headers
        )


def test_an_independent_pdf_ua_checker_finds_no_table_warnings(example_build):
    pdfua = pytest.importorskip("pdfua")
    for name in ("facial.pdf", "comparison.pdf"):
        report = pdfua.validate(str(example_build / name))
        assert not [f for f in report.findings if f.rule_id.startswith("UA-15")], [f.message for f in report.findings]


def test_a_code_painted_away_from_where_its_figure_was_laid_out_is_still_read():
    # The tags say where the code's figure was laid out, and only that part of the page is read at full resolution;
    # a clinic's CSS transform paints it elsewhere: then the whole page is read, and the code is found there.
    moved = f'<img src="{qr()}" alt="Scan to book: {URL}" style="width: 30mm; transform: translate(90mm, 60mm)">'
    found = inspect_pdf(pdf_of(moved), True, expected(booking_url=URL))
    assert found.qr_codes == [URL] and not found.page_problems, found.page_problems


@pytest.mark.parametrize("booking_url", [URL, LONG_URL], ids=["short address", "long address"])
def test_the_booking_prompt_stands_4_mm_after_the_code(tmp_path, booking_url):
    # The code and its prompt sit side by side without a flex row for a short address (two inline boxes, common.css)
    # and in a wrapping flex row for a long one: either way the prompt starts 4 mm after the code's edge, on its
    # first line, and the code still scans.
    folder = tmp_path / "clinics" / "booking"
    shutil.copytree(EXAMPLE, folder)
    edit_config(folder, f"booking_url: {URL}", f"booking_url: {booking_url}")
    out = tmp_path / "out"
    assert main(["--clinic", str(folder), "--out", str(out), "--treatment", "facial", "--quiet"]) == 0
    pdf = out / "booking" / "facial.pdf"
    code = next(node for node in struct_nodes(pdf) if node["/S"] == "/Figure" and booking_url in str(node["/Alt"]))
    code_right_pt, code_top_pt = float(code["/A"]["/BBox"][2]) * 0.75, float(code["/A"]["/BBox"][1]) * 0.75
    page_height = float(PdfReader(pdf).pages[-1].mediabox.top)
    prompt = next(left for page, word, left, right, bottom in pdf_words(pdf)
                  if word == "Scan" and page_height - bottom > code_top_pt)
    assert prompt - code_right_pt == pytest.approx(4 * 72 / 25.4, abs=0.5)
