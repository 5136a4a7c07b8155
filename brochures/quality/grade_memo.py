"""Remembers reading grades between builds, so an unchanged text is not measured again.

Measuring a grade means loading the CMU pronouncing dictionary (about 1.7 s) to count syllables. The grade
of a text depends only on the text and on textstat's version, so it is remembered by a hash of both, in the
user's cache folder (`$BROCHURES_CACHE_DIR`, else `$XDG_CACHE_HOME/mesotherapy-brochures`, else
`~/.cache/mesotherapy-brochures`). The file holds grades and hashes only, never text. A cache that cannot be
read or written is ignored: the grade is measured as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import version
from pathlib import Path

from brochures.files.output_folder import WriteError, write_atomically
from brochures.files.safe_read import read_regular_file

MEMO_FILE = "reading-grades.json"


# About 1.5 MB; the oldest are dropped first.
MAX_ENTRIES = 20_000


MAX_BYTES = 4 * 1024 * 1024


def cache_folder() -> Path:
    if folder := os.environ.get("BROCHURES_CACHE_DIR"):
        return Path(folder)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mesotherapy-brochures"


class GradeMemo:
    """Grades by text hash: looked up before measuring, saved once the build's content checks are done."""

    def __init__(self, folder: Path | None = None):
        self.path = (folder or cache_folder()) / MEMO_FILE
        self.salt = f"textstat {version('textstat')}\n"
        self.grades: dict[str, float] = {}
        self.changed = False
        try:
            saved = json.loads(read_regular_file(self.path, MAX_BYTES))
            if isinstance(saved, dict):
                self.grades = {
                    k: float(v) for k, v in saved.items() if isinstance(k, str) and isinstance(v, (int, float))
                }
        except (OSError, ValueError):
            pass

    def key(self, text: str) -> str:
        return hashlib.sha256((self.salt + text).encode()).hexdigest()[:32]

    def get(self, text: str, measure) -> float:
        key = self.key(text)
        if key not in self.grades:
            self.grades[key] = measure(text)
            self.changed = True
        return self.grades[key]

    def save(self) -> None:
        if not self.changed:
            return
        kept = dict(list(self.grades.items())[-MAX_ENTRIES:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps(kept, separators=(",", ":")).encode())
            self.changed = False
        except (OSError, WriteError):
            # A read-only home or a full disk costs time next build, nothing more.
            pass
