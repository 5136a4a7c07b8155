"""Remembers what each PDF was built from, so a document whose inputs have not changed is not printed again."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

CACHE_FILE = ".build-cache.json"
FORMAT = 2  # 2: entries carry the inspection of the PDF


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code_version() -> str:
    """The libraries that print, and this generator's own source: a change to either rebuilds everything."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        source = b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))
        libraries = " ".join(f"{name} {version(name)}" for name in ("weasyprint", "pydyf", "pypdf", "fonttools"))
        _CODE_VERSION = f"{libraries} code {_sha256(source)}"
    return _CODE_VERSION


_CODE_VERSION: str | None = None


class BuildCache:
    """A record in the output folder of each PDF's input key and the hash of the file written.

    A document is fresh when its key is unchanged *and* the PDF on disk is still
    the one written then (not deleted, replaced or truncated).
    """

    def __init__(self, out_dir: Path, force: bool = False):
        self.path = out_dir / CACHE_FILE
        self.force = force  # rebuild everything, but still record what was built
        self._file_hashes: dict[Path, str] = {}
        self.entries: dict[str, dict] = {}
        if not force and self.path.is_file():
            try:
                saved = json.loads(self.path.read_text(encoding="utf-8"))
                if saved.get("format") == FORMAT and isinstance(saved.get("documents"), dict):
                    self.entries = saved["documents"]
            except (ValueError, OSError):
                self.entries = {}  # a damaged cache only costs a full rebuild

    def file_hash(self, path: Path) -> str:
        if path not in self._file_hashes:
            self._file_hashes[path] = _sha256(path.read_bytes())
        return self._file_hashes[path]

    def key(self, html: str, stylesheets: list[str], files: list[Path], options: dict) -> str:
        """Everything that decides a PDF's bytes: the HTML, the CSS, the files it reads, the options and library versions."""
        digest = hashlib.sha256()
        parts = [f"format {FORMAT}", _code_version(),
                 json.dumps(options, sort_keys=True), html, *stylesheets,
                 *(f"{path}:{self.file_hash(path)}" for path in sorted(files))]
        for part in parts:
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def fresh(self, output: Path, key: str) -> dict | None:
        """The saved entry if `output` was built from exactly `key` and is still on disk as written."""
        entry = self.entries.get(str(output))
        if self.force or not entry or entry.get("key") != key or "inspection" not in entry or not output.is_file():
            return None
        return entry if _sha256(output.read_bytes()) == entry.get("pdf") else None

    def record(self, output: Path, key: str, pdf: bytes, pages: int, inspection: dict) -> None:
        self.entries[str(output)] = {"key": key, "pdf": _sha256(pdf), "pages": pages, "inspection": inspection}

    def dump(self) -> bytes:
        return json.dumps({"format": FORMAT, "documents": self.entries}, indent=1, sort_keys=True).encode("utf-8")
