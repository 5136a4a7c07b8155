"""Images checked by their content before WeasyPrint sees them: Pillow for raster images, expat for SVG."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from xml.parsers import expat

from PIL import Image

# A logo printed 70 mm wide needs about 830 px at 300 dpi: these caps leave a wide margin,
# and stop an 11000×11000 image from taking hundreds of MB to decode.
MAX_IMAGE_BYTES = 10 * 1024 * 1024


MAX_IMAGE_SIDE = 6000


MAX_IMAGE_PIXELS = 24_000_000


MAX_SVG_BYTES = 1024 * 1024


# Elements an SVG draws, counting every copy a <use> makes: a detailed logo has a few thousand. Nested <use>
# references multiply (10 layers of 10 uses draw 10^10 elements from a 2 KB file) and would stall rendering.
MAX_SVG_ELEMENTS = 20_000


# Elements inside each other; WeasyPrint draws SVG recursively.
MAX_SVG_DEPTH = 100


# Signature → (type, name), checked in order.
RASTER_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("image/png", "PNG"),
    b"\xff\xd8\xff": ("image/jpeg", "JPEG"),
    b"GIF87a": ("image/gif", "GIF"),
    b"GIF89a": ("image/gif", "GIF"),
    b"II*\x00": ("image/tiff", "TIFF"),
    b"MM\x00*": ("image/tiff", "TIFF"),
    b"BM": ("image/bmp", "BMP"),
}


SVG_TYPE = "image/svg+xml"


_SVG_NAMESPACE = "http://www.w3.org/2000/svg"


_XLINK_HREF = "http://www.w3.org/1999/xlink href"


@dataclass(frozen=True)
class ImageCheck:
    """What some bytes are, judged from the bytes alone, and whether they may be printed."""

    # "image/png", "image/svg+xml"…; None for anything that is not an image.
    mime_type: str | None
    # In words, for messages: "a PNG image", "an SVG image", "an empty file", "a text file"…
    what: str
    # Why it must not be printed (too large, a bomb, damaged, unsafe), or None.
    problem: str | None = None


def check_image(data: bytes) -> ImageCheck:
    """Sniff `data` (PNG, JPEG, GIF, WebP, BMP, TIFF, or SVG: XML whose root element is <svg>) and check it.

    Anything that looks like markup is parsed as XML, whatever it claims to be, because WeasyPrint
    falls back to reading an unrecognised image as SVG.
    """
    for signature, (mime_type, name) in RASTER_SIGNATURES.items():
        if data.startswith(signature):
            return ImageCheck(mime_type, f"a {name} image", _raster_problem(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageCheck("image/webp", "a WebP image", _raster_problem(data))
    if _looks_like_markup(data):
        return _check_markup(data)
    if not data:
        return ImageCheck(None, "an empty file (0 bytes)")
    if data.startswith(b"%PDF"):
        return ImageCheck(None, "a PDF document")
    head = data[:4096]
    try:
        head.decode("utf-8")
        decodes = True
    except UnicodeDecodeError as error:
        # Only cut in the middle of a character.
        decodes = error.start > len(head) - 4
    text = decodes and b"\x00" not in head
    return ImageCheck(None, "a text file" if text else "a file in an unknown format")


def image_problem(data: bytes, require_image: bool = False) -> str | None:
    """Why `data` must not be printed as an image (too large, a decompression bomb, damaged, unsafe SVG), or None.

    The type is decided from the bytes alone. Data that is no image at all passes, unless `require_image`.
    """
    check = check_image(data)
    if check.problem:
        return check.problem
    if require_image and check.mime_type is None:
        return f"expected an image, got {check.what}"
    return None


def _raster_problem(data: bytes) -> str | None:
    if len(data) > MAX_IMAGE_BYTES:
        return (
            f"expected an image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB, "
            f"got {len(data) / (1024 * 1024):.1f} MB"
        )
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 megapixels and refuses from 179; our own caps are lower and say the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # Reads the header only: no pixels are decoded.
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
                    return (
                        f"expected an image of at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} pixels "
                        f"({MAX_IMAGE_PIXELS // 1_000_000} megapixels), got {width}×{height}"
                    )
                # Checks the file's structure and checksums.
                image.verify()
    except Image.DecompressionBombError:
        return "expected an image of a sensible size, got a decompression bomb"
    # Pillow raises many kinds of error for a damaged file.
    except Exception as error:
        return f"expected a readable image, got a damaged or unsupported file ({type(error).__name__})"
    return None


def _looks_like_markup(data: bytes) -> bool:
    """Whether the first thing in `data` (after a byte order mark and white space, in any encoding) is a `<`."""
    head = data[:256]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        head = head.removeprefix(bom)
    return head.replace(b"\x00", b"").lstrip().startswith(b"<")


class _Refused(Exception):
    """Stops the XML parser at the first thing that makes the file unsafe."""


def _check_markup(data: bytes) -> ImageCheck:
    """SVG (or other XML): no DTD or entities, well formed, not too deep, and no <use> bomb."""
    if len(data) > MAX_SVG_BYTES:
        return ImageCheck(
            SVG_TYPE,
            "an SVG image",
            f"expected an SVG file of at most {MAX_SVG_BYTES // 1024} KB, got {len(data) // 1024} KB",
        )
    unsafe = ImageCheck(
        SVG_TYPE,
        "an SVG image",
        "expected a plain SVG file, got one with a DOCTYPE or ENTITY declaration (not supported, for safety)",
    )
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        return unsafe

    # Element → its child elements.
    children: list[list[int]] = []
    # <use> element → the id it copies.
    uses: dict[int, str] = {}
    ids: dict[str, int] = {}
    open_elements: list[int] = []
    root_name = ""

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal root_name
        namespace, _, local = name.rpartition(" ")
        element = len(children)
        children.append([])
        if open_elements:
            children[open_elements[-1]].append(element)
        else:
            root_name = local if namespace in ("", _SVG_NAMESPACE) else name
        open_elements.append(element)
        if len(open_elements) > MAX_SVG_DEPTH:
            raise _Refused(
                f"expected an SVG file with at most {MAX_SVG_DEPTH} levels of elements inside each other, got more"
            )
        if len(children) > MAX_SVG_ELEMENTS:
            raise _Refused(f"expected an SVG file of at most {MAX_SVG_ELEMENTS:,} elements, got more")
        if (identifier := attributes.get("id")) is not None:
            ids.setdefault(identifier, element)
        href = attributes.get("href") or attributes.get(_XLINK_HREF) or ""
        # WeasyPrint copies only from its own file: count any #fragment as such.
        if local == "use" and "#" in href:
            uses[element] = href.rpartition("#")[2]

    def refuse_declarations(*_args) -> None:
        raise _Refused(unsafe.problem)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: open_elements.pop()
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = refuse_declarations
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        return ImageCheck(SVG_TYPE, "an SVG image", str(refused))
    except expat.ExpatError as error:
        return ImageCheck(
            None,
            "a damaged SVG or XML file",
            f"expected a complete, well-formed SVG file, got one that cannot be read as XML "
            f"({expat.errors.messages.get(error.code, 'syntax error')} on line {error.lineno})",
        )
    # Checked whatever the root, since WeasyPrint may still try to draw any XML as SVG.
    problem = _use_problem(children, uses, ids)
    if root_name != "svg":
        return ImageCheck(None, f"an XML file whose root element is <{root_name}>, not <svg>", problem)
    return ImageCheck(SVG_TYPE, "an SVG image", problem)


def _use_problem(children: list[list[int]], uses: dict[int, str], ids: dict[str, int]) -> str | None:
    """Whether the elements drawn, counting each <use> copy, stay within MAX_SVG_ELEMENTS; and no <use> loops.

    Each element's drawn size is 1 + its children's + the size of what it <use>s, computed once per
    element (memoised) in an explicit depth-first walk, so neither deep files nor cycles can recurse.
    """

    def successors(element: int) -> list[int]:
        target = ids.get(uses[element]) if element in uses else None
        return children[element] + ([target] if target is not None else [])

    size: list[int] = [0] * len(children)
    # 0 not seen, 1 on the current path, 2 done.
    state = [0] * len(children)
    stack = [0] if children else []
    while stack:
        element = stack[-1]
        if state[element] == 0:
            state[element] = 1
            for successor in successors(element):
                if state[successor] == 1:
                    return (
                        "expected an SVG file whose <use> elements do not refer to themselves, got a circular reference"
                    )
                if state[successor] == 0:
                    stack.append(successor)
        else:
            stack.pop()
            if state[element] == 1:
                size[element] = min(MAX_SVG_ELEMENTS + 1, 1 + sum(size[s] for s in successors(element)))
                state[element] = 2
    if size and size[0] > MAX_SVG_ELEMENTS:
        return (
            f"expected an SVG file that draws at most {MAX_SVG_ELEMENTS:,} elements (counting each copy a <use> "
            f"element makes), got more: its <use> elements copy each other over and over"
        )
    return None
