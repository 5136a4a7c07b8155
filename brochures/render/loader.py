"""Templates loaded only from inside their folder, and only small regular files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from jinja2 import (
    BaseLoader,
    TemplateNotFound,
)
from jinja2.loaders import split_template_path

from brochures import TEMPLATES_DIR
from brochures.problems import display_path
from brochures.render.errors import ClinicTemplateError, RenderError

# A template file larger than this is refused.
MAX_TEMPLATE_BYTES = 256 * 1024


class ContainedLoader(BaseLoader):
    """Templates from the clinic's templates/ folder first, then the project's templates/.

    A file is served only if, with every link followed, it is inside its folder, is a regular file
    (never a FIFO, which would block, or a device), is at most MAX_TEMPLATE_BYTES and is UTF-8.
    Anything else found under the name is refused, not skipped.
    """

    def __init__(self, clinic_templates: Path | None):
        self.roots = ([(Path(clinic_templates), True)] if clinic_templates else []) + [(TEMPLATES_DIR, False)]

    def get_source(self, environment, template: str):
        # Refuses ".." in a name.
        pieces = split_template_path(template)
        for root, is_clinic in self.roots:
            path = root.joinpath(*pieces)
            if os.path.lexists(path):
                return self._read(path, root, is_clinic)
        raise TemplateNotFound(template)

    def _read(self, path: Path, root: Path, is_clinic: bool):
        def refuse(reason: str):
            if is_clinic:
                return ClinicTemplateError(path, None, f"refused to read this template: {reason}")
            return RenderError(f"refused to read the template {display_path(path)}: {reason}")

        folder = "the clinic's templates folder" if is_clinic else "the project's templates folder"
        resolved = path.resolve()
        if not resolved.is_relative_to(root.parent.resolve() / root.name):
            raise refuse(f"it is a link to a file outside {folder}")
        try:
            if not stat.S_ISREG(os.stat(resolved).st_mode):
                raise refuse("it is not a regular file")
            descriptor = os.open(
                resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
            )
        except FileNotFoundError:
            raise refuse("it is a link to a file that does not exist") from None
        except OSError as error:
            raise refuse(f"it cannot be read ({error.strerror})") from None
        with os.fdopen(descriptor, "rb") as file:
            status = os.fstat(file.fileno())
            # Swapped since it was checked.
            if not stat.S_ISREG(status.st_mode):
                raise refuse("it is not a regular file")
            data = file.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise refuse(f"it is larger than {MAX_TEMPLATE_BYTES // 1024} KB")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise refuse("it is not UTF-8 text") from None
        mtime = status.st_mtime_ns

        def uptodate() -> bool:
            try:
                return os.stat(path).st_mtime_ns == mtime
            except OSError:
                return False

        return source, str(path), uptodate
