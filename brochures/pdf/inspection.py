"""Reads a finished PDF as a patient and a checker would: text contrast, type sizes, what lies where on the page,
fonts, the booking QR code, tags and alternative text."""

from __future__ import annotations

import ctypes
import io
import math
from collections import Counter

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader

from brochures.pdf.accessibility import _check_structure, accessibility
from brochures.pdf.facts import Expected, Inspection, PageFacts
from brochures.pdf.glyph_fonts import _Fonts
from brochures.pdf.glyph_truth import glyph_problems
from brochures.pdf.page_text import (
    _background,
    _fill,
    _images,
    _missing,
    _outside,
    _overlapping,
    _page_warnings,
    _pages,
    _ratio,
)
from brochures.pdf.painted import hidden, paint_page, seen_before, wanted
from brochures.pdf.qr import _code_pages, _qr_codes

BODY_MINIMUM_PT, SMALLEST_PT = 12.0, 9.0


# WCAG AA.
NORMAL_TEXT_RATIO, LARGE_TEXT_RATIO = 4.5, 3.0


# Roughly what a phone camera sees of a page held at reading distance.
RENDER_DPI = 150


def inspect_pdf(
    pdf: bytes, pdf_ua: bool, expected: Expected | None = None, reader: PdfReader | None = None
) -> Inspection:
    """Everything the gate measures on a finished PDF (`reader`: the same PDF, already parsed by pypdf)."""
    return inspect_pages(pdf, pdf_ua, expected, reader)[0]


def inspect_pages(
    pdf: bytes,
    pdf_ua: bool,
    expected: Expected | None = None,
    reader: PdfReader | None = None,
    known: dict[int, PageFacts] | None = None,
) -> tuple[Inspection, list[PageFacts]]:
    """`inspect_pdf`, with what was measured on each page. `known`: pages (numbered from 1) that draw exactly what
    an already-checked page drew, with its facts: they are counted as measured there, not rendered again. What
    concerns the whole file (tags, alternative text, figures, table headers, language, the safety text being there)
    is always checked on this PDF."""
    result = Inspection()
    expected = expected or Expected()
    reader = reader or PdfReader(io.BytesIO(pdf))
    facts = _measure_pages(pdf, result, expected, _code_pages(reader, expected.booking_url), reader, known or {})
    # Each glyph drawn for a digit, "+" or a safety line's letter draws that character.
    result.page_problems += glyph_problems(reader, expected)
    result.accessibility = accessibility(pdf, pdf_ua, reader)
    # An Arabic document says so, for viewers that lay out pages side by side.
    if expected.right_to_left:
        preferences = reader.trailer["/Root"].get("/ViewerPreferences") or {}
        result.accessibility["reading direction right to left"] = preferences.get("/Direction") == "/R2L"
    _check_structure(reader, result)
    return result, facts


def _measure_pages(
    pdf: bytes,
    result: Inspection,
    expected: Expected,
    code_pages: set[int] | None,
    reader: PdfReader | None = None,
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
    painted, lines = [], wanted(expected.must_show, expected.right_to_left)
    measured: list[PageFacts] = []
    known = known or {}

    def measure_word(word: list[tuple], picture: tuple, lowest: list[float]) -> None:
        """A word's contrast, against what lies just above and below it: one sample per word, not per glyph.

        `picture` is the page's rendering, its pixels, and the page's left, top and scale; the word's lowest ratio
        goes into `lowest`, its failures into `result` and `failures`. The word is then emptied.
        """
        if not word:
            return
        image, pixels, left, top, scale = picture
        fill = word[0][4]
        x0, y0 = min(g[0] for g in word), min(g[1] for g in word)
        x1, y1 = max(g[2] for g in word), max(g[3] for g in word)
        box = (
            max(0, round((x0 - left - 1.5) * scale)), max(0, round((top - y1 - 1.5) * scale)),
            min(image.width, round((x1 - left + 1.5) * scale)), min(image.height - 1, round((top - y0 + 1.5) * scale))
        )
        background = _background(pixels, box, fill)
        if background is not None:
            ratio = _ratio(fill, background)
            lowest[0] = min(lowest[0], ratio)
            for *_, large in word:
                if ratio < (LARGE_TEXT_RATIO if large else NORMAL_TEXT_RATIO):
                    result.text_contrast_failures += 1
                    failures[(fill, background)] = ratio
        word.clear()

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
            page_sizes: Counter = Counter()
            page_fonts: dict[str, None] = {}
            # This page's lowest contrast.
            lowest = [21.0]
            codes_before = len(result.qr_codes)
            left, _, _, top = page.get_mediabox()
            trim = page.get_trimbox()
            # One rendering per page. Contrast is measured at half the resolution the QR code is read at:
            # only a page that may hold the code is rendered at full resolution (and reduced for contrast).
            reads_code = bool(expected.booking_url) and (code_pages is None or number in code_pages)
            full = page.render(scale=RENDER_DPI / 72 / (1 if reads_code else 2)).to_pil().convert("RGB")
            image = full.reduce(2) if reads_code else full
            scale = image.width / (page.get_width())
            pixels = (image.tobytes(), image.width)
            text = page.get_textpage()
            handle, matrix = text.raw, pdfium_c.FS_MATRIX()
            boxes = [ctypes.c_double() for _ in range(4)]
            colour = [ctypes.c_uint() for _ in range(4)]
            glyphs = []
            # Text object → (size, fill, large, font)
            styles: dict[int, tuple] = {}
            # The glyphs of the word being read, measured together: (x0, y0, x1, y1, fill, large)
            word: list[tuple] = []
            # What measure_word needs of this page: its rendering and where the rendering lies on it.
            picture = (image, pixels, left, top, scale)

            for index in range(text.count_chars()):
                char = chr(pdfium_c.FPDFText_GetUnicode(handle, index))
                if char.isspace() or char < " " or pdfium_c.FPDFText_IsGenerated(handle, index) == 1:
                    measure_word(word, picture, lowest)
                    continue
                # Size, colour, weight and font are the same for every character of one text object (a run of
                # text WeasyPrint draws in one style): read once per object, not once per character.
                text_object = pdfium_c.FPDFText_GetTextObject(handle, index)
                style = styles.get(ctypes.cast(text_object, ctypes.c_void_p).value)
                if style is None:
                    pdfium_c.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix))
                    size = round(
                        pdfium_c.FPDFText_GetFontSize(handle, index)
                        * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)),
                        1,
                    )
                    pdfium_c.FPDFText_GetFillColor(handle, index, *(ctypes.byref(c) for c in colour))
                    fill = "#{:02X}{:02X}{:02X}".format(*(c.value for c in colour[:3]))
                    large = size >= 18 or (size >= 14 and pdfium_c.FPDFText_GetFontWeight(handle, index) >= 700)
                    style = styles[ctypes.cast(text_object, ctypes.c_void_p).value] = (
                        size, fill, large, fonts.name(handle, index)
                    )
                size, fill, large, font = style
                if size <= 0:
                    continue
                page_sizes[size] += 1
                page_fonts[font] = None
                pdfium_c.FPDFText_GetCharBox(handle, index, *(ctypes.byref(b) for b in boxes))
                x0, x1, y0, y1 = (b.value for b in boxes)
                glyphs.append((x0, y0, x1, y1, char))
                fonts.check(font, text_object, char)
                # A new colour, or a glyph beside the word rather than in line with it, starts a new word.
                if word and (fill != word[0][4] or y1 < word[0][1] or y0 > word[0][3] or x0 < word[-1][0]):
                    measure_word(word, picture, lowest)
                word.append((x0, y0, x1, y1, fill, large))
            measure_word(word, picture, lowest)
            page_texts.append(text.get_text_range())
            images = _images(page)
            painted.append(paint_page(page, handle, page_texts[-1], picture, trim, lines, SMALLEST_PT, images))
            for problem in [*_outside(glyphs, images, trim, page.get_mediabox()), *_overlapping(glyphs)]:
                problems.setdefault(problem, []).append(number)
            result.page_fill.append(_fill(glyphs, images, trim, expected))
            if reads_code:
                for code, problem in _qr_codes(full, RENDER_DPI / 72, expected.booking_url):
                    result.qr_codes.append(code)
                    if problem:
                        problems.setdefault(problem, []).append(number)
            text.close()
            page.close()
            sizes.update(page_sizes)
            result.lowest_text_contrast = min(result.lowest_text_contrast, lowest[0])
            measured.append(
                PageFacts(
                    sizes=tuple(sorted(page_sizes.items())),
                    lowest_contrast=lowest[0],
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
        f"{fill} on {bg}: {ratio}:1" for (fill, bg), ratio in sorted(failures.items(), key=lambda i: i[1])[:5]
    ]
    result.fonts = sorted(fonts.used)
    result.page_problems = [f"{_pages(pages)}: {problem}" for problem, pages in problems.items()]
    result.page_problems += fonts.problems()
    logical = (
        [page.extract_text() for page in reader.pages]
        if expected.right_to_left and expected.must_show and reader
        else None
    )
    result.page_problems += _missing(page_texts, expected.must_show, logical)
    result.page_problems += hidden(painted, expected.must_show, logical)
    if expected.booking_url and expected.booking_url not in result.qr_codes:
        result.page_problems.append(f"no QR code on the page scans to the booking address {expected.booking_url}")
    result.warnings = _page_warnings(result.page_fill, expected)
    return measured


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
            # 64 colours: a third of the bytes, looks the same.
            image.quantize(64).save(buffer, format="PNG", optimize=True)
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
