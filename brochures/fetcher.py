"""The only way WeasyPrint may read anything: allowed folders, named font files and data: URLs."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

MAX_RESOURCE_BYTES = 20 * 1024 * 1024


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
        self.fetched: list[str] = []  # what was served, for tests and diagnostics

    def allows(self, path: Path) -> bool:
        resolved = Path(path).resolve()
        return resolved in self.files or any(resolved.is_relative_to(folder) for folder in self.folders)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise ForbiddenResource(f"refused to fetch {url!r}: only files inside the clinic folder, styles/ and templates/ may be read")
        path = Path(unquote(urlsplit(url).path))
        if not self.allows(path):
            raise ForbiddenResource(f"refused to read {path}: it is outside the clinic folder, styles/ and templates/")
        resolved = path.resolve()
        if not resolved.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        if resolved.stat().st_size > MAX_RESOURCE_BYTES:
            raise ForbiddenResource(f"refused to read {path}: larger than {MAX_RESOURCE_BYTES // (1024 * 1024)} MB")
        self.fetched.append(url)
        mime_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), headers={"Content-Type": mime_type})
