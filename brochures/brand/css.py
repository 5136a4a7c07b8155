"""A clinic's branding as CSS: the generated :root block of custom properties the stylesheets use."""

from __future__ import annotations

from brochures.brand.colours import Palette
from brochures.brand.fonts import FontFamily

PAGE_SIZES = {"A4": "A4", "A5": "A5", "Letter": "letter"}


# A tri-fold is one landscape sheet: Letter for Letter clinics, A4 for everyone else.
SHEETS = {"A4": ("A4", "297mm", "210mm"), "A5": ("A4", "297mm", "210mm"), "Letter": ("letter", "279.4mm", "215.9mm")}


def css_string(text: str) -> str:
    """A CSS string literal for any text: every character that could end or bend it is escaped."""
    escaped = "".join(c if c.isalnum() or c in " .,:;!?()-'/&+@" else f"\\{ord(c):06X}" for c in text)
    return f'"{escaped}"'


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
