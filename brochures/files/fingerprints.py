"""What a document was made from, by content: the hashes that tell whether anything it depends on has changed."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

from brochures import PROJECT_ROOT
from brochures.files.safe_read import read_regular_file

# The build record's format, part of every input key (4: which clinic folder each output folder belongs to).
FORMAT = 4


# No input a document may read is larger (images and fonts are capped lower).
MAX_HASHED_BYTES = 64 * 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_CODE_VERSION: str | None = None


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def code_version() -> str:
    """The libraries that print, and this generator's own source: a change to either rebuilds everything."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        source = b"".join(path.read_bytes() for path in sorted((PROJECT_ROOT / "brochures").rglob("*.py")))
        libraries = " ".join(
            f"{name} {version(name)}" for name in ("weasyprint", "pydyf", "pypdf", "fonttools", "pypdfium2")
        )
        _CODE_VERSION = f"{libraries} code {sha256(source)}"
    return _CODE_VERSION


def file_hash(path: Path) -> str | None:
    """The hash of a regular file's bytes, remembered while its size and time stay the same; None if it is
    gone, is not a regular file (a FIFO would block), or is larger than any input may be."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    memo = (str(path), stat.st_mtime_ns, stat.st_size)
    if memo not in _FILE_HASHES:
        try:
            data = read_regular_file(Path(path), MAX_HASHED_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_HASHED_BYTES:
            return None
        _FILE_HASHES[memo] = sha256(data)
    return _FILE_HASHES[memo]


def input_key(html: str, stylesheets: list[str], files: list[Path], options: dict) -> str:
    """Everything known before printing that decides a PDF's bytes: HTML, CSS, named files, options, code."""
    digest = hashlib.sha256()
    parts = [
        f"format {FORMAT}",
        code_version(),
        json.dumps(options, sort_keys=True),
        html,
        *stylesheets,
        *(f"{path}:{file_hash(path)}" for path in sorted(files)),
    ]
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def entry(key: str, pdf: bytes, pages: int, inspection: dict, read: list[Path], warnings: list[str]) -> dict:
    """What is recorded for one PDF: its input key, every file it read while printing, and what was found."""
    return {
        "key": key,
        "pdf": sha256(pdf),
        "pages": pages,
        "inspection": inspection,
        "warnings": warnings,
        "read": {str(path): file_hash(path) for path in read},
    }


def is_fresh(saved: dict | None, output: Path, key: str) -> bool:
    """True if `output` was built from exactly `key`, every file it read is unchanged, and it is on disk as written."""
    if not saved or saved.get("key") != key or "inspection" not in saved or not isinstance(saved.get("read"), dict):
        return False
    if any(file_hash(Path(path)) != digest for path, digest in saved["read"].items()):
        return False
    try:
        return sha256(output.read_bytes()) == saved.get("pdf")
    except OSError:
        return False
