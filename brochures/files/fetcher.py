"""The only way WeasyPrint may read anything: allowed folders, named font files and data: URLs.

What an image is comes from its bytes, never from its name or declared type: a 12000×12000 PNG
named logo.svg gets the PNG checks, and is served as image/png.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from brochures.files.images import check_image
from brochures.files.safe_read import NotARegularFile, read_regular_file
from brochures.problems import display_path, printable

MAX_RESOURCE_BYTES = 20 * 1024 * 1024


class ForbiddenResource(ValueError):
    """A document asked for something outside what it may read. The message is safe to print (see printable)."""

    def __init__(self, message: str):
        super().__init__(printable(message))


class RestrictedFetcher(URLFetcher):
    """Serves `file:` URLs inside `folders` or exactly in `files`, and `data:` URLs. Nothing else.

    Paths are resolved (symlinks followed) before they are checked, so a link
    that points out of an allowed folder is refused. No network scheme is served.
    Only regular files are read: a named pipe or a device is refused without blocking.

    `served` records every local file actually served, resolved, in the order first served
    (an insertion-ordered set): what a document was built from.
    """

    def __init__(self, folders: list[Path], files: frozenset[Path] = frozenset()):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)
        self.folders = tuple(Path(folder).resolve() for folder in folders)
        self.files = frozenset(Path(file).resolve() for file in files)
        self.served: dict[Path, None] = {}

    def allows(self, path: Path) -> bool:
        resolved = Path(path).resolve()
        return resolved in self.files or any(resolved.is_relative_to(folder) for folder in self.folders)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            response = super().fetch(url, headers)
            data = response.read(MAX_RESOURCE_BYTES + 1)
            content_type = self._check(url[:40] + "…", data, response.content_type)
            return URLFetcherResponse(url, data, headers={"Content-Type": content_type})
        if scheme != "file":
            raise ForbiddenResource(
                f"refused to fetch {url!r}: only files inside the clinic folder, styles/ and templates/ may be read"
            )
        path = Path(unquote(urlsplit(url).path))
        if not self.allows(path):
            raise ForbiddenResource(
                f"refused to read {display_path(path)}: it is outside the clinic folder, styles/ and templates/"
            )
        resolved = path.resolve()
        try:
            data = read_regular_file(resolved, MAX_RESOURCE_BYTES + 1)
        except NotARegularFile as error:
            raise ForbiddenResource(f"refused to read {path.name}: expected a regular file, got {error.kind}") from None
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFoundError(f"no such file: {display_path(path)}") from None
        content_type = self._check(path.name, data, mimetypes.guess_type(resolved.name)[0])
        self.served[resolved] = None
        return URLFetcherResponse(resolved.as_uri(), data, headers={"Content-Type": content_type})

    @staticmethod
    def _check(name: str, data: bytes, declared: str | None) -> str:
        """The Content-Type to serve `data` with, from its bytes; or ForbiddenResource.

        An image is served as the type its bytes show. Anything else keeps the type its name or
        data: URL declares, except an image type: a text file named .png is refused.
        """
        if len(data) > MAX_RESOURCE_BYTES:
            raise ForbiddenResource(f"refused {name}: larger than {MAX_RESOURCE_BYTES // (1024 * 1024)} MB")
        check = check_image(data)
        if check.problem:
            raise ForbiddenResource(f"refused the image {name}: {check.problem}")
        if check.mime_type:
            return check.mime_type
        if declared and declared.lower().startswith("image/"):
            raise ForbiddenResource(f"refused the image {name}: expected an image, got {check.what}")
        return declared or "application/octet-stream"
