"""Remembers what each PDF was built from, so a document whose inputs have not changed is not printed again.

The record lives in the output folder (out/.build-cache.json). It is saved after every document, so a
build that is killed resumes where it stopped. It is also this generator's list of the files it wrote:
an output it no longer produces can be removed, and nothing else ever is.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from brochures.files.fingerprints import FORMAT, file_hash
from brochures.files.output_folder import write_atomically
from brochures.files.safe_read import read_regular_file

CACHE_FILE = ".build-cache.json"


MAX_RECORD_BYTES = 64 * 1024 * 1024


class BuildCache:
    """The record, kept by the build's main process: read at the start, saved after each document."""

    def __init__(self, out_dir: Path, force: bool = False):
        self.out_dir = out_dir
        self.path = out_dir / CACHE_FILE
        # Rebuild everything, but still record what was built.
        self.force = force
        self.entries: dict[str, dict] = {}
        # Output folder name → the clinic folder whose brochures it holds.
        self.owners: dict[str, str] = {}
        # A damaged record only costs a full rebuild.
        with contextlib.suppress(ValueError, OSError, AttributeError):
            saved = json.loads(read_regular_file(self.path, MAX_RECORD_BYTES).decode("utf-8"))
            if saved.get("format") == FORMAT and isinstance(saved.get("documents"), dict):
                self.entries = saved["documents"]
                self.owners = {str(k): str(v) for k, v in dict(saved.get("owners") or {}).items()}

    def name(self, output: Path) -> str:
        return output.relative_to(self.out_dir).as_posix()

    def saved(self, output: Path) -> dict | None:
        """What was recorded for `output`, unless --force asks for everything to be printed again."""
        return None if self.force else self.entries.get(self.name(output))

    def record(self, output: Path, saved: dict) -> None:
        self.entries[self.name(output)] = saved
        self.save()

    def remove_unlisted(self, folder: Path, keep: set[Path]) -> list[tuple[Path, bool]]:
        """Delete the outputs recorded in `folder` that are not in `keep`, if they are still as this generator
        wrote them; forget them either way. Returns each such path, and whether it was changed (so kept)."""
        found, forgotten = [], 0
        for name, saved in list(self.entries.items()):
            path = self.out_dir / name
            if path.parent != folder or path in keep:
                continue
            del self.entries[name]
            forgotten += 1
            if not path.is_file():
                continue
            changed = file_hash(path) != saved.get("pdf")
            if not changed:
                path.unlink()
            found.append((path, changed))
        if forgotten:
            self.save()
        return found

    def claim(self, folder_name: str, clinic_folder: Path) -> str | None:
        """Record that out/<folder_name>/ holds `clinic_folder`'s brochures. If it already holds another
        clinic folder's, return that folder instead, and record nothing: one clinic must never overwrite,
        or remove, another's brochures."""
        owner = self.owners.get(folder_name)
        if owner is not None and owner != str(clinic_folder):
            if (self.out_dir / folder_name).is_dir() and Path(owner).is_dir():
                return owner
            # Its brochures, or the clinic itself, are gone: the folder is free again.
            owner = None
            self.entries = {
                name: saved for name, saved in self.entries.items() if not name.startswith(f"{folder_name}/")
            }
        if owner is None:
            self.owners[folder_name] = str(clinic_folder)
            self.save()
        return None

    def save(self) -> None:
        # Compact, without indentation: json's C encoder then writes it (it is saved after every document, and
        # holds every document's record: indented, the pure Python encoder took about 2 s of a 200-document build).
        data = json.dumps(
            {"format": FORMAT, "documents": self.entries, "owners": self.owners}, sort_keys=True, separators=(",", ":")
        )
        write_atomically(self.path, data.encode("utf-8"))
