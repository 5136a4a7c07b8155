"""Reads a finished PDF as a patient and a checker would: text contrast, type sizes, what lies where on the page,
fonts, the booking QR code, tags and alternative text."""

from __future__ import annotations

import ctypes
import io
import math
import sys
from collections import Counter

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from brochures.pdf.accessibility import _check_structure, accessibility
from brochures.pdf.facts import Expected, Inspection, PageFacts
from brochures.pdf.glyph_fonts import _Fonts
from brochures.pdf.glyph_truth import glyph_problems
from brochures.pdf.objects import is_dictionary, open_pdf
from brochures.pdf.page_objects import MEASURED, PageObjects
from brochures.pdf.page_text import (
    UNMEASURED,
    BoxBuffer,
    Picture,
    _background,
    _fill,
    _ink,
    _missing,
    _outside,
    _overlapping,
    _page_warnings,
    _pages,
    _ratio,
    c_pointer,
    char_box,
    drawn_scale,
    measured_alpha,
    said_fill,
    text_object_at,
    with_alpha,
)
from brochures.pdf.painted import hidden, paint_page, seen_before, unmarked, wanted
from brochures.pdf.qr import _code_pages, _qr_codes, stray_codes

BODY_MINIMUM_PT, SMALLEST_PT = 12.0, 9.0


# WCAG AA.
NORMAL_TEXT_RATIO, LARGE_TEXT_RATIO = 4.5, 3.0


# Roughly what a phone camera sees of a page held at reading distance.
RENDER_DPI = 150


def inspect_pdf(
    pdf: bytes, pdf_ua: bool, expected: Expected | None = None, reader: pikepdf.Pdf | None = None
) -> Inspection:
    """Everything the gate measures on a finished PDF (`reader`: the same PDF, already opened: pdf/objects.py)."""
    return inspect_pages(pdf, pdf_ua, expected, reader)[0]


def inspect_pages(
    pdf: bytes,
    pdf_ua: bool,
    expected: Expected | None = None,
    reader: pikepdf.Pdf | None = None,
    known: dict[int, PageFacts] | None = None,
) -> tuple[Inspection, list[PageFacts]]:
    """`inspect_pdf`, with what was measured on each page. `known`: pages (numbered from 1) that draw exactly what
    an already-checked page drew, with its facts: they are counted as measured there, not rendered again. What
    concerns the whole file (tags, alternative text, figures, table headers, language, the safety text being there)
    is always checked on this PDF."""
    if reader is None:
        with open_pdf(pdf) as opened:
            return inspect_pages(pdf, pdf_ua, expected, opened, known)
    result = Inspection()
    expected = expected or Expected()
    facts = _measure_pages(pdf, result, expected, _code_pages(reader, expected.booking_url), known or {})
    # Each glyph drawn for a digit, "+" or a safety line's letter draws that character.
    result.page_problems += glyph_problems(reader, expected)
    result.accessibility = accessibility(pdf, pdf_ua, reader)
    # An Arabic document says so, for viewers that lay out pages side by side.
    if expected.right_to_left:
        preferences = reader.Root.get("/ViewerPreferences")
        result.accessibility["reading direction right to left"] = (
            is_dictionary(preferences) and preferences.get("/Direction") == "/R2L"
        )
    _check_structure(reader, result)
    return result, facts


def _measure_pages(
    pdf: bytes,
    result: Inspection,
    expected: Expected,
    code_pages: dict[int, list] | None,
    known: dict[int, PageFacts] | None = None,
) -> list[PageFacts]:
    """Every page rendered once, at the resolution a phone camera sees: size and contrast of every glyph,
    then where glyphs and images lie, which font draws them, how much of the page is used, and the QR code.
    A page in `known` was measured before, in the PDF it was first printed in: its facts are counted instead."""
    sizes: Counter = Counter()
    failures: dict[tuple, float] = {}
    fonts = _Fonts(expected.font, expected.font_family, expected.font_files, expected.script_fonts)
    # What is wrong → the pages it is wrong on.
    problems: dict[str, list[int]] = {}
    # The text of every page, as a reader (or a screen reader) gets it.
    page_texts = []
    # Where the safety text lies on each page, and which of its glyphs are not seen (painted.py).
    painted = []
    lines = wanted(expected.must_show + tuple((mark, 1) for mark in expected.draft_marks), expected.right_to_left)
    measured: list[PageFacts] = []
    known = known or {}

    document = pdfium.PdfDocument(pdf)
    try:
        for number in range(1, len(document) + 1):
            if number in known:
                facts = known[number]
                sizes.update(dict(facts.sizes))
                result.lowest_text_contrast = min(result.lowest_text_contrast, facts.lowest_contrast)
                fonts.used.update(dict.fromkeys(facts.fonts))
                page_texts.append(facts.text)
                painted.append(seen_before(facts.text))
                result.page_fill.append(facts.fill)
                result.qr_codes.extend(facts.qr_codes)
                measured.append(facts)
                continue
            page = document[number - 1]
            codes_before = len(result.qr_codes)
            trim = page.get_trimbox()
            # One rendering per page, at half the resolution the QR code is read at. On a page that may hold the
            # code, its figure's part is rendered at full resolution too (the whole page, when the tags do not say
            # where it is).
            reads_code = bool(expected.booking_url) and (code_pages is None or number in code_pages)
            places = code_pages.get(number) if code_pages else None
            full, picture = _rendering(page, reads_code, places)
            text = page.get_textpage()
            chars = text.get_text_range()
            # What the page draws, object by object: its images, the groups that fade text (CSS opacity: text is
            # measured as faint as the page shows it) and what is painted over what.
            objects = PageObjects(page)
            page_sizes, page_fonts, glyphs, words = _read_glyphs(text, chars, fonts, objects.faded)
            lowest = _contrast(words, picture, result, failures)
            page_texts.append(chars)
            images = objects.images
            painted.append(paint_page(text.raw, chars, picture, trim, lines, SMALLEST_PT, objects))
            for problem in [*_outside(glyphs, words, images, trim, page.get_mediabox()), *_overlapping(glyphs, words)]:
                problems.setdefault(problem, []).append(number)
            result.page_fill.append(_fill(glyphs, words, images, trim, expected))
            for stray in stray_codes(picture, expected):
                problems.setdefault(
                    f"a QR code gives {stray!r}, not the booking address"
                    + (f" {expected.booking_url!r}" if expected.booking_url else " (the clinic has none)")
                    + " nor the clinic's website: a patient's phone would follow it", []
                ).append(number)
            if reads_code:
                codes = _qr_codes(*full, RENDER_DPI / 72, expected.booking_url)
                if not codes and _code_region(page, places) is not None:
                    # Nothing where the tags put the code's figure (a clinic's CSS may have moved it as it was
                    # painted): the whole page is read, as when the tags say nothing.
                    codes = _qr_codes(*_code_picture(page), RENDER_DPI / 72, expected.booking_url)
                for code, problem in codes:
                    result.qr_codes.append(code)
                    if problem:
                        problems.setdefault(problem, []).append(number)
            text.close()
            page.close()
            sizes.update(page_sizes)
            result.lowest_text_contrast = min(result.lowest_text_contrast, lowest)
            measured.append(
                PageFacts(
                    sizes=tuple(sorted(page_sizes.items())),
                    lowest_contrast=lowest,
                    fonts=tuple(page_fonts),
                    fill=result.page_fill[-1],
                    qr_codes=tuple(result.qr_codes[codes_before:]),
                    text=page_texts[-1],
                )
            )
    finally:
        document.close()
    if sizes:
        result.smallest_text_pt = min(sizes)
        result.body_text_pt = sizes.most_common(1)[0][0]
    result.contrast_examples = [
        f"{said_fill(fill)} on {bg}: {ratio}:1"
        for (fill, bg), ratio in sorted(failures.items(), key=lambda i: i[1])[:5]
    ]
    result.fonts = sorted(fonts.used)
    result.page_problems = [f"{_pages(pages)}: {problem}" for problem, pages in problems.items()]
    result.page_problems += fonts.problems()
    logical = logical_texts(pdf) if expected.right_to_left and expected.must_show else None
    result.page_problems += _missing(page_texts, expected.must_show, logical)
    result.page_problems += hidden(painted, expected.must_show, logical)
    result.page_problems += unmarked(painted, expected.draft_marks, expected.right_to_left)
    if expected.booking_url and expected.booking_url not in result.qr_codes:
        result.page_problems.append(f"no QR code on the page scans to the booking address {expected.booking_url}")
    result.warnings = _page_warnings(result.page_fill, expected)
    return measured


def logical_texts(pdf: bytes) -> list[str]:
    """Each page's text as pypdf reads it: a right-to-left page's in its logical order (page_text.reading_order).

    pypdf is loaded here, by the workers that check a right-to-left document, not by every process of the build (about
    7 MB each). Without the `cryptography` package, which it would load if installed (about 6 MB more) to decrypt
    PDFs: the gate reads only the PDFs the build has just written, which are not encrypted."""
    if "pypdf" not in sys.modules and "cryptography" not in sys.modules:
        sys.modules["cryptography"] = None  # an import of it fails: pypdf takes its own fallback
        try:
            import pypdf  # noqa: F401
        finally:
            del sys.modules["cryptography"]
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _rendering(page, reads_code: bool, places: list | None = None):
    """The page rendered once: the full-resolution picture the QR code is read from (a page that may hold it, else
    None: see `_code_picture`), and the `Picture` the contrast and painted checks read, at half that resolution.

    `places`: where the figures that should be the code lie (PDF points), when the tags say so: then only that part
    of the page, with a margin, is rendered at full resolution, and the whole page at half (a sixth of the pixels)."""
    left, _, _, top = page.get_mediabox()
    region = _code_region(page, places) if reads_code else None
    if reads_code and region is None:
        # The whole page at full resolution, reduced for the checks.
        code = _code_picture(page)
        image = code[0].reduce(2)
        return code, Picture(image.tobytes(), image.width, image.height, image.width * 3, left, top,
                             image.width / page.get_width())
    # The checks read its rows where they lie, not a copy of them.
    pixels, width, height = _render(page, RENDER_DPI / 72 / 2)
    picture = Picture(memoryview(pixels), width, height, width * 3, left, top, width / page.get_width())
    return (_code_picture(page, region) if reads_code else None), picture


def _code_picture(page, crop: tuple[float, float, float, float] | None = None):
    """The page at full resolution, or the part `crop` leaves (`_code_region`), as the QR code is read from it: a PIL
    image, and its pixels as rows × columns × RGB for the decoder, not copied."""
    pixels, width, height = _render(page, RENDER_DPI / 72, crop or (0, 0, 0, 0))
    return Image.frombuffer("RGB", (width, height), pixels, "raw", "RGB", 0, 1), memoryview(pixels).cast(
        "B", (height, width, 3)
    )


def _render(page, scale: float, crop: tuple[float, float, float, float] = (0, 0, 0, 0)) -> tuple[bytearray, int, int]:
    """The page (less `crop`: points cut off its left, bottom, right and top) rendered at `scale` pixels per point,
    as pypdfium2's `render` does by default (annotations drawn, text, images and paths smoothed): its RGB pixels,
    row after row with no padding, and its width and height.

    Into a buffer made white at once, rather than one pdfium makes and fills: a tenth of the rendering's time."""
    page_width, page_height = math.ceil(page.get_width() * scale), math.ceil(page.get_height() * scale)
    cut = [math.ceil(c * scale) for c in crop]
    width, height = page_width - cut[0] - cut[2], page_height - cut[1] - cut[3]
    if width < 1 or height < 1:
        raise ValueError("the part of the page to render is empty")
    pixels = bytearray(b"\xff") * (width * height * 3)
    bitmap = pdfium_c.FPDFBitmap_CreateEx(
        width, height, pdfium_c.FPDFBitmap_BGR, (ctypes.c_ubyte * len(pixels)).from_buffer(pixels), width * 3
    )
    try:
        pdfium_c.FPDF_RenderPageBitmap(
            bitmap, page.raw, -cut[0], -cut[3], page_width, page_height, 0,
            pdfium_c.FPDF_ANNOT | pdfium_c.FPDF_REVERSE_BYTE_ORDER,
        )
    finally:
        pdfium_c.FPDFBitmap_Destroy(bitmap)
    return pixels, width, height


# Around the figure that should be the code, the part of the page read for it: its quiet zone lies inside the
# figure (the code is drawn with its own light margin), and something printed over that margin shows too.
CODE_MARGIN_PT = 8 * 72 / 25.4


def _code_region(page, places: list | None) -> tuple[float, float, float, float] | None:
    """How much of the rendered page to leave out on each side (left, bottom, right, top, in points) to keep the
    figures that should be the code and a margin round them; None to read the whole page (no figure says where
    it is)."""
    if not places or None in places:
        return None
    left, bottom, right, top = page.get_cropbox()
    x0, y0 = min(p[0] for p in places) - CODE_MARGIN_PT, min(p[1] for p in places) - CODE_MARGIN_PT
    x1, y1 = max(p[2] for p in places) + CODE_MARGIN_PT, max(p[3] for p in places) + CODE_MARGIN_PT
    crop = (max(0.0, x0 - left), max(0.0, y0 - bottom), max(0.0, right - x1), max(0.0, top - y1))
    # A figure off the page, or one the margin covers all of: the whole page.
    if crop[0] + crop[2] >= right - left - 1 or crop[1] + crop[3] >= top - bottom - 1:
        return None
    return crop


# One page's text read character by character from pdfium: the out-parameters, made once.
_BOX = BoxBuffer()
_COLOUR = [ctypes.c_uint() for _ in range(4)]
_COLOUR_REFS = [ctypes.byref(c) for c in _COLOUR]
_MATRIX = pdfium_c.FS_MATRIX()


def _read_glyphs(text, chars: str, fonts: _Fonts, faded: dict | None = None) -> tuple[Counter, dict, list, list]:
    """Every glyph of a page's text (`text`, pdfium's text page; `chars`, its text, one character for each of
    its characters, or not when pdfium gives it otherwise): the type sizes (size → glyphs), the fonts, each glyph's
    box and character, (x0, y0, x1, y1, character), and the words they make.

    A word is a run of glyphs in one colour, in line and left to right, between spaces: (first glyph, the glyph
    after its last, x0, y0, x1, y1 of its box, fill, how many of its glyphs count as large text, whether a glyph
    starts before the one two before it ends: see page_text._overlapping)."""
    handle = text.raw
    address = c_pointer(handle)
    faded = faded or {}
    count = text.count_chars()
    if len(chars) != count:
        chars = "".join(chr(pdfium_c.FPDFText_GetUnicode(handle, index)) for index in range(count))
    page_fonts: dict[str, None] = {}
    glyphs: list[tuple] = []
    words: list[tuple] = []
    # Type size → glyphs drawn at it; and how many glyphs of the style `style` have been drawn since it was last
    # counted in.
    page_sizes: Counter = Counter()
    drawn, style = 0, None
    # Text object → (size, fill, large, font): the same for every character of one run of text WeasyPrint draws in
    # one style, read once per object.
    styles: dict[object, tuple] = {}
    # Font → the characters of it already checked: fonts.check says the same of them every time.
    checked: dict[str, set[str]] = {}
    # The text object of the glyph before, and its style and font's checked characters.
    last, size, fill, large, font, seen = None, 0.0, "", False, "", set()
    # The word being read: its first glyph (-1: none), its box, fill, large glyphs and crowding; its first glyph's
    # bottom and top, its last glyph's left, and the right of the two glyphs before.
    start, wx0, wy0, wx1, wy1, wfill, wlarge, fy0, fy1, lx0 = -1, 0.0, 0.0, 0.0, 0.0, "", 0, 0.0, 0.0, 0.0
    crowded, right1, right2 = False, 0.0, 0.0
    get_char_box, buffer, read_box = char_box, _BOX.buffer, _BOX.read
    left, right, bottom, top = _BOX.places
    for index, char in enumerate(chars):
        if char == "\ufffe":
            # pdfium's text gives a hyphen it put at a line's end so; one character at a time, as a control character.
            char = chr(pdfium_c.FPDFText_GetUnicode(handle, index))
        # What pdfium makes up between words and lines (FPDFText_IsGenerated) is a space or a line break: skipped
        # here with the spaces the page draws.
        if char.isspace() or char < " ":
            if start >= 0:
                words.append((start, len(glyphs), wx0, wy0, wx1, wy1, wfill, wlarge, crowded))
                start = -1
            continue
        key = text_object_at(address, index)
        if key != last:
            if drawn:
                page_sizes[style[0]] += drawn
                drawn = 0
            last, style = key, styles.get(key)
            if style is None:
                style = styles[key] = _style(handle, index, fonts, faded.get(key, 1.0))
                if style[0] > 0:
                    page_fonts[style[3]] = None
            size, fill, large, font = style
            seen = checked.setdefault(font, set())
        if size <= 0:
            continue
        drawn += 1
        get_char_box(address, index, left, right, bottom, top)
        x0, x1, y0, y1 = read_box(buffer)
        if char not in seen:
            seen.add(char)
            fonts.check(font, pdfium_c.FPDFText_GetTextObject(handle, index), char)
        # A new colour, or a glyph beside the word rather than in line with it, starts a new word.
        if start >= 0 and (fill != wfill or y1 < fy0 or y0 > fy1 or x0 < lx0):
            words.append((start, len(glyphs), wx0, wy0, wx1, wy1, wfill, wlarge, crowded))
            start = -1
        if start < 0:
            start, wx0, wy0, wx1, wy1, wfill, wlarge, fy0, fy1 = len(glyphs), x0, y0, x1, y1, fill, 0, y0, y1
            # No glyph two before the second one.
            crowded, right1, right2 = False, x1, -math.inf
        else:
            if x0 < right2:
                crowded = True
            right1, right2 = x1, right1
            # Left to right: the word's left edge is its first glyph's.
            if y0 < wy0:
                wy0 = y0
            if x1 > wx1:
                wx1 = x1
            if y1 > wy1:
                wy1 = y1
        lx0 = x0
        wlarge += large
        glyphs.append((x0, y0, x1, y1, char))
    if start >= 0:
        words.append((start, len(glyphs), wx0, wy0, wx1, wy1, wfill, wlarge, crowded))
    if drawn:
        page_sizes[style[0]] += drawn
    return page_sizes, page_fonts, glyphs, words


def _contrast(words: list[tuple], picture: Picture, result: Inspection, failures: dict[tuple, float]) -> float:
    """Each word's contrast (`_read_glyphs`), against what lies just above and below it on the page's rendering
    `picture`: one sample per word, not per glyph. Each glyph below its minimum is counted into `result`, with its
    colours and ratio into `failures`. Gives the page's lowest ratio."""
    lowest = 21.0
    left, top, scale, width, height = picture.left, picture.top, picture.scale, picture.width, picture.height
    for first, end, x0, y0, x1, y1, fill, large, _ in words:
        box = (
            max(0, round((x0 - left - 1.5) * scale)), max(0, round((top - y1 - 1.5) * scale)),
            min(width, round((x1 - left + 1.5) * scale)), min(height - 1, round((top - y0 + 1.5) * scale)),
        )
        background = _background(picture, box, fill)
        if background is None:
            continue
        if fill.endswith(UNMEASURED):
            # Faded by a soft mask: as strong as its strokes show on the page.
            inner = (round((x0 - left) * scale), round((top - y1) * scale), round((x1 - left) * scale),
                     round((top - y0) * scale))
            fill = with_alpha(fill[:7], measured_alpha(picture, inner, _ink(fill), _ink(background)))
        ratio = _ratio(fill, background)
        if ratio < lowest:
            lowest = ratio
        if ratio < NORMAL_TEXT_RATIO:
            failing = end - first - large + (large if ratio < LARGE_TEXT_RATIO else 0)
            if failing:
                result.text_contrast_failures += failing
                failures[(fill, background)] = ratio
    return lowest


def _style(handle, index: int, fonts: _Fonts, opacity: float = 1.0) -> tuple[float, str, bool, str]:
    """The size (as drawn: its text's size, scaled as its matrix scales it), fill colour, whether it counts as
    large text, and font of the character at `index`, and of its whole text object. The fill colour of text drawn
    at less than full opacity (its own, times `opacity`, its groups': PageObjects.faded) carries its alpha
    ("#RRGGBBAA")."""
    pdfium_c.FPDFText_GetMatrix(handle, index, ctypes.byref(_MATRIX))
    m = _MATRIX
    size = round(pdfium_c.FPDFText_GetFontSize(handle, index) * drawn_scale(m), 1)
    pdfium_c.FPDFText_GetFillColor(handle, index, *_COLOUR_REFS)
    rgb = f"#{_COLOUR[0].value:02X}{_COLOUR[1].value:02X}{_COLOUR[2].value:02X}"
    fill = rgb + UNMEASURED if opacity == MEASURED else with_alpha(rgb, _COLOUR[3].value / 255 * opacity)
    large = size >= 18 or (size >= 14 and pdfium_c.FPDFText_GetFontWeight(handle, index) >= 700)
    return size, fill, large, fonts.name(handle, index)


def page_pictures(pdf: bytes, width_px: int, pages: int | None = None) -> list[bytes]:
    """PNG pictures of a PDF's pages (the first `pages` of them, or all), each `width_px` wide:
    for people to look at."""
    document = pdfium.PdfDocument(pdf)
    try:
        pictures = []
        for index in range(min(len(document), pages or len(document))):
            page = document[index]
            image = page.render(scale=width_px / page.get_width()).to_pil().convert("RGB")
            buffer = io.BytesIO()
            # 64 colours (a third of the bytes, looks the same), chosen by the fast octree: half the time of the
            # default, and a little smaller. Not optimized: a third of the time for 4% of the bytes.
            image.quantize(64, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
            pictures.append(buffer.getvalue())
        return pictures
    finally:
        document.close()


def inspection_failures(inspection: Inspection) -> list[str]:
    """What makes a PDF unfit for patients, whatever the clinic's settings."""
    found = [f"accessibility check failed: {name}" for name, ok in inspection.accessibility.items() if not ok]
    if inspection.text_contrast_failures:
        found.append(
            f"{inspection.text_contrast_failures} characters of text are below WCAG AA contrast "
            f"({', '.join(inspection.contrast_examples)})"
        )
    if inspection.smallest_text_pt and inspection.smallest_text_pt < SMALLEST_PT:
        found.append(f"some text is {inspection.smallest_text_pt} pt, below the {SMALLEST_PT:g} pt minimum")
    if inspection.body_text_pt and inspection.body_text_pt < BODY_MINIMUM_PT:
        found.append(f"body text is {inspection.body_text_pt} pt, below the {BODY_MINIMUM_PT:g} pt minimum")
    return found + inspection.page_problems
