"""Prints HTML to PDF with WeasyPrint, checks the result, and writes it atomically."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from weasyprint import CSS, HTML
from weasyprint.images import RasterImage
from weasyprint.text.fonts import FontConfiguration

from brochures import STYLES_DIR, TEMPLATES_DIR
from brochures.brand.css import brand_css
from brochures.brand.fonts import font_face_css
from brochures.files.fetcher import RestrictedFetcher
from brochures.files.fingerprints import entry, input_key, is_fresh
from brochures.files.output_folder import write_atomically
from brochures.load.loaded import Clinic
from brochures.pdf.checks import PrintError, check_pdf, expected_look, page_budget
from brochures.pdf.facts import Inspection, PageFacts
from brochures.pdf.finishing import finish
from brochures.pdf.inspection import inspect_pages, inspection_failures, logical_texts, page_pictures
from brochures.pdf.layout_rules import COMPARISON_FILL, Rules, layout_warnings, thin_pages
from brochures.pdf.objects import open_pdf
from brochures.pdf.shared import COMPACT, FIT, ROOMY, Shared, key_of
from brochures.plan.documents import (
    BOOKLET,
    LEAFLET,
    PRESS,
    STANDARD,
    TRIFOLD,
    Document,
)
from brochures.problems import display_path
from brochures.render.errors import ClinicTemplateError

# Standard files are tagged PDF/UA-1: language, title, structure and alt text reach screen readers.
# Press files are PDF/X-4 for a print shop, still tagged. WeasyPrint paints in RGB, so the output
# intent is sRGB (PDF/X-4 allows an RGB characterised condition); check_pdf verifies the result.
PDF_OPTIONS = {
    STANDARD: {"pdf_variant": "pdf/ua-1"},
    PRESS: {"pdf_variant": "pdf/x-4", "output_intent": "srgb", "pdf_tags": True},
}


PRESS_DPI = 300


# Laid over a leaflet one page over its budget, or a comparison sheet with a part-empty page (Printer._lay_out)
FIT_SHEET = "fit.css"


# The width of the picture of a document's first page in the clinic's report (report.html), in pixels: twice its
# width on screen, for sharp screens.
FIRST_PAGE_PX = 240


# Laid over fit.css for a comparison sheet over its budget: its detail rows left out.
COMPACT_SHEET = "compact.css"


WEASYPRINT_LOGGER = logging.getLogger("weasyprint")


@dataclass
class Printed:
    """What was written for one document."""

    document: Document
    pages: int
    size: int
    warnings: list[str] = field(default_factory=list)
    # Skipped: the PDF on disk was built from the same inputs.
    unchanged: bool = False
    # Measured on the PDF: type sizes, text contrast, accessibility.
    inspection: Inspection | None = None
    # What the build cache records for it.
    cache_entry: dict | None = None
    # Its first page as a PNG picture, FIRST_PAGE_PX wide, for the clinic's report: made by the worker that printed
    # it, while the build's other workers print, not by the build once every document is done.
    picture: bytes | None = field(default=None, repr=False)
    # Not made by this build, and made from other inputs than it would be made from now (the clinic's content,
    # settings, approval or files have changed since): the file on disk is out of date.
    outdated: bool = False


class Printer:
    """One WeasyPrint setup for a whole batch: fonts are loaded and stylesheets parsed once.

    What belongs to one clinic (its brand stylesheet, its images) is kept only while that clinic's
    documents are printed, so a worker's memory does not grow with the number of clinics.
    """

    def __init__(self, shared: Shared | None = None, claims_on_pages=None):
        """`shared`: where the build's workers share what saves each other work (pdf/shared.py); none by default.
        `claims_on_pages(clinic, texts)`: the claims in a finished document's text, page by page, as
        Inspection.page_claims keeps them (quality/claims.py); none looked for without it."""
        self._claims_on_pages = claims_on_pages
        self.font_config = FontConfiguration()
        self._shared = shared or Shared()
        self._stylesheets: dict[str, tuple[CSS, str]] = {}
        self._project_fetcher = RestrictedFetcher([STYLES_DIR, TEMPLATES_DIR])
        self._style_files = sorted(p for p in STYLES_DIR.rglob("*") if p.is_file())
        self._clinic: Path | None = None
        self._image_cache: dict = {}
        # Every file read for this clinic's documents: the image cache serves a logo once per clinic, so a
        # later document must still count the files an earlier one read.
        self._read: dict[Path, None] = {}
        # The leaflets printed and checked for the clinic (in one language) being printed, kept for its booklet:
        # (variant, name, HTML digest) → (laid-out document, facts of each page).
        self._edition: str | None = None
        # Those of the document being printed.
        self._fetchers: list[RestrictedFetcher] = []
        self._laid_out: dict[tuple, tuple] = {}

    def _use_clinic(self, clinic: Clinic) -> None:
        if clinic.folder != self._clinic:
            self._clinic, self._image_cache, self._read = clinic.folder, {}, {}
            self._stylesheets = {key: value for key, value in self._stylesheets.items() if key.startswith("sheet:")}
        if clinic.key != self._edition:
            self._edition, self._laid_out = clinic.key, {}

    def _stylesheet(self, key: str, make_text, base_url: str | None, fetcher: RestrictedFetcher) -> tuple[CSS, str]:
        """A parsed stylesheet, parsed once per batch however many documents use it."""
        if key not in self._stylesheets:
            text = make_text()
            css = CSS(string=text, base_url=base_url, font_config=self.font_config, url_fetcher=fetcher)
            self._stylesheets[key] = (css, text)
        return self._stylesheets[key]

    def stylesheets(self, document: Document) -> list[tuple[CSS, str]]:
        """Fonts, then brand variables, then layout (and the press overlay): the order every sheet is written in."""
        clinic, config = document.clinic, document.clinic.config
        sheets = [self._stylesheet(f"fonts:{family.css_name}", lambda family=family: font_face_css(family), None,
                                   RestrictedFetcher([], family.files)) for family in clinic.fonts]
        sheets.append(self._stylesheet(f"brand:{clinic.key}", lambda: brand_css(
            clinic.palette, clinic.fonts, config.page_size,
            clinic.strings.footer_page), None, self._project_fetcher))
        return sheets + [self._project_sheet(name) for name in document.stylesheets]

    def _project_sheet(self, name: str) -> tuple[CSS, str]:
        """One of the project's own stylesheets (styles/), parsed once per batch."""
        path = STYLES_DIR / name
        return self._stylesheet(
            f"sheet:{name}", lambda: path.read_text(encoding="utf-8"), path.as_uri(), self._project_fetcher
        )

    def print_pdf(self, document: Document, html: str) -> tuple[bytes, list[str]]:
        """The PDF's bytes and any warnings; a WeasyPrint error fails the document."""
        pdf, warnings, *_ = self._print(document, html)
        return pdf, warnings

    def _print(self, document: Document, html: str, parts: tuple[tuple[Document, str], ...] = ()):
        """The PDF's bytes, its warnings, the laid-out document, and for a booklet binding `parts` the facts of the
        pages it took from leaflets already checked (booklet page number → PageFacts), and where each part it laid out
        again lies (the indices of its first page and of the page after its last) with the key its leaflet's facts
        are shared under (pdf/shared.py)."""
        clinic = document.clinic
        options = dict(PDF_OPTIONS[document.variant], cache=self._image_cache)
        with weasyprint_log() as records:
            try:
                laid_out = self._lay_out(document, html)
                known: dict[int, PageFacts] = {}
                starts: list[int] = []
                elsewhere: list[tuple[int, int, str]] = []
                if parts:
                    laid_out, known, starts, elsewhere = self._bind(document, laid_out, parts)
                if document.layout == TRIFOLD and (overfull := overfull_panels(laid_out)):
                    raise PrintError(overfull + ": shorten the content, or use the leaflet layout")
                warnings = low_resolution_images(laid_out) if document.variant == PRESS else []
                if document.kind != BOOKLET and document.layout != TRIFOLD:
                    warnings += layout_warnings(laid_out, layout_rules(document))
                source = html + "".join(part_html for _, part_html in parts)
                pdf = laid_out.write_pdf(finisher=finish(source, clinic.strings.direction == "rtl", starts), **options)
            finally:
                for fetcher in self._fetchers:
                    self._read.update(fetcher.served)
                self._fetchers.clear()
                # WeasyPrint caches an image that failed to load as None and logs the error only once:
                # forget failures, so every document that needs the image fails, not just the first.
                for url in [url for url, image in self._image_cache.items() if image is None]:
                    del self._image_cache[url]
        errors = [said(r) for r in records if r.levelno >= logging.ERROR]
        if errors:
            raise PrintError("; ".join(errors))
        return pdf, [said(r) for r in records if r.levelno == logging.WARNING] + warnings, laid_out, known, elsewhere

    def _lay_out(self, document: Document, html: str):
        """The document laid out in pages by WeasyPrint (not yet painted).

        A leaflet that runs one page over its budget (a long clinic name, a long address, a clinic's own wording) is
        laid out once more with the project's `fit.css` on top, which draws lines and sections a little closer at
        the same type sizes. That layout is kept only if it fits the budget; otherwise the roomier one is, and
        the page check warns by how much it is over. A comparison sheet over its budget is laid out again without
        its detail rows (`compact.css`); one with a part-empty page before its last, with closer lines."""
        sheets = [css for css, _ in self.stylesheets(document)]
        fit = [*sheets, self._project_sheet(FIT_SHEET)[0]]
        layouts = {ROOMY: sheets, FIT: fit, COMPACT: [*fit, self._project_sheet(COMPACT_SHEET)[0]]}
        # Another worker of the build may have laid this very document out already (a booklet binds it): its choice.
        key = key_of("layout", document.variant, document.layout, document.kind, document.name, document.clinic.key,
                     hashlib.sha256(html.encode("utf-8")).hexdigest())
        if (kept := self._shared.layout(key)) is not None:
            return self._render(document, html, layouts[kept])
        laid_out = self._render(document, html, sheets)
        fitted, tried = self._closer_layout(document, html, laid_out, layouts)
        if tried is None:
            return laid_out
        self._shared.keep_layout(key, tried if fitted is not None else ROOMY)
        return fitted if fitted is not None else laid_out

    def _closer_layout(self, document: Document, html: str, laid_out, layouts: dict):
        """The closer layout tried for a document whose roomy layout is `laid_out`, or None when the roomy one is
        kept all the same; and which was tried (FIT or COMPACT), None when none was."""
        budget = page_budget(document)
        over = len(laid_out.pages) - budget if budget else 0
        comparison = document.kind == "comparison"
        # Closer lines win back a few lines a page, never a page more.
        if over == 1 and not comparison:
            fitted = self._render(document, html, layouts[FIT])
            return (fitted if len(fitted.pages) <= budget else None), FIT
        if over > 0 and comparison:
            # The rows each leaflet gives in full, left out: many pages. Still over, it keeps the shorter layout all
            # the same, and the warning says by how much.
            fitted = self._render(document, html, layouts[COMPACT])
            return (fitted if len(fitted.pages) < len(laid_out.pages) else None), COMPACT
        if comparison and thin_pages(laid_out, COMPARISON_FILL):
            # A block too tall for the rest of a page left it part empty: closer lines may bring it up.
            fitted = self._render(document, html, layouts[FIT])
            fits = len(fitted.pages) <= len(laid_out.pages) and not thin_pages(fitted, COMPARISON_FILL)
            return (fitted if fits else None), FIT
        return None, None

    def _render(self, document: Document, html: str, sheets: list[CSS]):
        clinic = document.clinic
        fetcher = RestrictedFetcher(
            [clinic.folder, STYLES_DIR, TEMPLATES_DIR], frozenset().union(*(f.files for f in clinic.fonts))
        )
        # It fetches while painting too (an image inside an SVG): counted after that.
        self._fetchers.append(fetcher)
        return HTML(string=html, base_url=clinic.folder.as_uri() + "/", url_fetcher=fetcher).render(
            stylesheets=sheets, font_config=self.font_config, **PDF_OPTIONS[document.variant], cache=self._image_cache
        )

    def _bind(self, booklet: Document, frame, parts: tuple[tuple[Document, str], ...]):
        """The booklet: its own cover and contents (`frame`), then each leaflet's pages as they were laid out for
        the leaflet itself, never laid out again when this worker has just printed and checked it. Returns the
        bound document, the facts of each page that was already checked in its leaflet, the index of each part's
        first page, and for each part laid out here where its pages start and end, with the key of its leaflet's
        facts (`_facts_key`).

        Each part's first page gets the anchor `part-<name>` the contents links to, whatever the templates do.
        Every other anchor, and every link inside a part, is made the part's own (`<name>/<anchor>`): two leaflets
        may each have an `id="book"`, and a link in the second must not lead to the first."""
        names = {f"part-{part.name}" for part, _ in parts}
        if printed_twice := sorted(name for page in frame.pages for name in page.anchors if name in names):
            # A clinic's booklet.html.j2 written when the booklet was one document, and printed every part itself.
            template = booklet.clinic.folder / "templates" / booklet.template
            raise ClinicTemplateError(
                template,
                None,
                (
                    f"expected a template for the booklet's cover and contents only, got one that prints the parts too "
                    f"(it has an element with id \"{printed_twice[0]}\"): "
                    f"the booklet binds each brochure and the comparison "
                    f"sheet after its cover and contents, so they would be in it twice. Print only the cover and the "
                    f"contents list, as the project's templates/booklet.html.j2 does"
                ),
            )
        pages, known, starts, elsewhere = list(frame.pages), {}, [], []
        for part, part_html in parts:
            starts.append(len(pages))
            reused = self._laid_out.get(_part_key(part, part_html))
            laid_out, facts = reused if reused else (self._lay_out(part, part_html), None)
            if facts and len(facts) == len(laid_out.pages):
                known.update({len(pages) + number: page for number, page in enumerate(facts, start=1)})
            elif not reused:
                elsewhere.append((len(pages), len(pages) + len(laid_out.pages), _facts_key(part, part_html)))
            pages += _own_anchors(laid_out.pages, part.name)
        return frame.copy(pages), known, starts, elsewhere

    def check_logo(self, clinic: Clinic) -> None:
        """Lay out the logo alone, as every document will: a logo that cannot be drawn (a marker bomb, a
        reference to a file it may not read, a broken style) fails its clinic once, here, not every document."""
        src = quote(clinic.logo.relative_to(clinic.folder).as_posix())
        html = f'<!DOCTYPE html><html lang="en"><title>logo</title><img src="{src}" alt="logo" style="width:60mm">'
        fetcher = RestrictedFetcher([clinic.folder], frozenset())
        with weasyprint_log() as records:
            try:
                HTML(string=html, base_url=clinic.folder.as_uri() + "/", url_fetcher=fetcher).render(
                    font_config=self.font_config, cache={}
                ).write_pdf()
            # WeasyPrint and the libraries under it raise many kinds.
            except Exception as error:
                raise PrintError(
                    f"expected a logo that can be drawn, got one that fails ({type(error).__name__}: {error})"
                ) from None
        if errors := [said(r) for r in records if r.levelno >= logging.ERROR]:
            raise PrintError("expected a logo that can be drawn, got one that fails: " + "; ".join(errors))

    def inputs_key(self, document: Document, html: str, parts: tuple[tuple[Document, str], ...] = ()) -> str:
        """The build cache's key for a document printed from `html` (and for a booklet, its `parts`): everything
        known before printing that decides its PDF's bytes (files/fingerprints.input_key)."""
        clinic = document.clinic
        self._use_clinic(clinic)
        sheets = [text for _, text in self.stylesheets(document)]
        sheets += [text for part, _ in parts for _, text in self.stylesheets(part)]
        return input_key(
            html + "".join(part_html for _, part_html in parts),
            sheets,
            files=[clinic.logo, *clinic.font.files, *self._style_files],
            # What the finished text is checked against: other rules find other claims in the same PDF.
            options={**PDF_OPTIONS[document.variant], "claims": [clinic.claim_rules.model_dump(mode="json"),
                                                                  list(clinic.config.claims_terms)]},
        )

    def build(
        self,
        document: Document,
        html: str,
        saved: dict | None = None,
        parts: tuple[tuple[Document, str], ...] = (),
        share: bool = False,
    ) -> Printed:
        """Print, check, then write: a PDF only gets its final name once it has passed its check.

        A document whose inputs are unchanged since the PDF on disk was written (`saved`, from the
        build cache) is not printed again. `parts`: for a booklet, the leaflets it binds, with their HTML. `share`:
        another worker may be binding this leaflet in a booklet meanwhile: the facts of its pages are shared.
        """
        key = self.inputs_key(document, html, parts)
        if is_fresh(saved, document.output, key):
            return Printed(
                document=document,
                pages=saved["pages"],
                size=document.output.stat().st_size,
                warnings=saved["warnings"],
                unchanged=True,
                inspection=Inspection(**saved["inspection"]),
                cache_entry=saved,
            )
        pdf, warnings, laid_out, known, elsewhere = self._print(document, html, parts)
        with open_pdf(pdf) as reader:
            pages = check_pdf(document, pdf, reader)
            # The parts bound here whose leaflets another worker has checked meanwhile: the pages that draw exactly
            # what those leaflets' pages drew are counted as measured there (`known`), not rendered again.
            pdf_pages = list(reader.pages)
            for start, end, facts_key in elsewhere:
                found = self._shared.page_facts(facts_key, pdf_pages[start:end])
                known.update({start + index + 1: facts for index, facts in found.items()})
            expected = expected_look(document)
            inspection, facts = inspect_pages(
                pdf, pdf_ua=document.variant == STANDARD, expected=expected, reader=reader, known=known
            )
            if self._claims_on_pages is not None:
                # The words the page prints, wherever they come from: the content, or a clinic's own template,
                # stylesheet (CSS content:) or picture (an SVG's text).
                texts = logical_texts(pdf) if expected.right_to_left else [page.text for page in facts]
                inspection.page_claims = self._claims_on_pages(document.clinic, texts)
            if unreadable := inspection_failures(inspection):
                raise PrintError("not fit to give to patients as it is: " + "; ".join(unreadable))
            if document.kind != BOOKLET and document.layout == LEAFLET:
                # Kept for this clinic's booklet, which binds this very leaflet: its pages, and what was found on
                # them; and shared with the build's other workers, one of which may be binding it.
                self._laid_out[_part_key(document, html)] = (laid_out, facts)
                if share:
                    self._shared.share_page_facts(_facts_key(document, html), pdf_pages, facts)
        write_atomically(document.output, pdf)
        return Printed(
            document=document,
            pages=pages,
            size=len(pdf),
            warnings=warnings,
            inspection=inspection,
            cache_entry=entry(key, pdf, pages, asdict(inspection), list(self._read), warnings),
            picture=page_pictures(pdf, FIRST_PAGE_PX, pages=1)[0],
        )


def layout_rules(document: Document) -> Rules:
    """The layout rules a document keeps beyond those of every page."""
    return Rules(fill_but_last=COMPARISON_FILL if document.kind == "comparison" else None)


def _own_anchors(pages: list, name: str) -> list:
    """Copies of one part's pages (the leaflet keeps its own) whose anchors and internal links are the part's own,
    and whose first page is where the booklet's contents link to: anchor `part-<name>`, at its top."""
    bound = []
    for number, page in enumerate(pages):
        page = copy.copy(page)
        page.anchors = {f"{name}/{anchor}": place for anchor, place in page.anchors.items()}
        if number == 0:
            page.anchors[f"part-{name}"] = (0, 0, 0, 0)
        page.links = [
            (kind, f"{name}/{target}" if kind == "internal" else target, *rest) for kind, target, *rest in page.links
        ]
        bound.append(page)
    return bound


def _part_key(document: Document, html: str) -> tuple:
    return document.variant, document.layout, document.name, hashlib.sha256(html.encode("utf-8")).digest()


def _facts_key(document: Document, html: str) -> str:
    """The key a leaflet's page facts are shared under, between the build's workers."""
    return key_of("pages", document.clinic.key, *map(str, _part_key(document, html)))


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


def said(record: logging.LogRecord) -> str:
    """What WeasyPrint logged, with each file: URL shown as the user would write the path (never the folders above)."""
    return re.sub(r"file://(/[^'\"\s]*)", lambda match: display_path(Path(unquote(match[1]))), record.getMessage())


def low_resolution_images(laid_out) -> list[str]:
    """A warning for each raster image printed below 300 dpi: print shops need that much for a sharp result."""
    warnings = []
    for page in laid_out.pages:
        for box in page._page_box.descendants():
            image = getattr(box, "replacement", None)
            if isinstance(image, RasterImage) and box.width:
                # CSS pixels are 1/96 inch.
                dpi = image.width / (box.width / 96)
                if dpi < PRESS_DPI:
                    needed = round(image.width * PRESS_DPI / dpi)
                    warnings.append(
                        f"an image ({image.width}×{image.height} px) prints at {dpi:.0f} dpi, below the "
                        f"{PRESS_DPI} dpi print shops need: use one at least {needed} px wide, or an SVG"
                    )
    return sorted(set(warnings))


def overfull_panels(laid_out) -> str | None:
    """Why a tri-fold does not fit its sheet (a panel too full, or more than two sides), or None.

    A panel is too full when its content reaches below its bottom edge, or when the part that did not fit
    is carried onto the other side of the sheet (a positioned panel breaks across pages instead of growing)."""
    if len(laid_out.pages) != 2:
        return (
            f"the tri-fold needs exactly 2 pages (one sheet, both sides), but its content fills {len(laid_out.pages)}"
        )
    home: dict[str, int] = {}
    for number, page in enumerate(laid_out.pages):
        for box in page._page_box.descendants():
            name = (
                box.element.get("data-panel")
                if getattr(box, "element", None) is not None and box.element_tag == "section"
                else None
            )
            if not name:
                continue
            # A panel's own children hold all of its content (deeper boxes of flex items may keep
            # positions from an earlier layout pass, so they are not measured).
            top, bottom = box.content_box_y(), box.content_box_y() + box.height
            lowest = max((child.position_y + child.margin_height() for child in box.children), default=bottom)
            if home.setdefault(name, number) != number:
                spilled = lowest - top
                return f"the tri-fold's {name} panel is {spilled * 25.4 / 96:.0f} mm too full"
            if lowest > bottom + 0.5:
                return f"the tri-fold's {name} panel is {max(1, round((lowest - bottom) * 25.4 / 96))} mm too full"
    return None
