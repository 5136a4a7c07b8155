"""Brand colours made readable: WCAG contrast, shades of the same hue in OKLCH, and the clinic's palette."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

WHITE = "#FFFFFF"


# Body text: near-black, softer than pure black on white.
INK = "#1B1F23"


# Safety warnings (the emergency box, "talk to the clinic first"): the same red for every clinic.
# Emitted as --alert and --alert-background; brand-coloured text (list markers) sits on the background.
ALERT, ALERT_BACKGROUND = "#A4161A", "#FDF1F1"


# Brand headings must not read as warnings: at least this far from ALERT in hue and colourfulness
# (OKLab a/b plane; one just-noticeable difference is about 0.02).
WARNING_DISTANCE = 0.07


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
    # The responses of the long, medium and short wavelength cones (LMS), made perceptual.
    long, medium, short = (math.copysign(abs(x) ** (1 / 3), x) for x in lms)
    return (0.2104542553 * long + 0.7936177850 * medium - 0.0040720468 * short,
            1.9779984951 * long - 2.4285922050 * medium + 0.4505937099 * short,
            0.0259040371 * long + 0.7827717662 * medium - 0.8086757660 * short)


def _from_oklch(lightness: float, chroma: float, hue: float) -> tuple[float, float, float] | None:
    """Gamma-encoded sRGB for an OKLCH colour, or None if sRGB cannot show it."""
    a, b = chroma * math.cos(hue), chroma * math.sin(hue)
    # The responses of the long, medium and short wavelength cones (LMS).
    long, medium, short = ((lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3,
                           (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3,
                           (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3)
    rgb = (4.0767416621 * long - 3.3077115913 * medium + 0.2309699292 * short,
           -1.2684380046 * long + 2.6097574011 * medium - 0.3413193965 * short,
           -0.0041960863 * long - 0.7034186147 * medium + 1.7076147010 * short)
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
        # Too near the warning red at every lightness: less colourful.
        chroma = max(0.0, round(chroma - 0.01, 4))
    return _oklch_hex(0.0, 0.0, hue)


def tint(colour: str, amount: float) -> str:
    """Mix `amount` of the colour into white."""
    return _hex(tuple(1 - amount * (1 - c) for c in _rgb(colour)))


def text_colour_on(background: str) -> str:
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


@dataclass(frozen=True)
class Palette:
    """The colours a document uses, derived from the clinic's brand colours so that all text stays readable."""

    # Bands and backgrounds.
    primary: str
    # Text on a primary background.
    on_primary: str
    # Soft backgrounds behind text.
    accent: str
    # Headings and brand-coloured text: the primary, darkened if needed to stay readable.
    text: str
    # Body text.
    ink: str = INK
    # Safety warnings: the same for every clinic.
    alert: str = ALERT
    alert_background: str = ALERT_BACKGROUND
    # (config field, what was changed and why, and the text colour a clinic may write as colors.text to accept it,
    # or None for a background it cannot)
    adjustments: tuple[tuple[str, str, str | None], ...] = ()

    @property
    def text_backgrounds(self) -> tuple[str, ...]:
        """Every background brand-coloured text sits on (styles/*.css, color: var(--brand-text)): the page,
        the accent (title block, callouts, "contact us" box), and the emergency box (its list markers)."""
        return text_backgrounds(self.accent)


def text_backgrounds(accent: str) -> tuple[str, ...]:
    return (WHITE, accent, ALERT_BACKGROUND)


@functools.lru_cache(maxsize=256)
def palette(primary: str, accent: str | None, text: str | None = None) -> Palette:
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
            adjustments.append(
                (
                    "colors.accent",
                    f"{accent} behind text gives {contrast(INK, accent):.1f}:1 with body text "
                    f"(needs 4.5:1): backgrounds use the lighter {lighter} ({contrast(INK, lighter):.1f}:1) instead",
                    None,
                )
            )
        accent = lighter
    background = primary
    if max(contrast(WHITE, primary), contrast(INK, primary)) < 4.5:
        background = readable_shade(primary, [WHITE])
        adjustments.append(
            (
                "colors.primary",
                f"{primary} behind text gives at most {max(contrast(WHITE, primary), contrast(INK, primary)):.1f}:1 "
                f"(needs 4.5:1): backgrounds behind text use the darker {background} "
                f"({contrast(WHITE, background):.1f}:1 with white text) instead",
                None,
            )
        )
    backgrounds = text_backgrounds(accent)
    if text is not None:
        return Palette(primary=background, on_primary=text_colour_on(background), accent=accent,
                       text=own_text(text, backgrounds, accent, adjustments), adjustments=tuple(adjustments))
    text = readable_shade(primary, list(backgrounds), distinct_from_warning=True)
    if text != primary:
        adjustments.append(_text_adjustment("colors.primary", primary, text, backgrounds, accent))
    return Palette(
        primary=background,
        on_primary=text_colour_on(background),
        accent=accent,
        text=text,
        adjustments=tuple(adjustments),
    )


def own_text(text: str, backgrounds: tuple[str, ...], accent: str, adjustments: list) -> str:
    """The clinic's own text colour (colors.text), used as it is when it is readable on every background and
    apart from the red of the safety warnings; otherwise a readable shade of it, with an adjustment saying why."""
    readable = readable_shade(text, list(backgrounds), distinct_from_warning=True)
    if readable != text:
        adjustments.append(_text_adjustment("colors.text", text, readable, backgrounds, accent))
    return readable


def _text_adjustment(setting: str, colour: str, shade: str, backgrounds: tuple[str, ...], accent: str) -> tuple:
    """Why `colour` cannot be text as it is, and the readable `shade` used instead (which colors.text accepts)."""
    worst = min(backgrounds, key=lambda bg: contrast(colour, bg))
    if min(contrast(colour, bg) for bg in backgrounds) >= 4.5:
        why = (
            f"{colour} as text is too close to the red of the safety warnings (needs a distance of "
            f"{WARNING_DISTANCE:g}, has {warning_distance(colour):.2f})"
        )
    else:
        why = (
            f"{colour} as text gives {contrast(colour, WHITE):.1f}:1 on white, {contrast(colour, accent):.1f}:1 on the "
            f"accent colour and {contrast(colour, ALERT_BACKGROUND):.1f}:1 on the emergency box "
            f"(needs 4.5:1 on each; lowest on {_background_name(worst, accent)})"
        )
    return (setting, f"{why}: text in the brand colour uses {shade} "
                     f"({min(contrast(shade, bg) for bg in backgrounds):.1f}:1) instead", shade)


def _background_name(colour: str, accent: str) -> str:
    return "white" if colour == WHITE else "the accent colour" if colour == accent else "the emergency box"


def _mix(colour: str, other: str, amount: float) -> str:
    return _hex(tuple(a + (b - a) * amount for a, b in zip(_rgb(colour), _rgb(other))))
