"""Which font drew each glyph, and whether it was the one the clinic chose."""

from __future__ import annotations

import ctypes
import functools
import io
from struct import error as struct_error

import pypdfium2.raw as pdfium_c
from fontTools.ttLib import TTFont, TTLibError

from brochures.brand.fonts import readable_font_file
from brochures.pdf.objects import untagged


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
        name = untagged(name)
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
    # Checked again before fontTools reads it (size, tables, what it unpacks to): it may have changed since loading.
    if not readable_font_file(path):
        return frozenset()
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
