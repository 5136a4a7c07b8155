"""Painted truth: the safety text a page's text layer holds must be visible where the text layer places it.

A template can keep words in the text layer while the patient sees nothing of them: clipped away by a zero-height
box, covered by another box or an image, transparent, a fraction of a point tall, or off the page. So each glyph of
every occurrence of a safety line is looked at in the rendering the contrast check already made: inside the
trimmed page, at a legible size, its colour standing out from what lies around it, and ink of that colour
painted inside its box. Only the boxes of the safety text's glyphs are looked at."""

from __future__ import annotations

import ctypes
import functools
import math
import re
from dataclasses import dataclass, field

import pypdfium2.raw as pdfium_c

from brochures.brand.colours import contrast
from brochures.pdf.page_objects import MEASURED, PageObjects
from brochures.pdf.page_text import (
    ARABIC_RUN,
    BoxBuffer,
    Picture,
    _pages,
    c_pointer,
    char_box,
    drawn_scale,
    lam_alef_sorted,
    measured_alpha,
    mixed,
    punctuation,
    squeezed,
    text_object_at,
)

# Below this contrast with what lies around it, a glyph is not seen at all (the contrast check fails text
# below 4.5:1 already; this names the safety line it hides).
VISIBLE_RATIO = 2.0


# A glyph is painted when a pixel inside its box is at least this far from the background towards its ink.
# Text anti-aliased at 75 dpi keeps a stroke's core above 0.4 (a thin alef) and mostly above 0.6; nothing of a
# clipped, covered or transparent glyph is left.
INK = 0.25


# Inside the trimmed page, give or take this (points): a glyph box may reach a hair past its advance.
EDGE = 0.5


# A glyph of the safety text must be drawn upright: tilted by no more than this (the tangent of about 11°), and slanted
# by no more than this (about 22°: a slanted italic a typeface lacks is drawn at about 12°). Turned round, upside
# down or mirrored, a 9 reads as a 6, a b as a d.
TILT, SLANT = 0.2, 0.4
TURNED = "turned round or mirrored, so it may read as another character"


# How much of a line a problem quotes.
QUOTED = 60


# A line of Arabic words only (and their spaces and punctuation).
ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\s\W]*")


@dataclass
class PagePaint:
    """One page's text as the safety check compares it (squeezed), and why the glyphs at some of its places are
    not seen: place in `text` → reason. Places not named are seen, or hold no safety text."""

    text: str
    unseen: dict[int, str] = field(default_factory=dict)


def wanted(must_show: tuple[tuple[str, int], ...], right_to_left: bool = False) -> tuple[str, ...]:
    """The safety lines, as they are looked for on a page. In a right-to-left document, a line holding a run of
    digits or Latin letters is also looked for word by word (see `_by_runs`)."""
    lines = [line for line, _ in must_show]
    if right_to_left:
        lines += [word for line in lines if not ARABIC.fullmatch(line) for word in _pieces(line)]
    return tuple(dict.fromkeys(found for line in lines if (found := squeezed(line))))


def _pieces(text: str) -> list[str]:
    """The words of text that is not Arabic, each cut where digits meet letters: in right-to-left text a clinic's
    name "Clinic ar1" may come from pdfium with its digits apart from its letters ("1ar")."""
    return [piece for word in text.split() for piece in re.findall(r"\d+|\D+", word)]


def seen_before(text: str) -> PagePaint:
    """A page measured before, in a PDF that passed every check: all its glyphs were seen there."""
    return PagePaint(_squeezed(text)[0])


def paint_page(
    handle,
    chars: str,
    picture: Picture,
    trim,
    lines: tuple[str, ...],
    smallest_pt: float,
    objects: PageObjects,
) -> PagePaint:
    """Where the safety lines lie in one page's text layer, and which of their glyphs the rendering does not show.

    `handle`: the page's pdfium text page; `chars`: its text, one character for each of its characters (read again
    from `handle` if it is not); `picture`: its rendering (page_text.Picture); `trim`: its trim box; `lines`: the
    squeezed safety lines (`wanted`); `objects`: what the page draws (page_objects.PageObjects): the groups that fade
    text, and the images and shapes painted over it."""
    count = pdfium_c.FPDFText_CountChars(handle)
    if len(chars) != count:
        chars = "".join(chr(pdfium_c.FPDFText_GetUnicode(handle, index)) for index in range(count))
    text, owners = _squeezed(chars)
    found = PagePaint(text)
    if not lines:
        return found
    glyphs = _Glyphs(handle, picture, trim, smallest_pt, objects)
    verdicts: dict[int, str] = {}
    for place in sorted(_places(text, lines)):
        index = owners[place]
        if index not in verdicts:
            verdicts[index] = glyphs.unseen(index)
        if verdicts[index]:
            found.unseen[place] = verdicts[index]
    return found


def _upright(m) -> bool:
    """Whether a text matrix (pdfium's FS_MATRIX) draws its glyphs the right way up and the right way round: not
    turned (by more than a slight tilt), upside down or mirrored. A slant, as of an italic a typeface lacks, is."""
    return m.a > 0 and m.d > 0 and abs(m.b) <= TILT * m.a and abs(m.c) <= SLANT * m.d


def hidden(
    pages: list[PagePaint], must_show: tuple[tuple[str, int], ...], logical_texts: list[str] | None = None
) -> list[str]:
    """The safety lines found in the text layer as often as they must be, but not seen that often on the pages:
    one problem for each page and reason, quoting the lines. (Lines not in the text layer at all are named by
    `_missing`.)

    `logical_texts`, for right-to-left documents: pdfium may give a line's runs (a phone number's groups) in
    another order than the patient reads them; such a line is looked for word by word."""
    text = "".join(page.text for page in pages)
    # Where each page starts in `text`, and its number.
    starts, at = [], 0
    for number, page in enumerate(pages, start=1):
        starts.append((at, number, page))
        at += len(page.text)
    # (page, why) → the lines not seen there.
    found: dict[tuple[int, str], list[str]] = {}
    for line, times in must_show:
        target = squeezed(line)
        if not target:
            continue
        occurrences = _occurrences(text, target)
        if len(occurrences) < times and logical_texts is not None:
            occurrences = _by_runs(text, line)
        if len(occurrences) < times:
            continue
        why = [next(filter(None, (_why(starts, start, start + length) for start, length in parts)), ())
               for parts in occurrences]
        if sum(not reason for reason in why) >= times:
            continue
        number, reason = next(reason for reason in why if reason)
        found.setdefault((number, reason), []).append(line)
    problems = []
    for (number, reason), items in sorted(found.items()):
        listed = "; ".join(f'"{_quoted(line)}"' for line in items[:3]) + (
            f" and {len(items) - 3} more" if len(items) > 3 else ""
        )
        problems.append(
            f"safety information is on {_pages([number])}'s text layer but not visible there ({reason}): {listed}"
        )
    return problems


def unmarked(pages: list[PagePaint], marks: tuple[str, ...], right_to_left: bool = False) -> list[str]:
    """The pages that show none of `marks` (the draft mark, Expected.draft_marks) whole, every glyph of it seen:
    content the clinic's medical lead has not approved must say so on every page, whatever a clinic's template
    does with the mark."""
    if not marks:
        return []
    missing = [number for number, page in enumerate(pages, start=1)
               if not any(_shown(page, mark, right_to_left) for mark in marks)]
    if not missing:
        return []
    return [f'{_pages(missing)}: the draft mark ("{_quoted(marks[0])}") is not shown, though the clinic\'s medical '
            "lead has not approved this content: every page must say so (check the clinic's own templates)"]


def _shown(page: PagePaint, mark: str, right_to_left: bool) -> bool:
    """Whether `page` shows `mark` whole somewhere, each of its glyphs seen (in right-to-left text, word by word)."""
    occurrences = _occurrences(page.text, squeezed(mark))
    if not occurrences and right_to_left:
        occurrences = _by_runs(page.text, mark)
    return any(all(place not in page.unseen for start, length in parts for place in range(start, start + length))
               for parts in occurrences)


@functools.lru_cache(maxsize=32)
def _squeezed(chars: str) -> tuple[str, tuple[int, ...]]:
    """Characters as `squeezed` compares them (and without soft hyphens or control characters), with the index
    of the character each letter comes from. Worked out once for a brochure's page and the booklet binding it."""
    # Each character judged once (a page has a few dozen different ones), not each time it occurs.
    dropped = {c for c in set(chars) if c.isspace() or c < " " or c in "\ufffe\u00ad" or punctuation(c)}
    owners = [index for index, char in enumerate(chars) if char not in dropped]
    kept = "".join(chars[index] for index in owners)
    letters = kept.casefold()
    if len(letters) != len(kept):
        # A letter that folds to several (ß to ss): each of them comes from it.
        owners = [index for index in owners for _ in chars[index].casefold()]
    # Lam-alef runs are sorted in place: the same letters, at the same places.
    return lam_alef_sorted(letters), tuple(owners)


def _places(text: str, lines: tuple[str, ...]) -> set[int]:
    """The places of `text` that may belong to a safety line: each whole occurrence, and a line's start that ends
    the page or its end that starts it (a line carried over a page break)."""
    places: set[int] = set()
    for line in lines:
        start = text.find(line)
        while start >= 0:
            places.update(range(start, start + len(line)))
            start = text.find(line, start + 1)
        if length := _ends_with_start(text, line):
            places.update(range(len(text) - length, len(text)))
        if length := _starts_with_end(text, line):
            places.update(range(length))
        if text and text in line:
            places.update(range(len(text)))
    return places


def _ends_with_start(text: str, line: str) -> int:
    """The length of the longest start of `line`, short of all of it, that ends `text` (0: none). Only the places
    where `line`'s first character stands are tried."""
    longest = min(len(line) - 1, len(text))
    at = text.find(line[:1], len(text) - longest) if longest > 0 else -1
    while at >= 0:
        if text.endswith(line[: len(text) - at]):
            return len(text) - at
        at = text.find(line[:1], at + 1)
    return 0


def _starts_with_end(text: str, line: str) -> int:
    """The length of the longest end of `line`, short of all of it, that starts `text` (0: none): the same question
    as `_ends_with_start`, of both read backwards."""
    return _ends_with_start(text[::-1], line[::-1])


class _Glyphs:
    """One page's glyphs, each looked at on the page's rendering."""

    def __init__(self, handle, picture: Picture, trim, smallest_pt: float, objects: PageObjects):
        self.handle, self.trim, self.smallest_pt, self.objects = handle, trim, smallest_pt, objects
        self.faded = objects.faded
        self.address = c_pointer(handle)
        self.picture = picture
        self.box = BoxBuffer()
        self.colour = [ctypes.c_uint() for _ in range(4)]
        self.matrix = pdfium_c.FS_MATRIX()
        # Text object → (size, ink, upright, opacity): the same for every character of one run of text.
        self.styles: dict[object, tuple[float, tuple[int, int, int], bool, float]] = {}
        # Text object → the bounds of the paths clipping it.
        self.clipping: dict[object, list[tuple[float, float, float, float]]] = {}
        self.x, self.y = ctypes.c_float(), ctypes.c_float()

    def clips(self, key: object, index: int) -> list[tuple[float, float, float, float]]:
        """The bounds of each path clipping the text object of the character at `index` (its text is drawn only
        inside all of them); `key`: the object (page_text.text_object_at: NULL for none)."""
        if key not in self.clipping:
            self.clipping[key] = []
            text_object = pdfium_c.FPDFText_GetTextObject(self.handle, index) if key else None
            clip = pdfium_c.FPDFPageObj_GetClipPath(text_object) if key else None
            for path in range(pdfium_c.FPDFClipPath_CountPaths(clip) if clip else 0):
                points = []
                for number in range(pdfium_c.FPDFClipPath_CountPathSegments(clip, path)):
                    segment = pdfium_c.FPDFClipPath_GetPathSegment(clip, path, number)
                    if pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(self.x), ctypes.byref(self.y)):
                        points.append((self.x.value, self.y.value))
                if points:
                    xs, ys = [x for x, _ in points], [y for _, y in points]
                    self.clipping[key].append((min(xs), min(ys), max(xs), max(ys)))
        return self.clipping[key]

    def style(self, index: int, key: object) -> tuple[float, tuple[int, int, int], bool, float]:
        """A character's size as drawn (its text's size, scaled as its matrix scales it), its fill colour, whether
        it is drawn upright (`_upright`), and its opacity (its own, and its groups'; MEASURED when a soft mask fades
        it); `key`: its text object."""
        if key not in self.styles:
            pdfium_c.FPDFText_GetMatrix(self.handle, index, ctypes.byref(self.matrix))
            m = self.matrix
            size = pdfium_c.FPDFText_GetFontSize(self.handle, index) * drawn_scale(m)
            pdfium_c.FPDFText_GetFillColor(self.handle, index, *(ctypes.byref(c) for c in self.colour))
            groups = self.faded.get(key, 1.0)
            opacity = MEASURED if groups == MEASURED else self.colour[3].value / 255 * groups
            self.styles[key] = (size, tuple(c.value for c in self.colour[:3]), _upright(m), opacity)
        return self.styles[key]

    def unseen(self, index: int) -> str:
        """Why the glyph of one character is not seen on the rendered page, or "" when it is."""
        key = text_object_at(self.address, index)
        size, ink, upright, opacity = self.style(index, key)
        if size < self.smallest_pt:
            return f"smaller than {self.smallest_pt:g} pt"
        if not upright:
            return TURNED
        char_box(self.address, index, *self.box.places)
        x0, x1, y0, y1 = self.box.read(self.box.buffer)
        if x1 - x0 <= 0.01 or y1 - y0 <= 0.01:
            # No box of its own at a legible size: a letter of a ligature, drawn with the glyph before it.
            return ""
        left, bottom, right, top = self.trim
        if x0 < left - EDGE or y0 < bottom - EDGE or x1 > right + EDGE or y1 > top + EDGE:
            return "outside the page"
        if any(not _overlap(bounds, (x0, y0, x1, y1)) for bounds in self.clips(key, index)):
            return "clipped away"
        image = self.picture
        scale = image.scale
        inside = (
            max(0, math.floor((x0 - image.left) * scale)),
            max(0, math.floor((image.top - y1) * scale)),
            min(image.width, math.ceil((x1 - image.left) * scale)),
            min(image.height, math.ceil((image.top - y0) * scale)),
        )
        if inside[2] <= inside[0] or inside[3] <= inside[1]:
            return "outside the page"
        background = self.background(inside, ink)
        if opacity == MEASURED:
            # Faded by a soft mask: as strong as its strokes show on the page.
            opacity = measured_alpha(self.picture, inside, ink, background)
        if 0 < opacity < 1:
            # Translucent: the page shows its colour mixed with what lies under it.
            ink = mixed(ink, background, opacity)
        if _visible(ink, background) < VISIBLE_RATIO:
            return "in a colour that does not stand out from what lies around it"
        # A pixel wider on each side: a thin stem (an alef, an l) may be drawn a fraction of a pixel off its box.
        if not self.inked((max(0, inside[0] - 1), inside[1], min(image.width, inside[2] + 1), inside[3]), ink,
                          background):
            return "not painted: clipped, covered or transparent"
        if over := self.covered(key, (x0, y0, x1, y1)):
            return f"covered by {over} painted over it" if over == "a shape" else f"covered by {over}"
        return ""

    def covered(self, key: object, box: tuple) -> str:
        """What is painted over most of a glyph's box after its text ("an image", "a shape"), or "": a busy
        picture, or shapes with gaps (a striped overlay), can leave pixels of the text's colour in its box."""
        place = self.objects.order.get(key)
        if place is None:
            return ""
        for later, bounds, image in self.objects.covers:
            if later > place and _overlap(bounds, box):
                return "an image" if image else "a shape"
        return ""

    def background(self, box: tuple[int, int, int, int], ink: tuple) -> tuple[int, int, int]:
        """What lies around a glyph: of the pixel rows just above and below its box (a little wider than it), the
        colour furthest from its ink."""
        left, top, right, bottom = box
        left, right = max(0, left - 2), min(self.picture.width, right + 2)
        lines = [self.picture.row(row, left, right) for row in (top - 2, bottom + 1) if 0 <= row < self.picture.height]
        if len(lines) == 2 and lines[0] == lines[1] and lines[0] == lines[0][:3] * (len(lines[0]) // 3):
            # Both of one colour, the same: it is the furthest.
            return tuple(lines[0][:3])
        furthest, distance = ink, -1
        for line in lines:
            # A row of one colour (the gap between lines mostly is): its first pixel says it all.
            if line == line[:3] * (len(line) // 3):
                line = line[:3]
            for i in range(0, len(line), 3):
                away = abs(line[i] - ink[0]) + abs(line[i + 1] - ink[1]) + abs(line[i + 2] - ink[2])
                if away > distance:
                    furthest, distance = (line[i], line[i + 1], line[i + 2]), away
        return furthest

    def inked(self, box: tuple[int, int, int, int], ink: tuple, background: tuple) -> bool:
        """Whether a pixel inside a glyph's box goes at least INK of the way from the background towards the
        glyph's ink (1 at the ink's own colour). Its middle rows first, where most glyphs have a stroke: it stops at
        the first such pixel."""
        left, top, right, bottom = box
        span = abs(background[0] - ink[0]) + abs(background[1] - ink[1]) + abs(background[2] - ink[2]) or 1
        middle = (top + bottom) // 2
        for row in [*range(middle, bottom), *range(middle - 1, top - 1, -1)]:
            line = self.picture.row(row, left, right)
            for i in range(0, len(line), 3):
                away = abs(line[i] - ink[0]) + abs(line[i + 1] - ink[1]) + abs(line[i + 2] - ink[2])
                if 1 - away / span >= INK:
                    return True
        return False


def _overlap(bounds: tuple, box: tuple) -> bool:
    """Whether `bounds` covers more than half of `box` (both left, bottom, right, top)."""
    width = min(bounds[2], box[2]) - max(bounds[0], box[0])
    height = min(bounds[3], box[3]) - max(bounds[1], box[1])
    return width > 0 and height > 0 and width * height > 0.5 * (box[2] - box[0]) * (box[3] - box[1])


@functools.lru_cache(maxsize=1024)
def _visible(ink: tuple, background: tuple) -> float:
    """The contrast of a glyph's ink with what lies around it."""
    return contrast("#{:02X}{:02X}{:02X}".format(*ink), "#{:02X}{:02X}{:02X}".format(*background))


def _occurrences(text: str, target: str) -> list[list[tuple[int, int]]]:
    """Where `target` is in `text`, as `str.count` counts it (not overlapping): each as its one part, (start,
    length)."""
    found, start = [], text.find(target)
    while start >= 0:
        found.append([(start, len(target))])
        start = text.find(target, start + len(target))
    return found


def _by_runs(text: str, line: str) -> list[list[tuple[int, int]]]:
    """A right-to-left line whose runs pdfium gives in another order (a phone number's groups, or a clinic's Latin
    name, turned round inside Arabic text): each run of Arabic words looked for whole, each other word on its own
    (its digits apart from its letters), near the first, and the line counted where all of them are. (An Arabic run
    is kept whole: a lam-alef run may go on over the space between two of its words, as the page's letters are
    compared.) Each occurrence is its parts' places, (start, length)."""
    words = [word for run in ARABIC_RUN.findall(line)
             for word in map(squeezed, [run] if ARABIC.fullmatch(run) and run.strip() else _pieces(run)) if word]
    if not words:
        return []
    reach = len(squeezed(line)) * 2
    found, start = [], 0
    while (first := text.find(words[0], start)) >= 0:
        low, places = max(0, first - reach), [first]
        for word in words[1:]:
            near = text.find(word, low, first + reach)
            if near < 0:
                break
            places.append(near)
        else:
            found.append([(place, len(word)) for place, word in zip(places, words)])
            start = max(place + len(word) for place, word in zip(places, words))
            continue
        start = first + 1
    return found


def _why(starts: list[tuple[int, int, PagePaint]], begin: int, end: int) -> tuple[int, str] | tuple[()]:
    """The first page and reason a glyph between two places of the document's text is not seen, or () if all are."""
    for at, number, page in starts:
        if at + len(page.text) <= begin or at >= end:
            continue
        for place in range(max(begin, at), min(end, at + len(page.text))):
            if place - at in page.unseen:
                return number, page.unseen[place - at]
    return ()


def _quoted(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= QUOTED else line[: QUOTED - 1].rstrip() + "…"
