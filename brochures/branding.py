"""Turns a clinic's branding (colours, font, labels) into the CSS the stylesheets read through var()."""

from __future__ import annotations

import colorsys
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import fontpkg

FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
WHITE = "#FFFFFF"
INK = "#1B1F23"  # body text: near-black, softer than pure black on white
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
    faces = tuple(FontFace(Path(f.path), f.weight or 400, f.style) for f in family.files if not f.variable)
    return FontFamily(family.name, faces) if faces else None


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
    from fontTools.ttLib import TTFont, TTLibError  # WeasyPrint depends on fontTools

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
            if not resolved.is_relative_to(root) or not stat.S_ISREG(os.stat(resolved).st_mode):
                continue
            with TTFont(resolved, lazy=True) as font:
                family = font["name"].getBestFamilyName()
                weight = font["OS/2"].usWeightClass if "OS/2" in font else 400
                italic = bool(font["head"].macStyle & 0b10)
        except (TTLibError, OSError, KeyError, AttributeError):
            continue  # not a font we can read; find_font will report the family as missing
        if family:
            # The resolved file: the one checked is the one WeasyPrint is allowed to read.
            faces.append((family, FontFace(resolved, weight, "italic" if italic else "normal")))
    return faces


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


def luminance(colour: str) -> float:
    """Relative luminance, as WCAG defines it."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours, from 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_shade(colour: str, backgrounds: list[str], ratio: float = 4.5) -> str:
    """The colour itself if text in it is readable on every background, else a darker shade of the same hue."""
    hue, lightness, saturation = colorsys.rgb_to_hls(*_rgb(colour))
    shade = colour
    while min(contrast(shade, bg) for bg in backgrounds) < ratio and lightness > 0:
        lightness = max(0.0, lightness - 0.02)
        shade = _hex(colorsys.hls_to_rgb(hue, lightness, saturation))
    return shade


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
    adjustments: tuple[tuple[str, str], ...] = ()  # (config field, what was changed and why)


def palette(primary: str, accent: str | None) -> Palette:
    """Brand colours made accessible (WCAG AA: 4.5:1 for body text), keeping each colour's hue."""
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
    text = readable_shade(primary, [WHITE, accent])
    if text != primary:
        adjustments.append(("colors.primary", f"{primary} as text gives {contrast(primary, WHITE):.1f}:1 on white and "
                                              f"{contrast(primary, accent):.1f}:1 on the accent colour (needs 4.5:1): text in the "
                                              f"brand colour uses {text} ({min(contrast(text, WHITE), contrast(text, accent)):.1f}:1) instead"))
    return Palette(primary=background, on_primary=text_colour_on(background), accent=accent, text=text,
                   adjustments=tuple(adjustments))


def _mix(colour: str, other: str, amount: float) -> str:
    return _hex(tuple(a + (b - a) * amount for a, b in zip(_rgb(colour), _rgb(other))))


def brand_css(colours: Palette, font: FontFamily, page_size: str, footer_page: str) -> str:
    """The generated stylesheet: one :root block of brand values, plus the page size."""
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
        f'  --brand-font: "{font.css_name}";\n'
        f"  --footer-page: {' '.join(part for part in parts if part)};\n"
        f"  --sheet-width: {sheet_width};\n"
        f"  --sheet-height: {sheet_height};\n"
        "}\n"
        f"@page {{ size: {PAGE_SIZES[page_size]}; }}\n"
        f"@page trifold {{ size: {sheet} landscape; }}\n"
    )
