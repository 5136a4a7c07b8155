"""Glyph shapes: an outline drawn small and matched against the same characters of reference typefaces the
project ships (pdf/glyph_truth.py reads which outline stands for which character in a PDF).

A glyph is drawn from its outline, upright (an italic's slant taken out), scaled into a small square and softened,
then compared with the reference pictures of every character of its kind (digits and "+"; letters): it draws its
character when no character that reads differently is clearly nearer, that is when its own is at most `tolerance`
times as far as the nearest other one. A verdict is remembered by the outline, in the process and in the user's
cache folder, so a font (a shipped one above all) is matched once, whatever subset of it a document embeds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import string
import unicodedata
from array import array
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import fontpkg
from fontTools.pens.basePen import BasePen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from brochures.files.output_folder import WriteError, write_atomically
from brochures.files.safe_read import read_regular_file

# Digits and "+", as phone numbers and the emergency number print them.
DIGITS = "0123456789+"
# Arabic-Indic digits, matched against Tajawal's (the one reference that has them).
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
LETTERS = string.ascii_letters

# How much farther than the nearest other character a glyph's own character may be. Digits are held closest:
# a wrong digit is a wrong phone number. Letters vary more between typefaces (a serif's g, an italic's y), an
# accented one most (an italic á, which no reference draws single-storey), and Arabic-Indic digits have one reference.
DIGIT_TOLERANCE, ARABIC_DIGIT_TOLERANCE, LETTER_TOLERANCE, ACCENTED_TOLERANCE = 1.2, 1.4, 1.3, 1.4

# The reference typefaces, each a style of its own: a humanist sans, a serif, a geometric sans (a single-storey a,
# a flat-topped 3) and Tajawal, the Arabic documents' font (its Latin, and the Arabic-Indic digits). Each is
# (package family, file style, weight of a static file or of a variable one's instance).
REFERENCES = (
    ("Atkinson Hyperlegible", "normal", 400), ("Atkinson Hyperlegible", "normal", 700),
    ("Atkinson Hyperlegible", "italic", 400), ("Atkinson Hyperlegible", "italic", 700),
    ("Source Serif 4", "normal", 400), ("Source Serif 4", "normal", 700), ("Source Serif 4", "italic", 400),
    ("Lexend", "normal", 400), ("Lexend", "normal", 700),
    ("Tajawal", "normal", 400), ("Tajawal", "normal", 700),
)
# Other shapes of one letter: the single-storey a and g, as the serif reference draws them.
ALLOGRAPHS = {"a": "ɑ", "g": "ɡ"}

# Each glyph is drawn into SIZE × SIZE pixels (SUPERSAMPLE times finer first), keeping its proportions unless it
# is more than STRETCH times narrower than tall (or the reverse), then softened a little: what is compared is the
# shape, not the stroke weight or the serifs.
SIZE, SUPERSAMPLE, STRETCH, BLUR = 32, 4, 1.5, 1.0


def _reads_as(char: str) -> str:
    """Characters a reader takes as the same letter: either case, and i, l, g, q, v, y with the letter some honest
    typefaces draw them almost as (a bar, a single-storey g, an italic y)."""
    folded = char.casefold()
    return {"i": "l", "q": "g", "v": "y"}.get(folded, folded)


@dataclass(frozen=True)
class _Kind:
    """The characters a glyph competes with, and how much nearer than its own one of them may not be."""

    chars: str
    tolerance: float


def kind(char: str) -> _Kind | None:
    if char in DIGITS:
        return _Kind(DIGITS, DIGIT_TOLERANCE)
    if char in ARABIC_DIGITS:
        return _Kind(ARABIC_DIGITS, ARABIC_DIGIT_TOLERANCE)
    if char in LETTERS:
        return _Kind(LETTERS, LETTER_TOLERANCE)
    if char.isalpha() and unicodedata.name(char, "").startswith("LATIN"):
        # An accented letter must look more like itself than like any plain letter.
        return _Kind(LETTERS + char, ACCENTED_TOLERANCE)
    return None


def checked(char: str, letters: frozenset[str]) -> bool:
    """Every digit and "+" the document draws; letters only where a safety line uses them."""
    return char in DIGITS or char in ARABIC_DIGITS or char in letters


@functools.lru_cache(maxsize=64)
def safety_letters(must_show: tuple[tuple[str, int], ...]) -> frozenset[str]:
    """The Latin letters of the safety text (other scripts have no reference typeface here). `must_show`: a tuple
    of (line, times) tuples, as Expected holds it; worked out once for the same lines."""
    return frozenset(c for text, _ in must_show for c in text if c.isalpha() and kind(c) is not None)


class _FlatPen(BasePen):
    """An outline as polygons: each curve as short straight lines."""

    def __init__(self):
        super().__init__(None)
        self.contours: list[list[tuple[float, float]]] = []
        self._points: list[tuple[float, float]] = []

    def _moveTo(self, point):
        self._points = [point]

    def _lineTo(self, point):
        self._points.append(point)

    def _curveToOne(self, p1, p2, p3):
        (x0, y0), steps = self._points[-1], 6
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            self._points.append((u**3 * x0 + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                                 u**3 * y0 + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]))

    def _qCurveToOne(self, p1, p2):
        (x0, y0), steps = self._points[-1], 4
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            self._points.append((u * u * x0 + 2 * u * t * p1[0] + t * t * p2[0],
                                 u * u * y0 + 2 * u * t * p1[1] + t * t * p2[1]))

    def _closePath(self):
        if len(self._points) > 2:
            self.contours.append(self._points)
        self._points = []

    _endPath = _closePath


def _picture(outline: tuple, slant: float) -> Image.Image | None:
    """An outline (a recording pen's value) filled as a font rasteriser would (non-zero winding), upright (an
    italic's slant taken out), scaled into the square: None when it draws nothing."""
    pen = _FlatPen()
    for operator, operands in outline:
        getattr(pen, operator)(*operands)
    contours = [[(x - y * slant, y) for x, y in contour] for contour in pen.contours]
    points = [point for contour in contours for point in contour]
    if not points:
        return None
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    big, margin = SIZE * SUPERSAMPLE, 2 * SUPERSAMPLE
    inner = big - 2 * margin
    width, height = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    scale = inner / max(width, height)
    scale_x, scale_y = min(inner / width, scale * STRETCH), min(inner / height, scale * STRETCH)
    left, bottom = margin + (inner - width * scale_x) / 2, margin + (inner - height * scale_y) / 2
    # Each contour adds or takes away one where it lies, by its direction, around a middle grey: what is not
    # grey is inside the glyph.
    winding = Image.new("L", (big, big), 128)
    for contour in contours:
        polygon = [(left + (x - x0) * scale_x, big - bottom - (y - y0) * scale_y) for x, y in contour]
        area = sum(polygon[i][0] * polygon[i - 1][1] - polygon[i - 1][0] * polygon[i][1]
                   for i in range(len(polygon)))
        if not area:
            continue
        mask = Image.new("L", (big, big), 0)
        ImageDraw.Draw(mask).polygon(polygon, fill=1)
        winding = (ImageChops.add if area > 0 else ImageChops.subtract)(winding, mask)
    filled = winding.point(lambda value: 0 if value == 128 else 255)
    if filled.getbbox() is None:
        return None
    return filled.resize((SIZE, SIZE), Image.BOX).filter(ImageFilter.GaussianBlur(BLUR))


def outline_of(glyph_set, name: str) -> tuple:
    pen = DecomposingRecordingPen(glyph_set)
    glyph_set[name].draw(pen)
    return tuple((operator, tuple(operands)) for operator, operands in pen.value)


def slant_of(font: TTFont) -> float:
    angle = font["post"].italicAngle if "post" in font else 0
    return math.tan(math.radians(-angle)) if -60 < angle < 60 else 0.0


def digest(outline: tuple, slant: float) -> str:
    return hashlib.sha256(repr((outline, round(slant, 4))).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _reference_faces() -> tuple[tuple[object, dict[str, tuple], float], ...]:
    """Each reference face: (its glyph set, character → glyph name, slant). A family not installed is left out."""
    faces = []
    for family_name, style, weight in REFERENCES:
        try:
            family = fontpkg.family(family_name)
        except fontpkg.FontpkgError:
            continue
        for file in family.files:
            variable = bool(file.variable) and (file.wght_min or 0) <= weight <= (file.wght_max or 1000)
            if file.style != style or not (variable or (file.weight or 400) == weight):
                continue
            font = TTFont(file.path, lazy=True)
            glyph_set = font.getGlyphSet(location={"wght": weight} if variable else None)
            faces.append((glyph_set, font.getBestCmap() or {}, slant_of(font)))
            break
    return tuple(faces)


@functools.cache
def _strip(chars: str) -> tuple[tuple[str, ...], Image.Image, tuple[float, ...]]:
    """Every reference picture of `chars` (and their other shapes), side by side: (the character of each, the
    pictures, the mean of each)."""
    owners, pictures = [], []
    for glyph_set, cmap, slant in _reference_faces():
        for char in chars:
            for shape in (char, ALLOGRAPHS.get(char)):
                if shape and ord(shape) in cmap:
                    picture = _picture(outline_of(glyph_set, cmap[ord(shape)]), slant)
                    if picture is not None:
                        owners.append(char)
                        pictures.append(picture)
    strip = Image.new("L", (SIZE * max(len(pictures), 1), SIZE))
    for i, picture in enumerate(pictures):
        strip.paste(picture, (i * SIZE, 0))
    means = tuple(_means(strip, len(pictures)))
    return tuple(owners), strip, means


def _means(image: Image.Image, tiles: int) -> list[float]:
    return list(array("f", image.convert("F").resize((max(tiles, 1), 1), Image.BOX).tobytes()))


def _distances(picture: Image.Image, chars: str) -> dict[str, float]:
    """How far `picture` is from each of `chars`, at the nearest of its reference pictures: the pixels that differ,
    over the ink of both (0 the same, 1 nothing in common)."""
    owners, strip, means = _strip(chars)
    tiled = Image.new("L", strip.size)
    tiled.paste(picture, (0, 0))
    width = SIZE
    # Doubled each time: a few copies fill the strip.
    while width < strip.width:
        tiled.paste(tiled.crop((0, 0, width, SIZE)), (width, 0))
        width *= 2
    differences = _means(ImageChops.difference(tiled, strip), len(owners))
    own = _means(picture, 1)[0]
    nearest: dict[str, float] = {}
    for char, difference, mean in zip(owners, differences, means):
        distance = difference / (own + mean) if own + mean else 1.0
        nearest[char] = min(nearest.get(char, 1.0), distance)
    return nearest


# (outline digest, character) → None when the glyph draws the character, else the character it looks like
# ("" when it draws nothing). Also kept in the user's cache folder (MEMO_FILE), so a font, the shipped ones
# above all, is matched once on a machine, not once in each process. In the process, also by a simple TrueType
# glyph's bytes: (bytes, slant, character) → the same (`known_to_draw`).
_VERDICTS: dict[tuple, str | None] = {}
MEMO_FILE, MAX_MEMO_BYTES, MAX_MEMO_ENTRIES = "glyph-truth.json", 4 * 1024 * 1024, 20_000
def _versions() -> list[str | None]:
    """The reference packages' versions."""
    found = []
    for family in dict.fromkeys(family for family, _, _ in REFERENCES):
        try:
            found.append(version("fontpkg-" + family.lower().replace(" ", "-")))
        except PackageNotFoundError:
            found.append(None)
    return found


# What a remembered verdict depends on besides the outline: how glyphs are drawn and matched.
_SALT = repr((SIZE, SUPERSAMPLE, STRETCH, BLUR, DIGIT_TOLERANCE, ARABIC_DIGIT_TOLERANCE, LETTER_TOLERANCE,
              ACCENTED_TOLERANCE, REFERENCES, sorted(ALLOGRAPHS.items()), 1, _versions()))


def _memo_path() -> Path:
    if folder := os.environ.get("BROCHURES_CACHE_DIR"):
        return Path(folder) / MEMO_FILE
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mesotherapy-brochures" / MEMO_FILE


@functools.lru_cache(maxsize=1)
def _remembered() -> dict[str, str | None]:
    """The verdicts of earlier builds, by their key (`_memo_key`); empty when the file cannot be read."""
    try:
        saved = json.loads(read_regular_file(_memo_path(), MAX_MEMO_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict):
        return {}
    return {k: v for k, v in saved.items() if isinstance(k, str) and (v is None or isinstance(v, str))}


def _memo_key(digest: str, char: str) -> str:
    return hashlib.sha256(f"{_SALT}\n{digest}\n{char}".encode()).hexdigest()[:32]


def remember(new: dict[str, str | None]) -> None:
    remembered = _remembered()
    remembered.update(new)
    kept = dict(list(remembered.items())[-MAX_MEMO_ENTRIES:])
    try:
        _memo_path().parent.mkdir(parents=True, exist_ok=True)
        write_atomically(_memo_path(), json.dumps(kept, separators=(",", ":")).encode())
    except (OSError, WriteError):
        # A read-only home or a full disk costs time next build, nothing more.
        pass


def verdict(outline: tuple, slant: float, char: str, new: dict[str, str | None]) -> str | None:
    """Whether the outline draws `char` (see _VERDICTS); one matched afresh is added to `new`, to be saved."""
    outline_digest = digest(outline, slant)
    key = (outline_digest, char)
    if key not in _VERDICTS:
        saved_key = _memo_key(outline_digest, char)
        if saved_key in _remembered():
            _VERDICTS[key] = _remembered()[saved_key]
        else:
            _VERDICTS[key] = new[saved_key] = _match(outline, slant, char)
    return _VERDICTS[key]


def known_to_draw(data: bytes, slant: float, char: str) -> bool:
    """Whether a simple TrueType glyph (its bytes in its font, `data`) was judged in this process to draw `char`: one
    font's subsets in each document of a batch hold the same glyphs, outlined and digested once. Kept with the
    verdicts by digest (`_VERDICTS`, as `remember_bytes` puts it there), and forgotten with them."""
    key = (data, round(slant, 4), char)
    return key in _VERDICTS and _VERDICTS[key] is None


def remember_bytes(data: bytes, slant: float, char: str, looks_like: str | None) -> None:
    _VERDICTS[(data, round(slant, 4), char)] = looks_like


def _match(outline: tuple, slant: float, char: str) -> str | None:
    competing = kind(char)
    picture = _picture(outline, slant)
    if picture is None:
        return ""
    distances = _distances(picture, competing.chars)
    if char not in distances:
        # No reference typeface has it: nothing to match against.
        return None
    others = [(distance, other) for other, distance in distances.items() if _reads_as(other) != _reads_as(char)]
    if not others:
        return None
    nearest, looks_like = min(others)
    return looks_like if distances[char] > competing.tolerance * nearest else None
