"""The booking QR code on the rendered page: decoded with a real decoder, its size and quiet zone measured."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pikepdf
import zxingcpp

from brochures.pdf.accessibility import page_numbers, tagged
from brochures.pdf.facts import MM
from brochures.pdf.objects import box, identity, is_array, is_dictionary, text

# Smallest printed QR code a phone reliably focuses on.
QR_MINIMUM_MM = 20.0


# Smallest printed module (one black square) a phone camera resolves at reading distance.
QR_MODULE_MM = 0.4


# The light margin a QR code needs around it (ISO/IEC 18004)
QR_QUIET_MODULES = 4


def _code_pages(reader: pikepdf.Pdf, url: str | None) -> dict[int, list] | None:
    """The pages whose figures are described by the booking address (the QR code's alternative text), each with
    where those figures lie (`_placed`), so only they are searched for the code; None (every page, all of it) when
    no figure says so."""
    if not url:
        return {}
    pages = page_numbers(reader)
    found: dict[int, list] = {}
    for figure in tagged(reader, "/Figure"):
        number = pages.get(identity(figure["/Pg"])) if "/Pg" in figure else None
        if number is not None and url in text(figure.get("/Alt")):
            found.setdefault(number, []).append(_placed(reader.pages[number - 1], figure))
    return found or None


def _placed(page, figure) -> tuple[float, float, float, float] | None:
    """Where a figure lies on its page, in PDF points (left, bottom, right, top), or None when its structure element
    gives no box. WeasyPrint records the box in CSS pixels from the trimmed page's top left corner."""
    attributes = figure.get("/A")
    bounds = attributes.get("/BBox") if is_dictionary(attributes) else None
    if not is_array(bounds) or len(bounds) != 4:
        return None
    left, _, _, top = box(page, "/TrimBox")
    x0, y0, x1, y1 = (float(v) * 72 / 96 for v in bounds)
    return left + x0, top - y1, left + x1, top - y0


def _qr_codes(image, pixels, scale: float, url: str | None) -> list[tuple[str, str | None]]:
    """Each QR code on a rendered page (`image`, and its `pixels`: rows × columns × RGB, read by the decoder where
    they lie), with what is wrong with it (or None): what it gives, its printed size, its module size and its quiet
    zone."""
    found = []
    for code in zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False):
        corners = code.position
        xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
        ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y, corners.bottom_right.y]
        size_mm = (max(xs) - min(xs)) / scale / MM
        modules = _qr_modules(code)
        problem = None
        if url is not None and code.text != url:
            problem = f"the QR code gives {code.text!r}, not the booking address {url!r}"
        elif size_mm < QR_MINIMUM_MM - 0.5:
            problem = f"the QR code is {size_mm:.0f} mm wide, below the {QR_MINIMUM_MM:g} mm a phone needs"
        elif modules and size_mm / modules < QR_MODULE_MM:
            problem = (f"the QR code's {modules} modules are {size_mm / modules:.2f} mm each, below "
                       f"{QR_MODULE_MM} mm: print it at least {modules * QR_MODULE_MM:.0f} mm wide")
        elif not _quiet(
            image, min(xs), min(ys), max(xs), max(ys), (max(xs) - min(xs)) / (modules or 21) * QR_QUIET_MODULES
        ):
            problem = "something is printed in the QR code's quiet zone (the light margin it needs)"
        found.append((code.text, problem))
    return found


def _qr_modules(code) -> int:
    """Modules per side, from the QR version zxing reports (21 for version 1, 4 more per version)."""
    # Zxing-cpp 2.3 and later.
    extra = getattr(code, "extra", None)
    version = str(extra.get("Version", "")) if isinstance(extra, dict) else ""
    return 17 + 4 * int(version) if version.isdigit() else 0


def _quiet(image, x0: float, y0: float, x1: float, y1: float, margin: float) -> bool:
    """True when the band `margin` pixels wide around the symbol is one light colour."""
    outer = (
        max(0, round(x0 - margin)), max(0, round(y0 - margin)), min(image.width, round(x1 + margin)),
        min(image.height, round(y1 + margin))
    )
    # Zxing's corners lie on the symbol's outer edge: keep clear of anti-aliasing.
    inner_margin = 2
    bands = [
        (outer[0], outer[1], outer[2], round(y0) - inner_margin),
        (outer[0], round(y1) + inner_margin, outer[2], outer[3]),
        (outer[0], outer[1], round(x0) - inner_margin, outer[3]),
        (round(x1) + inner_margin, outer[1], outer[2], outer[3]),
    ]
    for band in bands:
        if band[2] <= band[0] or band[3] <= band[1]:
            continue
        darkest = min(image.crop(band).convert("L").getextrema()[0], 255)
        if darkest < 128:
            return False
    return True


def stray_codes(picture, expected) -> list[str]:
    """What each QR code a rendered page shows (`picture`: page_text.Picture) gives that is neither the booking
    address nor another the clinic names (`expected.other_codes`): a code in a clinic's logo or picture that a
    patient's phone would follow elsewhere. Read from the rendering the other checks read, at 75 dpi, where a code
    the size the booking code must have (20 mm) is read; a smaller one (under about 15 mm) is not found. Its pixels
    are split into dark and light at half way (a third of the time of a local threshold): a code must be darker
    than mid-grey on a lighter ground to be found."""
    pixels = memoryview(picture.pixels).cast("B", (picture.height, picture.width, 3))
    ours = [address for address in (expected.booking_url, *expected.other_codes) if address]
    return [code.text for code in zxingcpp.read_barcodes(
        pixels, formats=zxingcpp.BarcodeFormat.QRCode, try_rotate=False, try_downscale=False,
        binarizer=zxingcpp.Binarizer.FixedThreshold,
    ) if not any(_same_place(code.text, address) for address in ours)]


def _same_place(code: str, address: str) -> bool:
    """Whether a code's text leads where one of the clinic's own addresses does: the same web site (its host, with
    or without "www.", any page of it), the same phone number (tel:, national or international: 020 7946 0000 is
    tel:+442079460000) or the same email address (mailto:)."""
    code, address = code.strip(), address.strip()
    if code == address:
        return True
    scheme, _, rest = code.partition(":")
    theirs, _, ours = address.partition(":")
    scheme, theirs = scheme.lower(), theirs.lower()
    if scheme == "tel" and theirs == "tel":
        digits = [re.sub(r"\D", "", number).lstrip("0") for number in (rest, ours)]
        return min(map(len, digits)) >= 6 and (digits[0].endswith(digits[1]) or digits[1].endswith(digits[0]))
    if scheme == "mailto" and theirs == "mailto":
        return rest.split("?")[0].strip().casefold() == ours.strip().casefold()
    if scheme in ("http", "https") and theirs in ("http", "https"):
        hosts = [(urlsplit(url).hostname or "").removeprefix("www.") for url in (code, address)]
        return bool(hosts[0]) and hosts[0] == hosts[1]
    return False
