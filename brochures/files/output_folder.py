"""The output folder: one build at a time, atomic writes, and cleaning up only what this generator made."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from brochures.problems import display_path

LOCK_FILE = ".build.lock"


# Every temporary name this generator makes starts with this prefix and carries the writer's process id,
# so cleanup can never delete a file someone else put there, nor one a live build is still writing.
TEMP_PREFIX = ".brochures-partial-"


_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[A-Za-z0-9_]+\.tmp")


# The per-run folder in $TMPDIR that WeasyPrint's own temporary files go to.
RUN_TEMP_PREFIX = "brochures-run-"


_RUN_TEMP_NAME = re.compile(re.escape(RUN_TEMP_PREFIX) + r"(\d+)-[A-Za-z0-9_]+")


# Faults of the machine rather than of one document: going on would only fail every other document too.
MACHINE_FAULTS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
                  errno.EROFS: "the folder is on a read-only disk"}


class OutputFolderError(Exception):
    """The output folder cannot be used: it is a file, cannot be written, or another build holds it."""


class WriteError(OSError):
    """A file could not be written; the message says what, where, and what to do."""

    def __init__(self, path: Path, error: OSError):
        reason = _reason(error)
        advice = ("free some space and run again" if error.errno in (errno.ENOSPC, errno.EDQUOT)
                  else "check the folder's permissions, or choose another --out")
        super().__init__(error.errno, f"could not write {display_path(path)}: {reason}; {advice}")
        self.machine_fault = error.errno in MACHINE_FAULTS

    def __str__(self) -> str:
        return self.strerror


def write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file beside `path`, then rename: readers see the old file or the new one, never half.

    `mode` 0o600 keeps a file holding personal data readable by its owner only, from its first byte."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
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


@contextlib.contextmanager
def run_temp_folder():
    """A private folder in $TMPDIR for this run's temporary files (WeasyPrint's fonts, --check's PDFs),
    removed when the run ends; those of earlier runs that were killed are removed first."""
    base = Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for candidate in base.glob(RUN_TEMP_PREFIX + "*"):
            match = _RUN_TEMP_NAME.fullmatch(candidate.name)
            if match and not alive(int(match[1])):
                shutil.rmtree(candidate, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{RUN_TEMP_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare(out_dir: Path, inputs: list[Path], outputs: list[Path]) -> None:
    """Make sure `out_dir` is a folder this build can write to, and that nothing it writes (`outputs`,
    the clinics' output folders) lands in a folder it reads (`inputs`: data, clinic folders); or say why not."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputFolderError(f"--out {display_path(out_dir)}: expected a folder for the brochures, got a file; "
                                "choose another --out")
    for output in outputs:
        if output.is_symlink():
            raise OutputFolderError(
                f"--out {display_path(out_dir)}: expected {display_path(output)}/ to be a folder this "
                "generator makes, got a link to somewhere else; remove the link, or choose another --out"
            )
    written = [Path(os.path.realpath(path)) for path in (out_dir, *outputs)]
    for read in {Path(os.path.realpath(path)) for path in inputs}:
        for path in written:
            if path == read or path.is_relative_to(read) or (path != written[0] and read.is_relative_to(path)):
                raise OutputFolderError(
                    f"--out {display_path(out_dir)}: expected a folder apart from the input, got one "
                    f"that would write into {display_path(read)}; choose another --out"
                )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(
            f"--out {display_path(out_dir)}: could not create the folder ({_reason(error)}); choose another --out"
        ) from None


def _reason(error: OSError) -> str:
    return MACHINE_FAULTS.get(error.errno) or error.strerror or str(error)


class BuildLock:
    """Only one build writes to an output folder at a time; a second one is told who holds it.

    The lock is an advisory lock on out/.build.lock, held for the whole build: the operating system
    releases it when the process ends, however it ends, so a killed build never leaves it stuck.
    The lock file is never followed if it is a link, and must be a regular file.
    """

    def __init__(
        self,
        out_dir: Path,
        busy: str = "another build is writing to {folder}/ (pid {pid}); wait for it to finish, or choose another --out",
        advice: str = "check the folder, or choose another --out",
    ):
        """`busy` is said when another process holds the lock, `advice` when the lock file cannot be used: a caller for
        whom another --out would be wrong (the pack: it would not know what was sent) says so in its own words."""
        self.path = out_dir / LOCK_FILE
        self.busy, self.advice = busy, advice
        self._descriptor: int | None = None

    def _refuse(self, why: str) -> OutputFolderError:
        return OutputFolderError(
            f"--out {display_path(self.path.parent)}: cannot use {display_path(self.path)} ({why}); {self.advice}"
        )

    def __enter__(self) -> BuildLock:
        import fcntl

        try:
            descriptor = os.open(
                self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o644
            )
        except OSError as error:
            raise self._refuse("it is a link" if error.errno == errno.ELOOP else _reason(error)) from None
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise self._refuse("it is not a regular file")
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.read(descriptor, 32).decode("ascii", "replace").strip() or "unknown"
                raise OutputFolderError(self.busy.format(folder=display_path(self.path.parent), pid=holder)) from None
            try:
                os.ftruncate(descriptor, 0)
                os.pwrite(descriptor, str(os.getpid()).encode(), 0)
            except OSError as error:
                raise self._refuse(_reason(error)) from None
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        return self

    def __exit__(self, *exc) -> None:
        if self._descriptor is not None:
            # Closing releases the lock.
            os.close(self._descriptor)
            self._descriptor = None
