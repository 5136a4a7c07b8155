"""Turns a clinic's branding (colours, font, labels) into the CSS the stylesheets read through var()."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import fontpkg

MAX_FONT_BYTES = 20 * 1024 * 1024  # the largest font families ship files of a few MB
FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
DESIGN_WEIGHTS = (400, 700)  # the weights the stylesheets use: body text, and bold headings and labels
WHITE = "#FFFFFF"
INK = "#1B1F23"  # body text: near-black, softer than pure black on white
# Safety warnings (the emergency box, "talk to the clinic first"): the same red for every clinic.
# Emitted as --alert and --alert-background; brand-coloured text (list markers) sits on the background.
ALERT, ALERT_BACKGROUND = "#A4161A", "#FDF1F1"
# Brand headings must not read as warnings: at least this far from ALERT in hue and colourfulness
# (OKLab a/b plane; one just-noticeable difference is about 0.02).
WARNING_DISTANCE = 0.07
PAGE_SIZES = {"A4": "A4", "A5": "A5", "Letter": "letter"}
# A tri-fold is one landscape sheet: Letter for Letter clinics, A4 for everyone else.
SHEETS = {"A4": ("A4", "297mm", "210mm"), "A5": ("A4", "297mm", "210mm"), "Letter": ("letter", "279.4mm", "215.9mm")}


@dataclass(frozen=True)
class FontFace:
    path: Path
    weight: int
    style: str


@dataclass(frozen=True)
class FontFamily:
    """A font a clinic asked for, with the files that draw it."""

    name: str
    faces: tuple[FontFace, ...]

    @property
    def css_name(self) -> str:
        # A name unique to these files, so two clinics' fonts that share a family
        # name never replace each other in the one font configuration of a batch.
        digest = hashlib.sha256("\n".join(str(f.path) for f in self.faces).encode()).hexdigest()[:10]
        return f"brand-{digest}"

    @property
    def files(self) -> frozenset[Path]:
        return frozenset(face.path.resolve() for face in self.faces)


def find_font(name: str, clinic_folder: Path) -> FontFamily | None:
    """The clinic's own font files named `name` (in its fonts/ folder), else an installed font package."""
    own = [face for face in _clinic_font_faces(clinic_folder) if face[0].casefold() == name.casefold()]
    if own:
        return FontFamily(name, tuple(face for _, face in own))
    try:
        family = fontpkg.family(name)
    except fontpkg.FontpkgError:
        return None
    faces = [FontFace(Path(f.path), f.weight or 400, f.style) for f in family.files if not f.variable]
    for f in family.files:
        if f.variable:  # one file for every weight: registered once for each weight the design uses
            covered = {(face.weight, face.style) for face in faces}
            faces += [face for face in _variable_faces(Path(f.path), f.style, f.wght_min, f.wght_max)
                      if (face.weight, face.style) not in covered]
    return FontFamily(family.name, tuple(faces)) if faces else None


def _variable_faces(path: Path, style: str, lightest: float | None, boldest: float | None) -> list[FontFace]:
    """A variable font, as one face per weight the stylesheets use that its weight axis reaches.

    WeasyPrint 70 takes a single weight in @font-face (no "100 900" range), and makes a static instance
    of a variable font at the weight each run of text asks for, so registering the one file at 400 and
    at 700 gives real regular and bold text.
    """
    return [FontFace(path, weight, style) for weight in DESIGN_WEIGHTS
            if (lightest is None or lightest <= weight) and (boldest is None or weight <= boldest)]


def available_fonts(clinic_folder: Path) -> list[str]:
    """Font family names a clinic can choose: its own files, then installed font packages."""
    names = {family for family, _ in _clinic_font_faces(clinic_folder)}
    names.update(family.name for family in fontpkg.families().values())
    return sorted(names)


def _clinic_font_faces(clinic_folder: Path) -> list[tuple[str, FontFace]]:
    """The clinic's own font files (fonts/*): regular files that are, with every link followed, inside the clinic folder.

    A file or folder that links out of the clinic folder, and anything that is not a regular file
    (a FIFO would block the build), is skipped; find_font then reports the family as missing.
    """
    from fontTools.ttLib import TTFont  # WeasyPrint depends on fontTools

    root = Path(clinic_folder).resolve()
    folder = Path(clinic_folder) / "fonts"
    if not folder.is_dir() or not folder.resolve().is_relative_to(root):
        return []
    faces = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        resolved = path.resolve()
        try:
            status = os.stat(resolved)
            if not resolved.is_relative_to(root) or not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FONT_BYTES:
                continue
            with TTFont(resolved, lazy=True) as font:
                family = font["name"].getBestFamilyName()
                weight = font["OS/2"].usWeightClass if "OS/2" in font else 400
                italic = bool(font["head"].macStyle & 0b10)
                axis = next((a for a in font["fvar"].axes if a.axisTag == "wght"), None) if "fvar" in font else None
        except Exception:  # noqa: BLE001 - fontTools, zlib and brotli raise many kinds for a damaged file
            continue  # not a font we can read; find_font will report the family as missing
        if family:
            # The resolved file: the one checked is the one WeasyPrint is allowed to read.
            style = "italic" if italic else "normal"
            if axis is not None:
                faces += [(family, face) for face in _variable_faces(resolved, style, axis.minValue, axis.maxValue)]
            else:
                faces.append((family, FontFace(resolved, weight, style)))
    return faces


_CHARACTERS: dict[tuple[Path, ...], frozenset[int]] = {}


def undrawable(family: FontFamily, text: str) -> str:
    """The characters of `text` that none of the family's files can draw (spaces and line breaks aside),
    each once, in order: what would print as empty boxes, or in some other font the machine happens to have."""
    from fontTools.ttLib import TTFont

    key = tuple(sorted({face.path for face in family.faces}))
    if key not in _CHARACTERS:
        covered: set[int] = set()
        for path in key:
            with TTFont(path, lazy=True, fontNumber=0) as font:
                covered |= set(font.getBestCmap() or {})
        _CHARACTERS[key] = frozenset(covered)
    return "".join(dict.fromkeys(c for c in text if not c.isspace() and ord(c) not in _CHARACTERS[key]))


def font_face_css(family: FontFamily) -> str:
    """@font-face rules for every file of a family."""
    rules = [
        f'@font-face {{ font-family: "{family.css_name}"; src: url("{face.path.resolve().as_uri()}"); '
        f"font-weight: {face.weight}; font-style: {face.style}; }}"
        for face in family.faces
    ]
    return "\n".join(rules) + "\n"


# --- Colour ---

def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02X}" for c in rgb)


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Relative luminance, as WCAG defines it."""
    r, g, b = (_linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, from 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def oklab(colour: str) -> tuple[float, float, float]:
    """OKLab (lightness, a, b): a perceptual space, where a shade keeps the hue the eye sees."""
    r, g, b = (_linear(c) for c in _rgb(colour))
    lms = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b,
           0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b,
           0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    l, m, s = (math.copysign(abs(x) ** (1 / 3), x) for x in lms)
    return (0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
            1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
            0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s)


def _from_oklch(lightness: float, chroma: float, hue: float) -> tuple[float, float, float] | None:
    """Gamma-encoded sRGB for an OKLCH colour, or None if sRGB cannot show it."""
    a, b = chroma * math.cos(hue), chroma * math.sin(hue)
    l, m, s = ((lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3,
               (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3,
               (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3)
    rgb = (4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
           -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
           -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s)
    if any(c < -1e-6 or c > 1 + 1e-6 for c in rgb):
        return None
    return tuple(12.92 * c if c <= 0.0031308 else 1.055 * max(c, 0) ** (1 / 2.4) - 0.055 for c in rgb)


def _oklch_hex(lightness: float, chroma: float, hue: float) -> str:
    """The colour, with its chroma reduced as little as needed for sRGB to show it (hue and lightness kept)."""
    low, high = 0.0, chroma
    if (rgb := _from_oklch(lightness, chroma, hue)) is not None:
        return _hex(rgb)
    for _ in range(20):
        middle = (low + high) / 2
        low, high = (middle, high) if _from_oklch(lightness, middle, hue) is not None else (low, middle)
    return _hex(_from_oklch(lightness, low, hue) or (lightness,) * 3)


def warning_distance(colour: str) -> float:
    """How far a colour is from the warning red in hue and colourfulness (OKLab's a/b plane), whatever its lightness."""
    _, a, b = oklab(colour)
    _, wa, wb = oklab(ALERT)
    return math.hypot(a - wa, b - wb)


def readable_shade(colour: str, backgrounds: list[str], ratio: float = 4.5, distinct_from_warning: bool = False) -> str:
    """The colour itself if text in it is readable on every background, else a darker shade of the same hue.

    The shade is taken in OKLCH, keeping the colour's own colourfulness: a pale pink becomes a dusty
    rose, not the saturated red that darkening in HLS gives. With `distinct_from_warning`, a shade too
    near the warning red (closer than WARNING_DISTANCE) is passed over: darker shades are tried first,
    then less colourful ones, until one is readable and apart from the warning.
    """
    lightness, a, b = oklab(colour)
    chroma, hue = math.hypot(a, b), math.atan2(b, a)

    def fits(shade: str) -> bool:
        return (min(contrast(shade, bg) for bg in backgrounds) >= ratio
                and (not distinct_from_warning or warning_distance(shade) >= WARNING_DISTANCE))

    if fits(colour):
        return colour
    while chroma > 0:
        step = lightness
        while step > 0:
            shade = _oklch_hex(step, chroma, hue)
            if fits(shade):
                return shade
            step = round(step - 0.005, 4)
        chroma = max(0.0, round(chroma - 0.01, 4))  # too near the warning red at every lightness: less colourful
    return _oklch_hex(0.0, 0.0, hue)


def tint(colour: str, amount: float) -> str:
    """Mix `amount` of the colour into white."""
    return _hex(tuple(1 - amount * (1 - c) for c in _rgb(colour)))


def text_colour_on(background: str) -> str:
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


# --- CSS ---

def css_string(text: str) -> str:
    """A CSS string literal for any text: every character that could end or bend it is escaped."""
    escaped = "".join(c if c.isalnum() or c in " .,:;!?()-'/&+@" else f"\\{ord(c):06X}" for c in text)
    return f'"{escaped}"'


@dataclass(frozen=True)
class Palette:
    """The colours a document uses, derived from the clinic's brand colours so that all text stays readable."""

    primary: str      # bands and backgrounds
    on_primary: str   # text on a primary background
    accent: str       # soft backgrounds behind text
    text: str         # headings and brand-coloured text: the primary, darkened if needed to stay readable
    ink: str = INK    # body text
    alert: str = ALERT                         # safety warnings: the same for every clinic
    alert_background: str = ALERT_BACKGROUND
    adjustments: tuple[tuple[str, str], ...] = ()  # (config field, what was changed and why)

    @property
    def text_backgrounds(self) -> tuple[str, ...]:
        """Every background brand-coloured text sits on (styles/*.css, color: var(--brand-text)): the page,
        the accent (title block, callouts, "contact us" box), and the emergency box (its list markers)."""
        return text_backgrounds(self.accent)


def text_backgrounds(accent: str) -> tuple[str, ...]:
    return (WHITE, accent, ALERT_BACKGROUND)


@functools.lru_cache(maxsize=256)
def palette(primary: str, accent: str | None) -> Palette:
    """Brand colours made accessible (WCAG AA: 4.5:1 for body text), keeping each colour's hue.

    Computed once per pair of colours: the renderer, the printer and the scorecard share the result.
    """
    adjustments = []
    given_accent = accent
    accent = accent or tint(primary, 0.12)
    if contrast(INK, accent) < 4.5:
        lighter = accent
        for step in range(1, 101):
            lighter = _mix(accent, WHITE, step / 100)
            if contrast(INK, lighter) >= 4.5:
                break
        if given_accent:
            adjustments.append(("colors.accent", f"{accent} behind text gives {contrast(INK, accent):.1f}:1 with body text "
                                                 f"(needs 4.5:1): backgrounds use the lighter {lighter} ({contrast(INK, lighter):.1f}:1) instead"))
        accent = lighter
    background = primary
    if max(contrast(WHITE, primary), contrast(INK, primary)) < 4.5:
        background = readable_shade(primary, [WHITE])
        adjustments.append(("colors.primary", f"{primary} behind text gives at most {max(contrast(WHITE, primary), contrast(INK, primary)):.1f}:1 "
                                              f"(needs 4.5:1): backgrounds behind text use the darker {background} "
                                              f"({contrast(WHITE, background):.1f}:1 with white text) instead"))
    backgrounds = text_backgrounds(accent)
    text = readable_shade(primary, list(backgrounds), distinct_from_warning=True)
    if text != primary:
        worst = min(backgrounds, key=lambda bg: contrast(primary, bg))
        if min(contrast(primary, bg) for bg in backgrounds) >= 4.5:
            why = (f"{primary} as text is too close to the red of the safety warnings (needs a distance of "
                   f"{WARNING_DISTANCE:g}, has {warning_distance(primary):.2f})")
        else:
            why = (f"{primary} as text gives {contrast(primary, WHITE):.1f}:1 on white, {contrast(primary, accent):.1f}:1 on the "
                   f"accent colour and {contrast(primary, ALERT_BACKGROUND):.1f}:1 on the emergency box "
                   f"(needs 4.5:1 on each; lowest on {_background_name(worst, accent)})")
        adjustments.append(("colors.primary", f"{why}: text in the brand colour uses {text} "
                                              f"({min(contrast(text, bg) for bg in backgrounds):.1f}:1) instead"))
    return Palette(primary=background, on_primary=text_colour_on(background), accent=accent, text=text,
                   adjustments=tuple(adjustments))


def _background_name(colour: str, accent: str) -> str:
    return "white" if colour == WHITE else "the accent colour" if colour == accent else "the emergency box"


def _mix(colour: str, other: str, amount: float) -> str:
    return _hex(tuple(a + (b - a) * amount for a, b in zip(_rgb(colour), _rgb(other))))


def brand_css(colours: Palette, fonts: tuple[FontFamily, ...], page_size: str, footer_page: str) -> str:
    """The generated stylesheet: one :root block of brand values, plus the page size. `fonts`: the clinic's font,
    then the fonts of its language's script (Arabic letters come from the second when the first has none)."""
    before, _, rest = footer_page.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    parts = [css_string(before) if before else "", "counter(page)", css_string(middle) if middle else "",
             "counter(pages)", css_string(after) if after else ""]
    sheet, sheet_width, sheet_height = SHEETS[page_size]
    return (
        ":root {\n"
        f"  --brand-primary: {colours.primary};\n"
        f"  --brand-on-primary: {colours.on_primary};\n"
        f"  --brand-accent: {colours.accent};\n"
        f"  --brand-text: {colours.text};\n"
        f"  --ink: {colours.ink};\n"
        f"  --alert: {colours.alert};\n"
        f"  --alert-background: {colours.alert_background};\n"
        f"  --brand-font: {', '.join(f'{chr(34)}{font.css_name}{chr(34)}' for font in fonts)};\n"
        f"  --footer-page: {' '.join(part for part in parts if part)};\n"
        f"  --sheet-width: {sheet_width};\n"
        f"  --sheet-height: {sheet_height};\n"
        "}\n"
        f"@page {{ size: {PAGE_SIZES[page_size]}; }}\n"
        f"@page trifold {{ size: {sheet} landscape; }}\n"
    )
