"""The PDF's tags as a screen reader meets them: structure tree, language, title, alternative text, table scopes."""

from __future__ import annotations

import pikepdf

from brochures.pdf.facts import Inspection
from brochures.pdf.objects import box, identity, info, is_array, is_dictionary, is_stream, open_pdf, text


def accessibility(pdf: bytes, pdf_ua: bool, reader: pikepdf.Pdf | None = None) -> dict[str, bool]:
    """The checks a screen-reader user depends on, each pass or fail."""
    if reader is None:
        with open_pdf(pdf) as opened:
            return accessibility(pdf, pdf_ua, opened)
    root = reader.Root
    xmp = root["/Metadata"].read_bytes() if is_stream(root.get("/Metadata")) else b""
    figures = tagged(reader, "/Figure")
    mark_info, preferences = root.get("/MarkInfo"), root.get("/ViewerPreferences")
    checks = {
        "tagged": is_dictionary(mark_info) and bool(mark_info.get("/Marked")),
        "structure tree": "/StructTreeRoot" in root,
        "document language": bool(text(root.get("/Lang"))),
        "title shown in title bar": bool(text(info(reader).get("/Title")))
        and is_dictionary(preferences) and bool(preferences.get("/DisplayDocTitle")),
        "every figure has alternative text": bool(figures) and all(text(f.get("/Alt")).strip() for f in figures),
    }
    if pdf_ua:
        checks["identified as PDF/UA"] = b"pdfuaid:part" in xmp
    return checks


def _check_structure(reader: pikepdf.Pdf, result: Inspection) -> None:
    """Figures lie on their page, and every table header cell tells a screen reader what it heads:
    /A << /O /Table /Scope /Column or /Row >>."""
    result.page_problems += _figures_outside(reader, tagged(reader, "/Figure"))
    headers = tagged(reader, "/TH")
    result.table_headers = len(headers)
    missing = [header for header in headers if _scope(header) not in ("/Column", "/Row", "/Both")]
    # Shown with the other accessibility checks in the scorecard and the report.
    if headers:
        result.accessibility["every table header says what it heads"] = not missing
    if missing:
        result.page_problems.append(
            f"{len(missing)} of {len(headers)} table header cells carry no /Scope in the "
            "structure tree: a screen reader cannot tell which cells they head"
        )


def page_numbers(reader: pikepdf.Pdf) -> dict:
    """Each page's object → its page number, from 1."""
    return {identity(page.obj): number for number, page in enumerate(reader.pages, start=1)}


def _figures_outside(reader: pikepdf.Pdf, figures: list) -> list[str]:
    """Figures (the logo, icons, the diagram, the QR code: SVG drawn as paths) laid out beyond the trimmed page.
    WeasyPrint records each figure's box in CSS pixels from the trimmed page's top left corner."""
    pages = page_numbers(reader)
    found = []
    for figure in figures:
        attributes, page = figure.get("/A"), figure.get("/Pg")
        bounds = attributes.get("/BBox") if is_dictionary(attributes) else None
        number = pages.get(identity(page)) if page is not None else None
        if not is_array(bounds) or number is None:
            continue
        left, bottom, right, top = box(reader.pages[number - 1], "/TrimBox")
        width, height = (right - left) * 96 / 72, (top - bottom) * 96 / 72
        x0, y0, x1, y1 = (float(v) for v in bounds)
        over = max(-x0, x1 - width, -y0, y1 - height)
        if over > 1:
            alt = text(figure.get("/Alt"), "an image")
            found.append(f"page {number}: {alt[:60]!r} is laid out {over * 25.4 / 96:.0f} mm beyond the page edge")
    return found


def _scope(element) -> str | None:
    attributes = element.get("/A")
    for attribute in attributes if is_array(attributes) else [attributes]:
        if is_dictionary(attribute) and attribute.get("/O") == "/Table" and "/Scope" in attribute:
            return str(attribute["/Scope"])
    return None


# The roles the gate looks for in the structure tree.
ROLES = ("/Figure", "/TH")


# The last PDF's structure elements of each role: three checks read them, and the tree is walked once.
_last_walk: list = [None, {}]


def tagged(reader: pikepdf.Pdf, role: str) -> list:
    """The structure elements of `role` (one of ROLES) in the PDF, in the order a screen reader meets them."""
    if _last_walk[0] is not reader:
        found: dict[str, list] = {name: [] for name in ROLES}
        _elements(reader.Root.get("/StructTreeRoot"), found)
        _last_walk[:] = [reader, found]
    return _last_walk[1][role]


def _elements(root, found: dict[str, list]) -> None:
    """Each structure element under `root` whose role is a key of `found`, added to its list in the order a screen
    reader meets them (depth first, children in order): one step per node, a stack rather than a call. An object met
    again (a tree that leads back into itself, never WeasyPrint's) is not walked again."""
    stack, met = [root], set()
    while stack:
        node = stack.pop()
        if isinstance(node, (pikepdf.Dictionary, pikepdf.Array)):
            number = node.objgen
            if number != (0, 0):
                if number in met:
                    continue
                met.add(number)
        if isinstance(node, pikepdf.Dictionary):
            role = node.get("/S")
            if role is not None and (listed := found.get(str(role))) is not None:
                listed.append(node)
            if (kids := node.get("/K")) is not None:
                stack.append(kids)
        elif isinstance(node, pikepdf.Array):
            stack.extend(reversed(node))
