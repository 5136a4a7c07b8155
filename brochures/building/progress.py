"""What a build shows while it runs: on a terminal, one live line (documents done of all, failures so far,
time left) in place of a line per document; in a pipe or a CI log, nothing here (the plain lines stay)."""

from __future__ import annotations

import contextlib
import os
import sys

from brochures.building.stamp import Tee


class ProgressLine:
    """One line, redrawn in place by rich at the bottom of the terminal; anything printed meanwhile goes above it."""

    live = True

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.failures = 0
        self.progress = Progress(
            TextColumn("Building"), BarColumn(), MofNCompleteColumn(), TextColumn("documents"),
            TextColumn("[red]{task.fields[failures]}[/red]"), TextColumn("time left"), TimeRemainingColumn(),
            # The line itself is drawn on the terminal only: it is never part of a report kept for replay.
            console=Console(file=sys.stdout.stream if isinstance(sys.stdout, Tee) else sys.stdout),
            transient=True, redirect_stdout=True, redirect_stderr=True)
        self.task = self.progress.add_task("build", total=total, failures="")

    def __enter__(self) -> ProgressLine:
        out, err = sys.stdout, sys.stderr
        # Rich puts its own streams in place, printing above the line.
        self.progress.start()
        # What is printed above the line is kept with the report, as it would be without the line.
        sys.stdout = out.sharing(sys.stdout) if isinstance(out, Tee) else sys.stdout
        sys.stderr = err.sharing(sys.stderr) if isinstance(err, Tee) else sys.stderr
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def advance(self, failed: bool) -> None:
        self.failures += failed
        self.progress.update(self.task, advance=1, refresh=True,
                             failures=f"{self.failures} failed" if self.failures else "")


class NoProgressLine:
    live = False

    def advance(self, failed: bool) -> None:
        pass


def progress_line(total: int, quiet: bool):
    """A live line on a terminal (not with --quiet, nor with TERM=dumb); a stand-in that shows nothing elsewhere."""
    if quiet or not sys.stdout.isatty() or os.environ.get("TERM") == "dumb":
        return contextlib.nullcontext(NoProgressLine())
    return ProgressLine(total)


@contextlib.contextmanager
def only_failures_and_summary(quiet: bool):
    """--quiet: standard output goes nowhere (failures and invalid input go to standard error, still shown).

    Yields the stream the final summary line is printed to, the standard output as it was."""
    stream = sys.stdout
    if not quiet:
        yield stream
        return
    with open(os.devnull, "w", encoding="utf-8") as nowhere, contextlib.redirect_stdout(nowhere):
        yield stream
