"""The only way WeasyPrint may read anything: allowed folders, named font files and data: URLs."""

from __future__ import annotations

import io
import mimetypes
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image
from weasyprint.urls import URLFetcher, URLFetcherResponse

MAX_RESOURCE_BYTES = 20 * 1024 * 1024
# A logo printed 70 mm wide needs about 830 px at 300 dpi: these caps leave a wide margin,
# and stop an 11000×11000 image from taking hundreds of MB to decode.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_SIDE = 6000
MAX_IMAGE_PIXELS = 24_000_000
MAX_SVG_BYTES = 1024 * 1024
RASTER_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


def image_problem(data: bytes, svg: bool = False) -> str | None:
    """Why an image must not be printed (too large, a decompression bomb, unreadable, unsafe SVG), or None."""
    if svg or data.lstrip().startswith(b"<"):
        if len(data) > MAX_SVG_BYTES:
            return f"expected an SVG file of at most {MAX_SVG_BYTES // 1024} KB, got {len(data) // 1024} KB"
        if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
            return "expected a plain SVG file, got one with a DOCTYPE or ENTITY declaration (not supported, for safety)"
        return None
    if not (data.startswith(RASTER_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
        return None
    if len(data) > MAX_IMAGE_BYTES:
        return f"expected an image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB, got {len(data) / (1024 * 1024):.1f} MB"
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 megapixels and refuses from 179; our own caps are lower and say the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only: no pixels are decoded
                width, height = image.size
                if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
                    return (f"expected an image of at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} pixels "
                            f"({MAX_IMAGE_PIXELS // 1_000_000} megapixels), got {width}×{height}")
                image.verify()  # checks the file's structure and checksums
    except Image.DecompressionBombError:
        return "expected an image of a sensible size, got a decompression bomb"
    except Exception as error:  # Pillow raises many kinds of error for a damaged file
        return f"expected a readable image, got a damaged or unsupported file ({type(error).__name__})"
    return None


class ForbiddenResource(ValueError):
    """A document asked for something outside what it may read."""


class RestrictedFetcher(URLFetcher):
    """Serves `file:` URLs inside `folders` or exactly in `files`, and `data:` URLs. Nothing else.

    Paths are resolved (symlinks followed) before they are checked, so a link
    that points out of an allowed folder is refused. No network scheme is served.
    """

    def __init__(self, folders: list[Path], files: frozenset[Path] = frozenset()):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.folders = tuple(Path(folder).resolve() for folder in folders)
        self.files = frozenset(Path(file).resolve() for file in files)

    def allows(self, path: Path) -> bool:
        resolved = Path(path).resolve()
        return resolved in self.files or any(resolved.is_relative_to(folder) for folder in self.folders)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            response = super().fetch(url, headers)
            data = response.read(MAX_RESOURCE_BYTES + 1)
            self._check(url[:40] + "…", data, response.content_type == "image/svg+xml")
            return URLFetcherResponse(url, data, headers={"Content-Type": response.content_type})
        if scheme != "file":
            raise ForbiddenResource(f"refused to fetch {url!r}: only files inside the clinic folder, styles/ and templates/ may be read")
        path = Path(unquote(urlsplit(url).path))
        if not self.allows(path):
            raise ForbiddenResource(f"refused to read {path}: it is outside the clinic folder, styles/ and templates/")
        resolved = path.resolve()
        if not resolved.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        if resolved.stat().st_size > MAX_RESOURCE_BYTES:
            raise ForbiddenResource(f"refused to read {path.name}: larger than {MAX_RESOURCE_BYTES // (1024 * 1024)} MB")
        data = resolved.read_bytes()
        self._check(path.name, data, resolved.suffix.lower() == ".svg")
        mime_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), data, headers={"Content-Type": mime_type})

    @staticmethod
    def _check(name: str, data: bytes, svg: bool) -> None:
        if len(data) > MAX_RESOURCE_BYTES:
            raise ForbiddenResource(f"refused {name}: larger than {MAX_RESOURCE_BYTES // (1024 * 1024)} MB")
        if problem := image_problem(data, svg):
            raise ForbiddenResource(f"refused the image {name}: {problem}")
