"""Problems found in a user's input, reported as `file:line field: expected …, got …`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field of one input file."""

    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = display_path(self.file)
        if self.line:
            where += f":{self.line}"
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class InputError(Exception):
    """The input is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def describe(value: object) -> str:
    """How a found value is quoted back to the user: short, and unambiguous about type."""
    if value is None:
        return "nothing"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + '…"'


def display_path(path: Path) -> str:
    """A path relative to the working directory when it is below it, else as given."""
    if not Path(path).is_absolute():
        return str(path)
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
