#!/usr/bin/env python3
"""Build patient brochures: the front door of the command line (the commands are in brochures/cli/).

    python generate.py                          every clinic in data/clinics/
    python generate.py --clinic example         one clinic (slug, folder or clinic.yaml)
    python generate.py --treatment facial       some treatments only ("comparison" for the sheet)
    python generate.py --help                   every option, and every subcommand with a line each

Exit codes (brochures/exits.py): 0 everything built; 1 some documents failed (the rest were built), or warnings
with --strict; 2 invalid input or usage; 3 the output folder could not be used; 130 interrupted; 143 stopped.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time

# Ctrl-C while the libraries load (about a second) ends quietly, like Ctrl-C later on.
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

# A rebuild in which nothing changed prints the last build's report again, without loading the libraries.
# The standard library only.
from brochures.building import stamp  # noqa: E402

if __name__ == "__main__":
    _STARTED = time.perf_counter()
    if (_replayed := stamp.replay(sys.argv[1:], lambda: time.perf_counter() - _STARTED)) is not None:
        sys.exit(_replayed)



def without_libraries(missing: ModuleNotFoundError) -> int:
    """A Python without the project installed (not .venv/bin/python): say what to run instead."""
    print(f"generate.py: this Python ({sys.executable}) does not have the libraries the generator needs "
          f"({missing.name} is missing). Install them with `sh scripts/setup.sh`, then run the same command with "
          "`.venv/bin/python` in place of `python`, like `.venv/bin/python generate.py`.", file=sys.stderr)
    return 2


try:
    # main: the testable front door.
    from brochures.cli.main import dispatch, main  # noqa: E402, F401
except ModuleNotFoundError as missing:
    if __name__ != "__main__":
        raise
    sys.exit(without_libraries(missing))

signal.signal(signal.SIGINT, signal.default_int_handler)


class QuietWhenClosed:
    """Standard output that stops writing, instead of failing, once its reader has gone (`generate.py | head`):
    the build itself goes on, and its files and reports are all written."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            # So that the final flush succeeds too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name):
        return getattr(self.stream, name)


def leave(code: int) -> None:
    """End the process once everything is written: the exit handlers run (temporary folders, logging) and the
    streams are flushed, then the interpreter's teardown is skipped. Freeing every object of the libraries a
    build loaded (WeasyPrint, fontTools, pdfium, qpdf), one by one, took about 0.3 s after the last line was
    printed, with nothing left to write. A thread still at work (none is, after any command) gets the usual exit,
    which waits for it."""
    if any(thread.is_alive() and not thread.daemon for thread in threading.enumerate()
           if thread is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.stdout = QuietWhenClosed(sys.stdout)
    # A build's report is kept, to be replayed (never serve's endless log).
    if stamp.replayable(sys.argv[1:]):
        sys.stdout, sys.stderr = stamp.Tee(sys.stdout), stamp.Tee(sys.stderr)
    try:
        exit_code, result = dispatch(sys.argv[1:])
    except ModuleNotFoundError as missing:
        # A library a subcommand loads when it runs; the generator's own modules are always there.
        if (missing.name or "").startswith("brochures"):
            raise
        sys.exit(without_libraries(missing))
    if result is not None and result.stamp and isinstance(sys.stdout, stamp.Tee):
        stamp.record(sys.argv[1:], result.stamp["before"], result.stamp["depends_on"], result.stamp["wrote"],
                     result.stamp.get("stdout", sys.stdout.text()), sys.stderr.text(), exit_code)
    leave(exit_code)
