"""The finished PDF read back with pypdf: metadata, page boxes, links, and what a press file must carry."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pypdf import PdfReader

from brochures.pdf.facts import Expected
from brochures.plan.documents import (
    BOOKLET,
    PRESS,
    STANDARD,
    TRIFOLD,
    Document,
)
from brochures.problems import display_path

PAGE_POINTS = {"A4": (595.28, 841.89), "Letter": (612.0, 792.0), "A5": (419.53, 595.28)}


# 3 mm, as press.css sets it.
BLEED_POINTS = 3 / 25.4 * 72


# What a patient's link may open.
LINK_SCHEMES = ("https", "mailto", "tel")


# An A4 or Letter leaflet is one sheet, folded: four pages. A5 pages are printed two to a side of an A4 sheet and
# folded, so an A5 leaflet is two sheets: eight pages. A comparison sheet keeps to the same.
LEAFLET_PAGES = {"A4": 4, "Letter": 4, "A5": 8}


def page_budget(document: Document) -> int | None:
    """The pages a brochure's leaflet or a comparison sheet is meant to fit (a tri-fold is one sheet by its own
    check; a booklet binds them all)."""
    if document.kind not in ("brochure", "comparison") or document.layout == TRIFOLD:
        return None
    return LEAFLET_PAGES[document.clinic.config.page_size]


def expected_look(document: Document) -> Expected:
    """What the page checks hold this document to."""
    config = document.clinic.config
    return Expected(
        font=document.clinic.font.css_name, font_family=document.clinic.font.name,
        font_files=tuple(str(face.path) for face in document.clinic.font.faces), booking_url=config.booking_url,
        script_fonts=tuple((family.css_name, family.name, tuple(str(face.path) for face in family.faces))
                           for family in document.clinic.script_fonts),
        must_show=document.must_show, right_to_left=document.clinic.strings.direction == "rtl",
        page_budget=page_budget(document),
        # Its cover, and the contents inside it.
        cover_pages=(1, 2) if document.kind == BOOKLET else (),
        # A tri-fold's panels have no page margins: their padding keeps text off the edges and folds. A long
        # clinic name gets taller margins (the long-name page of common.css, chosen in base.html.j2).
        **({"margin_top_mm": 0.0, "margin_bottom_mm": 0.0} if document.layout == TRIFOLD else
           {"margin_top_mm": 17.0, "margin_bottom_mm": 22.0} if len(config.name) > LONG_NAME else {}))


def expected_page_size(document: Document) -> tuple[float, float]:
    """The trimmed page size in points: the clinic's size, or A4/Letter landscape for a tri-fold."""
    size = document.clinic.config.page_size
    if document.layout == TRIFOLD:
        width, height = PAGE_POINTS["Letter" if size == "Letter" else "A4"]
        return height, width
    return PAGE_POINTS[size]


def check_pdf(document: Document, pdf: bytes, reader: PdfReader | None = None) -> int:
    """Read the PDF back as a viewer or a print shop's preflight would; return its page count or raise PrintError.
    `reader`: the PDF already parsed, shared with the quality gate's inspection so it is parsed once."""
    reader = reader or PdfReader(io.BytesIO(pdf))
    config = document.clinic.config
    root = reader.trailer["/Root"]
    metadata = reader.metadata or {}
    xmp = root["/Metadata"].get_object().get_data() if "/Metadata" in root else b""
    problems = []
    if metadata.get("/Title") != document.title:
        problems.append(f"title is {metadata.get('/Title')!r}, expected {document.title!r}")
    if metadata.get("/Author") != config.name:
        problems.append(f"author is {metadata.get('/Author')!r}, expected {config.name!r}")
    if not root.get("/MarkInfo", {}).get("/Marked") or "/StructTreeRoot" not in root:
        problems.append("it is not tagged")
    if root.get("/Lang") != config.language:
        problems.append(f"language is {root.get('/Lang')!r}, expected {config.language!r}")
    if document.variant == STANDARD and b"pdfuaid:part" not in xmp:
        problems.append("it is not identified as PDF/UA")
    if document.variant == PRESS:
        problems += _press_problems(reader, root, xmp)
    if "/EmbeddedFiles" in root.get("/Names", {}) or "/AF" in root:
        problems.append("it has files attached (a clinic template's rel=\"attachment\" link?); brochures carry none")
    width, height = expected_page_size(document)
    bleed = BLEED_POINTS if document.variant == PRESS else 0
    for number, page in enumerate(reader.pages, start=1):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            uri = str((annotation.get("/A") or {}).get("/URI", ""))
            if annotation.get("/Subtype") == "/FileAttachment":
                problems.append(f"page {number} has a file attached; brochures carry none")
            elif uri and urlsplit(uri).scheme.lower() not in LINK_SCHEMES:
                # A link to a local file would both fail for the patient and show where the clinic's files live.
                problems.append(
                    f"page {number} links to {urlsplit(uri).scheme or 'a'} address "
                    f"{display_path(Path(unquote(urlsplit(uri).path))) if uri.startswith('file:') else uri!r}; "
                    f"links may only be {', '.join(LINK_SCHEMES)}"
                )
        trim, media = page.trimbox, page.mediabox
        if abs(float(trim.width) - width) > 1 or abs(float(trim.height) - height) > 1:
            problems.append(
                f"page {number} is {float(trim.width):.0f}×{float(trim.height):.0f} pt, "
                f"expected {width:.0f}×{height:.0f}"
            )
            break
        if abs(float(media.width) - float(trim.width) - 2 * bleed) > 0.5:
            problems.append(
                f"page {number} has {(float(media.width) - float(trim.width)) / 2:.1f} pt of bleed, "
                f"expected {bleed:.1f}"
            )
            break
    if problems:
        raise PrintError("the PDF failed its check: " + "; ".join(problems))
    return len(reader.pages)


def _press_problems(reader: PdfReader, root, xmp: bytes) -> list[str]:
    """What a print shop's preflight checks for PDF/X-4: identification, output intent, boxes, embedded fonts."""
    problems = []
    intents = [intent.get_object() for intent in root.get("/OutputIntents", [])]
    if not any(i.get("/S") == "/GTS_PDFX" and "/DestOutputProfile" in i for i in intents):
        problems.append("it has no PDF/X output intent with a colour profile")
    if b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" not in xmp:
        problems.append("it is not identified as PDF/X-4")
    if (reader.metadata or {}).get("/Trapped") != "/False":
        problems.append("its Trapped key is missing")
    for number, page in enumerate(reader.pages, start=1):
        media, bleed, trim = page.mediabox, page.bleedbox, page.trimbox
        inside = float(media.left) <= float(bleed.left) <= float(trim.left) and float(trim.right) <= float(
            bleed.right
        ) <= float(media.right)
        if "/TrimBox" not in page or not inside:
            problems.append(f"page {number} lacks a TrimBox inside its BleedBox and MediaBox")
        fonts = page.get("/Resources", {}).get("/Font", {})
        for name, font in fonts.items():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font).get(
                "/FontDescriptor"
            )
            if descriptor is None or not any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                problems.append(f"font {font.get('/BaseFont', name)} on page {number} is not embedded")
    return problems


# Characters of a clinic name beyond which base.html.j2 gives the pages a taller footer.
LONG_NAME = 40


class PrintError(Exception):
    """A document could not be printed, or the PDF printed failed its check."""
