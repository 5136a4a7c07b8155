"""The finished PDF's objects (catalog, pages, tags, fonts), read with pikepdf: qpdf parses a PDF's object streams
in C++, where pypdf's pure Python parse of every object cost the quality gate a fifth of its time."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf


def open_pdf(source) -> pikepdf.Pdf:
    """A PDF to read: its bytes, its file, one already open, or one pypdf has read (its bytes read again)."""
    if isinstance(source, pikepdf.Pdf):
        return source
    if isinstance(source, (str, Path)):
        return pikepdf.open(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return pikepdf.open(io.BytesIO(bytes(source)))
    # A pypdf PdfReader: the bytes it was read from.
    stream = source.stream
    stream.seek(0)
    return pikepdf.open(io.BytesIO(stream.read()))


def untagged(name: str) -> str:
    """A font's name without the tag of the subset a PDF embeds: ABCDEF+Atkinson-Regular → Atkinson-Regular."""
    return name[7:] if len(name) > 7 and name[6] == "+" else name


def text(value, default: str = "") -> str:
    """A PDF string or name as Python text (a missing one as `default`)."""
    return default if value is None else str(value)


def is_dictionary(value) -> bool:
    return isinstance(value, pikepdf.Dictionary)


def is_array(value) -> bool:
    return isinstance(value, pikepdf.Array)


def is_stream(value) -> bool:
    return isinstance(value, pikepdf.Stream)


def identity(value) -> tuple[int, int] | int:
    """What tells one object from another: its object number (an indirect object), else the Python object."""
    number = value.objgen if isinstance(value, pikepdf.Object) else (0, 0)
    return number if number != (0, 0) else id(value)


def written_order(values, of=lambda value: value) -> list:
    """Objects in the order they were written (their object numbers; direct objects first): qpdf lists a
    dictionary's keys sorted, and WeasyPrint's names for fonts vary from run to run, so a message naming several
    of them would too."""
    def number(value):
        found = identity(of(value))
        return found if isinstance(found, tuple) else (0, 0)
    return sorted(values, key=number)


def info(pdf: pikepdf.Pdf):
    """The document information dictionary, or an empty one (never a new one added to the PDF)."""
    found = pdf.trailer.get("/Info")
    return found if is_dictionary(found) else pikepdf.Dictionary()


def box(page, name: str) -> tuple[float, float, float, float]:
    """A page's box (left, bottom, right, top), falling back as PDF viewers do: TrimBox and BleedBox to the CropBox,
    the CropBox to the MediaBox."""
    fallbacks = {"/TrimBox": "/CropBox", "/BleedBox": "/CropBox", "/CropBox": "/MediaBox"}
    obj = page.obj if isinstance(page, pikepdf.Page) else page
    while name not in obj and name in fallbacks:
        name = fallbacks[name]
    values = [float(v) for v in obj.get(name, [0, 0, 0, 0])]
    x0, y0, x1, y1 = values
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
