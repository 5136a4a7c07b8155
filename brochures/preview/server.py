"""The preview's web server: the files of one output folder, read-only, to the names it may answer as, and a stream
of build events.

One thread accepts connections and hands each at once to one thread that reads every request as it arrives (a
visitor still sending holds no thread) and drops one not sent whole within the read timeout. A fixed pool of
`max_connections` threads answers the complete requests, event streams included (at most `max_streams`), so slow or
idle visitors cannot pile up threads, nor keep others waiting. At most MAX_HELD connections are held in all.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import ipaddress
import os
import queue
import re
import select
import selectors
import socket
import stat
import sys
import threading
import time
from collections.abc import Collection
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
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
# Seconds a visitor has to send its whole request (line and headers), and to take each piece of an answer.
READ_TIMEOUT = 5.0
# Requests answered at once (each by a thread of its own), and how many of those may be event streams.
MAX_CONNECTIONS, MAX_STREAMS = 16, 8
# Connections held in all, answered or waiting for their request or a thread; a request's head is at most MAX_HEAD.
MAX_HELD, MAX_HEAD = 256, 64 * 1024
# The names a browser on this machine uses for it: answered by default.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# A Host header: a name or an IPv4 address, or an IPv6 address in brackets, then perhaps a port.
HOST_HEADER = re.compile(r"(?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?")
# Where a request's head ends: its first empty line.
EMPTY_LINE = re.compile(rb"\n\r?\n")
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


def make_server(
    out_dir: Path,
    events: BuildEvents,
    host: str,
    port: int,
    allowed: Collection[str] = LOCAL_NAMES,
    *,
    read_timeout: float = READ_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    max_streams: int = MAX_STREAMS,
) -> PreviewServer:
    """A server for `out_dir`'s files on host:port (raises OSError if the port is taken), answering only requests
    addressed to `allowed`: host names and IP addresses, lower-case, IPv6 ones bare (session.allowed_names)."""
    if not 1 <= max_streams < max_connections:
        raise ValueError(f"max_streams must be from 1 to max_connections - 1, got {max_streams}")

    class Handler(BaseHTTPRequestHandler):
        server_version = "brochures-preview"
        sys_version = ""
        # Never an HTTP/0.9 answer, which has no headers: a malformed request's error, and a bare `GET /`, get them too.
        default_request_version = "HTTP/1.0"
        # Applied to the connection by setup(): how long each send of an answer may wait for the visitor to read.
        timeout = read_timeout
        server: PreviewServer

        def __init__(self, request: socket.socket, client_address, server: PreviewServer, head: bytes | None):
            # The request's line and headers, as the server read them (None: too long to read).
            self.head = head
            super().__init__(request, client_address, server)

        def setup(self) -> None:
            """The request is read from what the server has read; the answer goes to the connection (buffered: each
            send() of it waits at most the timeout, rather than one sendall() of a whole file)."""
            self.connection = self.request
            self.connection.settimeout(self.timeout)
            self.rfile = io.BytesIO((self.head or b"").lstrip(b"\r\n"))
            self.wfile = self.connection.makefile("wb")

        def handle(self) -> None:
            """One request a connection (HTTP/1.0: the connection closes after each answer)."""
            if self.head is None:
                self.requestline, self.request_version, self.command = "", self.default_request_version, ""
                return self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
            self.handle_one_request()

        def parse_request(self) -> bool:
            """Any method: a request not addressed to an allowed name is refused before anything else is done."""
            if not super().parse_request():
                return False
            refusal = self._host_refusal()
            if refusal:
                self._refuse(refusal)
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
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

        def _host_refusal(self) -> HTTPStatus | None:
            """A page on another site cannot reach this server through a name that points here (DNS rebinding):
            400 without exactly one well-formed Host header, 403 for a name or a port other than this server's."""
            values = self.headers.get_all("Host") or []
            found = HOST_HEADER.fullmatch(values[0].strip(" \t")) if len(values) == 1 else None
            if not found:
                return HTTPStatus.BAD_REQUEST
            name = found["name"]
            if name is None:
                try:
                    name = str(ipaddress.IPv6Address(found["ip6"]))
                except ValueError:
                    return HTTPStatus.BAD_REQUEST
            port = found["port"]
            if name.lower() not in allowed or (port is not None and int(port) != self.server.server_address[1]):
                return HTTPStatus.FORBIDDEN
            return None

        def _refuse(self, status: HTTPStatus) -> None:
            self.close_connection = True
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
            """Server-sent events: `building` when a build starts, the new build id when it ends.

            The request has been read: the read timeout no longer applies (the stream is quiet between builds, and
            only each write must get through in time). It holds one of the answering threads, until the browser
            leaves (noticed within a second), the server stops, or a write fails; at most max_streams at once
            (503 beyond, so that files are still answered).
            """
            if not self.server.streams.acquire(blocking=False):
                return self._refuse(HTTPStatus.SERVICE_UNAVAILABLE)
            try:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.flush()
                seen, said = None, time.monotonic()
                while not self.server.closing:
                    state = events.next(seen or (-1, False), timeout=1)
                    if state is None:
                        return
                    if state != seen:
                        build_id, building = state
                        self.wfile.write(f"event: {'building' if building else 'built'}\ndata: {build_id}\n\n".encode())
                        seen, said = state, time.monotonic()
                    elif self._left():
                        return
                    # Nothing new in 15 s: a comment keeps the connection open through proxies and finds closed ones.
                    elif time.monotonic() - said >= 15:
                        self.wfile.write(b": still here\n\n")
                        said = time.monotonic()
                    self.wfile.flush()
            except ConnectionError:
                return
            finally:
                self.close_connection = True
                self.server.streams.release()

        def _left(self) -> bool:
            """Whether the browser closed the stream: it sends nothing on it after its request, so anything readable
            (the end, or bytes it should not send) ends it."""
            poller = select.poll()
            poller.register(self.connection, select.POLLIN | select.POLLPRI)
            return bool(poller.poll(0))

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the console shows the builds
            pass

    return PreviewServer(
        (host, port), Handler, read_timeout=read_timeout, max_connections=max_connections, max_streams=max_streams
    )


class Arriving:
    """A connection whose request has not all arrived yet."""

    __slots__ = ("connection", "address", "head", "deadline")

    def __init__(self, connection: socket.socket, address, deadline: float):
        self.connection, self.address, self.head, self.deadline = connection, address, bytearray(), deadline


class PreviewServer(HTTPServer):
    """serve_forever() accepts; one thread reads the requests; at most max_connections threads answer them
    (see the module's docstring). All its threads are daemons, so an open event stream never holds up stopping;
    server_close() drops every connection still waiting and ends the streams within a second."""

    request_queue_size = 64

    def __init__(self, address, handler, *, read_timeout: float, max_connections: int, max_streams: int):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)
        self.read_timeout, self.max_connections = read_timeout, max_connections
        self.streams = threading.BoundedSemaphore(max_streams)
        self.closing = False
        # The reading thread's: the connections whose request is arriving, and its selector.
        self.arriving: dict[socket.socket, Arriving] = {}
        self.selector = selectors.DefaultSelector()
        # New connections, from serve_forever's thread to the reading thread, which a byte on `waker` wakes.
        self.accepted: queue.SimpleQueue = queue.SimpleQueue()
        self.woken, self.waker = socket.socketpair()
        self.woken.setblocking(False)
        self.waker.setblocking(False)
        self.selector.register(self.woken, selectors.EVENT_READ)
        # Read requests, waiting for an answering thread.
        self.requests: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self.read_requests, name="preview requests", daemon=True).start()
        for number in range(max_connections):
            threading.Thread(target=self.answer_requests, name=f"preview answers {number}", daemon=True).start()

    def process_request(self, request: socket.socket, client_address) -> None:
        """serve_forever's thread never waits: the connection goes to the reading thread at once."""
        self.accepted.put((request, client_address))
        self.wake()

    def wake(self) -> None:
        try:
            self.waker.send(b"\0")
        # Full (it is already awake) or closed (it is stopping).
        except OSError:
            pass

    def read_requests(self) -> None:
        """The reading thread: every connection's request, as its bytes arrive, each until its deadline."""
        try:
            while not self.closing:
                for key, _ in self.selector.select(timeout=0.25):
                    if key.fileobj is self.woken:
                        with contextlib.suppress(BlockingIOError):
                            self.woken.recv(4096)
                        continue
                    try:
                        self.receive(key.data)
                    # A bug must not stop the reading of every other request.
                    except Exception as error:
                        print(f"preview: a request failed ({type(error).__name__}: {error})", file=sys.stderr)
                        self.drop(key.data)
                self.take_accepted()
                now = time.monotonic()
                for overdue in [arriving for arriving in self.arriving.values() if arriving.deadline <= now]:
                    self.drop(overdue)
        finally:
            for arriving in list(self.arriving.values()):
                self.drop(arriving)
            while not self.accepted.empty():
                self.shutdown_request(self.accepted.get()[0])
            self.selector.close()
            self.woken.close()
            self.waker.close()

    def take_accepted(self) -> None:
        while not self.accepted.empty():
            connection, address = self.accepted.get()
            # Full: the connection waiting longest for its request makes room, or this one is refused.
            if len(self.arriving) + self.requests.qsize() >= MAX_HELD:
                if not self.arriving:
                    self.shutdown_request(connection)
                    continue
                self.drop(min(self.arriving.values(), key=lambda arriving: arriving.deadline))
            connection.setblocking(False)
            arriving = Arriving(connection, address, time.monotonic() + self.read_timeout)
            self.arriving[connection] = arriving
            self.selector.register(connection, selectors.EVENT_READ, arriving)

    def receive(self, arriving: Arriving) -> None:
        try:
            chunk = arriving.connection.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            return self.drop(arriving)
        arriving.head += chunk
        end = EMPTY_LINE.search(arriving.head)
        if end is None and chunk and len(arriving.head) <= MAX_HEAD:
            return
        self.selector.unregister(arriving.connection)
        del self.arriving[arriving.connection]
        if not arriving.head.strip():
            return self.shutdown_request(arriving.connection)
        if end:
            head = bytes(arriving.head[: end.end()])
        # Too long for a request's line and headers: 431.
        elif chunk:
            head = None
        # Closed by the visitor before its empty line: answered as far as it goes.
        else:
            head = bytes(arriving.head)
        self.requests.put((arriving.connection, arriving.address, head))

    def drop(self, arriving: Arriving) -> None:
        """A connection whose request did not arrive in time (or that made room): closed, unanswered."""
        self.arriving.pop(arriving.connection, None)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(arriving.connection)
        self.shutdown_request(arriving.connection)

    def answer_requests(self) -> None:
        """An answering thread: one read request after another, until server_close()."""
        while (request := self.requests.get()) is not None:
            connection, address, head = request
            try:
                if not self.closing:
                    self.RequestHandlerClass(connection, address, self, head)
            except Exception:
                self.handle_error(connection, address)
            finally:
                self.shutdown_request(connection)

    def handle_error(self, request, client_address) -> None:
        """A visitor gone mid-answer needs no traceback; anything else is said in one line, and serving goes on."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"preview: a request failed ({type(error).__name__}: {error})", file=sys.stderr)

    def server_close(self) -> None:
        """After shutdown(): no new connection; those waiting are dropped, the streams end within a second."""
        self.closing = True
        super().server_close()
        # Called by HTTPServer's own __init__ when the address cannot be bound: nothing else was made yet.
        if not hasattr(self, "requests"):
            return
        self.wake()
        for _ in range(self.max_connections):
            self.requests.put(None)
