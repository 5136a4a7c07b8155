"""The finished PDF read back (with pikepdf): metadata, page boxes, links, and what a press file must carry."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pikepdf

from brochures.load.approval import approval_status
from brochures.pdf.facts import Expected
from brochures.pdf.objects import box, info, is_array, is_dictionary, is_stream, open_pdf, text, written_order
from brochures.plan.documents import (
    BOOKLET,
    PRESS,
    STANDARD,
    TRIFOLD,
    Document,
)
from brochures.problems import display_path
from brochures.render.data import fill

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


def draft_marks(document: Document) -> tuple[str, ...]:
    """The draft marks the pages of a document whose content is not approved show, one or the other on each
    (partials/draft_mark.html.j2): with the clinic's name, or without it (the running header, for a long name).
    None when the content is approved."""
    clinic = document.clinic
    if approval_status(clinic)["approved"]:
        return ()
    return tuple(dict.fromkeys((fill(clinic.strings.draft_mark, clinic=clinic.config.name),
                                clinic.strings.draft_mark_running)))


def expected_look(document: Document) -> Expected:
    """What the page checks hold this document to."""
    config = document.clinic.config
    return Expected(
        font=document.clinic.font.css_name, font_family=document.clinic.font.name,
        font_files=tuple(str(face.path) for face in document.clinic.font.faces), booking_url=config.booking_url,
        other_codes=tuple(address for address in [config.contact.website, f"tel:{config.contact.phone}",
                                                    f"mailto:{config.contact.email}"] if address),
        script_fonts=tuple((family.css_name, family.name, tuple(str(face.path) for face in family.faces))
                           for family in document.clinic.script_fonts),
        must_show=document.must_show, right_to_left=document.clinic.strings.direction == "rtl",
        draft_marks=draft_marks(document),
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


def check_pdf(document: Document, pdf: bytes, reader: pikepdf.Pdf | None = None) -> int:
    """Read the PDF back as a viewer or a print shop's preflight would; return its page count or raise PrintError.
    `reader`: the PDF already opened (pdf/objects.py), shared with the quality gate's inspection so it is read once."""
    if reader is None:
        with open_pdf(pdf) as opened:
            return check_pdf(document, pdf, opened)
    config = document.clinic.config
    root = reader.Root
    metadata = info(reader)
    xmp = root["/Metadata"].read_bytes() if is_stream(root.get("/Metadata")) else b""
    problems = []
    title, author = metadata.get("/Title"), metadata.get("/Author")
    if title is None or str(title) != document.title:
        problems.append(f"title is {text(title, None)!r}, expected {document.title!r}")
    if author is None or str(author) != config.name:
        problems.append(f"author is {text(author, None)!r}, expected {config.name!r}")
    mark_info = root.get("/MarkInfo")
    if not (is_dictionary(mark_info) and bool(mark_info.get("/Marked"))) or "/StructTreeRoot" not in root:
        problems.append("it is not tagged")
    if text(root.get("/Lang"), None) != config.language:
        problems.append(f"language is {text(root.get('/Lang'), None)!r}, expected {config.language!r}")
    if document.variant == STANDARD and b"pdfuaid:part" not in xmp:
        problems.append("it is not identified as PDF/UA")
    if document.variant == PRESS:
        problems += _press_problems(reader, root, xmp)
    names = root.get("/Names")
    if (is_dictionary(names) and "/EmbeddedFiles" in names) or "/AF" in root:
        problems.append("it has files attached (a clinic template's rel=\"attachment\" link?); brochures carry none")
    width, height = expected_page_size(document)
    bleed = BLEED_POINTS if document.variant == PRESS else 0
    for number, page in enumerate(reader.pages, start=1):
        annotations = page.obj.get("/Annots")
        for annotation in annotations if is_array(annotations) else []:
            action = annotation.get("/A")
            uri = text(action.get("/URI")) if is_dictionary(action) else ""
            if annotation.get("/Subtype") == "/FileAttachment":
                problems.append(f"page {number} has a file attached; brochures carry none")
            elif uri and urlsplit(uri).scheme.lower() not in LINK_SCHEMES:
                # A link to a local file would both fail for the patient and show where the clinic's files live.
                problems.append(
                    f"page {number} links to {urlsplit(uri).scheme or 'a'} address "
                    f"{display_path(Path(unquote(urlsplit(uri).path))) if uri.startswith('file:') else uri!r}; "
                    f"links may only be {', '.join(LINK_SCHEMES)}"
                )
        trim, media = box(page, "/TrimBox"), box(page, "/MediaBox")
        trim_width, trim_height, media_width = trim[2] - trim[0], trim[3] - trim[1], media[2] - media[0]
        if abs(trim_width - width) > 1 or abs(trim_height - height) > 1:
            problems.append(
                f"page {number} is {trim_width:.0f}×{trim_height:.0f} pt, expected {width:.0f}×{height:.0f}"
            )
            break
        if abs(media_width - trim_width - 2 * bleed) > 0.5:
            problems.append(
                f"page {number} has {(media_width - trim_width) / 2:.1f} pt of bleed, expected {bleed:.1f}"
            )
            break
    if problems:
        raise PrintError("the PDF failed its check: " + "; ".join(problems))
    return len(reader.pages)


def _press_problems(reader: pikepdf.Pdf, root, xmp: bytes) -> list[str]:
    """What a print shop's preflight checks for PDF/X-4: identification, output intent, boxes, embedded fonts."""
    problems = []
    intents = root.get("/OutputIntents")
    intents = [intent for intent in intents if is_dictionary(intent)] if is_array(intents) else []
    if not any(i.get("/S") == "/GTS_PDFX" and "/DestOutputProfile" in i for i in intents):
        problems.append("it has no PDF/X output intent with a colour profile")
    if b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" not in xmp:
        problems.append("it is not identified as PDF/X-4")
    if info(reader).get("/Trapped") != "/False":
        problems.append("its Trapped key is missing")
    for number, page in enumerate(reader.pages, start=1):
        media, bleed, trim = box(page, "/MediaBox"), box(page, "/BleedBox"), box(page, "/TrimBox")
        inside = media[0] <= bleed[0] <= trim[0] and trim[2] <= bleed[2] <= media[2]
        if "/TrimBox" not in page.obj or not inside:
            problems.append(f"page {number} lacks a TrimBox inside its BleedBox and MediaBox")
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if is_dictionary(resources) else None
        for name, font in written_order(fonts.items(), lambda item: item[1]) if is_dictionary(fonts) else []:
            descendants = font.get("/DescendantFonts")
            owner = descendants[0] if is_array(descendants) and len(descendants) else font
            descriptor = owner.get("/FontDescriptor") if is_dictionary(owner) else None
            if not is_dictionary(descriptor) or not any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                problems.append(f"font {text(font.get('/BaseFont'), name)} on page {number} is not embedded")
    return problems


# Characters of a clinic name beyond which base.html.j2 gives the pages a taller footer.
LONG_NAME = 40


class PrintError(Exception):
    """A document could not be printed, or the PDF printed failed its check."""
