"""The PDF's tags as a screen reader meets them: structure tree, language, title, alternative text, table scopes."""

from __future__ import annotations

import io

from pypdf import PdfReader

from brochures.pdf.facts import Inspection


def accessibility(pdf: bytes, pdf_ua: bool, reader: PdfReader | None = None) -> dict[str, bool]:
    """The checks a screen-reader user depends on, each pass or fail."""
    reader = reader or PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data() if "/Metadata" in root else b""
    figures = _elements(root.get("/StructTreeRoot"), "/Figure")
    checks = {
        "tagged": bool(root.get("/MarkInfo", {}).get("/Marked")),
        "structure tree": "/StructTreeRoot" in root,
        "document language": bool(root.get("/Lang")),
        "title shown in title bar": bool((reader.metadata or {}).get("/Title"))
        and bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle")),
        "every figure has alternative text": bool(figures) and all(str(f.get("/Alt", "")).strip() for f in figures),
    }
    if pdf_ua:
        checks["identified as PDF/UA"] = b"pdfuaid:part" in xmp
    return checks


def _check_structure(reader: PdfReader, result: Inspection) -> None:
    """Figures lie on their page, and every table header cell tells a screen reader what it heads:
    /A << /O /Table /Scope /Column or /Row >>."""
    tree = reader.trailer["/Root"].get("/StructTreeRoot")
    result.page_problems += _figures_outside(reader, _elements(tree, "/Figure"))
    headers = _elements(tree, "/TH")
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


def _figures_outside(reader: PdfReader, figures: list) -> list[str]:
    """Figures (the logo, icons, the diagram, the QR code: SVG drawn as paths) laid out beyond the trimmed page.
    WeasyPrint records each figure's box in CSS pixels from the trimmed page's top left corner."""
    pages = {page.indirect_reference.idnum: number for number, page in enumerate(reader.pages, start=1)}
    found = []
    for figure in figures:
        box, page = figure.get("/A", {}).get("/BBox"), figure.raw_get("/Pg") if "/Pg" in figure else None
        number = pages.get(getattr(page, "idnum", None))
        if box is None or number is None:
            continue
        trim = reader.pages[number - 1].trimbox
        width, height = float(trim.width) * 96 / 72, float(trim.height) * 96 / 72
        x0, y0, x1, y1 = (float(v) for v in box)
        over = max(-x0, x1 - width, -y0, y1 - height)
        if over > 1:
            alt = str(figure.get("/Alt", "an image"))
            found.append(f"page {number}: {alt[:60]!r} is laid out {over * 25.4 / 96:.0f} mm beyond the page edge")
    return found


def _scope(element) -> str | None:
    attributes = element.get("/A")
    attributes = attributes.get_object() if attributes is not None else None
    for attribute in attributes if isinstance(attributes, list) else [attributes]:
        attribute = attribute.get_object() if attribute is not None else None
        if isinstance(attribute, dict) and attribute.get("/O") == "/Table" and "/Scope" in attribute:
            return str(attribute["/Scope"])
    return None


def _elements(node, role: str, found=None) -> list:
    found = [] if found is None else found
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _elements(child, role, found)
    elif isinstance(node, dict):
        if node.get("/S") == role:
            found.append(node)
        if "/K" in node:
            _elements(node["/K"], role, found)
    return found
