"""Reads a finished PDF as a patient and a checker would: text contrast, type sizes, tags and alternative text."""

from __future__ import annotations

import ctypes
import functools
import io
import math
from collections import Counter
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PdfReader

from .branding import contrast

BODY_MINIMUM_PT, SMALLEST_PT = 12.0, 9.0
NORMAL_TEXT_RATIO, LARGE_TEXT_RATIO = 4.5, 3.0  # WCAG AA


@dataclass
class Inspection:
    """What was measured on the PDF itself."""

    smallest_text_pt: float = 0.0
    body_text_pt: float = 0.0
    lowest_text_contrast: float = 21.0
    text_contrast_failures: int = 0
    contrast_examples: list[str] = field(default_factory=list)
    accessibility: dict[str, bool] = field(default_factory=dict)


def inspect_pdf(pdf: bytes, pdf_ua: bool) -> Inspection:
    result = Inspection()
    _measure_text(pdf, result)
    result.accessibility = accessibility(pdf, pdf_ua)
    return result


def _measure_text(pdf: bytes, result: Inspection) -> None:
    """Size and contrast of every glyph: its fill colour against the pixels around it on the rendered page."""
    sizes: Counter = Counter()
    failures: dict[tuple, float] = {}
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            left, _, _, top = page.get_mediabox()
            scale = 1
            image = page.render(scale=scale).to_pil().convert("RGB")
            text = page.get_textpage()
            handle, matrix = text.raw, pdfium_c.FS_MATRIX()
            boxes = [ctypes.c_double() for _ in range(4)]
            colour = [ctypes.c_uint() for _ in range(4)]
            for index in range(text.count_chars()):
                if chr(pdfium_c.FPDFText_GetUnicode(handle, index)).isspace():
                    continue
                pdfium_c.FPDFText_GetMatrix(handle, index, ctypes.byref(matrix))
                size = round(pdfium_c.FPDFText_GetFontSize(handle, index) * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)), 1)
                if size <= 0:
                    continue
                sizes[size] += 1
                pdfium_c.FPDFText_GetCharBox(handle, index, *(ctypes.byref(b) for b in boxes))
                pdfium_c.FPDFText_GetFillColor(handle, index, *(ctypes.byref(c) for c in colour))
                fill = "#{:02X}{:02X}{:02X}".format(*(c.value for c in colour[:3]))
                x0, x1, y0, y1 = (b.value for b in boxes)
                box = (max(0, round((x0 - left - 1.5) * scale)), max(0, round((top - y1 - 1.5) * scale)),
                       min(image.width, round((x1 - left + 1.5) * scale)), min(image.height - 1, round((top - y0 + 1.5) * scale)))
                background = _background(image, box, fill)
                if background is None:
                    continue
                ratio = _ratio(fill, background)
                large = size >= 18 or (size >= 14 and pdfium_c.FPDFText_GetFontWeight(handle, index) >= 700)
                result.lowest_text_contrast = min(result.lowest_text_contrast, ratio)
                if ratio < (LARGE_TEXT_RATIO if large else NORMAL_TEXT_RATIO):
                    result.text_contrast_failures += 1
                    failures[(fill, background)] = ratio
            text.close()
            page.close()
    finally:
        document.close()
    if sizes:
        result.smallest_text_pt = min(sizes)
        result.body_text_pt = sizes.most_common(1)[0][0]
    result.contrast_examples = [f"{fill} on {bg}: {ratio}:1" for (fill, bg), ratio in sorted(failures.items(), key=lambda i: i[1])[:5]]


def inspection_failures(inspection: Inspection) -> list[str]:
    """What makes a PDF unfit for patients, whatever the clinic's settings."""
    found = [f"accessibility check failed: {name}" for name, ok in inspection.accessibility.items() if not ok]
    if inspection.text_contrast_failures:
        found.append(f"{inspection.text_contrast_failures} characters of text are below WCAG AA contrast "
                     f"({', '.join(inspection.contrast_examples)})")
    if inspection.smallest_text_pt and inspection.smallest_text_pt < SMALLEST_PT:
        found.append(f"some text is {inspection.smallest_text_pt} pt, below the {SMALLEST_PT:g} pt minimum")
    if inspection.body_text_pt and inspection.body_text_pt < BODY_MINIMUM_PT:
        found.append(f"body text is {inspection.body_text_pt} pt, below the {BODY_MINIMUM_PT:g} pt minimum")
    return found


def _background(image, box: tuple[int, int, int, int], fill: str) -> str | None:
    """The most common colour just above and below a glyph (the gap between lines) that is not its own ink.

    Sampling the glyph's own area would find anti-aliased edge pixels, a blend of ink and
    background, and mistake them for the background."""
    left, top, right, bottom = box
    if bottom - top < 2 or right <= left:
        return None
    colours = []
    for row in (top, bottom):
        edge = image.crop((left, row, right, row + 1))
        colours += edge.getcolors(maxcolors=edge.width + 1) or []
    ink = tuple(int(fill[i:i + 2], 16) for i in (1, 3, 5))
    for _, rgb in sorted(colours, reverse=True):
        if sum(abs(a - b) for a, b in zip(rgb, ink)) > 60:
            return "#{:02X}{:02X}{:02X}".format(*rgb)
    return None


@functools.lru_cache(maxsize=4096)
def _ratio(fill: str, background: str) -> float:
    return round(contrast(fill, background), 2)


def accessibility(pdf: bytes, pdf_ua: bool) -> dict[str, bool]:
    """The checks a screen-reader user depends on, each pass or fail."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data() if "/Metadata" in root else b""
    figures = _figures(root.get("/StructTreeRoot"))
    checks = {
        "tagged": bool(root.get("/MarkInfo", {}).get("/Marked")),
        "structure tree": "/StructTreeRoot" in root,
        "document language": bool(root.get("/Lang")),
        "title shown in title bar": bool((reader.metadata or {}).get("/Title")) and bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle")),
        "every figure has alternative text": bool(figures) and all(str(f.get("/Alt", "")).strip() for f in figures),
    }
    if pdf_ua:
        checks["identified as PDF/UA"] = b"pdfuaid:part" in xmp
    return checks


def _figures(node, found=None) -> list:
    found = [] if found is None else found
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _figures(child, found)
    elif isinstance(node, dict):
        if node.get("/S") == "/Figure":
            found.append(node)
        if "/K" in node:
            _figures(node["/K"], found)
    return found
