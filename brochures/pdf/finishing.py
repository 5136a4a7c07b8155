"""The last touches to a printed PDF: table header scopes, reading direction, page labels and a stable id."""

from __future__ import annotations

import hashlib
import re
import uuid

import pydyf


def finish(html: str, right_to_left: bool = False, part_starts: list[int] | None = None):
    """The finishing steps, run by WeasyPrint on the PDF it has built, before it writes a byte. `part_starts`: for
    a booklet, the index of each bound part's first page."""
    steps = (stable_document_id(html), table_header_scopes) + ((reading_right_to_left,) if right_to_left else ())
    if part_starts:
        steps += (part_page_labels(part_starts),)

    def run(document, pdf) -> None:
        for step in steps:
            step(document, pdf)
    return run


def part_page_labels(starts: list[int]):
    """Page labels for a booklet (/PageLabels), so that a viewer numbers its pages as they are printed: the cover
    and contents i, ii…, then each part from 1 again, after its place in the contents: "2-3" is page 3 of part 2,
    the page whose footer says "Page 3 of …"."""
    def label(_document, pdf) -> None:
        numbers = pydyf.Array([0, pydyf.Dictionary({"S": "/r"})])
        for place, start in enumerate(starts, start=1):
            numbers += [start, pydyf.Dictionary({"S": "/D", "P": pydyf.String(f"{place}-")})]
        pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": numbers})
    return label


def reading_right_to_left(_document, pdf) -> None:
    """Tell PDF viewers the pages read right to left (/Direction /R2L): side by side, a spread shows page 2 on the
    right; a booklet printed from it is bound on the right."""
    preferences = pdf.catalog.get("ViewerPreferences") or pydyf.Dictionary()
    preferences["Direction"] = "/R2L"
    pdf.catalog["ViewerPreferences"] = preferences


def table_header_scopes(document, pdf) -> None:
    """Give each table header cell's structure element the scope its <th> has (WeasyPrint drops it), so a screen
    reader knows whether it heads a column or a row: /A << /O /Table /Scope /Column|/Row >>."""
    for page in document.pages:
        for box in page._page_box.descendants():
            element = getattr(box, "mark", None)
            if element is None or getattr(box, "element", None) is None or box.element_tag != "th":
                continue
            attributes = element.get("A")
            if attributes is not None and "O" in attributes:
                attributes["Scope"] = "/Row" if box.element.get("scope") == "row" else "/Column"


def stable_document_id(html: str):
    """A finisher that replaces the random XMP document ID WeasyPrint writes with one derived from the document,
    so the same input always gives the same bytes."""
    document_id = f"xmp.did:{uuid.UUID(bytes=hashlib.sha256(html.encode('utf-8')).digest()[:16])}".encode()

    def finish(_document, pdf) -> None:
        for obj in pdf.objects:
            chunks = getattr(obj, "stream", None)
            if isinstance(chunks, list) and any(b"xmp.did:" in chunk for chunk in chunks if isinstance(chunk, bytes)):
                obj.stream = [
                    re.sub(rb"xmp\.did:[0-9a-f-]{36}", document_id, chunk) if isinstance(chunk, bytes) else chunk
                    for chunk in chunks
                ]

    return finish
