"""Shared fixtures: real builds into temporary folders, and helpers that read PDFs as a person would check them."""

from __future__ import annotations

import logging
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from generate import main

# The pack's fixtures: an approved clinic, a real SMTP server.
pytest_plugins = ["pack_support"]
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
EXAMPLE = DATA / "clinics" / "example"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROSEWOOD = FIXTURES / "clinics" / "rosewood"

# Reading grades are remembered in a cache folder of the test run's own, never in the user's home.
os.environ["BROCHURES_CACHE_DIR"] = tempfile.mkdtemp(prefix="brochures-test-cache-")


@pytest.fixture(autouse=True)
def assert_no_weasyprint_logs():
    """Fail any test during which WeasyPrint logs a warning or error: it catches CSS typos and missing assets."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Collect(level=logging.WARNING)
    # WeasyPrint's own logger (in-process printing), and the warnings the build relays from its workers.
    loggers = [logging.getLogger("weasyprint"), logging.getLogger("brochures.print_warnings")]
    for logger in loggers:
        logger.addHandler(handler)
    yield records
    for logger in loggers:
        logger.removeHandler(handler)
    unexpected = [r for r in records if not getattr(r, "expected_by_test", False)]
    assert not unexpected, "WeasyPrint logged: " + "; ".join(r.getMessage() for r in unexpected)


@pytest.fixture(scope="session")
def example_build(tmp_path_factory) -> Path:
    """The example clinic built once with the real command, for the tests that only read its PDFs."""
    out = tmp_path_factory.mktemp("out")
    assert main(["--out", str(out)]) == 0
    return out / "example"


@pytest.fixture(scope="session")
def rosewood_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert main(["--clinic", str(ROSEWOOD), "--out", str(out)]) == 0
    return out / "rosewood"


@pytest.fixture
def clinic_copy(tmp_path) -> Path:
    """A writable copy of the example clinic, to break in one place per test."""
    folder = tmp_path / "clinics" / "mine"
    shutil.copytree(EXAMPLE, folder)
    return folder


def own_contacts(folder: Path) -> None:
    """Give a copy of the example clinic contact details of its own: the example's (a drama number, .test addresses)
    reach no one, so its documents need a look until they are replaced."""
    config = folder / "clinic.yaml"
    config.write_text(config.read_text().replace('"020 7946 0000"', '"020 7123 4567"')
                      .replace("example-clinic.test", "example-aesthetics.co.uk"))


def edit_config(folder: Path, old: str, new: str, name: str = "clinic.yaml") -> Path:
    """Replace one piece of text in a clinic.yaml (or another file of the folder), as a person would edit it."""
    config = folder / name
    text = config.read_text()
    assert old in text, f"{old!r} not in {config}"
    config.write_text(text.replace(old, new, 1))
    return config


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line containing `needle`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def pdf_text(path: Path) -> str:
    """All text of a PDF, with runs of white space folded, so line breaks do not matter."""
    reader = PdfReader(path)
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def struct_nodes(path: Path) -> list:
    """Every element of the PDF's structure tree, in reading order."""
    return walk_structure(PdfReader(path).trailer["/Root"]["/StructTreeRoot"])


def walk_structure(node) -> list:
    """The structure elements below a node of a structure tree (read or being written), in reading order."""
    found = []

    def walk(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            if "/S" in node:
                found.append(node)
            if "/K" in node:
                walk(node["/K"])

    walk(node)
    return found


def struct_elements(path: Path, role: str) -> list:
    """The structure elements with one role (e.g. /Figure), in reading order."""
    return [node for node in struct_nodes(path) if node["/S"] == role]


def png(width: int, height: int, rows: int = 1) -> bytes:
    """A greyscale PNG whose header says width×height, with `rows` rows of real pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00" * width for _ in range(rows)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def pdf_glyphs(path: Path):
    """Every character pdfium reads on the pages, in its order: (page, character, left, right, bottom)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        for number in range(len(document)):
            page = document[number]
            text = page.get_textpage()
            for index in range(text.count_chars()):
                left, bottom, right, _top = text.get_charbox(index)
                yield number, text.get_text_range(index, 1), left, right, bottom
            text.close()
            page.close()
    finally:
        document.close()


def pdf_chars(path: Path) -> list[tuple[int, str, float, float, float]]:
    """Every glyph drawn: (page, character, left, right, bottom), from the positions pdfium gives it."""
    return [glyph for glyph in pdf_glyphs(path) if glyph[1].strip()]


def pdf_words(path: Path) -> list[tuple[int, str, float, float, float]]:
    """Every word drawn (in the order pdfium reads them): (page, text, left, right, bottom)."""
    found, word, box, page = [], "", None, None
    for number, char, left, right, bottom in pdf_glyphs(path):
        if word and (not char.strip() or number != page):
            found.append((page, word, *box))
            word, box = "", None
        if char.strip():
            word, page = word + char, number
            box = (left, right, bottom) if box is None else (min(box[0], left), max(box[1], right), box[2])
    if word:
        found.append((page, word, *box))
    return found
