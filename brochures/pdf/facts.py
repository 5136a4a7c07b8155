"""What the gate measures on a PDF and what it expects of it: the facts every check reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field

MM = 72 / 25.4


@dataclass
class Inspection:
    """What was measured on the PDF itself."""

    smallest_text_pt: float = 0.0
    body_text_pt: float = 0.0
    lowest_text_contrast: float = 21.0
    text_contrast_failures: int = 0
    contrast_examples: list[str] = field(default_factory=list)
    accessibility: dict[str, bool] = field(default_factory=dict)
    # What is wrong on the rendered page (fails the document): text or images off the page, text over
    # text, a QR code that does not scan, glyphs from another font or missing, header cells without scope.
    page_problems: list[str] = field(default_factory=list)
    # What a person should look at (the document is still built): over the page budget, near-empty pages.
    warnings: list[str] = field(default_factory=list)
    # Share of each page's content area holding content, 0–1.
    page_fill: list[float] = field(default_factory=list)
    # The fonts that draw the text, as named in the PDF.
    fonts: list[str] = field(default_factory=list)
    # What each QR code on the rendered pages decodes to.
    qr_codes: list[str] = field(default_factory=list)
    # Header cells in the structure tree (each must carry its /Scope)
    table_headers: int = 0
    # Claims in the printed text (pdf/printer.py: claims_on_pages): {"page", "phrase", "rule", "reason"} each.
    page_claims: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Expected:
    """What the document was meant to look like, for the page checks."""

    # Every glyph comes from this font (WeasyPrint's name for the clinic's font)
    font: str | None = None
    # Its name, as the clinic wrote it.
    font_family: str = "the clinic's font"
    # Its files: the characters it can draw (else read from the embedded subset)
    font_files: tuple[str, ...] = ()
    # The fonts the project chose for the language's script (Noto Sans Arabic): (WeasyPrint's name, name, files).
    script_fonts: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    # Every QR code gives this, and there is one when it is set.
    booking_url: str | None = None
    # Other addresses a QR code on the page may lead to: the clinic's website, tel: its phone, mailto: its email.
    other_codes: tuple[str, ...] = ()
    # Pages the layout is meant to fit (a warning beyond it)
    page_budget: int | None = None
    # Pages meant to hold little (a booklet's cover)
    cover_pages: tuple[int, ...] = ()
    # Safety text a patient must find on the pages, and how often.
    must_show: tuple[tuple[str, int], ...] = ()
    # An Arabic document: its text is also read in logical order (pypdf) for the safety check.
    right_to_left: bool = False
    # Content the clinic's medical lead has not approved: the draft marks one of which each page must show, whole
    # and seen (with the clinic's name, or without it, as the running header of a long name). None when approved.
    draft_marks: tuple[str, ...] = ()
    # The page margins of common.css: the content area lies between them.
    margin_top_mm: float = 13.0
    margin_bottom_mm: float = 17.0


@dataclass(frozen=True)
class PageFacts:
    """What was measured on one page that passed every page check: enough to count that page again in another
    PDF that prints the very same laid-out page (a booklet binding leaflets already checked), without rendering
    and reading it again."""

    # Type size (pt) → glyphs drawn at it.
    sizes: tuple[tuple[float, int], ...]
    lowest_contrast: float
    fonts: tuple[str, ...]
    fill: float
    qr_codes: tuple[str, ...]
    text: str
