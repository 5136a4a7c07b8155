"""The last touches to a printed PDF: table header scopes, grouping without layout boxes, reading direction, page
labels and a stable id."""

from __future__ import annotations

import hashlib
import re
import uuid

import pydyf


def finish(html: str, right_to_left: bool = False, part_starts: list[int] | None = None):
    """The finishing steps, run by WeasyPrint on the PDF it has built, before it writes a byte. `part_starts`: for
    a booklet, the index of each bound part's first page."""
    steps = (stable_document_id(html), table_header_scopes, layout_groups_merged)
    if right_to_left:
        steps += (reading_right_to_left,)
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


_GROUPS = ("/Div", "/Sect")
_PLAIN = {"Type", "S", "K", "Pg", "P"}


def layout_groups_merged(_document, pdf) -> None:
    """Merge a grouping element (Div or Sect) into the one child it holds when that child is the same kind
    of group, and leave out empty NonStruct elements. WeasyPrint tags every box it lays out, so content laid out as
    table cells (`.columns`, common.css) comes wrapped in the boxes of an anonymous table, row group and row: three
    more Divs around the two that a screen reader should meet, which only nest the same grouping again. A block that
    clears floats (`.contact-grid::after`) holds nothing. The elements left out stay in the file, unreferenced."""
    objects = {obj.reference: obj for obj in pdf.objects if isinstance(obj, pydyf.Dictionary)}

    def merged(reference):
        element = objects.get(reference) if isinstance(reference, bytes) else None
        if element is None or element.get("Type") != "/StructElem":
            return reference
        kids = element.get("K")
        if isinstance(kids, pydyf.Array):
            kids[:] = [merged(kid) for kid in kids if not _empty(objects.get(kid) if isinstance(kid, bytes) else None)]
            child = objects.get(kids[0]) if len(kids) == 1 and isinstance(kids[0], bytes) else None
            if (child is not None and element["S"] in _GROUPS and child.get("S") == element["S"]
                    and set(element) <= _PLAIN and child.get("Type") == "/StructElem"):
                child["P"] = element["P"]
                return kids[0]
        return reference

    root = objects.get(pdf.catalog.get("StructTreeRoot"))
    if root is not None:
        merged(root["K"][0])


def _empty(element) -> bool:
    return (element is not None and element.get("Type") == "/StructElem" and element.get("S") == "/NonStruct"
            and not element.get("K"))


def stable_document_id(html: str):
    """A finisher that replaces the random XMP document ID WeasyPrint writes with one derived from the document,
    so the same input always gives the same bytes."""
    document_id = f"xmp.did:{uuid.UUID(bytes=hashlib.sha256(html.encode('utf-8')).digest()[:16])}".encode()

    def finish(_document, pdf) -> None:
        for obj in pdf.objects:
            chunks = getattr(obj, "stream", None)
            # The XMP metadata stream (WeasyPrint marks it so), not the thousands of pieces of the pages' content.
            if getattr(obj, "extra", {}).get("Type") != "/Metadata" or not isinstance(chunks, list):
                continue
            if any(b"xmp.did:" in chunk for chunk in chunks if isinstance(chunk, bytes)):
                obj.stream = [
                    re.sub(rb"xmp\.did:[0-9a-f-]{36}", document_id, chunk) if isinstance(chunk, bytes) else chunk
                    for chunk in chunks
                ]

    return finish
