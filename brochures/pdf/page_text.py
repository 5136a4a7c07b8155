"""What a page's text layer says and where its glyphs lie: reading order, safety text, edges, overlaps, fill."""

from __future__ import annotations

import ctypes
import functools
import math
import re
import struct
import unicodedata
from collections import Counter

import pypdfium2.raw as pdfium_c
from cffi import FFI

from brochures.brand.colours import contrast
from brochures.pdf.facts import MM, Expected

# Text stays this far inside the (trimmed) page edge: printers and cutters are not exact.
SAFE_MM = 3.0


# A page using less of its content area than this holds only a stray line or two.
NEAR_EMPTY = 0.15


LAM_ALEF = re.compile("[لاأإآ]{2,}")


ARABIC_RUN = re.compile(r"[\u0600-\u06FF\u0750-\u077F\s]+|[^\u0600-\u06FF\u0750-\u077F]+")


def squeezed(text: str) -> str:
    """Text as the safety check compares it: without spaces, case or punctuation. A line break does not hide a
    sentence, nor a word hyphenated at a line's end. In right-to-left text, PDF readers move a sentence's full stop
    and turn brackets round; and a lam-alef ligature (لا, لأ) is one glyph whose letters they give back in either
    order, so each run of lams and alefs is compared as its letters, sorted."""
    return lam_alef_sorted(_folded(text))


def _folded(text: str) -> str:
    """`text` without spaces, case or punctuation: `squeezed` before its lam-alef runs are sorted. Character by
    character, so the text of pages folded one by one, joined, is the text of the pages joined, folded."""
    text = "".join(text.split()).casefold()
    # Each character judged once (a page has a few dozen different ones), not each time it occurs.
    dropped = {c for c in set(text) if c == "\ufffe" or punctuation(c)}
    if dropped:
        text = "".join(c for c in text if c not in dropped)
    return text


def lam_alef_sorted(text: str) -> str:
    """Each run of lams and alefs as its letters, sorted (`squeezed`)."""
    return LAM_ALEF.sub(lambda run: "".join(sorted(run.group(0))), text)


@functools.lru_cache(maxsize=32)
def _page_folded(page_text: str) -> str:
    """A page's text as `_missing` compares it, before lam-alef runs are sorted: folded once, for the brochure and
    again for the booklet that binds its pages."""
    return _folded(re.sub(r"[\u2010\u00ad]", "", page_text))


@functools.lru_cache(maxsize=4096)
def punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def reading_order(page_text: str) -> str:
    """A right-to-left page's text in reading order, from pypdf's: pypdf gives each line's runs (Arabic, and Latin
    or digits) left to right as they are drawn, each run itself in reading order. So each line's runs are put back
    right to left: ".020 7946 0000 اتصل بنا على الرقم" reads "اتصل بنا على الرقم .020 7946 0000"."""
    return "\n".join("".join(reversed(ARABIC_RUN.findall(line))) for line in page_text.splitlines())


# pdfium functions the gate calls for every character of a page, called through cffi at their addresses (the very
# functions pypdfium2 loaded): about 0.8 µs a character for its text object and box, against 1.2 µs through ctypes.
_FFI = FFI()


def drawn_scale(m) -> float:
    """How much a text matrix `m` (pdfium's FS_MATRIX) scales its text as drawn, the lesser of along its baseline
    (the glyphs' width) and across it (their height, as far as it stands off the baseline: a slant does not make
    text smaller). The same as any other measure for text scaled alike both ways (turned or not); for text
    squashed one way and stretched the other, the size a reader makes out."""
    along = math.hypot(m.a, m.b)
    if along == 0:
        return 0.0
    return min(along, abs(m.a * m.d - m.b * m.c) / along)


def _c_function(function, signature: str):
    return _FFI.cast(signature, ctypes.cast(function, ctypes.c_void_p).value)


# The text object of a character: (text page, character index). A cffi pointer, NULL (falsy) for none: equal to, and
# hashed as, any cffi pointer to the same address (`c_pointer`), never to the address as an int.
text_object_at = _c_function(pdfium_c.FPDFText_GetTextObject, "void *(*)(void *, int)")


# A character's box: (text page, character index, then the four doubles to put its left, right, bottom and top in:
# see `BoxBuffer`).
char_box = _c_function(pdfium_c.FPDFText_GetCharBox, "int (*)(void *, int, double *, double *, double *, double *)")


def c_pointer(handle):
    """A pypdfium2 handle (a text page, a page object) as these functions take it, and as `text_object_at` gives
    it."""
    return _FFI.cast("void *", ctypes.cast(handle, ctypes.c_void_p).value or 0)


class BoxBuffer:
    """Four doubles `char_box` writes a character's box into (`places`), read back at once as a tuple
    (`read(buffer)`: left, right, bottom, top). `places` point into memory the BoxBuffer owns: keep it while they
    are used."""

    __slots__ = ("doubles", "places", "buffer", "read")

    def __init__(self):
        self.doubles = _FFI.new("double[4]")
        self.places = tuple(self.doubles + number for number in range(4))
        self.buffer = _FFI.buffer(self.doubles)
        self.read = struct.Struct("=4d").unpack_from


def _missing(
    page_texts: list[str], must_show: tuple[tuple[str, int], ...], logical_texts: list[str] | None = None
) -> list[str]:
    """The safety text that is not on the pages (a template that leaves a section out, text cut off).

    `logical_texts`, for right-to-left documents: the pages' text as pypdf reads it, put in reading order (pdfium
    turns a phone number's groups round inside Arabic text). A line must be found whole, as the patient reads it,
    in one of the two: its words and numbers in their order."""
    # Page by page (see `_folded`), each page's letters kept for the booklet; lam-alef runs sorted once they are
    # joined, as a run may go on over a page's end.
    texts = [lam_alef_sorted("".join(_page_folded(text) for text in page_texts))]
    if logical_texts is not None:
        texts.append(squeezed(" ".join(reading_order(text) for text in logical_texts)))
    missing = [line for line, times in must_show if not any(text.count(squeezed(line)) >= times for text in texts)]
    if not missing:
        return []
    listed = "; ".join(f'"{text}"' for text in missing[:3]) + (
        f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    )
    return [f"safety information is missing from the pages: {listed}"]


def _pages(numbers: list[int]) -> str:
    """ "page 3", "pages 2, 5", "pages 2–19": how a problem found on several pages is named once."""
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"pages {numbers[0]}–{numbers[-1]}"
    return "pages " + ", ".join(map(str, numbers))


def _outside(glyphs: list, words: list, images: list, trim, media) -> list[str]:
    """Glyphs closer than SAFE_MM to the trimmed page's edge (or beyond it), and images beyond the sheet
    (for a press file, images may reach into the bleed). `words`: the glyphs' words (inspection._read_glyphs), each
    glyph's looked at only when its word's box reaches that far."""
    left, bottom, right, top = trim
    safe = SAFE_MM * MM
    low_x, high_x, low_y, high_y = left + safe - 0.5, right - safe + 0.5, bottom + safe - 0.5, top - safe + 0.5
    found = []
    stray = [
        g
        for first, end, x0, y0, x1, y1, *_ in words
        if x0 < low_x or x1 > high_x or y0 < low_y or y1 > high_y
        for g in glyphs[first:end]
        if g[0] < low_x or g[2] > high_x or g[1] < low_y or g[3] > high_y
    ]
    if stray:
        sample = "".join(g[4] for g in stray[:30])
        widest = max(
            max(left + safe - g[0], g[2] - right + safe, bottom + safe - g[1], g[3] - top + safe) for g in stray
        )
        found.append(
            f"text (\"{sample}\") runs {widest / MM:.0f} mm past the page's safe area ({SAFE_MM:g} mm inside the edge)"
        )
    for x0, y0, x1, y1 in images:
        over = max(media[0] - x0, x1 - media[2], media[1] - y0, y1 - media[3])
        if over > 1:
            found.append(f"an image reaches {over / MM:.0f} mm beyond the page edge")
    return found


def _overlapping(glyphs: list, words: list) -> list[str]:
    """Text drawn over other text: glyph boxes that share much of their area, other than neighbours on a line
    (kerned or italic neighbours may touch). Glyphs are compared within bands of the page's height, left to right,
    each only with those that start before it ends: on a line of text that is its next neighbour or two.

    Only the glyphs of words (inspection._read_glyphs) that overlap another word, or whose own glyphs overlap other
    than their neighbours, are compared: glyphs that share area lie in such words."""
    suspects = [index for first, end in _crowded(words) for index in range(first, end)]
    if not suspects:
        return []
    band = 24.0
    bands: dict[int, list[int]] = {}
    for i in suspects:
        _x0, y0, _x1, y1, _ = glyphs[i]
        for row in range(int(y0 // band), int(y1 // band) + 1):
            bands.setdefault(row, []).append(i)
    clashes: dict[int, int] = {}
    for members in bands.values():
        members.sort(key=lambda i: glyphs[i][0])
        for position, first in enumerate(members):
            ax0, ay0, ax1, ay1, _ = glyphs[first]
            for second in members[position + 1 :]:
                bx0, by0, bx1, by1, _ = glyphs[second]
                if bx0 >= ax1:
                    # This one, and every one after it, starts to the right of `first`.
                    break
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


def _crowded(words: list) -> list[tuple[int, int]]:
    """The words (first glyph, the glyph after its last) whose box shares area with another word's, or that are
    crowded in themselves: a glyph starting before the glyph two before it ends (a word's glyphs run left to
    right, so no glyph further back can be overlapped either; inspection._read_glyphs says so of each word)."""
    band = 24.0
    bands: dict[int, list[tuple]] = {}
    for word in words:
        for row in range(int(word[3] // band), int(word[5] // band) + 1):
            bands.setdefault(row, []).append(word)
    crowded: dict[int, tuple[int, int]] = {}
    for members in bands.values():
        members.sort(key=lambda word: word[2])
        for position, (first, end, ax0, ay0, ax1, ay1, *_) in enumerate(members):
            for other in members[position + 1 :]:
                if other[2] >= ax1:
                    break
                if min(ax1, other[4]) > max(ax0, other[2]) and min(ay1, other[5]) > max(ay0, other[3]):
                    crowded[first], crowded[other[0]] = (first, end), (other[0], other[1])
    crowded.update((word[0], word[:2]) for word in words if word[8])
    return sorted(crowded.values())


def _fill(glyphs: list, words: list, images: list, trim, expected: Expected) -> float:
    """The share of the page's content area (between the page margins) that content spans, top to bottom.
    `words`: the glyphs' words (inspection._read_glyphs): a word inside the content area's height spans what its
    glyphs do; only the glyphs of one that reaches past it are looked at one by one."""
    left, bottom, right, top = trim
    area_top, area_bottom = top - expected.margin_top_mm * MM, bottom + expected.margin_bottom_mm * MM
    spans = []
    for first, end, _, y0, _, y1, *_ in words:
        if area_bottom < y0 and y1 < area_top:
            spans.append((y0, y1))
        elif y1 > area_bottom and y0 < area_top:
            spans += [(g[1], g[3]) for g in glyphs[first:end] if g[3] > area_bottom and g[1] < area_top]
    spans += [(y0, y1) for x0, y0, x1, y1 in images if y1 > area_bottom and y0 < area_top]
    if not spans or area_top <= area_bottom:
        return 0.0
    low, high = max(area_bottom, min(y0 for y0, _ in spans)), min(area_top, max(y1 for _, y1 in spans))
    return round(max(0.0, high - low) / (area_top - area_bottom), 2)


def _page_warnings(fill: list[float], expected: Expected) -> list[str]:
    warnings = []
    if expected.page_budget and len(fill) > expected.page_budget:
        over = len(fill) - expected.page_budget
        warnings.append(
            f"{len(fill)} pages, {over} more than the {expected.page_budget}-page budget "
            f"(the sheets it is printed on, folded): shorten the content or check the layout"
        )
    for number, share in enumerate(fill, start=1):
        if share < NEAR_EMPTY and number not in expected.cover_pages:
            warnings.append(f"page {number} is nearly empty: its content fills {share:.0%} of the page")
    return warnings


class Picture:
    """A page's rendering as the checks read it: rows of RGB bytes, `stride` bytes apart, and where it lies on the
    page (its left and top edges, in points, and pixels per point)."""

    __slots__ = ("pixels", "width", "height", "stride", "left", "top", "scale")

    def __init__(self, pixels, width: int, height: int, stride: int, left: float, top: float, scale: float):
        self.pixels, self.width, self.height, self.stride = pixels, width, height, stride
        self.left, self.top, self.scale = left, top, scale

    def row(self, y: int, x0: int, x1: int) -> bytes:
        """The pixels of row `y` from column `x0` up to `x1`, three bytes each."""
        start = y * self.stride
        return bytes(self.pixels[start + x0 * 3 : start + x1 * 3])


def _background(picture: Picture, box: tuple[int, int, int, int], fill: str) -> str | None:
    """The most common colour just above and below a glyph (the gap between lines) that is not its own ink.

    Sampling the glyph's own area would find anti-aliased edge pixels, a blend of ink and
    background, and mistake them for the background."""
    left, top, right, bottom = box
    if bottom - top < 2 or right <= left:
        return None
    upper, lower = picture.row(top, left, right), picture.row(bottom, left, right)
    if upper == lower and upper == upper[:3] * (len(upper) // 3):
        # Both of one colour, the same (the gap between lines mostly is): it, unless it is the ink's.
        return _unless_ink(upper[:3], fill)
    colours = []
    for line in (upper, lower):
        # One colour, as the gap between lines mostly is.
        if line == line[:3] * (len(line) // 3):
            colours.append((len(line) // 3, tuple(line[:3])))
        else:
            colours += [(count, rgb) for rgb, count in Counter(zip(line[0::3], line[1::3], line[2::3])).items()]
    for _, rgb in sorted(colours, reverse=True):
        if found := _unless_ink(bytes(rgb), fill):
            return found
    return None


@functools.lru_cache(maxsize=4096)
def _unless_ink(rgb: bytes, fill: str) -> str | None:
    """A colour (three bytes) as `_background` gives it, or None when it is too close to the ink `fill` to be its
    background."""
    ink = _ink(fill)
    return "#{:02X}{:02X}{:02X}".format(*rgb) if sum(abs(a - b) for a, b in zip(rgb, ink)) > 60 else None


@functools.lru_cache(maxsize=256)
def _ink(fill: str) -> tuple[int, int, int]:
    return tuple(int(fill[i : i + 2], 16) for i in (1, 3, 5))


@functools.lru_cache(maxsize=4096)
def _ratio(fill: str, background: str) -> float:
    """The contrast of text in `fill` ("#RRGGBB", or "#RRGGBBAA" for text drawn at less than full opacity: its
    colour over the background, as the page shows it) with `background`."""
    return round(contrast(seen_colour(fill, background), background), 2)


def seen_colour(fill: str, background: str) -> str:
    """The colour text in `fill` shows on `background` ("#RRGGBB"): its own, or for translucent text ("#RRGGBBAA")
    the mix of the two."""
    if len(fill) != 9:
        return fill
    return "#{:02X}{:02X}{:02X}".format(*mixed(_ink(fill), _ink(background), int(fill[7:9], 16) / 255))


def mixed(ink: tuple, under: tuple, alpha: float) -> tuple[int, int, int]:
    """The colour `ink` (red, green, blue) shows at `alpha` (0 to 1) over `under`."""
    return tuple(round(alpha * a + (1 - alpha) * b) for a, b in zip(ink, under))


def said_fill(fill: str) -> str:
    """A text colour as a message names it: "#000000", or "#000000 at 40% opacity"."""
    return fill if len(fill) != 9 else f"{fill[:7]} at {round(int(fill[7:9], 16) / 2.55)}% opacity"


# The fill of text that shows fainter than its alpha says (page_objects.MEASURED): "#RRGGBB" and this, until how
# faint it shows is measured on the page (`measured_alpha`).
UNMEASURED = "??"


# A glyph's strokes at least this far from the background towards its ink show it at its full strength: anti-aliased
# at 75 dpi, a stem a pixel wide may reach no further.
FULL_INK = 0.8


def measured_alpha(picture: Picture, box: tuple[int, int, int, int], ink: tuple, background: tuple) -> float:
    """How strongly text in `ink` shows on `background` in the rendering's `box` (left, top, right, bottom pixels):
    the furthest any pixel there goes from the background towards the ink, 0 to 1 (1 from FULL_INK on)."""
    span = abs(background[0] - ink[0]) + abs(background[1] - ink[1]) + abs(background[2] - ink[2])
    if not span:
        return 1.0
    left, top, right, bottom = box
    nearest = span
    for row in range(max(0, top), min(picture.height, bottom)):
        line = picture.row(row, max(0, left), min(picture.width, right))
        for i in range(0, len(line), 3):
            away = abs(line[i] - ink[0]) + abs(line[i + 1] - ink[1]) + abs(line[i + 2] - ink[2])
            if away < nearest:
                nearest = away
    strength = 1 - nearest / span
    return 1.0 if strength >= FULL_INK else max(0.0, strength)


def with_alpha(rgb: str, alpha: float) -> str:
    """`rgb` ("#RRGGBB") as `_ratio` takes the colour of text drawn at `alpha` (0 to 1): unchanged when opaque."""
    level = round(alpha * 255)
    return rgb if level >= 255 else f"{rgb}{max(0, level):02X}"
