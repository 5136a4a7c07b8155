"""Reads a finished PDF as a patient and a checker would: text contrast, type sizes, what lies where on the page,
fonts, the booking QR code, tags and alternative text."""

from __future__ import annotations

import ctypes
import functools
import io
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from struct import error as struct_error

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import zxingcpp
from fontTools.ttLib import TTFont, TTLibError
from pypdf import PdfReader

from .branding import contrast

BODY_MINIMUM_PT, SMALLEST_PT = 12.0, 9.0
NORMAL_TEXT_RATIO, LARGE_TEXT_RATIO = 4.5, 3.0  # WCAG AA
MM = 72 / 25.4
RENDER_DPI = 150       # roughly what a phone camera sees of a page held at reading distance
SAFE_MM = 3.0          # text stays this far inside the (trimmed) page edge: printers and cutters are not exact
QR_MINIMUM_MM = 20.0   # smallest printed QR code a phone reliably focuses on
QR_MODULE_MM = 0.4     # smallest printed module (one black square) a phone camera resolves at reading distance
QR_QUIET_MODULES = 4   # the light margin a QR code needs around it (ISO/IEC 18004)
NEAR_EMPTY = 0.15      # a page using less of its content area than this holds only a stray line or two


@dataclass
class Inspection:
    """What was measured on the PDF itself."""

    smallest_text_pt: float = 0.0
    body_text_pt: float = 0.0
    lowest_text_contrast: float = 21.0
    text_contrast_failures: int = 0
    contrast_examples: list[str] = field(default_factory=list)
    accessibility: dict[str, bool] = field(default_factory=dict)
    # What is wrong on the rendered page (fails the document): text or images off the page, text over
    # text, a QR code that does not scan, glyphs from another font or missing, header cells without scope.
    page_problems: list[str] = field(default_factory=list)
    # What a person should look at (the document is still built): over the page budget, near-empty pages.
    warnings: list[str] = field(default_factory=list)
    page_fill: list[float] = field(default_factory=list)  # share of each page's content area holding content, 0–1
    fonts: list[str] = field(default_factory=list)  # the fonts that draw the text, as named in the PDF
    qr_codes: list[str] = field(default_factory=list)  # what each QR code on the rendered pages decodes to
    table_headers: int = 0  # header cells in the structure tree (each must carry its /Scope)


@dataclass(frozen=True)
class Expected:
    """What the document was meant to look like, for the page checks."""

    font: str | None = None  # every glyph comes from this font (WeasyPrint's name for the clinic's font)
    font_family: str = "the clinic's font"  # its name, as the clinic wrote it
    font_files: tuple[str, ...] = ()  # its files: the characters it can draw (else read from the embedded subset)
    # The fonts the project chose for the language's script (Noto Sans Arabic): (WeasyPrint's name, name, files).
    script_fonts: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    booking_url: str | None = None  # every QR code gives this, and there is one when it is set
    page_budget: int | None = None  # pages the layout is meant to fit (a warning beyond it)
    cover_pages: tuple[int, ...] = ()  # pages meant to hold little (a booklet's cover)
    must_show: tuple[tuple[str, int], ...] = ()  # safety text a patient must find on the pages, and how often
    right_to_left: bool = False  # an Arabic document: its text is also read in logical order (pypdf) for the safety check
    margin_top_mm: float = 13.0  # the page margins of common.css: the content area lies between them
    margin_bottom_mm: float = 17.0


@dataclass(frozen=True)
class PageFacts:
    """What was measured on one page that passed every page check: enough to count that page again in another
    PDF that prints the very same laid-out page (a booklet binding leaflets already checked), without rendering
    and reading it again."""

    sizes: tuple[tuple[float, int], ...]  # type size (pt) → glyphs drawn at it
    lowest_contrast: float
    fonts: tuple[str, ...]
    fill: float
    qr_codes: tuple[str, ...]
    text: str


def inspect_pdf(pdf: bytes, pdf_ua: bool, expected: Expected | None = None, reader: PdfReader | None = None) -> Inspection:
    """Everything the gate measures on a finished PDF (`reader`: the same PDF, already parsed by pypdf)."""
    return inspect_pages(pdf, pdf_ua, expected, reader)[0]


def inspect_pages(pdf: bytes, pdf_ua: bool, expected: Expected | None = None, reader: PdfReader | None = None,
                  known: dict[int, PageFacts] | None = None) -> tuple[Inspection, list[PageFacts]]:
    """`inspect_pdf`, with what was measured on each page. `known`: pages (numbered from 1) that draw exactly what
    an already-checked page drew, with its facts: they are counted as measured there, not rendered again. What
    concerns the whole file (tags, alternative text, figures, table headers, language, the safety text being there)
    is always checked on this PDF."""
    result = Inspection()
    expected = expected or Expected()
    reader = reader or PdfReader(io.BytesIO(pdf))
    facts = _measure_pages(pdf, result, expected, _code_pages(reader, expected.booking_url), reader, known or {})
    result.accessibility = accessibility(pdf, pdf_ua, reader)
    if expected.right_to_left:  # an Arabic document says so, for viewers that lay out pages side by side
        preferences = reader.trailer["/Root"].get("/ViewerPreferences") or {}
        result.accessibility["reading direction right to left"] = preferences.get("/Direction") == "/R2L"
    _check_structure(reader, result)
    return result, facts


def _code_pages(reader: PdfReader, url: str | None) -> set[int] | None:
    """The pages whose figures are described by the booking address (the QR code's alternative text), so only
    they are searched for the code; None (every page) when no figure says so."""
    if not url:
        return set()
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages, start=1)}
    found = {pages.get(getattr(figure.raw_get("/Pg"), "idnum", None))
             for figure in _elements(reader.trailer["/Root"].get("/StructTreeRoot"), "/Figure")
             if "/Pg" in figure and url in str(figure.get("/Alt", ""))}
    return (found - {None}) or None


def _measure_pages(pdf: bytes, result: Inspection, expected: Expected, code_pages: set[int] | None,
                   reader: PdfReader | None = None, known: dict[int, PageFacts] | None = None) -> list[PageFacts]:
    """Every page rendered once, at the resolution a phone camera sees: size and contrast of every glyph,
    then where glyphs and images lie, which font draws them, how much of the page is used, and the QR code.
    A page in `known` was measured before, in the PDF it was first printed in: its facts are counted instead."""
    sizes: Counter = Counter()
    failures: dict[tuple, float] = {}
    fonts = _Fonts(expected.font, expected.font_family, expected.font_files, expected.script_fonts)
    problems: dict[str, list[int]] = {}  # what is wrong → the pages it is wrong on
    page_texts = []  # the text of every page, as a reader (or a screen reader) gets it
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
                result.page_fill.append(facts.fill)
                result.qr_codes.extend(facts.qr_codes)
                measured.append(facts)
                continue
            page = document[number - 1]
            page_sizes: Counter = Counter()
            page_fonts: dict[str, None] = {}
            lowest = [21.0]  # this page's lowest contrast
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
            styles: dict[int, tuple] = {}  # text object → (size, fill, large, font)
            word: list[tuple] = []  # the glyphs of the word being read, measured together: (x0, y0, x1, y1, fill, large)

            def measure_word() -> None:
                """A word's contrast, against what lies just above and below it: one sample per word, not per glyph."""
                if not word:
                    return
                fill = word[0][4]
                x0, y0 = min(g[0] for g in word), min(g[1] for g in word)
                x1, y1 = max(g[2] for g in word), max(g[3] for g in word)
                box = (max(0, round((x0 - left - 1.5) * scale)), max(0, round((top - y1 - 1.5) * scale)),
                       min(image.width, round((x1 - left + 1.5) * scale)), min(image.height - 1, round((top - y0 + 1.5) * scale)))
                background = _background(pixels, box, fill)
                if background is not None:
                    ratio = _ratio(fill, background)
                    lowest[0] = min(lowest[0], ratio)
                    for *_, large in word:
                        if ratio < (LARGE_TEXT_RATIO if large else NORMAL_TEXT_RATIO):
                            result.text_contrast_failures += 1
                            failures[(fill, background)] = ratio
                word.clear()

            for index in range(text.count_chars()):
                char = chr(pdfium_c.FPDFText_GetUnicode(handle, index))
                if char.isspace() or char < " " or pdfium_c.FPDFText_IsGenerated(handle, index) == 1:
                    measure_word()
                    continue
                # Size, colour, weight and font are the same for every character of one text object (a run of
                # text WeasyPrint draws in one style): read once per object, not once per character.
                text_object = pdfium_c.FPDFText_GetTextObject(handle, index)
                style = styles.get(ctypes.cast(text_object, ctypes.c_void_p).value)
                if style is None:
                    pdfium_c.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix))
                    size = round(pdfium_c.FPDFText_GetFontSize(handle, index) * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)), 1)
                    pdfium_c.FPDFText_GetFillColor(handle, index, *(ctypes.byref(c) for c in colour))
                    fill = "#{:02X}{:02X}{:02X}".format(*(c.value for c in colour[:3]))
                    large = size >= 18 or (size >= 14 and pdfium_c.FPDFText_GetFontWeight(handle, index) >= 700)
                    style = styles[ctypes.cast(text_object, ctypes.c_void_p).value] = (size, fill, large, fonts.name(handle, index))
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
                    measure_word()
                word.append((x0, y0, x1, y1, fill, large))
            measure_word()
            page_texts.append(text.get_text_range())
            images = _images(page)
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
            measured.append(PageFacts(sizes=tuple(sorted(page_sizes.items())), lowest_contrast=lowest[0],
                                      fonts=tuple(page_fonts), fill=result.page_fill[-1],
                                      qr_codes=tuple(result.qr_codes[codes_before:]), text=page_texts[-1]))
    finally:
        document.close()
    if sizes:
        result.smallest_text_pt = min(sizes)
        result.body_text_pt = sizes.most_common(1)[0][0]
    result.contrast_examples = [f"{fill} on {bg}: {ratio}:1" for (fill, bg), ratio in sorted(failures.items(), key=lambda i: i[1])[:5]]
    result.fonts = sorted(fonts.used)
    result.page_problems = [f"{_pages(pages)}: {problem}" for problem, pages in problems.items()]
    result.page_problems += fonts.problems()
    logical = [page.extract_text() for page in reader.pages] if expected.right_to_left and expected.must_show and reader else None
    result.page_problems += _missing(page_texts, expected.must_show, logical)
    if expected.booking_url and expected.booking_url not in result.qr_codes:
        result.page_problems.append(f"no QR code on the page scans to the booking address {expected.booking_url}")
    result.warnings = _page_warnings(result.page_fill, expected)
    return measured


LAM_ALEF = re.compile("[لاأإآ]{2,}")
ARABIC_RUN = re.compile(r"[\u0600-\u06FF\u0750-\u077F\s]+|[^\u0600-\u06FF\u0750-\u077F]+")


def squeezed(text: str) -> str:
    """Text as the safety check compares it: without spaces, case or punctuation. A line break does not hide a
    sentence, nor a word hyphenated at a line's end. In right-to-left text, PDF readers move a sentence's full stop
    and turn brackets round; and a lam-alef ligature (لا, لأ) is one glyph whose letters they give back in either
    order, so each run of lams and alefs is compared as its letters, sorted."""
    text = "".join(c for c in "".join(text.split()).casefold() if not unicodedata.category(c).startswith("P") and c != "\ufffe")
    return LAM_ALEF.sub(lambda run: "".join(sorted(run.group(0))), text)


def reading_order(page_text: str) -> str:
    """A right-to-left page's text in reading order, from pypdf's: pypdf gives each line's runs (Arabic, and Latin
    or digits) left to right as they are drawn, each run itself in reading order. So each line's runs are put back
    right to left: ".020 7946 0000 اتصل بنا على الرقم" reads "اتصل بنا على الرقم .020 7946 0000"."""
    return "\n".join("".join(reversed(ARABIC_RUN.findall(line))) for line in page_text.splitlines())


def _missing(page_texts: list[str], must_show: tuple[tuple[str, int], ...], logical_texts: list[str] | None = None) -> list[str]:
    """The safety text that is not on the pages (a template that leaves a section out, text cut off).

    `logical_texts`, for right-to-left documents: the pages' text as pypdf reads it, put in reading order (pdfium
    turns a phone number's groups round inside Arabic text). A line must be found whole, as the patient reads it,
    in one of the two: its words and numbers in their order."""
    texts = [squeezed(re.sub(r"[\u2010\u00ad]", "", " ".join(page_texts)))]
    if logical_texts is not None:
        texts.append(squeezed(" ".join(reading_order(text) for text in logical_texts)))
    missing = [line for line, times in must_show if not any(text.count(squeezed(line)) >= times for text in texts)]
    if not missing:
        return []
    listed = "; ".join(f'"{text}"' for text in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return [f"safety information is missing from the pages: {listed}"]


def _images(page) -> list[tuple[float, float, float, float]]:
    """The bounds of every raster image on a page, inside drawings too. (SVG images are drawn as paths:
    their places are checked from the structure tree's figure boxes.)"""
    return [obj.get_bounds() for obj in page.get_objects() if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]


def _pages(numbers: list[int]) -> str:
    """"page 3", "pages 2, 5", "pages 2–19": how a problem found on several pages is named once."""
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"pages {numbers[0]}–{numbers[-1]}"
    return "pages " + ", ".join(map(str, numbers))


def _outside(glyphs: list, images: list, trim, media) -> list[str]:
    """Glyphs closer than SAFE_MM to the trimmed page's edge (or beyond it), and images beyond the sheet
    (for a press file, images may reach into the bleed)."""
    left, bottom, right, top = trim
    safe = SAFE_MM * MM
    found = []
    stray = [g for g in glyphs if g[0] < left + safe - 0.5 or g[2] > right - safe + 0.5 or g[1] < bottom + safe - 0.5 or g[3] > top - safe + 0.5]
    if stray:
        sample = "".join(g[4] for g in stray[:30])
        widest = max(max(left + safe - g[0], g[2] - right + safe, bottom + safe - g[1], g[3] - top + safe) for g in stray)
        found.append(f"text (\"{sample}\") runs {widest / MM:.0f} mm past the page's safe area ({SAFE_MM:g} mm inside the edge)")
    for x0, y0, x1, y1 in images:
        over = max(media[0] - x0, x1 - media[2], media[1] - y0, y1 - media[3])
        if over > 1:
            found.append(f"an image reaches {over / MM:.0f} mm beyond the page edge")
    return found


def _overlapping(glyphs: list) -> list[str]:
    """Text drawn over other text: glyph boxes that share much of their area, other than neighbours on a line
    (kerned or italic neighbours may touch). Glyphs are compared within bands of the page's height, left to right,
    each only with those that start before it ends: on a line of text that is its next neighbour or two."""
    band = 24.0
    bands: dict[int, list[int]] = {}
    for i, (x0, y0, x1, y1, _) in enumerate(glyphs):
        for row in range(int(y0 // band), int(y1 // band) + 1):
            bands.setdefault(row, []).append(i)
    clashes: dict[int, int] = {}
    for members in bands.values():
        members.sort(key=lambda i: glyphs[i][0])
        for position, first in enumerate(members):
            ax0, ay0, ax1, ay1, _ = glyphs[first]
            for second in members[position + 1:]:
                bx0, by0, bx1, by1, _ = glyphs[second]
                if bx0 >= ax1:
                    break  # this one, and every one after it, starts to the right of `first`
                a, b = min(first, second), max(first, second)
                if b - a <= 1 or a in clashes:
                    continue
                width, height = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
                if width <= 0 or height <= 0:
                    continue
                smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
                if smaller > 0 and width * height > 0.25 * smaller:
                    clashes[a] = b
    if not clashes:
        return []
    pairs = ", ".join(f"\"{glyphs[a][4]}\" over \"{glyphs[b][4]}\"" for a, b in sorted(clashes.items())[:5])
    return [f"text overlaps other text ({pairs})"]


def _fill(glyphs: list, images: list, trim, expected: Expected) -> float:
    """The share of the page's content area (between the page margins) that content spans, top to bottom."""
    left, bottom, right, top = trim
    area_top, area_bottom = top - expected.margin_top_mm * MM, bottom + expected.margin_bottom_mm * MM
    spans = [(y0, y1) for x0, y0, x1, y1, *_ in [*glyphs, *images] if y1 > area_bottom and y0 < area_top]
    if not spans or area_top <= area_bottom:
        return 0.0
    low, high = max(area_bottom, min(y0 for y0, _ in spans)), min(area_top, max(y1 for _, y1 in spans))
    return round(max(0.0, high - low) / (area_top - area_bottom), 2)


def _page_warnings(fill: list[float], expected: Expected) -> list[str]:
    warnings = []
    if expected.page_budget and len(fill) > expected.page_budget:
        over = len(fill) - expected.page_budget
        warnings.append(f"{len(fill)} pages, {over} more than the {expected.page_budget}-page budget "
                        f"(one sheet, folded): shorten the content or check the layout")
    for number, share in enumerate(fill, start=1):
        if share < NEAR_EMPTY and number not in expected.cover_pages:
            warnings.append(f"page {number} is nearly empty: its content fills {share:.0%} of the page")
    return warnings


class _Fonts:
    """Which font draws each glyph, and whether that font has the glyph at all (else it draws .notdef, an empty box)."""

    def __init__(self, intended: str | None, family: str, files: tuple[str, ...], script_fonts=()):
        self.intended, self.family = intended, family
        self._family = frozenset().union(*(_font_file_characters(path) for path in files)) if files else None
        # The language's script fonts: each drawn glyph of theirs must be one they have.
        self._scripts = {css: (name, frozenset().union(*(_font_file_characters(path) for path in paths)))
                         for css, name, paths in script_fonts}
        self.used: dict[str, None] = {}
        self._maps: dict[str, set[int] | None] = {}
        self._foreign: dict[str, dict[str, None]] = {}
        self._missing: dict[str, dict[str, None]] = {}
        self._name = ctypes.create_string_buffer(256)
        self._flags = ctypes.c_int()

    def name(self, handle, index: int) -> str:
        """The font that draws the character at `index`, without its subset tag (ABCDEF+)."""
        pdfium_c.FPDFText_GetFontInfo(handle, index, self._name, len(self._name), ctypes.byref(self._flags))
        name = self._name.value.decode("latin-1")
        name = name.split("+", 1)[1] if len(name) > 7 and name[6] == "+" else name
        self.used[name] = None
        return name

    def check(self, name: str, text_object, char: str) -> None:
        """Whether `char`, drawn by the font `name` (in `text_object`), comes from a font the project chose, and
        that font has a glyph for it."""
        script = next((css for css in self._scripts if name == css or name.startswith(css + "-")), None)
        if script is not None:
            if ord(char) not in self._scripts[script][1]:
                self._missing.setdefault(self._scripts[script][0], {})[char] = None
            return
        if self.intended and not (name == self.intended or name.startswith(self.intended + "-")):
            # Another font drew it: already wrong. (Its subset's character map cannot tell a missing glyph
            # from a shaped one, such as an Arabic letter's joining form.)
            self._foreign.setdefault(name, {})[char] = None
            return
        if self._family is not None:
            codes = self._family
        else:
            if name not in self._maps:
                self._maps[name] = _character_map(pdfium_c.FPDFTextObj_GetFont(text_object))
            codes = self._maps[name]
        if codes is not None and ord(char) not in codes:
            self._missing.setdefault(name, {})[char] = None

    def problems(self) -> list[str]:
        found = [f"{self.family} cannot draw {_quote(chars)}, so they are drawn in {name} instead"
                 for name, chars in self._foreign.items()]
        found += [f"{self.family if self.intended and name.startswith(self.intended) else name} has no glyph for "
                  f"{_quote(chars)}: they print as empty boxes" for name, chars in self._missing.items()]
        return found


def _quote(chars) -> str:
    chars = list(chars)
    shown = "".join(chars[:20]) + ("…" if len(chars) > 20 else "")
    codes = ", ".join(f"U+{ord(c):04X}" for c in chars[:5])
    return f"\"{shown}\" ({codes}{', …' if len(chars) > 5 else ''})"


@functools.lru_cache(maxsize=32)
def _font_file_characters(path: str) -> frozenset[int]:
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or {})
    except (TTLibError, OSError, KeyError, AssertionError, ValueError, struct_error):
        return frozenset()


def _character_map(font) -> set[int] | None:
    """The characters an embedded font can draw (its cmap), or None when that cannot be read."""
    if not font:
        return None
    length = ctypes.c_size_t()
    if not pdfium_c.FPDFFont_GetFontData(font, None, 0, ctypes.byref(length)) or not length.value:
        return None
    data = (ctypes.c_uint8 * length.value)()
    pdfium_c.FPDFFont_GetFontData(font, data, length.value, ctypes.byref(length))
    try:
        with TTFont(io.BytesIO(bytes(data)), lazy=True) as program:
            cmap = program.getBestCmap() if "cmap" in program else None
    except (TTLibError, OSError, KeyError, AssertionError, ValueError, struct_error):
        return None
    return set(cmap) if cmap else None


def _qr_codes(image, scale: float, url: str | None) -> list[tuple[str, str | None]]:
    """Each QR code on a rendered page, with what is wrong with it (or None): what it gives, its printed size,
    its module size and its quiet zone."""
    found = []
    for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False):
        corners = code.position
        xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
        ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y, corners.bottom_right.y]
        size_mm = (max(xs) - min(xs)) / scale / MM
        modules = _qr_modules(code)
        problem = None
        if url is not None and code.text != url:
            problem = f"the QR code gives {code.text!r}, not the booking address {url!r}"
        elif size_mm < QR_MINIMUM_MM - 0.5:
            problem = f"the QR code is {size_mm:.0f} mm wide, below the {QR_MINIMUM_MM:g} mm a phone needs"
        elif modules and size_mm / modules < QR_MODULE_MM:
            problem = (f"the QR code's {modules} modules are {size_mm / modules:.2f} mm each, below "
                       f"{QR_MODULE_MM} mm: print it at least {modules * QR_MODULE_MM:.0f} mm wide")
        elif not _quiet(image, min(xs), min(ys), max(xs), max(ys), (max(xs) - min(xs)) / (modules or 21) * QR_QUIET_MODULES):
            problem = "something is printed in the QR code's quiet zone (the light margin it needs)"
        found.append((code.text, problem))
    return found


def _qr_modules(code) -> int:
    """Modules per side, from the QR version zxing reports (21 for version 1, 4 more per version)."""
    extra = getattr(code, "extra", None)  # zxing-cpp 2.3 and later
    version = str(extra.get("Version", "")) if isinstance(extra, dict) else ""
    return 17 + 4 * int(version) if version.isdigit() else 0


def _quiet(image, x0: float, y0: float, x1: float, y1: float, margin: float) -> bool:
    """True when the band `margin` pixels wide around the symbol is one light colour."""
    outer = (max(0, round(x0 - margin)), max(0, round(y0 - margin)), min(image.width, round(x1 + margin)), min(image.height, round(y1 + margin)))
    inner_margin = 2  # zxing's corners lie on the symbol's outer edge: keep clear of anti-aliasing
    bands = [(outer[0], outer[1], outer[2], round(y0) - inner_margin), (outer[0], round(y1) + inner_margin, outer[2], outer[3]),
             (outer[0], outer[1], round(x0) - inner_margin, outer[3]), (round(x1) + inner_margin, outer[1], outer[2], outer[3])]
    for band in bands:
        if band[2] <= band[0] or band[3] <= band[1]:
            continue
        darkest = min(image.crop(band).convert("L").getextrema()[0], 255)
        if darkest < 128:
            return False
    return True


def page_pictures(pdf: bytes, width_px: int, pages: int | None = None) -> list[bytes]:
    """PNG pictures of a PDF's pages (the first `pages` of them, or all), each `width_px` wide: for people to look at."""
    document = pdfium.PdfDocument(pdf)
    try:
        pictures = []
        for index in range(min(len(document), pages or len(document))):
            page = document[index]
            image = page.render(scale=width_px / page.get_width()).to_pil().convert("RGB")
            buffer = io.BytesIO()
            image.quantize(64).save(buffer, format="PNG", optimize=True)  # 64 colours: a third of the bytes, looks the same
            pictures.append(buffer.getvalue())
        return pictures
    finally:
        document.close()


def inspection_failures(inspection: Inspection) -> list[str]:
    """What makes a PDF unfit for patients, whatever the clinic's settings."""
    found = [f"accessibility check failed: {name}" for name, ok in inspection.accessibility.items() if not ok]
    if inspection.text_contrast_failures:
        found.append(f"{inspection.text_contrast_failures} characters of text are below WCAG AA contrast "
                     f"({', '.join(inspection.contrast_examples)})")
    if inspection.smallest_text_pt and inspection.smallest_text_pt < SMALLEST_PT:
        found.append(f"some text is {inspection.smallest_text_pt} pt, below the {SMALLEST_PT:g} pt minimum")
    if inspection.body_text_pt and inspection.body_text_pt < BODY_MINIMUM_PT:
        found.append(f"body text is {inspection.body_text_pt} pt, below the {BODY_MINIMUM_PT:g} pt minimum")
    return found + inspection.page_problems


def _background(image: tuple[bytes, int], box: tuple[int, int, int, int], fill: str) -> str | None:
    """The most common colour just above and below a glyph (the gap between lines) that is not its own ink.

    Sampling the glyph's own area would find anti-aliased edge pixels, a blend of ink and
    background, and mistake them for the background."""
    left, top, right, bottom = box
    if bottom - top < 2 or right <= left:
        return None
    pixels, width = image  # the page's RGB bytes, read once per page rather than cropped per word
    colours = []
    for row in (top, bottom):
        line = pixels[(row * width + left) * 3:(row * width + right) * 3]
        if line == line[:3] * (len(line) // 3):  # one colour, as the gap between lines mostly is
            colours.append((len(line) // 3, tuple(line[:3])))
        else:
            colours += [(count, tuple(rgb)) for rgb, count in Counter(line[i:i + 3] for i in range(0, len(line), 3)).items()]
    ink = tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5))
    for _, rgb in sorted(colours, reverse=True):
        if sum(abs(a - b) for a, b in zip(rgb, ink)) > 60:
            return "#{:02X}{:02X}{:02X}".format(*rgb)
    return None


@functools.lru_cache(maxsize=4096)
def _ratio(fill: str, background: str) -> float:
    return round(contrast(fill, background), 2)


def accessibility(pdf: bytes, pdf_ua: bool, reader: PdfReader | None = None) -> dict[str, bool]:
    """The checks a screen-reader user depends on, each pass or fail."""
    reader = reader or PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data() if "/Metadata" in root else b""
    figures = _elements(root.get("/StructTreeRoot"), "/Figure")
    checks = {
        "tagged": bool(root.get("/MarkInfo", {}).get("/Marked")),
        "structure tree": "/StructTreeRoot" in root,
        "document language": bool(root.get("/Lang")),
        "title shown in title bar": bool((reader.metadata or {}).get("/Title")) and bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle")),
        "every figure has alternative text": bool(figures) and all(str(f.get("/Alt", "")).strip() for f in figures),
    }
    if pdf_ua:
        checks["identified as PDF/UA"] = b"pdfuaid:part" in xmp
    return checks


def _check_structure(reader: PdfReader, result: Inspection) -> None:
    """Figures lie on their page, and every table header cell tells a screen reader what it heads:
    /A << /O /Table /Scope /Column or /Row >>."""
    tree = reader.trailer["/Root"].get("/StructTreeRoot")
    result.page_problems += _figures_outside(reader, _elements(tree, "/Figure"))
    headers = _elements(tree, "/TH")
    result.table_headers = len(headers)
    missing = [header for header in headers if _scope(header) not in ("/Column", "/Row", "/Both")]
    if headers:  # shown with the other accessibility checks in the scorecard and the report
        result.accessibility["every table header says what it heads"] = not missing
    if missing:
        result.page_problems.append(f"{len(missing)} of {len(headers)} table header cells carry no /Scope in the "
                                    "structure tree: a screen reader cannot tell which cells they head")


def _figures_outside(reader: PdfReader, figures: list) -> list[str]:
    """Figures (the logo, icons, the diagram, the QR code: SVG drawn as paths) laid out beyond the trimmed page.
    WeasyPrint records each figure's box in CSS pixels from the trimmed page's top left corner."""
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages, start=1)}
    found = []
    for figure in figures:
        box, page = figure.get("/A", {}).get("/BBox"), figure.raw_get("/Pg") if "/Pg" in figure else None
        number = pages.get(getattr(page, "idnum", None))
        if box is None or number is None:
            continue
        trim = reader.pages[number - 1].trimbox
        width, height = float(trim.width) * 96 / 72, float(trim.height) * 96 / 72
        x0, y0, x1, y1 = (float(v) for v in box)
        over = max(-x0, x1 - width, -y0, y1 - height)
        if over > 1:
            alt = str(figure.get("/Alt", "an image"))
            found.append(f"page {number}: {alt[:60]!r} is laid out {over * 25.4 / 96:.0f} mm beyond the page edge")
    return found


def _scope(element) -> str | None:
    attributes = element.get("/A")
    attributes = attributes.get_object() if attributes is not None else None
    for attribute in attributes if isinstance(attributes, list) else [attributes]:
        attribute = attribute.get_object() if attribute is not None else None
        if isinstance(attribute, dict) and attribute.get("/O") == "/Table" and "/Scope" in attribute:
            return str(attribute["/Scope"])
    return None


def _elements(node, role: str, found=None) -> list:
    found = [] if found is None else found
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _elements(child, role, found)
    elif isinstance(node, dict):
        if node.get("/S") == role:
            found.append(node)
        if "/K" in node:
            _elements(node["/K"], role, found)
    return found
