"""Glyph truth: each glyph a PDF draws for a digit, "+" or a letter of its safety lines looks like the character its
text layer says it is.

What a page shows is decided by glyph ids, after shaping (a font's substitutions included); what it says, to a
reader, a screen reader and the gate's other checks, is the text layer (each font's ToUnicode map). A font whose
glyph for "9" draws "1" prints "Call 111" over a text layer that says "Call 999". So every glyph the text layer
reads as one of those characters is drawn from the font program embedded in the PDF and matched on its shape
(pdf/glyph_shapes.py). A font that fails is named, with the files that draw those glyphs, and the characters.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path
from struct import error as struct_error

import pikepdf
from fontTools.ttLib import TTFont, TTLibError

from brochures.brand.fonts import MAX_FONT_BYTES, readable_font_file
from brochures.pdf.facts import Expected
from brochures.pdf.glyph_shapes import (
    ARABIC_DIGITS,
    DIGITS,
    checked,
    digest,
    known_to_draw,
    outline_of,
    remember,
    remember_bytes,
    safety_letters,
    slant_of,
    verdict,
)
from brochures.pdf.objects import identity, is_dictionary, is_stream, open_pdf, untagged, written_order
from brochures.pdf.objects import text as pdf_text
from brochures.problems import display_path


def glyph_problems(reader, expected: Expected) -> list[str]:
    """What each font of the PDF (`reader`: the PDF, as pdf/objects.py `open_pdf` takes it) draws for a character
    other than the one its text layer says: one problem per font, naming it, the files that draw those glyphs and
    the characters."""
    pdf = open_pdf(reader)
    try:
        return _problems(pdf, expected)
    finally:
        # One opened here (from another library's reader) is closed here.
        if pdf is not reader:
            pdf.close()


def _problems(pdf, expected: Expected) -> list[str]:
    letters = safety_letters(expected.must_show)
    # Font → character (or characters one glyph stands for) → what it draws instead.
    wrong: dict[str, dict[str, str]] = {}
    files: dict[str, set[str]] = {}
    new: dict[str, str | None] = {}
    for font in _fonts(pdf):
        claims = _claims(font, letters)
        if not claims:
            continue
        name, font_files = _font_name(font, expected)
        found = wrong.setdefault(name, {})
        drawing = files.setdefault(name, set())
        program = _program(font)
        try:
            count = program["maxp"].numGlyphs if program is not None else 0
            # Made only for a glyph not judged before, once for the font.
            glyph_set = functools.cache(program.getGlyphSet) if program is not None else None
            tables = functools.cache(lambda program=program: _glyph_tables(program))
            slant = slant_of(program) if program is not None else 0.0
            for glyph, text in claims.items():
                if len(text) > 1:
                    found[text] = "joins them into one glyph"
                elif program is None or glyph >= count:
                    found[text] = "cannot be read back from the PDF"
                    drawing.update(font_files)
                elif glyph:
                    looks_like, outline_digest = _judged(program, glyph_set, tables(), glyph, slant, text, new)
                    if looks_like is not None:
                        found[text] = f'looks like "{looks_like}"' if looks_like else "draws nothing"
                        drawing.update(_drawing(font_files, text, outline_digest))
        except (TTLibError, KeyError, AssertionError, ValueError, IndexError, TypeError, struct_error):
            found.update(dict.fromkeys(claims.values(), "cannot be read back from the PDF"))
            drawing.update(font_files)
        finally:
            if program is not None:
                program.close()
    if new:
        remember(new)
    return [_message(name, sorted(files[name]), chars) for name, chars in wrong.items() if chars]


def _judged(
    program: TTFont, glyph_set, tables, glyph: int, slant: float, text: str, new: dict[str, str | None]
) -> tuple[str | None, str]:
    """What glyph `glyph` of `program` draws other than `text` (None: it draws `text`; "": nothing), as `verdict`
    says, and (when it draws something else) its outline's digest. `glyph_set`: gives the font's glyph set;
    `tables`: its glyph offsets and glyph data (`_glyph_tables`). A glyph matched afresh is added to `new`, to be
    saved.

    A simple glyph in a TrueType font is judged once by its bytes (its contours and points) and its font's slant
    (`known_to_draw`): the subsets of one font embedded in each document of a batch hold the same glyphs. A
    composite glyph names other glyphs of its own font, so it is drawn each time."""
    offsets, glyphs = tables
    data = glyphs[offsets[glyph]:offsets[glyph + 1]] if glyphs is not None else None
    simple = bool(data) and len(data) >= 10 and int.from_bytes(data[:2], "big", signed=True) >= 0
    if simple and known_to_draw(data, slant, text):
        return None, ""
    outline = outline_of(glyph_set(), program.getGlyphName(glyph))
    looks_like = verdict(outline, slant, text, new)
    if simple:
        remember_bytes(data, slant, text, looks_like)
    return looks_like, digest(outline, slant) if looks_like is not None else ""


def _glyph_tables(program: TTFont) -> tuple[list[int], bytes | None]:
    """A TrueType font's glyph offsets (loca) and its glyph data (glyf) as written, each glyph's bytes between two
    offsets; no data for a font of other outlines (CFF)."""
    if "glyf" not in program or "loca" not in program:
        return [], None
    return program["loca"].locations, program.reader["glyf"]


def _message(name: str, files: list[str], chars: dict[str, str]) -> str:
    where = f" ({', '.join(display_path(Path(path)) for path in files)})" if files else ""
    if len(chars) == 1:
        (text, why), = chars.items()
        shown = f'"{text}" as another character (it {why})'
    else:
        reasons = ", ".join(f'"{text}" {why}' for text, why in chars.items())
        shown = f"{', '.join(repr(text).replace(chr(39), chr(34)) for text in chars)} as other characters ({reasons})"
    return (f'the font "{name}"{where} draws {shown}: the page would not show what its text says. Use the font '
            f"file as its maker made it, or choose another font (font: in clinic.yaml)")


def _drawing(files: tuple[str, ...], char: str, digest: str) -> list[str]:
    """The files among `files` whose glyph for `char` is the outline `digest`: all of them when none is (a
    variable font's instance, a glyph another one replaces in context)."""
    found = [path for path in files if _file_digest(path, _identity(path), char) == digest]
    return found or list(files)


def _identity(path: str) -> tuple[int, int]:
    try:
        status = Path(path).stat()
    except OSError:
        return 0, 0
    return status.st_size, status.st_mtime_ns


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, identity: tuple[int, int], char: str) -> str | None:
    if not readable_font_file(Path(path)):
        return None
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            glyph = (font.getBestCmap() or {}).get(ord(char))
            return digest(outline_of(font.getGlyphSet(), glyph), slant_of(font)) if glyph else None
    except (TTLibError, KeyError, AssertionError, ValueError, IndexError, TypeError, OSError, struct_error):
        return None


def _fonts(reader):
    """Every font the pages use (their own resources and those of the forms they draw), each once."""
    seen: set = set()
    pending = [page.obj.get("/Resources") for page in reader.pages]
    visited = 0
    while pending and visited < 10_000:
        visited += 1
        resources = pending.pop()
        if not is_dictionary(resources):
            continue
        fonts, forms = resources.get("/Font"), resources.get("/XObject")
        for font in written_order(fonts.values()) if is_dictionary(fonts) else []:
            key = identity(font)
            if key not in seen and is_dictionary(font):
                seen.add(key)
                yield font
        for form in forms.values() if is_dictionary(forms) else []:
            key = ("form", identity(form))
            if key not in seen and is_stream(form) and form.get("/Subtype") == "/Form":
                seen.add(key)
                pending.append(form.get("/Resources"))


def _font_name(font, expected: Expected) -> tuple[str, tuple[str, ...]]:
    """The font as the clinic named it, and its files; else as the PDF names it (without its subset tag)."""
    name = pdf_text(font.get("/BaseFont")).lstrip("/")
    name = untagged(name)
    for css, family, files in ((expected.font, expected.font_family, expected.font_files), *expected.script_fonts):
        if css and (name == css or name.startswith(css + "-")):
            return family, tuple(files)
    return name, ()


def _claims(font, letters: frozenset[str]) -> dict[int, str]:
    """Glyph id → the character the text layer reads it as, for each glyph read as a character that is checked;
    also each glyph read as several characters one of which is a digit or "+" (no honest font joins digits)."""
    if font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
        return _simple_claims(font, letters)
    to_unicode = _to_unicode(_data(font["/ToUnicode"]))
    to_cid = _encoding(font.get("/Encoding"))
    descendant = font["/DescendantFonts"][0]
    to_glyph = _cid_to_gid(descendant.get("/CIDToGIDMap"))
    claims: dict[int, str] = {}
    for code, text in to_unicode.items():
        cid = to_cid(code)
        glyph = to_glyph(cid) if cid is not None else None
        if glyph is None:
            continue
        if len(text) == 1 and checked(text, letters):
            claims[glyph] = text
        elif len(text) > 1 and any(c in DIGITS or c in ARABIC_DIGITS for c in text):
            claims[glyph] = text
    return claims


def _simple_claims(font, letters: frozenset[str]) -> dict[int, str]:
    """A font WeasyPrint does not write for outlines (a Type 3 font of bitmaps): it cannot be read back, so any
    checked character it claims to draw is named."""
    if "/ToUnicode" not in font:
        return {}
    to_unicode = _to_unicode(_data(font["/ToUnicode"]))
    return {-code - 1: text for code, text in to_unicode.items() if len(text) == 1 and checked(text, letters)}


_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _utf16(hex_text: bytes) -> str:
    data = bytes.fromhex(hex_text.decode("ascii"))
    return data.decode("utf-16-be", errors="replace")


def _to_unicode(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap's code → text (bfchar and bfrange)."""
    found: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        values = _HEX.findall(block)
        for code, text in zip(values[::2], values[1::2]):
            found[int(code or b"0", 16)] = _utf16(text)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in re.findall(rb"<[0-9A-Fa-f]*>\s*<[0-9A-Fa-f]*>\s*(?:<[0-9A-Fa-f]*>|\[[^\]]*\])", block):
            values = _HEX.findall(line)
            start, end = int(values[0] or b"0", 16), int(values[1] or b"0", 16)
            # Bounded: a range covers at most the two-byte code space.
            end = min(end, start + 0xFFFF)
            if b"[" in line:
                for offset, text in enumerate(values[2:]):
                    found[start + offset] = _utf16(text)
            else:
                first = bytes.fromhex(values[2].decode("ascii"))
                for offset in range(end - start + 1):
                    last = int.from_bytes(first[-2:], "big") + offset if len(first) >= 2 else offset
                    found[start + offset] = (first[:-2] + (last & 0xFFFF).to_bytes(2, "big")).decode(
                        "utf-16-be", errors="replace")
    return found


def _encoding(encoding):
    """Code → CID: Identity-H, or a CMap of cidchar and cidrange entries (WeasyPrint maps a missing glyph to 0)."""
    if not is_stream(encoding):
        return lambda code: code
    data = encoding.read_bytes()
    table: dict[int, int] = {}
    for block in re.findall(rb"begincidchar(.*?)endcidchar", data, re.S):
        for code, cid in re.findall(rb"<([0-9A-Fa-f]+)>\s*(\d+)", block):
            table[int(code, 16)] = int(cid)
    for block in re.findall(rb"begincidrange(.*?)endcidrange", data, re.S):
        for start, end, cid in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\d+)", block):
            for offset in range(min(int(end, 16) - int(start, 16), 0xFFFF) + 1):
                table[int(start, 16) + offset] = int(cid) + offset
    return table.get


def _cid_to_gid(mapping):
    if not is_stream(mapping):
        return lambda cid: cid
    data = mapping.read_bytes()
    return lambda cid: int.from_bytes(data[2 * cid:2 * cid + 2], "big") if 2 * cid + 2 <= len(data) else None


def _data(stream) -> bytes:
    """A stream's bytes, decoded (nothing for what is not a stream)."""
    return stream.read_bytes() if is_stream(stream) else b""


def _program(font) -> TTFont | None:
    """The font program embedded for a composite font (TrueType, or OpenType with CFF outlines), or None."""
    if font.get("/Subtype") != "/Type0":
        return None
    try:
        descriptor = font["/DescendantFonts"][0]["/FontDescriptor"]
        stream = descriptor.get("/FontFile2")
        stream = stream if stream is not None else descriptor.get("/FontFile3")
        if not is_stream(stream):
            return None
        data = stream.read_bytes()
        if len(data) > MAX_FONT_BYTES:
            return None
        return TTFont(io.BytesIO(data), lazy=True)
    except (TTLibError, KeyError, AssertionError, ValueError, IndexError, TypeError, OSError, struct_error,
            pikepdf.PdfError):
        return None
