"""What one of a build's workers learns that saves another the same work: which stylesheets a document's layout
kept (Printer._lay_out tries a closer layout for a leaflet one page over), and what was measured on the pages of a
leaflet that passed every check (a booklet bound by another worker prints the very same pages).

A build with one clinic and two workers prints its booklet on one and its leaflets on the other: the booklet worker
lays each leaflet out again, to bind it. Without this, both would lay the same long leaflet out twice, and the
booklet's check would render and read every page the other worker has just checked.

Each finding is a small JSON file in a folder the build's workers share (the build's own temporary folder, removed
with it), named by the digest of what it is about, written atomically. Reading is optional: a file that is not there
yet, or cannot be read, is work done again, never a different result. Page facts are used for a page only if that
page's content stream is byte for byte the one they were measured on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path

from brochures.pdf.facts import PageFacts
from brochures.pdf.objects import is_array, is_dictionary, is_stream, untagged

# What _lay_out kept: the stylesheets as they were (ROOMY), with fit.css (FIT), or with fit.css and compact.css.
ROOMY, FIT, COMPACT = "roomy", "fit", "compact"
LAYOUTS = (ROOMY, FIT, COMPACT)

# A name in a content stream (/F1, /a0.3).
NAME = re.compile(rb"/[^\s/\[\]()<>{}%]+")

# A file here larger than this was not written by a worker: it is not read.
MAX_BYTES = 4 * 1024 * 1024


class Shared:
    """The folder a build's workers share what they learn in (None: a printer on its own, sharing nothing)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder

    def layout(self, key: str) -> str | None:
        """Which layout (ROOMY, FIT or COMPACT) another worker kept for the document of `key` (`key_of`), if one did."""
        found = self._read("layout", key)
        return found if found in LAYOUTS else None

    def keep_layout(self, key: str, kept: str) -> None:
        self._write("layout", key, kept)

    def page_facts(self, key: str, pages: list) -> dict[int, PageFacts]:
        """The facts another worker measured on the pages of the leaflet of `key`, for those of `pages` (pikepdf
        pages of the PDF being checked, in the leaflet's order) that draw exactly what it drew: page index → facts."""
        found = self._read("pages", key)
        if not isinstance(found, list) or len(found) != len(pages):
            return {}
        known = {}
        for index, (page, measured) in enumerate(zip(pages, found)):
            try:
                digest, facts = measured
                if digest == content_digest(page):
                    known[index] = PageFacts(
                        sizes=tuple((float(size), int(count)) for size, count in facts["sizes"]),
                        lowest_contrast=float(facts["lowest_contrast"]),
                        fonts=tuple(str(font) for font in facts["fonts"]),
                        fill=float(facts["fill"]),
                        qr_codes=tuple(str(code) for code in facts["qr_codes"]),
                        text=str(facts["text"]),
                    )
            except (TypeError, ValueError, KeyError):
                continue
        return known

    def share_page_facts(self, key: str, pages: list, facts: list[PageFacts]) -> None:
        """What was measured on each of a leaflet's pages (`pages`: pikepdf pages), for a booklet bound elsewhere."""
        if self.folder is not None and len(pages) == len(facts):
            self._write("pages", key, [[content_digest(page), asdict(one)] for page, one in zip(pages, facts)])

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / f"{kind}-{key}.json"

    def _read(self, kind: str, key: str):
        if self.folder is None:
            return None
        try:
            with open(self._path(kind, key), "rb") as file:
                data = file.read(MAX_BYTES + 1)
            return json.loads(data) if len(data) <= MAX_BYTES else None
        except (OSError, ValueError):
            return None

    def _write(self, kind: str, key: str, value) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{kind}-", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    json.dump(value, file, separators=(",", ":"))
                os.replace(temporary, self._path(kind, key))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError:
            # A full disk costs the other workers time, nothing more.
            pass


def key_of(*parts: str) -> str:
    """The digest naming a finding: of what it depends on (the document's kind, clinic, HTML...)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:40]


def content_digest(page) -> str:
    """A digest of what a pikepdf page draws: its content streams, decoded; what each name they use stands for (a
    font by its name, without the tag of the subset a document embeds; an image or a drawing by its bytes; anything
    else as written); and its page boxes."""
    digest = hashlib.sha256()
    contents = page.obj.get("/Contents")
    drawn = b"".join(stream.read_bytes() for stream in (contents if is_array(contents) else [contents])
                     if is_stream(stream))
    digest.update(drawn)
    # The names the content uses: a document's pages may share one dictionary of resources, some of which only
    # other pages use.
    used = {name.decode("latin-1") for name in NAME.findall(drawn)}
    resources = page.obj.get("/Resources")
    for kind in sorted(resources.keys()) if is_dictionary(resources) else ():
        entries = resources[kind]
        for name in sorted(entries.keys()) if is_dictionary(entries) else ():
            if name in used:
                digest.update(f"\0{kind}{name}\0{_resource(entries[name])}".encode())
    for name in ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox"):
        value = page.obj.get(name)
        digest.update(f"{name}{[float(v) for v in value] if is_array(value) else None}".encode())
    return digest.hexdigest()


def _resource(value) -> str:
    if is_stream(value):
        return hashlib.sha256(value.read_raw_bytes()).hexdigest()
    if is_dictionary(value) and value.get("/Type") == "/Font":
        return untagged(str(value.get("/BaseFont", "")).lstrip("/"))
    return value.unparse().decode("latin-1") if hasattr(value, "unparse") else repr(value)
