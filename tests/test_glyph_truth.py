"""Glyph truth: a font whose glyphs draw other characters than its text layer says (a "9" that draws "1") fails
the document, naming the font, its file and the characters; honest fonts of other styles pass; a font is matched
once and remembered."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from brochures.brand.fonts import find_font
from brochures.pdf import glyph_shapes
from brochures.pdf.facts import Expected
from brochures.pdf.glyph_truth import glyph_problems
from brochures.problems import display_path
from conftest import DATA, edit_config, pdf_text
from generate import main

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
needs_dejavu = pytest.mark.skipif(not (DEJAVU / "DejaVuSerif.ttf").is_file(), reason="DejaVu fonts not installed")


def atkinson(style: str = "Regular") -> Path:
    faces = find_font("Atkinson Hyperlegible", DATA).faces
    return next(face.path for face in faces if face.path.name == f"AtkinsonHyperlegible-{style}.ttf")


def renamed(font: TTFont, family: str) -> None:
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (4, 6):
            record.string = family.replace(" ", "") + "-Regular"


def swap_map(font: TTFont, a: str, b: str) -> None:
    """The character map says "a" is drawn by b's glyph and the reverse (names and outlines untouched)."""
    # fontTools shares one mapping between identical subtables: each swapped once.
    for mapping in {id(table.cmap): table.cmap for table in font["cmap"].tables}.values():
        mapping[ord(a)], mapping[ord(b)] = mapping[ord(b)], mapping[ord(a)]


def swap_outlines(font: TTFont, a: str, b: str) -> None:
    """The character map and the glyph names are honest; the outlines of a's and b's glyphs are exchanged."""
    cmap = font.getBestCmap()
    first, second = cmap[ord(a)], cmap[ord(b)]
    glyf, hmtx = font["glyf"], font["hmtx"]
    glyf[first], glyf[second] = glyf[second], glyf[first]
    hmtx[first], hmtx[second] = hmtx[second], hmtx[first]


def blank(font: TTFont, a: str, _: str) -> None:
    """The glyph of `a` draws nothing."""
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    font["glyf"][font.getBestCmap()[ord(a)]] = Glyph()


def evil_clinic(clinic: Path, change, a: str, b: str) -> Path:
    """The clinic with its own font "Evil Sans": Atkinson Hyperlegible altered by `change`."""
    (clinic / "fonts").mkdir()
    with TTFont(atkinson()) as font:
        change(font, a, b)
        renamed(font, "Evil Sans")
        font.save(clinic / "fonts" / "Evil.ttf")
    edit_config(clinic, "font: Atkinson Hyperlegible", "font: Evil Sans")
    return clinic / "fonts" / "Evil.ttf"


def build(clinic: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["--clinic", str(clinic), "--out", str(out), "--treatment", "facial"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_clinic_font_whose_nines_draw_ones_fails_naming_the_font_its_file_and_the_digits(
    clinic_copy, tmp_path, capsys, monkeypatch
):
    """The character map sends "9" to the glyph of "1" and the reverse: the page says "Call 111"."""
    path = evil_clinic(clinic_copy, swap_map, "9", "1")
    code, output = build(clinic_copy, tmp_path / "out", capsys)
    assert code == 1, output
    assert (
        f'the font "Evil Sans" ({display_path(path)}) draws "9", "1" as other characters ("9" looks like "1", '
        '"1" looks like "9"): the page would not show what its text says. Use the font file as its maker made it, '
        "or choose another font (font: in clinic.yaml)"
    ) in output
    assert not (tmp_path / "out" / clinic_copy.name / "facial.pdf").exists()
    # Without the check, every other check of the gate passes, and the text layer still says 999.
    import brochures.pdf.inspection as inspection

    monkeypatch.setattr(inspection, "glyph_problems", lambda reader, expected: [])
    code, output = build(clinic_copy, tmp_path / "unchecked", capsys)
    assert code == 0, output
    pdf = tmp_path / "unchecked" / clinic_copy.name / "facial.pdf"
    assert "Call 999 straight away if" in pdf_text(pdf)
    assert glyph_problems(PdfReader(pdf), Expected(font_family="Evil Sans"))


def test_outlines_exchanged_under_an_honest_character_map_and_a_blank_glyph_are_found(clinic_copy, tmp_path, capsys):
    """Names and character map honest, shapes not: 0 and 7 exchanged, the letters a and e of "Call 999 straight
    away if" exchanged, and a 6 that draws nothing (all in the clinic's phone number, 020 7946 0000)."""

    def change(font, *_):
        swap_outlines(font, "0", "7")
        swap_outlines(font, "a", "e")
        blank(font, "6", "")

    path = evil_clinic(clinic_copy, change, "", "")
    code, output = build(clinic_copy, tmp_path / "out", capsys)
    assert code == 1, output
    assert f'the font "Evil Sans" ({display_path(path)}) draws ' in output
    for said in ('"0" looks like "7"', '"7" looks like "0"', '"a" looks like "e"', '"e" looks like "a"',
                 '"6" draws nothing'):
        assert said in output


def test_honest_clinic_fonts_of_other_styles_pass(clinic_copy, tmp_path, capsys):
    """A geometric sans from a font package (Lexend, variable), and a clinic's own file of another typeface."""
    edit_config(clinic_copy, "font: Atkinson Hyperlegible", "font: Lexend")
    code, output = build(clinic_copy, tmp_path / "lexend", capsys)
    assert code == 0, output
    own = DEJAVU / "DejaVuSerif.ttf" if (DEJAVU / "DejaVuSerif.ttf").is_file() else atkinson("Italic")
    (clinic_copy / "fonts").mkdir()
    with TTFont(own) as font:
        name = font["name"].getBestFamilyName()
        font.save(clinic_copy / "fonts" / own.name)
    edit_config(clinic_copy, "font: Lexend", f"font: {name}")
    code, output = build(clinic_copy, tmp_path / "own", capsys)
    assert code == 0, output


def test_the_shipped_clinic_passes(example_build):
    pdfs = sorted(example_build.rglob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        assert glyph_problems(PdfReader(pdf), Expected(must_show=(("Call 999 straight away if", 1),))) == []


def honest_faces():
    """Typefaces of many styles: the shipped ones, and DejaVu's where the machine has them."""
    faces = [(atkinson(style), None) for style in ("Regular", "BoldItalic")]
    faces += [(face.path, None) for face in find_font("Tajawal", DATA).faces if face.weight in (200, 400, 900)]
    lexend = find_font("Lexend", DATA).faces[0].path
    faces += [(lexend, {"wght": 300}), (lexend, {"wght": 700})]
    dejavu = ("Sans", "Sans-Bold", "Sans-ExtraLight", "SansCondensed-Oblique", "Serif", "Serif-Bold", "Serif-Italic",
              "SansMono", "SansMono-BoldOblique")
    faces += [(DEJAVU / f"DejaVu{name}.ttf", None) for name in dejavu if (DEJAVU / f"DejaVu{name}.ttf").is_file()]
    return faces


def outlines(path: Path, location) -> tuple[dict[str, tuple], float]:
    with TTFont(path) as font:
        cmap, glyphs = font.getBestCmap(), font.getGlyphSet(location=location)
        chars = glyph_shapes.DIGITS + glyph_shapes.ARABIC_DIGITS + glyph_shapes.LETTERS + "áéíóúñü"
        return {c: glyph_shapes.outline_of(glyphs, cmap[ord(c)]) for c in chars if ord(c) in cmap}, \
            glyph_shapes.slant_of(font)


@pytest.mark.parametrize("path, location", honest_faces(), ids=lambda value: getattr(value, "stem", str(value)))
def test_every_digit_and_letter_of_honest_typefaces_draws_its_character(path, location):
    """Sans, serif, monospaced, condensed, italic, light and black; Latin and Arabic-Indic digits, accented letters.
    Fails without the allowances: a single-storey a or g, a flat-topped 3, i and l, an italic y or á."""
    found, slant = outlines(path, location)
    wrong = [f"{c} looks like {glyph_shapes._match(outline, slant, c)!r}"
             for c, outline in found.items() if glyph_shapes._match(outline, slant, c) is not None]
    assert wrong == []


@needs_dejavu
@pytest.mark.parametrize("path", ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf"])
def test_any_two_distinct_digits_exchanged_are_found(path):
    found, slant = outlines(DEJAVU / path, None)
    digits = [c for c in glyph_shapes.DIGITS if c in found]
    passed = [(a, b) for a, b in itertools.permutations(digits, 2) if glyph_shapes._match(found[b], slant, a) is None]
    assert passed == []


def test_a_font_is_matched_once_and_remembered(tmp_path, monkeypatch, example_build):
    monkeypatch.setenv("BROCHURES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(glyph_shapes, "_VERDICTS", {})
    glyph_shapes._remembered.cache_clear()
    matched = []
    match = glyph_shapes._match
    monkeypatch.setattr(glyph_shapes, "_match", lambda *args: matched.append(args) or match(*args))
    reader = PdfReader(example_build / "facial.pdf")
    expected = Expected(must_show=(("Call 999 straight away if", 1),))
    assert glyph_problems(reader, expected) == []
    assert len(matched) > 20
    # Another document with the same font, in this process: nothing matched again.
    matched.clear()
    started = time.perf_counter()
    assert glyph_problems(PdfReader(example_build / "hair.pdf"), expected) == []
    assert time.perf_counter() - started < 0.5
    assert matched == [] or len(matched) < 5
    # A new process: read from the cache folder.
    monkeypatch.setattr(glyph_shapes, "_VERDICTS", {})
    glyph_shapes._remembered.cache_clear()
    matched.clear()
    assert glyph_problems(reader, expected) == []
    assert matched == []
    assert (tmp_path / "cache" / glyph_shapes.MEMO_FILE).is_file()
    glyph_shapes._remembered.cache_clear()
