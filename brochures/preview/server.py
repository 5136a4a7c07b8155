"""The preview's web server: the files of one output folder, read-only, to this machine only,
and a stream of build events."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import socket
import stat
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from brochures.files.safe_read import NotARegularFile, file_kind

# What "/" shows.
GALLERY = ".preview/index.html"
# The only hidden folder served: the build record and lock are never served.
PICTURES = ".preview"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".json": "application/json",
}
MAX_SERVED_BYTES = 256 * 1024 * 1024
# A browser asks every server for /favicon.ico (also for a PDF it shows): a 16 px teal dot, so no 404 in its console.
ICON = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQAQMAAAAlPW0iAAAABlBMVEX///8Pbm4P6p41AAAAAXRSTlMAQObYZgAAADNJREFUeNpj"
    "YGBgYD7AwP+BSYCDSYGFiYGByYGJiYEBig78Y2JgYHrwh+nDD6YvFxgYGAChQwmfKroaXAAAAABJRU5ErkJggg=="
)
# The gallery's only script, inlined in its page.
SCRIPT = Path(__file__).with_name("live.js")
# The pages may load only what this server serves (and the pictures inlined in a report), so nothing reaches the
# network; the one script that may run is the gallery's own, named by its hash.
POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{base64.b64encode(hashlib.sha256(SCRIPT.read_bytes()).digest()).decode('ascii')}'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def served_file(out_dir: Path, raw_path: str) -> Path | None:
    """The file under `out_dir` that the request path `raw_path` names, or None if it names nothing that may be served.

    Refused: anything with `..` or `.` segments (also percent-encoded), an encoded or doubled slash,
    a backslash, NUL, a drive letter, hidden files (but the pictures in .preview/), any symlink on the way,
    anything but a regular file, and a file whose real path is not inside the output folder.
    """
    path = raw_path.split("?", 1)[0].split("#", 1)[0]
    if path in ("", "/"):
        path = "/" + GALLERY
    if not path.startswith("/") or "\\" in path or "\x00" in path:
        return None
    lowered = path.lower()
    if "%2f" in lowered or "%5c" in lowered or "%00" in lowered:
        return None
    try:
        decoded = unquote(path, errors="strict") if "%" in path else path
    except UnicodeDecodeError:
        return None
    # Encoded twice: no name this folder holds looks like that.
    if "%" in decoded or "\\" in decoded or "\x00" in decoded:
        return None
    parts = decoded[1:].split("/")
    if any(part in ("", ".", "..") or ":" in part for part in parts):
        return None
    if any(part.startswith(".") for part in parts) and not (
        parts[0] == PICTURES and len(parts) == 2 and not parts[1].startswith(".")
    ):
        return None
    if Path(parts[-1]).suffix.lower() not in TYPES:
        return None
    root = Path(os.path.realpath(out_dir))
    candidate = root
    # No link anywhere on the way, not even one that stays inside.
    for part in parts:
        candidate = candidate / part
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return None
    if not stat.S_ISREG(mode) or not Path(os.path.realpath(candidate)).is_relative_to(root):
        return None
    return candidate


def read_served_file(out_dir: Path, path: Path, limit: int = MAX_SERVED_BYTES) -> bytes:
    """The bytes of `path`, a file that served_file found under `out_dir`, read without following any link.

    The folder may change between served_file's checks and this read (a link swapped in for a file or a folder):
    each segment is opened from the folder above it with O_NOFOLLOW, so a link anywhere on the way fails the open
    itself, and only a regular file of at most `limit` bytes is read, from the descriptor that was opened.
    Raises OSError (NotARegularFile for anything but a regular file) otherwise.
    """
    root = Path(os.path.realpath(out_dir))
    *folders, name = path.relative_to(root).parts
    folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in folders:
            inner = os.open(part, os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=folder)
            os.close(folder)
            folder = inner
        # Non-blocking: a FIFO put in the file's place is refused below rather than waited on.
        descriptor = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC, dir_fd=folder
        )
    finally:
        os.close(folder)
    with open(descriptor, "rb") as file:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):
            raise NotARegularFile(path, file_kind(found.st_mode))
        if found.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
        return file.read(limit)


class BuildEvents:
    """The build's progress, for browsers waiting on /events: an id that changes with every finished build."""

    def __init__(self):
        self.condition = threading.Condition()
        self.build_id = 0
        self.building = False
        self.stopped = False

    def started(self) -> None:
        with self.condition:
            self.building = True
            self.condition.notify_all()

    def finished(self) -> int:
        with self.condition:
            self.building = False
            self.build_id += 1
            self.condition.notify_all()
            return self.build_id

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.condition.notify_all()

    def next(self, seen: tuple[int, bool], timeout: float) -> tuple[int, bool] | None:
        """Wait until the state differs from `seen` (or `timeout` passes); None once the server stops."""
        with self.condition:
            self.condition.wait_for(lambda: self.stopped or (self.build_id, self.building) != seen, timeout)
            return None if self.stopped else (self.build_id, self.building)


def make_server(out_dir: Path, events: BuildEvents, host: str, port: int) -> ThreadingHTTPServer:
    """A server for `out_dir`'s files on host:port (raises OSError if the port is taken)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "brochures-preview"
        sys_version = ""
        # Never an HTTP/0.9 answer, which has no headers: a malformed request's error, and a bare `GET /`, get them too.
        default_request_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            if not self._host_allowed():
                return self._refuse(HTTPStatus.FORBIDDEN)
            if self.path == "/events":
                return self._events()
            if self.path.split("?", 1)[0] == "/favicon.ico":
                return self._answer(ICON, TYPES[".png"])
            path = served_file(out_dir, self.path)
            try:
                data = read_served_file(out_dir, path) if path else None
            except OSError:
                data = None
            if data is None:
                return self._refuse(HTTPStatus.NOT_FOUND)
            self._answer(data, TYPES[path.suffix.lower()])

        def do_HEAD(self) -> None:  # noqa: N802
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED)

        def _host_allowed(self) -> bool:
            """A page on another site cannot reach this server through a name that points here (DNS rebinding)."""
            if host not in ("127.0.0.1", "localhost", "::1"):
                return True
            name = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
            return name in ("127.0.0.1", "localhost", "::1")

        def _refuse(self, status: HTTPStatus) -> None:
            self._answer(f"{status.value} {status.phrase}\n".encode(), "text/plain; charset=utf-8", status)

        def _answer(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def end_headers(self) -> None:
            """Every answer carries the safety headers, the standard library's own errors (501 to a POST, 400…) too."""
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", POLICY)
            self.send_header("Referrer-Policy", "no-referrer")
            super().end_headers()

        def _events(self) -> None:
            """Server-sent events: `building` when a build starts, the new build id when it ends."""
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            seen = None
            try:
                while True:
                    state = events.next(seen or (-1, False), timeout=15)
                    if state is None:
                        return
                    # Nothing new in 15 s: a comment keeps the connection open and finds closed ones.
                    if state == seen:
                        self.wfile.write(b": still here\n\n")
                    else:
                        build_id, building = state
                        self.wfile.write(f"event: {'building' if building else 'built'}\ndata: {build_id}\n\n".encode())
                        seen = state
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the console shows the builds
            pass

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # A browser's open event stream never holds up stopping.
        daemon_threads = True

        def handle_error(self, request, client_address) -> None:
            """A visitor gone mid-answer needs no traceback; anything else is said in one line, and serving goes on."""
            error = sys.exc_info()[1]
            if not isinstance(error, (ConnectionError, TimeoutError)):
                print(f"preview: a request failed ({type(error).__name__}: {error})", file=sys.stderr)

    return Server((host, port), Handler)
