"""The pipeline's tasks: check a clinic's logo, render a document's HTML, print it; each within its budget."""

from __future__ import annotations

import sys
import traceback
import zlib
from dataclasses import dataclass, replace

from brochures.files.output_folder import WriteError
from brochures.load.loaded import Content
from brochures.pdf.checks import PrintError
from brochures.pdf.printer import Printed, Printer
from brochures.plan.documents import BOOKLET, Document, booklet_parts
from brochures.problems import Problem
from brochures.render.errors import ClinicTemplateError, RenderError
from brochures.render.html import HtmlRenderer

# Check a clinic's logo draws; render a document's HTML; print it.
LOGO, RENDER, PRINT = "logo", "render", "print"


@dataclass(frozen=True)
class Budget:
    """What one document may use. The defaults are far above what a brochure needs (under 1 s, about 100 MB)."""

    seconds: float = 60.0
    # On top of what a worker uses when the document starts.
    memory_mb: int = 1024


@dataclass(frozen=True)
class PackedHtml:
    """A document's HTML on its way from the worker that rendered it, through the build, to the one that prints it:
    compressed, in about a fifth of the memory it takes as text. The build holds every document's HTML between the two
    phases, and each worker forked meanwhile starts with a copy of all the build holds."""

    data: bytes

    @classmethod
    def of(cls, text: str) -> PackedHtml:
        return cls(zlib.compress(text.encode("utf-8"), 1))

    def text(self) -> str:
        return zlib.decompress(self.data).decode("utf-8")


@dataclass(frozen=True)
class Task:
    # LOGO, RENDER or PRINT.
    kind: str
    document: Document
    # For PRINT (packed on its way from the render phase; the worker unpacks it).
    html: str | PackedHtml = ""
    # For PRINT: the build cache's record of the PDF on disk.
    saved: dict | None = None
    # For PRINT of a booklet: the leaflets it binds, with their HTML.
    parts: tuple[tuple[Document, str | PackedHtml], ...] = ()
    # Tasks of one group go to one worker where they can: a clinic's booklet binds its leaflets.
    group: str = ""
    # For PRINT of a leaflet whose booklet another worker may be binding meanwhile: what was measured on its pages
    # is shared with it (pdf/shared.py).
    share: bool = False


@dataclass
class Outcome:
    """What happened to one task: HTML rendered, a PDF printed (or unchanged), or failed with a reason."""

    document: Document
    # Packed by the worker that rendered it (`packed`), for the build to hand on to the one that prints it.
    html: str | PackedHtml | None = None
    # The HTML of a booklet's parts (planning.booklet_parts), rendered with it.
    parts: tuple[str | PackedHtml, ...] = ()
    printed: Printed | None = None
    error: str | None = None
    # The clinic's own input (its template) is at fault: the clinic is invalid.
    problem: Problem | None = None
    # The disk is full or read-only: every other document would fail too.
    machine_fault: bool = False
    # The worker's process id, its resident and its own memory (MB) after the task.
    worker: tuple[int, float, float] = (0, 0.0, 0.0)
    # The kind of task it is the outcome of.
    task: str = ""


def print_tasks(rendered: list[Outcome], content: Content, saved=lambda output: None, jobs: int = 1) -> list[Task]:
    """The print phase's tasks, from the render phase's outcomes (`saved`: the build cache's record of an output).
    One group per clinic and language, its booklet last: a worker keeps to one clinic, so the booklet binds the
    leaflets that worker has just laid out and checked instead of laying them out again.

    With fewer groups (clinics, each language counted as one) than workers (`jobs`), a clinic's leaflets are shared
    out between workers anyway, and a booklet would wait for them and then lay out the others' again: there, the
    booklets go first, each laying out its own parts while other workers print the leaflets, the other way round
    from the order it binds them in. So each worker meets a leaflet late that the other met early, and finds what
    the other learned (pdf/shared.py): which layout a long leaflet keeps, and the facts of pages already checked."""
    def parts(outcome: Outcome) -> tuple[tuple[Document, str], ...]:
        if not outcome.parts:
            return ()
        return tuple(zip(booklet_parts(outcome.document, content), outcome.parts, strict=True))
    tasks = [Task(PRINT, o.document, o.html, saved(o.document.output), parts(o), o.document.clinic.key)
             for o in rendered if o.html is not None]
    if len({task.group for task in tasks}) < jobs:
        return [task for task in tasks if task.document.kind == BOOKLET] + [
            replace(task, share=True) for task in reversed(tasks) if task.document.kind != BOOKLET]
    return sorted(tasks, key=lambda task: task.document.kind == BOOKLET)


def packed(outcome: Outcome) -> Outcome:
    """A render outcome with its HTML packed, to send to the build."""
    if outcome.html is None:
        return outcome
    parts = tuple(PackedHtml.of(part) for part in outcome.parts)
    return replace(outcome, html=PackedHtml.of(outcome.html), parts=parts)


def unpacked(task: Task) -> Task:
    """A task with its HTML as text again, as `do_task` takes it."""
    if not isinstance(task.html, PackedHtml):
        return task
    parts = tuple((part, html.text() if isinstance(html, PackedHtml) else html) for part, html in task.parts)
    return replace(task, html=task.html.text(), parts=parts)


def do_task(renderer: HtmlRenderer, printer: Printer, task: Task) -> Outcome:
    """Do one task in a worker: render a document's HTML, or print it."""
    document = task.document
    try:
        if task.kind == LOGO:
            clinic = document.clinic
            try:
                printer.check_logo(clinic)
            except PrintError as error:
                return Outcome(document, error=str(error),
                               problem=Problem(clinic.config_file, clinic.doc.line_of(("logo",)), "logo", str(error)))
            return Outcome(document)
        if task.kind == RENDER:
            parts = booklet_parts(document, renderer.content) if document.kind == BOOKLET else []
            return Outcome(
                document, html=renderer.render(document), parts=tuple(renderer.render(part) for part in parts)
            )
        return Outcome(document, printed=printer.build(document, task.html, task.saved, task.parts, share=task.share))
    except RecursionError:
        return Outcome(document, error="its HTML is nested too deeply to lay out (check the clinic's own templates)")
    except ClinicTemplateError as error:
        return Outcome(
            document, error=str(error), problem=Problem(error.template, error.line, "templates", error.message)
        )
    except (RenderError, PrintError) as error:
        return Outcome(document, error=str(error))
    except WriteError as error:
        return Outcome(document, error=str(error), machine_fault=error.machine_fault)
    except MemoryError:
        return Outcome(document, error="it needed more memory than its budget allows")
    # A bug: report it with where it happened, and keep building the rest.
    except Exception as error:
        if _short_of_memory(error):
            return Outcome(document, error="it needed more memory than its budget allows")
        traceback.print_exc(file=sys.stderr)
        return Outcome(document, error=f"internal error (a bug, please report it): {error!r}")


def _short_of_memory(error: Exception) -> bool:
    """Whether an unexpected error is native code failing to allocate within this worker's memory cap.

    Under RLIMIT_AS, a C extension whose allocation fails does not always raise MemoryError: some return
    an error without setting one (SystemError "error return without exception set"), others raise their
    own error saying they could not allocate.
    """
    try:
        import resource

        capped = resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
    except (ImportError, OSError, ValueError):
        return False
    message = str(error).lower()
    return capped and (isinstance(error, SystemError) or "alloc" in message or "out of memory" in message)
