"""A clinic's font: found by name among the packaged fonts or in the clinic's fonts/ folder, with its faces."""

from __future__ import annotations

import functools
import hashlib
import math
import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import fontpkg

from brochures.files.safe_read import read_regular_file
from brochures.problems import describe

# The largest font families ship files of a few MB.
MAX_FONT_BYTES = 20 * 1024 * 1024

# What a clinic's font file may unpack to (a WOFF or WOFF2 file is compressed), and how many tables it may list:
# real fonts have a few dozen. Both are checked on the file's own header, before any font library reads it.
MAX_UNPACKED_FONT_BYTES = MAX_FONT_BYTES
MAX_FONT_TABLES = 64

# TrueType (0x00010000 or "true") and CFF-based OpenType ("OTTO") files, then the two web formats.
_SFNT_SIGNATURES = (b"\x00\x01\x00\x00", b"true", b"OTTO")
_WOFF_HEADER = struct.Struct(">4s4sLHHLHHLLLLL")
_WOFF2_HEADER = struct.Struct(">4s4sLHHLLHHLLLLL")
# How much unpacked data is held at once while a stream is measured.
_UNPACK_STEP = 1024 * 1024


class _Damaged(Exception):
    """Not a font file fontTools could read: it is skipped, and the font reported as missing if it was the one."""


class _Refused(Exception):
    """A font file over a bound: refused by name, never given to a font library."""

    def __init__(self, expected: str, found: str):
        super().__init__(expected, found)
        self.expected, self.found = expected, found


def _megabytes(size: int) -> str:
    # Rounded up, so that a file one byte over 20 MB never reads as "20 MB".
    if size < 2**20:
        return f"{math.ceil(size / 1024)} KB"
    return f"{math.ceil(size * 10 / 2**20) / 10:g} MB"


def _declared(size: int) -> None:
    if size > MAX_UNPACKED_FONT_BYTES:
        raise _Refused(f"a font file of at most {_megabytes(MAX_UNPACKED_FONT_BYTES)} when unpacked",
                       f"which says it unpacks to {_megabytes(size)}")


def _within(data_size: int, what: str, offset: int, length: int) -> None:
    if offset + length > data_size:
        raise _Refused("a font file whose tables all lie inside it",
                       f"whose {what} ends at byte {offset + length:,} of {data_size:,}")


def _table_count(count: int) -> None:
    if count > MAX_FONT_TABLES:
        raise _Refused(f"a font file of at most {MAX_FONT_TABLES} tables", f"which lists {count:,}")


def _unpacks_within(packed: bytes, brotli_stream: bool, size: int) -> None:
    """That a zlib (WOFF) or Brotli (WOFF2) stream unpacks to exactly `size` bytes, as its header says: measured
    a step at a time, so that a stream that says little and unpacks to gigabytes is stopped after `size` bytes."""
    if brotli_stream:
        from fontTools.ttLib import woff2

        if not woff2.haveBrotli:
            raise _Damaged
        total, finished = _brotli_size(woff2.brotli, packed, size)
    else:
        total, finished = _zlib_size(packed, size)
    if total > size:
        raise _Refused(f"a font file of at most {_megabytes(MAX_UNPACKED_FONT_BYTES)} when unpacked",
                       f"which unpacks to more than the {_megabytes(size)} it says")
    if not finished or total != size:
        raise _Damaged


def _zlib_size(packed: bytes, size: int) -> tuple[int, bool]:
    """How much of a zlib stream unpacks (stopping once past `size`), and whether it ends."""
    unpacker, rest, total = zlib.decompressobj(), packed, 0
    try:
        while total <= size and not unpacker.eof:
            out = unpacker.decompress(rest, _UNPACK_STEP)
            total += len(out)
            rest = unpacker.unconsumed_tail
            if not out and not rest:
                break
    except zlib.error as error:
        raise _Damaged from error
    return total, unpacker.eof


def _brotli_size(brotli, packed: bytes, size: int) -> tuple[int, bool]:
    """How much of a Brotli stream unpacks (stopping once past `size`), and whether it ends."""
    unpacker, total = brotli.Decompressor(), 0
    try:
        try:
            total = len(unpacker.process(packed, output_buffer_limit=_UNPACK_STEP))
            while total <= size and not unpacker.is_finished() and not unpacker.can_accept_more_data():
                total += len(unpacker.process(b"", output_buffer_limit=_UNPACK_STEP))
        except TypeError:
            # Brotli before 1.2 cannot stop at a size: it is given a few bytes at a time instead.
            unpacker, total = brotli.Decompressor(), 0
            for start in range(0, len(packed), 64):
                total += len(unpacker.process(packed[start:start + 64]))
                if total > size:
                    break
    except brotli.error as error:
        raise _Damaged from error
    return total, unpacker.is_finished()


def _check_sfnt(head: bytes, file_size: int) -> None:
    """A TrueType or OpenType file: its table directory lists at most MAX_FONT_TABLES tables, each inside the file."""
    if len(head) < 12:
        raise _Damaged
    count = struct.unpack_from(">H", head, 4)[0]
    _table_count(count)
    if len(head) < 12 + 16 * count:
        raise _Damaged
    for i in range(count):
        tag, _, offset, length = struct.unpack_from(">4sLLL", head, 12 + 16 * i)
        _within(file_size, f"table {tag.decode('latin-1')!r}", offset, length)


def _check_woff(data: bytes) -> None:
    """A WOFF file: each table is zlib-compressed on its own, as is the optional metadata block."""
    if len(data) < _WOFF_HEADER.size:
        raise _Damaged
    (_, _, _, count, _, sfnt_size, _, _, meta_offset, meta_length, meta_size,
     private_offset, private_length) = _WOFF_HEADER.unpack_from(data)
    _declared(sfnt_size)
    _table_count(count)
    if len(data) < _WOFF_HEADER.size + 20 * count:
        raise _Damaged
    entries = [struct.unpack_from(">4sLLLL", data, _WOFF_HEADER.size + 20 * i) for i in range(count)]
    _declared(sum(entry[3] for entry in entries) + meta_size)
    for tag, offset, length, _, _ in entries:
        _within(len(data), f"table {tag.decode('latin-1')!r}", offset, length)
    _within(len(data), "metadata", meta_offset, meta_length)
    _within(len(data), "private data", private_offset, private_length)
    for _, offset, length, size, _ in entries:
        # Stored as it is when compressing would not make it smaller.
        if length != size:
            _unpacks_within(data[offset:offset + length], False, size)
    if meta_length:
        _unpacks_within(data[meta_offset:meta_offset + meta_length], False, meta_size)


def _base128(data: bytes, at: int) -> tuple[int, int]:
    """A WOFF2 UIntBase128: up to five bytes, seven bits each, high bit set on all but the last."""
    value = 0
    for i in range(5):
        if at + i >= len(data) or (i == 0 and data[at] == 0x80):
            raise _Damaged
        value = (value << 7) | (data[at + i] & 0x7F)
        if not data[at + i] & 0x80:
            return value, at + i + 1
    raise _Damaged


def _check_woff2(data: bytes) -> None:
    """A WOFF2 file: every table in one Brotli stream after the table directory, and Brotli-compressed metadata."""
    if len(data) < _WOFF2_HEADER.size:
        raise _Damaged
    (_, flavor, _, count, _, sfnt_size, packed_size, _, _, meta_offset, meta_length, meta_size,
     private_offset, private_length) = _WOFF2_HEADER.unpack_from(data)
    _declared(sfnt_size)
    _table_count(count)
    at, sizes, stored = _WOFF2_HEADER.size, [], []
    for _ in range(count):
        if at >= len(data):
            raise _Damaged
        flags = data[at]
        at += 1
        tag = {10: b"glyf", 11: b"loca"}.get(flags & 0x3F, b"")
        if flags & 0x3F == 63:
            tag, at = data[at:at + 4], at + 4
        size, at = _base128(data, at)
        sizes.append(size)
        # Transformed: glyf and loca at version 0, any other table at a version other than 0.
        if (flags >> 6 == 0) == (tag in (b"glyf", b"loca")):
            transformed, at = _base128(data, at)
            stored.append(transformed)
        else:
            stored.append(size)
    _declared(max(sum(sizes), sum(stored)) + meta_size)
    if flavor == b"ttcf":
        # A collection: fontTools reads none.
        raise _Damaged
    _within(len(data), "compressed tables", at, packed_size)
    _within(len(data), "metadata", meta_offset, meta_length)
    _within(len(data), "private data", private_offset, private_length)
    _unpacks_within(data[at:at + packed_size], True, sum(stored))
    if meta_length:
        _unpacks_within(data[meta_offset:meta_offset + meta_length], True, meta_size)


def _check_font_file(path: Path) -> None:
    """Raises _Refused for a file over a bound, _Damaged for one that is not a font file, before any font library
    reads it: its size, its signature, its table directory and what it says it unpacks to, and for WOFF and WOFF2
    that it unpacks to no more than that."""
    try:
        size = os.stat(path).st_size
        if size > MAX_FONT_BYTES:
            raise _Refused(f"a font file of at most {_megabytes(MAX_FONT_BYTES)}", f"which is {_megabytes(size)}")
        head = read_regular_file(path, 12 + 16 * MAX_FONT_TABLES)
        if head[:4] in (b"wOFF", b"wOF2"):
            data = read_regular_file(path, MAX_FONT_BYTES + 1)
            if len(data) > MAX_FONT_BYTES:
                raise _Refused(f"a font file of at most {_megabytes(MAX_FONT_BYTES)}",
                               f"which is {_megabytes(len(data))}")
            (_check_woff if head[:4] == b"wOFF" else _check_woff2)(data)
        elif head[:4] in _SFNT_SIGNATURES:
            _check_sfnt(head, size)
        else:
            raise _Damaged
    except OSError as error:
        raise _Damaged from error
    except struct.error as error:
        raise _Damaged from error


FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")


# The weights the stylesheets use: body text, and bold headings and labels.
DESIGN_WEIGHTS = (400, 700)


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
        # One file for every weight: registered once for each weight the design uses.
        if f.variable:
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


def refused_font_files(clinic_folder: Path) -> list[str]:
    """Why each font file in the clinic's fonts/ folder that is over a bound is refused, by its name: whether the
    clinic uses it or not, since a font's family name is inside the file, and such a file is never read."""
    found = []
    for path, resolved, status in _clinic_font_files(clinic_folder):
        verdict = _verdict(resolved, _identity(status))
        if isinstance(verdict, tuple):
            found.append(f"expected {verdict[0]}, got {describe(f'{path.parent.name}/{path.name}')}, {verdict[1]}")
    return found


def readable_font_file(path: Path) -> bool:
    """Whether fontTools may read a font file: a regular file within every bound (size, tables, unpacked size)."""
    try:
        status = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and _verdict(Path(path), _identity(status)) is True


def _identity(status: os.stat_result) -> tuple[int, ...]:
    # A file replaced or rewritten has another inode, size or change time.
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


@functools.lru_cache(maxsize=1024)
def _verdict(path: Path, identity: tuple[int, ...]) -> tuple[str, str] | bool:
    """(what was expected, what was found) for a font file over a bound, else whether it can be read as a font.
    Cached by the file's identity, so that a batch checks each file once."""
    try:
        _check_font_file(path)
    except _Refused as refused:
        return refused.expected, refused.found
    except _Damaged:
        return False
    return True


def _clinic_font_files(clinic_folder: Path) -> list[tuple[Path, Path, os.stat_result]]:
    """The clinic's font files (fonts/*), as named, resolved, and their status: regular files that are,
    with every link followed, inside the clinic folder.

    A file or folder that links out of the clinic folder, and anything that is not a regular file
    (a FIFO would block the build), is skipped; find_font then reports the family as missing.
    """
    root = Path(clinic_folder).resolve()
    folder = Path(clinic_folder) / "fonts"
    if not folder.is_dir() or not folder.resolve().is_relative_to(root):
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in FONT_SUFFIXES:
            continue
        resolved = path.resolve()
        try:
            status = os.stat(resolved)
        except OSError:
            continue
        if resolved.is_relative_to(root) and stat.S_ISREG(status.st_mode):
            found.append((path, resolved, status))
    return found


def _clinic_font_faces(clinic_folder: Path) -> list[tuple[str, FontFace]]:
    """The faces of the clinic's own font files that pass the checks, with their family names.

    A file over a bound is never opened (refused_font_files names it); one fontTools cannot read is skipped,
    and find_font then reports the family as missing.
    """
    return [face for _, resolved, status in _clinic_font_files(clinic_folder)
            for face in _faces(resolved, _identity(status))]


@functools.lru_cache(maxsize=1024)
def _faces(path: Path, identity: tuple[int, ...]) -> tuple[tuple[str, FontFace], ...]:
    # WeasyPrint depends on fontTools.
    from fontTools.ttLib import TTFont

    if _verdict(path, identity) is not True:
        return ()
    try:
        with TTFont(path, lazy=True) as font:
            family = font["name"].getBestFamilyName()
            weight = font["OS/2"].usWeightClass if "OS/2" in font else 400
            italic = bool(font["head"].macStyle & 0b10)
            axis = next((a for a in font["fvar"].axes if a.axisTag == "wght"), None) if "fvar" in font else None
    # fontTools raises many kinds for a damaged file. Not a font we can read: find_font will report the family
    # as missing.
    except Exception:
        return ()
    if not family:
        return ()
    # The resolved file: the one checked is the one WeasyPrint is allowed to read.
    style = "italic" if italic else "normal"
    if axis is not None:
        return tuple((family, face) for face in _variable_faces(path, style, axis.minValue, axis.maxValue))
    return ((family, FontFace(path, weight, style)),)


def undrawable(family: FontFamily, text: str) -> str:
    """The characters of `text` that none of the family's files can draw (spaces and line breaks aside),
    each once, in order: what would print as empty boxes, or in some other font the machine happens to have."""
    from fontTools.ttLib import TTFont

    key = tuple(sorted({face.path for face in family.faces}))
    if key not in _CHARACTERS:
        covered: set[int] = set()
        for path in key:
            # A file changed since it was chosen, to one over a bound, draws nothing.
            if readable_font_file(path):
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


_CHARACTERS: dict[tuple[Path, ...], frozenset[int]] = {}
