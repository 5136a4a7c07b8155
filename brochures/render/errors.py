"""What can go wrong rendering a template: a clinic's template at fault, or the project's."""

from __future__ import annotations

from pathlib import Path

from brochures.problems import display_path, printable


class RenderError(Exception):
    """A template could not be rendered: a bug in one of the project's own templates (see ClinicTemplateError)."""


class ClinicTemplateError(RenderError):
    """A template in the clinic's own templates/ folder failed or was refused: the clinic's input is invalid.

    `template` is that file (a Path inside the clinic folder), `line` its line (or None when the whole
    file was refused), and `message` what is wrong, in plain words.
    """

    def __init__(self, template: Path, line: int | None, message: str):
        self.template, self.line, self.message = Path(template), line, message
        where = display_path(self.template) + (f":{line}" if line else "")
        super().__init__(printable(f"template error in the clinic's own template {where}: {message}"))

    # Keeps its fields when sent between processes.
    def __reduce__(self):
        return type(self), (self.template, self.line, self.message)
