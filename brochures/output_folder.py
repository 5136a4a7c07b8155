"""The output folder: one build at a time, atomic writes, and cleaning up only what this generator made."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

from .problems import display_path

LOCK_FILE = ".build.lock"
# Every temporary name this generator makes starts with this prefix and carries the writer's process id,
# so cleanup can never delete a file someone else put there, nor one a live build is still writing.
TEMP_PREFIX = ".brochures-partial-"
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[A-Za-z0-9_]+\.tmp")
RUN_TEMP_PREFIX = "brochures-run-"  # the per-run folder in $TMPDIR that WeasyPrint's own temporary files go to
_RUN_TEMP_NAME = re.compile(re.escape(RUN_TEMP_PREFIX) + r"(\d+)-[A-Za-z0-9_]+")
# Faults of the machine rather than of one document: going on would only fail every other document too.
MACHINE_FAULTS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                  errno.EROFS: "the folder is on a read-only disk"}


class OutputFolderError(Exception):
    """The output folder cannot be used: it is a file, cannot be written, or another build holds it."""


class WriteError(OSError):
    """A file could not be written; the message says what, where, and what to do."""

    def __init__(self, path: Path, error: OSError):
        reason = MACHINE_FAULTS.get(error.errno) or error.strerror or str(error)
        advice = ("free some space and run again" if error.errno in (errno.ENOSPC, errno.EDQUOT)
                  else "check the folder's permissions, or choose another --out")
        super().__init__(error.errno, f"could not write {display_path(path)}: {reason}; {advice}")
        self.machine_fault = error.errno in MACHINE_FAULTS

    def __str__(self) -> str:
        return self.strerror


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new one, never half."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException as error:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        if isinstance(error, OSError) and not isinstance(error, WriteError):
            raise WriteError(path, error) from error
        raise


def remove_stale_temporaries(folders: list[Path]) -> list[Path]:
    """Delete this generator's temporary files left by runs that were killed; a live run's files are left alone.

    Only files named with TEMP_PREFIX, and only directly in `folders` (the folders this run writes to).
    """
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for candidate in folder.iterdir():
            match = _TEMP_NAME.fullmatch(candidate.name)
            if not match or (int(match[1]) != os.getpid() and alive(int(match[1]))):
                continue
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def run_temp_folder() -> Path:
    """A private folder in $TMPDIR for this run's temporary files (WeasyPrint's fonts); old runs' are removed."""
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for candidate in base.glob(RUN_TEMP_PREFIX + "*"):
            match = _RUN_TEMP_NAME.fullmatch(candidate.name)
            if match and not alive(int(match[1])):
                shutil.rmtree(candidate, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{RUN_TEMP_PREFIX}{os.getpid()}-"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare(out_dir: Path) -> None:
    """Make sure `out_dir` is a folder this build can write to, or say clearly why not."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"--out {display_path(out_dir)}: expected a folder for the brochures, got a file; "
                                "choose another --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(f"--out {display_path(out_dir)}: could not create the folder "
                                f"({MACHINE_FAULTS.get(error.errno) or error.strerror}); choose another --out") from None


class BuildLock:
    """Only one build writes to an output folder at a time; a second one is told who holds it.

    The lock is an advisory lock on out/.build.lock, held for the whole build: the operating system
    releases it when the process ends, however it ends, so a killed build never leaves it stuck.
    """

    def __init__(self, out_dir: Path):
        self.path = out_dir / LOCK_FILE
        self._file = None

    def __enter__(self) -> BuildLock:
        import fcntl

        try:
            file = open(self.path, "a+", encoding="utf-8")
        except OSError as error:
            raise OutputFolderError(f"--out {display_path(self.path.parent)}: cannot write there "
                                    f"({MACHINE_FAULTS.get(error.errno) or error.strerror}); "
                                    "check its permissions, or choose another --out") from None
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.seek(0)
            holder = file.read().strip() or "unknown"
            file.close()
            raise OutputFolderError(f"another build is writing to {display_path(self.path.parent)}/ (pid {holder}); "
                                    "wait for it to finish, or choose another --out") from None
        try:
            file.seek(0)
            file.truncate()
            file.write(str(os.getpid()))
            file.flush()
        except OSError as error:
            file.close()
            raise OutputFolderError(f"--out {display_path(self.path.parent)}: cannot write there "
                                    f"({MACHINE_FAULTS.get(error.errno) or error.strerror}); "
                                    "check its permissions, or choose another --out") from None
        self._file = file
        return self

    def __exit__(self, *exc) -> None:
        if self._file:
            self._file.close()  # closing releases the lock
            self._file = None
