"""Prints HTML to PDF with WeasyPrint, checks the result with pypdf, and writes it atomically."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from . import STYLES_DIR, TEMPLATES_DIR
from .branding import brand_css, font_face_css, palette
from .build_cache import BuildCache
from .fetcher import RestrictedFetcher
from .loading import Clinic
from .planning import Document

PDF_VARIANT = "pdf/ua-1"  # tagged: language, title, structure and alt text reach screen readers
PAGE_POINTS = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0), "A5": (419.53, 595.28)}
WEASYPRINT_LOGGER = logging.getLogger("weasyprint")


class PrintError(Exception):
    """A document could not be printed, or the PDF printed failed its check."""


@dataclass
class Printed:
    """What was written for one document."""

    document: Document
    pages: int
    size: int
    warnings: list[str] = field(default_factory=list)
    unchanged: bool = False  # skipped: the PDF on disk was built from the same inputs


class Printer:
    """One WeasyPrint setup for a whole batch: fonts are loaded and stylesheets parsed once."""

    def __init__(self, cache: BuildCache | None = None):
        self.font_config = FontConfiguration()
        self.image_cache: dict = {}
        self.cache = cache  # None: always print
        self._stylesheets: dict[str, tuple[CSS, str]] = {}
        self._project_fetcher = RestrictedFetcher([STYLES_DIR, TEMPLATES_DIR])
        self._style_files = sorted(p for p in STYLES_DIR.rglob("*") if p.is_file())

    def _stylesheet(self, key: str, make_text, base_url: str | None, fetcher: RestrictedFetcher) -> tuple[CSS, str]:
        """A parsed stylesheet, parsed once per batch however many documents use it."""
        if key not in self._stylesheets:
            text = make_text()
            css = CSS(string=text, base_url=base_url, font_config=self.font_config, url_fetcher=fetcher)
            self._stylesheets[key] = (css, text)
        return self._stylesheets[key]

    def stylesheets(self, document: Document) -> list[tuple[CSS, str]]:
        """Fonts, then brand variables, then layout: the order every sheet is written in."""
        clinic, config = document.clinic, document.clinic.config
        layout = STYLES_DIR / document.stylesheet
        return [
            self._stylesheet(f"fonts:{clinic.font.css_name}", lambda: font_face_css(clinic.font), None,
                             RestrictedFetcher([], clinic.font.files)),
            self._stylesheet(f"brand:{clinic.folder}", lambda: brand_css(
                palette(config.colors.primary, config.colors.accent), clinic.font, config.page_size,
                clinic.strings.footer_page), None, self._project_fetcher),
            self._stylesheet(f"layout:{layout}", lambda: layout.read_text(encoding="utf-8"), layout.as_uri(), self._project_fetcher),
        ]

    def fetcher_for(self, clinic: Clinic) -> RestrictedFetcher:
        return RestrictedFetcher([clinic.folder, STYLES_DIR, TEMPLATES_DIR], clinic.font.files)

    def print_pdf(self, document: Document, html: str) -> tuple[bytes, list[str]]:
        """The PDF's bytes and WeasyPrint's warnings; a WeasyPrint error fails the document."""
        clinic = document.clinic
        with weasyprint_log() as records:
            pdf = HTML(string=html, base_url=clinic.folder.as_uri() + "/", url_fetcher=self.fetcher_for(clinic)).write_pdf(
                stylesheets=[css for css, _ in self.stylesheets(document)], font_config=self.font_config,
                pdf_variant=PDF_VARIANT, cache=self.image_cache)
        errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
        if errors:
            raise PrintError("; ".join(errors))
        return pdf, [r.getMessage() for r in records if r.levelno == logging.WARNING]

    def build(self, document: Document, html: str) -> Printed:
        """Print, check, then write: a PDF only gets its final name once it has passed its check.

        A document whose inputs are unchanged since the PDF on disk was written is not printed again.
        """
        key = None
        if self.cache:
            clinic = document.clinic
            key = self.cache.key(html, [text for _, text in self.stylesheets(document)],
                                 files=[clinic.logo, *clinic.font.files, *self._style_files],
                                 options={"pdf_variant": PDF_VARIANT})
            if entry := self.cache.fresh(document.output, key):
                return Printed(document=document, pages=entry["pages"], size=document.output.stat().st_size, unchanged=True)
        pdf, warnings = self.print_pdf(document, html)
        pages = check_pdf(document, pdf)
        write_atomically(document.output, pdf)
        if self.cache:
            self.cache.record(document.output, key, pdf, pages)
        return Printed(document=document, pages=pages, size=len(pdf), warnings=warnings)


@contextlib.contextmanager
def weasyprint_log():
    """Collect what WeasyPrint logs while printing one document, instead of letting it scroll past."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.WARNING)
    propagate = WEASYPRINT_LOGGER.propagate
    WEASYPRINT_LOGGER.addHandler(handler)
    WEASYPRINT_LOGGER.propagate = False
    try:
        yield records
    finally:
        WEASYPRINT_LOGGER.removeHandler(handler)
        WEASYPRINT_LOGGER.propagate = propagate


def check_pdf(document: Document, pdf: bytes) -> int:
    """Read the PDF back as a viewer would; return its page count or raise PrintError."""
    reader = PdfReader(io.BytesIO(pdf))
    config = document.clinic.config
    root = reader.trailer["/Root"]
    metadata = reader.metadata or {}
    problems = []
    if metadata.get("/Title") != document.title:
        problems.append(f"title is {metadata.get('/Title')!r}, expected {document.title!r}")
    if metadata.get("/Author") != config.name:
        problems.append(f"author is {metadata.get('/Author')!r}, expected {config.name!r}")
    if not root.get("/MarkInfo", {}).get("/Marked") or "/StructTreeRoot" not in root:
        problems.append("it is not tagged")
    if root.get("/Lang") != config.language:
        problems.append(f"language is {root.get('/Lang')!r}, expected {config.language!r}")
    width, height = PAGE_POINTS[config.page_size]
    for number, page in enumerate(reader.pages, start=1):
        box = page.mediabox
        if abs(float(box.width) - width) > 1 or abs(float(box.height) - height) > 1:
            problems.append(f"page {number} is {float(box.width):.0f}×{float(box.height):.0f} pt, expected {config.page_size}")
            break
    if problems:
        raise PrintError("the PDF failed its check: " + "; ".join(problems))
    return len(reader.pages)


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files left by runs that were killed; a live run's own files are left alone."""
    removed = []
    for stale in folder.glob("*/.*.tmp"):
        parts = stale.name.split(".")
        pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed.append(stale)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
