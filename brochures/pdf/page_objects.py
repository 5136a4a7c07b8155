"""What a page draws, object by object, in the order it paints them: read once per page, straight from pdfium (a page
has a hundred objects or more, none wrapped to be looked at)."""

from __future__ import annotations

import ctypes
import functools

import pypdfium2.raw as pdfium_c

from brochures.pdf.page_text import c_pointer

# Groups inside groups looked into, as pypdfium2 looks into them.
FORM_DEPTH = 14


# PageObjects.faded's opacity for text faded by what its alpha does not say (a soft mask, as CSS `mask-border`
# paints; a blend mode): how faint it shows is measured on the rendered page.
MEASURED = -1.0


class PageObjects:
    """One page's objects, as the checks need them:

    images   the bounds (left, bottom, right, top, in points) of every raster image, inside groups too
    faded    text object (as page_text.text_object_at gives it) → the opacity of the groups it is drawn in, for each
             one drawn inside a group below full opacity (WeasyPrint draws CSS `opacity` as a form XObject painted
             at a fill alpha; groups inside groups multiply); MEASURED for one faded otherwise (a soft mask)
    order    text object → its place in the order the page is painted
    covers   (place, bounds, is an image) of every image and every filled shape (a path of one shape with a fill
             that is not fully transparent, a shading), in the order they are painted: what may lie over text
             painted before it
    """

    __slots__ = ("images", "faded", "order", "covers")

    def __init__(self, page):
        self.images: list[tuple[float, float, float, float]] = []
        self.faded: dict = {}
        self.order: dict = {}
        self.covers: list[tuple[int, tuple[float, float, float, float], bool]] = []
        colour = [ctypes.c_uint() for _ in range(4)]
        colour_refs = [ctypes.byref(c) for c in colour]
        bounds = [ctypes.c_float() for _ in range(4)]
        bounds_refs = [ctypes.byref(b) for b in bounds]
        fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
        place = 0
        # Each level: what is left of it to read (a stack, so that a group's objects come where the group is).
        levels = [(iter(range(pdfium_c.FPDFPage_CountObjects(page.raw))),
                   functools.partial(pdfium_c.FPDFPage_GetObject, page.raw), 1.0, 0, False)]
        while levels:
            numbers, get, opacity, depth, masked = levels[-1]
            number = next(numbers, None)
            if number is None:
                levels.pop()
                continue
            item = get(number)
            place += 1
            kind = pdfium_c.FPDFPageObj_GetType(item)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                key = c_pointer(item)
                self.order[key] = place
                if masked or _masked(item, colour_refs, colour):
                    self.faded[key] = MEASURED
                elif opacity < 1:
                    self.faded[key] = opacity
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                if depth < FORM_DEPTH:
                    pdfium_c.FPDFPageObj_GetFillColor(item, *colour_refs)
                    alpha = colour[3].value
                    levels.append((iter(range(pdfium_c.FPDFFormObj_CountObjects(item))),
                                   functools.partial(pdfium_c.FPDFFormObj_GetObject, item),
                                   opacity * alpha / 255, depth + 1, masked or _masked(item, colour_refs, colour)))
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE or kind == pdfium_c.FPDF_PAGEOBJ_SHADING or (
                kind == pdfium_c.FPDF_PAGEOBJ_PATH and _filled(item, fill_mode, stroke, colour_refs, colour)
            ):
                if pdfium_c.FPDFPageObj_GetBounds(item, *bounds_refs):
                    box = tuple(b.value for b in bounds)
                    image = kind == pdfium_c.FPDF_PAGEOBJ_IMAGE
                    if image:
                        self.images.append(box)
                    self.covers.append((place, box, image))


def _masked(item, colour_refs, colour) -> bool:
    """Whether an object is drawn fainter than its fill alpha says: pdfium finds transparency in it (a soft mask,
    a blend mode) though its fill is opaque."""
    if not pdfium_c.FPDFPageObj_HasTransparency(item):
        return False
    pdfium_c.FPDFPageObj_GetFillColor(item, *colour_refs)
    return colour[3].value == 255


def _filled(path, fill_mode, stroke, colour_refs, colour) -> bool:
    """Whether a path is one filled shape, with a fill that is not fully transparent: what its bounds show is what
    it paints. Not a path only stroked (a line), nor one of several shapes (the ring an outline or a border is
    painted as, whose bounds hold the box inside it)."""
    if not pdfium_c.FPDFPath_GetDrawMode(path, ctypes.byref(fill_mode), ctypes.byref(stroke)) or not fill_mode.value:
        return False
    pdfium_c.FPDFPageObj_GetFillColor(path, *colour_refs)
    if colour[3].value == 0:
        return False
    starts = 0
    for number in range(pdfium_c.FPDFPath_CountSegments(path)):
        segment = pdfium_c.FPDFPath_GetPathSegment(path, number)
        if pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_MOVETO:
            starts += 1
            if starts > 1:
                return False
    return True
