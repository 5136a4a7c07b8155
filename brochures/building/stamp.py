"""An unchanged rebuild, answered without loading the libraries.

Loading WeasyPrint and the rest takes about a second, which is most of a rebuild in which nothing changed.
After a build in which every document was written or found unchanged, the stamp (out/.build-stamp.json) records
the command, the day, every file and folder the build depended on (data, clinic folders, templates, styles, the
generator's code, the clinics' fonts, the installed libraries' folders) and every file it wrote, each by
its size, time and inode, together with what the same command prints when it finds every document unchanged
(the pipeline writes it: `unchanged_report`) and its exit code. The same command run again, on the same day, with
every one of those files exactly as recorded, prints that report and exits with that code, without loading
anything else: the first rebuild after the build that wrote the files is instant. Anything different (a file
edited, added or removed, a PDF touched, another day, another option) and the build runs as usual.

Only the standard library is used here: this module is loaded before everything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
from datetime import date
from pathlib import Path

from brochures import PROJECT_ROOT

STAMP_FILE = ".build-stamp.json"


# Output_folder.LOCK_FILE: a build in progress holds it.
LOCK_FILE = ".build.lock"


MAX_STAMP_BYTES = 16 * 1024 * 1024


# Files larger than this are noted by their size, times and inode only (no input a document reads is as large).
MAX_HASHED_BYTES = 64 * 1024 * 1024


# The environment a build's output depends on (dates in metadata, the shard of auto/N, fonts, time zone).
ENVIRONMENT = (
    "SOURCE_DATE_EPOCH", "JOB_COMPLETION_INDEX", "TZ", "LANG", "LC_", "BROCHURES_", "FONTCONFIG", "PANGO", "XDG_"
)


# Options whose answer is not a report of the build: never replayed.
NOT_REPLAYED = {"--force", "--check", "--approval", "-h", "--help", "--version"}


SUMMARY_TIME = re.compile(r"^(Built .*? in )\d+(?:\.\d+)? s", re.M)


def output_folder(argv: list[str]) -> Path:
    """Where --out points, as argparse will read it (the last one given wins)."""
    out = PROJECT_ROOT / "out"
    for i, arg in enumerate(argv):
        if arg == "--out" and i + 1 < len(argv):
            out = Path(argv[i + 1])
        elif arg.startswith("--out="):
            out = Path(arg.partition("=")[2])
    return out


def replayable(argv: list[str]) -> bool:
    """A plain build command: not a subcommand, not an option that asks for something else."""
    return not (argv and not argv[0].startswith("-")) and not any(arg.split("=")[0] in NOT_REPLAYED for arg in argv)


def command_key(argv: list[str]) -> list:
    """What the report depends on besides the files: the command, where and when it runs, and whether it
    prints to a terminal (where a progress line replaces the line per document)."""
    return [
        list(argv),
        os.getcwd(),
        date.today().isoformat(),
        sys.executable,
        sys.version,
        sys.stdout.isatty(),
        os.environ.get("TERM") == "dumb",
        [[k, v] for k, v in sorted(os.environ.items()) if k.startswith(ENVIRONMENT)],
    ]


def state(path: str, content: bool = True) -> list | None:
    """A file or folder by kind, size, times and inode, and a regular file by the hash of its bytes too; a link by
    where it points; None if it is not there. A folder's time changes when anything is added to it, removed or
    renamed. The change time (ctime) also changes when a file's modification time is set back by hand, which no
    user can set; the hash catches a file put in place with the same size and times (a copy that keeps them)."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    found = [stat.S_IFMT(status.st_mode), status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]
    if stat.S_ISLNK(status.st_mode):
        with contextlib.suppress(OSError):
            found.append(os.readlink(path))
    elif content and stat.S_ISREG(status.st_mode) and status.st_size <= MAX_HASHED_BYTES:
        found.append(_content_hash(path))
    return found


def _content_hash(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        # A FIFO put in a file's place must not block the replay.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def code_paths() -> list[Path]:
    return [
        PROJECT_ROOT / "generate.py", PROJECT_ROOT / "brochures", PROJECT_ROOT / "templates", PROJECT_ROOT / "styles"
    ]


def snapshot(paths, shallow=()) -> dict[str, list | None]:
    """Each path, and everything under a folder, by content, whatever links lead to it: a link is noted with
    where it points, and what it points to is noted too, by its resolved path (a data folder reached through
    `current -> releases/2026-12-01`, a linked clinic folder, a linked file). A `shallow` folder is noted alone,
    without reading its files (the installed libraries)."""
    found: dict[str, list | None] = {}
    walked: set[str] = set()

    def note(path: str) -> None:
        if path in found:
            return
        found[path] = state(path)
        if found[path] is None:
            return
        if stat.S_ISLNK(found[path][0]):
            note(os.path.realpath(path))
        elif stat.S_ISDIR(found[path][0]) and path not in walked:
            walked.add(path)
            with contextlib.suppress(OSError):
                for name in sorted(os.listdir(path)):
                    if name != "__pycache__":
                        note(os.path.join(path, name))

    for path in paths:
        note(str(path))
    for path in shallow:
        found[str(path)] = state(str(path), content=False)
    return found


def replay(argv: list[str], elapsed) -> int | None:
    """Print the last build's report again and return its exit code, if nothing it depended on changed."""
    if not replayable(argv):
        return None
    out = output_folder(argv)
    try:
        lock = os.open(out / LOCK_FILE, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        import fcntl

        try:
            # No build is writing to this folder now.
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return None
        try:
            with open(out / STAMP_FILE, "rb") as file:
                stamp = json.loads(file.read(MAX_STAMP_BYTES))
            files = stamp["files"]
            # A file recorded with the hash of its bytes (a sixth field) is compared by content too.
            if stamp.get("key") != command_key(argv) or any(
                    state(path, content=len(was or ()) != 5) != was for path, was in files.items()):
                return None
            stdout, stderr, code = str(stamp["stdout"]), str(stamp["stderr"]), int(stamp["code"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
    finally:
        os.close(lock)
    sys.stdout.write(SUMMARY_TIME.sub(lambda match: f"{match.group(1)}{elapsed():.1f} s", stdout))
    sys.stderr.write(stderr)
    return code


def record(
    argv: list[str], before: dict, depends_on: list[Path], wrote: list[Path], stdout: str, stderr: str, code: int
) -> None:
    """Remember a build that ended with every document on disk as it was built, for `replay`, with `stdout` and
    `stderr` as the same command prints them when it runs again. A stamp that cannot be written is no loss.

    `before`: the inputs as they were when the build started (`snapshot`). A file saved while the build ran
    may not be in what it printed, so then nothing is remembered, and the next run builds."""
    if not replayable(argv) or any(state(path) != was for path, was in before.items()):
        return
    out = output_folder(argv)
    installed = [Path(p) for p in sys.path if p.endswith("-packages") and os.path.isdir(p)]
    files = snapshot([*code_paths(), *depends_on, *wrote], shallow=installed)
    stamp = {"key": command_key(argv), "files": files, "stdout": stdout, "stderr": stderr, "code": code}
    from brochures.files.output_folder import write_atomically

    with contextlib.suppress(OSError):
        write_atomically(out / STAMP_FILE, json.dumps(stamp).encode())


class Tee:
    """Standard output or error, also kept in memory: what the build printed, to be replayed."""

    def __init__(self, stream, kept: list[str] | None = None):
        self.stream, self.kept = stream, [] if kept is None else kept

    def sharing(self, stream) -> Tee:
        """Another stream whose text is kept with this one's (rich's, while a progress line is shown)."""
        return Tee(stream, self.kept)

    def write(self, text: str) -> int:
        self.kept.append(text)
        return self.stream.write(text)

    def text(self) -> str:
        return "".join(self.kept)

    def __getattr__(self, name):
        return getattr(self.stream, name)
