"""Reading a user's file safely: only a regular file, and never more than a limit."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def file_kind(mode: int) -> str:
    """What a file is, from its `st_mode`, in words: "a regular file", "a folder", "a named pipe (FIFO)"…"""
    for test, words in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "a special file"


class NotARegularFile(OSError):
    """A path that exists but is not a regular file: reading it could block forever (a FIFO) or never end (a device)."""

    def __init__(self, path: Path, kind: str):
        super().__init__(f"expected a regular file, got {kind}")
        self.path, self.kind = path, kind


def read_regular_file(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file. Anything else raises NotARegularFile, without blocking.

    The file is opened without blocking and checked once open, so a FIFO or a device put in its place
    between a check and the read is never read. Missing files and unreadable ones raise OSError as usual.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFile(Path(path), file_kind(mode))
        chunks, remaining = [], limit
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)
