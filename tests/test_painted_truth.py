"""Painted truth: every safety line the text layer holds must be visible where the text layer places it. A template
that clips, covers, hides, shrinks or moves the emergency box off the page fails, naming the line and the page; the
shipped documents, in every language, page size and layout, pass."""

from __future__ import annotations

import base64
import contextlib
import io
import random
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from test_languages import LANGUAGES
from test_page_checks import expected, pdf_of, soft_mask

from brochures.brand.fonts import find_font, font_face_css
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pdf.checks import expected_look
from brochures.pdf.facts import Expected
from brochures.pdf.inspection import inspect_pdf
from brochures.pdf.page_text import squeezed
from brochures.pdf.painted import PagePaint, _places, hidden
from brochures.plan.documents import plan_documents
from conftest import DATA, EXAMPLE, ROOT, ROSEWOOD, edit_config
from generate import main

LINE = "Call 999 straight away if"
ITEM = "You find it hard to breathe or swallow."
MUST = ((LINE, 1), (ITEM, 1))
# The emergency box as the shipped stylesheet draws it: dark red on a pale pink, the heading larger and bold.
BOX = (
    '<div style="background: #FDECEA; border: 0.6mm solid #A4262C; padding: 3mm">'
    f'<h3 style="color: #A4262C; font-size: 15pt; margin: 0">{LINE}</h3><ul><li>{ITEM}</li></ul></div>'
)
# The first of the facial treatment's emergency items, in the example clinic.
FACIAL_EMERGENCY = "You find it hard to breathe or swallow."


def picture(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


# A busy picture: black and white at random, dark pixels enough to pass for ink.
CHANCE = random.Random(21)
NOISE = picture(Image.frombytes("L", (64, 64), bytes(CHANCE.choice((0, 255)) for _ in range(64 * 64))).convert("RGB"))


def covered_by(cover: str) -> str:
    return f'<div style="position: relative">{BOX}{cover}</div>'


def not_visible(problems: list[str], reason: str, page: int = 1) -> list[str]:
    """The lines the gate says are on `page`'s text layer but not visible there, for `reason`."""
    prefix = f"safety information is on page {page}'s text layer but not visible there ({reason}): "
    return [line for problem in problems if problem.startswith(prefix)
            for line in re.findall(r'"([^"]*)"', problem[len(prefix):])]


# --- Each way of hiding the box, on a small real PDF ---


@pytest.mark.parametrize(
    "body, reason, lines",
    [
        (f'<div style="height: 0; overflow: hidden">{BOX}</div><p>After the box.</p>', "clipped away", [LINE, ITEM]),
        (f'<div style="position: absolute; clip: rect(0, 0, 0, 0)">{BOX}</div>', "clipped away", [LINE, ITEM]),
        (
            covered_by('<div style="position: absolute; left: 0; top: 0; right: 0; bottom: 0; background: white">'
                       "</div>"),
            "not painted: clipped, covered or transparent",
            [LINE, ITEM],
        ),
        # Only the number: the rest of the line is there to read.
        (
            covered_by('<span style="position: absolute; left: 13mm; top: 3mm; width: 11mm; height: 7mm; '
                       'background: #FDECEA"></span>'),
            "not painted: clipped, covered or transparent",
            [LINE],
        ),
        (f'<div style="opacity: 0">{BOX}</div>', "not painted: clipped, covered or transparent", [LINE, ITEM]),
        # White bars with 1 pt gaps over the box: a pixel of ink shows in each glyph, the words hardly do.
        (
            covered_by('<div style="position: absolute; left: 0; top: 0; right: 0; bottom: 0; background: '
                       'repeating-linear-gradient(to bottom, white 0, white 2.4pt, transparent 2.4pt, '
                       'transparent 3.4pt)"></div>'),
            "covered by a shape painted over it",
            [LINE, ITEM],
        ),
        # Faded through a soft mask (CSS mask-border) to about a third: as faint as the page shows it.
        (f'<div style="{soft_mask(90)}">{BOX}</div>', "in a colour that does not stand out from what lies around it",
         [LINE, ITEM]),
        # A quarter of its opacity: the dark red heading and black items show as pale pinks and greys.
        (f'<div style="opacity: 0.25">{BOX}</div>', "in a colour that does not stand out from what lies around it",
         [LINE, ITEM]),
        (BOX, None, []),
        # An outline is painted after the text it frames, as rings whose bounds hold the box: it covers nothing.
        (f'<div style="outline: 2px solid #B00020; outline-offset: 1mm">{BOX}</div>', None, []),
        (
            f'<div style="color: transparent">{BOX.replace("color: #A4262C;", "")}</div>',
            "not painted: clipped, covered or transparent",
            [LINE, ITEM],
        ),
        (
            f'<div style="color: #FDECEA">{BOX.replace("color: #A4262C;", "")}</div>',
            "in a colour that does not stand out from what lies around it",
            [LINE, ITEM],
        ),
        (f'<div style="font-size: 1pt">{BOX.replace("font-size: 15pt", "font-size: 1pt")}</div>',
         "smaller than 9 pt", [LINE, ITEM]),
        (f'<div style="transform: scale(0.05)">{BOX}</div>', "smaller than 9 pt", [LINE, ITEM]),
        # Squashed to a third of its height and stretched to more than twice its width: as small as it is tall.
        (f'<div style="transform: scale(2.5, 0.3); transform-origin: 0 0; width: 38%">{BOX}</div>',
         "smaller than 9 pt", [LINE, ITEM]),
        (f'<div style="position: absolute; left: 250mm; width: 150mm">{BOX}</div>', "outside the page", [LINE, ITEM]),
    ],
    ids=["zero-height", "clip", "white-box", "number-covered", "opacity", "striped", "masked", "faint", "honest",
         "outlined", "transparent", "background-colour", "1pt", "scaled", "squashed", "off-page"],
)
def test_safety_text_that_is_not_visible_fails_naming_the_line_the_page_and_why(body, reason, lines):
    problems = inspect_pdf(pdf_of(body), True, expected(must_show=MUST)).page_problems
    painted = [p for p in problems if "not visible" in p]
    if reason is None:
        assert not problems, problems
        return
    assert len(painted) == 1, problems
    prefix = re.fullmatch(
        r"safety information is on page 1's text layer but not visible there \(" + reason + r"\): (.*)", painted[0]
    )
    assert prefix, painted
    assert re.findall(r'"([^"]*)"', prefix[1]) == lines


def each_character(text: str, style) -> str:
    """`text` with each character in an inline block of its own, styled by `style(place, character)`."""
    return "".join(" " if char == " " else f'<span style="display: inline-block; {style(place, char)}">{char}</span>'
                   for place, char in enumerate(text))


PHONE = "Call us on 020 3796 0161."


@pytest.mark.parametrize(
    "style, reason",
    [
        # Each 9 turned upside down: the page says "Call us on 020 3766 0161", the text layer "… 3796 …".
        (lambda place, char: "transform: rotate(180deg)" if char == "9" else "transform: translate(0, 0)",
         "turned round or mirrored, so it may read as another character"),
        (lambda place, char: "transform: scaleX(-1)" if char == "l" else "transform: translate(0, 0)",
         "turned round or mirrored, so it may read as another character"),
    ],
    ids=["upside-down", "mirrored"],
)
def test_safety_text_the_page_draws_otherwise_than_its_text_layer_says_fails(style, reason):
    """Each glyph of the line drawn by itself, its text layer in order: the page must show the characters upright
    and the right way round."""
    must = ((PHONE, 1),)
    problems = inspect_pdf(pdf_of(f"<p>{each_character(PHONE, style)}</p>"), True, expected(must_show=must))
    assert not_visible(problems.page_problems, reason) == [PHONE], problems.page_problems
    # Each character in its own block, drawn as its text says: seen.
    honest = inspect_pdf(pdf_of(f"<p>{each_character(PHONE, lambda place, char: '')}</p>"), True,
                         expected(must_show=must))
    assert honest.page_problems == []


def test_text_squashed_one_way_and_stretched_the_other_counts_at_the_size_a_reader_makes_out():
    """12 pt text drawn at 30% of its height and 250% of its width reads as 3.6 pt, not as the 10 pt its area
    gives."""
    body = '<p style="transform: scale(2.5, 0.3); transform-origin: 0 0; width: 38%">Some text to read.</p>'
    inspection = inspect_pdf(pdf_of(body), True, expected())
    assert inspection.smallest_text_pt == 3.6
    # Slanted, it is as tall as it was: 12 pt still.
    slanted = inspect_pdf(pdf_of('<p style="transform: skewX(-12deg)">Some text to read.</p>'), True, expected())
    assert slanted.smallest_text_pt == 12.0


def test_safety_text_under_a_busy_picture_fails_though_the_picture_has_pixels_of_its_colour():
    place = "position: absolute; left: 0; top: 0; width: 100%; height: 100%"
    cover = f'<img alt="A pattern" src="{NOISE}" style="{place}">'
    problems = inspect_pdf(pdf_of(covered_by(cover)), True, expected(must_show=MUST)).page_problems
    assert ITEM in not_visible(problems, "covered by an image"), problems
    assert LINE in [line for problem in problems for line in re.findall(r'"([^"]*)"', problem)], problems
    beside = f'<img alt="A pattern" src="{NOISE}" style="width: 30mm">'
    assert not inspect_pdf(pdf_of(BOX + beside), True, expected(must_show=MUST)).page_problems


def test_safety_text_printed_in_the_bleed_is_outside_the_page():
    """A press file's page is drawn with its bleed, which the cutter trims away: the number is rendered there, but
    no patient sees it."""
    must = (("999", 1),)

    def at(left: str) -> bytes:
        return pdf_of(f'<p>Call us.</p><p style="position: absolute; left: {left}; top: 50mm; margin: 0">999</p>',
                      "@page { bleed: 10mm }")

    assert not inspect_pdf(at("0mm"), True, expected(must_show=must)).page_problems
    problems = inspect_pdf(at("-24mm"), True, expected(must_show=must)).page_problems
    assert not_visible(problems, "outside the page") == ["999"], problems


def test_the_box_as_the_stylesheet_draws_it_passes_and_a_hidden_one_is_named_on_its_page():
    filler = "".join(f"<p>Paragraph {n} of the leaflet.</p>" for n in range(3))
    assert not inspect_pdf(pdf_of(filler + BOX), True, expected(must_show=MUST)).page_problems
    hidden_on_two = filler + f'<div style="break-before: page; height: 0; overflow: hidden">{BOX}</div>'
    problems = inspect_pdf(pdf_of(hidden_on_two), True, expected(must_show=MUST)).page_problems
    assert not_visible(problems, "clipped away", page=2) == [LINE, ITEM], problems


def test_a_line_needed_twice_fails_when_only_one_of_them_is_visible():
    twice = ((ITEM, 2),)
    shown = f"<p>{ITEM}</p><p>{ITEM}</p>"
    assert not inspect_pdf(pdf_of(shown), True, expected(must_show=twice)).page_problems
    one_hidden = f'<p>{ITEM}</p><p style="opacity: 0">{ITEM}</p>'
    problems = inspect_pdf(pdf_of(one_hidden), True, expected(must_show=twice)).page_problems
    assert not_visible(problems, "not painted: clipped, covered or transparent") == [ITEM], problems
    assert not inspect_pdf(pdf_of(one_hidden), True, expected(must_show=((ITEM, 1),))).page_problems


def test_an_arabic_phone_number_is_found_where_pdfium_turns_its_groups_round_and_must_be_visible():
    """pdfium gives "020 7946 0000" inside Arabic text as "0000 7946 020": the line is looked for group by group."""
    arabic = find_font("Tajawal", ROOT)
    css = font_face_css(arabic) + f'html {{ font-family: "{arabic.css_name}"; }}'
    phone = "020 7946 0000"
    must = ((phone, 1), ("اتصل بنا على الرقم", 1))
    look = Expected(must_show=must, right_to_left=True, font=arabic.css_name, font_family=arabic.name,
                    font_files=tuple(str(face.path) for face in arabic.faces))

    def line(style: str) -> bytes:
        number = f'<span style="{style}">\u2066{phone}\u2069</span>'
        return pdf_of(f'<p dir="rtl" lang="ar">اتصل بنا على الرقم {number}.</p>', css)

    assert not inspect_pdf(line(""), True, look).page_problems
    for style, reason in (("color: white", "in a colour that does not stand out from what lies around it"),
                          ("color: transparent", "not painted: clipped, covered or transparent")):
        problems = inspect_pdf(line(style), True, look).page_problems
        assert not_visible(problems, reason) == [phone], problems


def test_a_line_carried_over_a_page_break_is_looked_at_on_both_pages():
    line = squeezed(ITEM)
    # The page ends with the line's first words, or starts with its last: those letters are looked at.
    assert _places("abc" + line[:10], (line,)) == set(range(3, 13))
    assert _places(line[-7:] + "xyz", (line,)) == set(range(7))
    first, second = PagePaint("before" + line[:10]), PagePaint(line[10:] + "after", {2: "clipped away"})
    assert hidden([first, second], ((ITEM, 1),)) == [
        f"safety information is on page 2's text layer but not visible there (clipped away): \"{ITEM}\""
    ]
    assert not hidden([first, PagePaint(second.text)], ((ITEM, 1),))


# --- A clinic's own template that hides the emergency box ---

HIDINGS = {
    "zero": ('<div style="height: 0; overflow: hidden">{box}</div>', "clipped away"),
    "covered": (
        '<div style="position: relative">{box}<div style="position: absolute; left: 0; top: 0; right: 0; '
        'bottom: 0; background: white"></div></div>',
        "not painted: clipped, covered or transparent",
    ),
    "transparent": (
        "<style>.emergency, .emergency * {{ color: transparent !important; }}</style>{box}",
        "not painted: clipped, covered or transparent",
    ),
    "tiny": ("<style>.emergency, .emergency * {{ font-size: 1pt !important; }}</style>{box}", "smaller than 9 pt"),
    "offpage": ('<div style="position: absolute; left: 300mm; width: 150mm">{box}</div>', "outside the page"),
}


@pytest.fixture(scope="module")
def hiding_clinics(tmp_path_factory) -> tuple[int, str, Path]:
    """Five copies of the example clinic, each with a template that hides the emergency box one way, built once."""
    root = tmp_path_factory.mktemp("hiding")
    original = (ROOT / "templates" / "partials" / "get_help.html.j2").read_text()
    arguments = []
    for name, (wrapper, _) in HIDINGS.items():
        folder = root / "clinics" / name
        shutil.copytree(EXAMPLE, folder)
        (folder / "templates" / "partials").mkdir(parents=True)
        box = re.search(r'<div class="emergency">.*?</div>', original, flags=re.S)
        assert box
        template = original.replace(box.group(0), wrapper.format(box=box.group(0)))
        (folder / "templates" / "partials" / "get_help.html.j2").write_text(template)
        arguments += ["--clinic", str(folder)]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([*arguments, "--out", str(root / "out"), "--treatment", "facial", "--jobs", "2"])
    return code, err.getvalue(), root / "out"


@pytest.mark.parametrize("name", list(HIDINGS))
def test_a_clinic_template_that_hides_the_emergency_box_fails_naming_the_item_and_page(hiding_clinics, name):
    code, err, out = hiding_clinics
    assert code == 1
    failed = re.search(rf"{name}/facial\.pdf: not fit to give to patients as it is: (.*)", err)
    assert failed, err
    reason = re.escape(HIDINGS[name][1])
    assert re.search(
        rf"safety information is on page \d+'s text layer but not visible there \({reason}\): "
        rf'"{re.escape(FACIAL_EMERGENCY)}"',
        failed[1],
    ), failed[1]
    assert not (out / name / "facial.pdf").exists()


# --- The shipped documents pass ---


def test_the_example_clinics_documents_pass_on_a4_and_letter(example_build, rosewood_build):
    """The session builds succeeded with the check on: every leaflet, the comparison sheet and the booklet. The
    booklet reused its leaflets' pages there; read again here, every one of its pages is looked at."""
    content = load_content(DATA)
    for folder, clinic_folder in ((example_build, EXAMPLE), (rosewood_build, ROSEWOOD)):
        assert {"facial.pdf", "comparison.pdf", "booklet.pdf"} <= {path.name for path in folder.glob("*.pdf")}
        clinic = load_clinic(clinic_folder / "clinic.yaml", content)
        for document in plan_documents([clinic], content, folder.parent, {"booklet", "facial"}):
            look = expected_look(document)
            assert look.must_show
            problems = inspect_pdf(document.output.read_bytes(), True, look).page_problems
            assert not [problem for problem in problems if "not visible" in problem], problems


def test_the_example_clinic_passes_in_english_spanish_and_arabic_on_a5_as_leaflet_and_tri_fold(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    edit_config(data / "clinics" / "example", "language: en\n", LANGUAGES)
    edit_config(data / "clinics" / "example", "page_size: A4", "page_size: A5")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "facial", "--layout", "all",
                     "--jobs", "2"])
    assert code == 0 and "not visible" not in err.getvalue(), err.getvalue()
    home = tmp_path / "out" / "example"
    for folder in (home, home / "es", home / "ar"):
        assert {"facial.pdf", "facial.trifold.pdf"} <= {path.name for path in folder.glob("*.pdf")}
