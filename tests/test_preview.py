"""The live preview, end to end: `generate.py serve` started for real on 127.0.0.1, read by Debian's chromium
(driven by Playwright), edited as a clinic manager edits, and probed for files it must never serve."""

from __future__ import annotations

import http.client
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import watchfiles
from PIL import Image
from pypdf import PdfReader

from brochures.building.options import BuildOptions
from brochures.cli.serve import run as serve_command
from brochures.cli.serve import serve_parser
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.preview.gallery import ClinicShown, write_gallery
from brochures.preview.server import (
    BuildEvents,
    make_server,
    read_served_file,
    served_file,
)
from brochures.preview.session import Preview, allowed_names, changed_names
from brochures.problems import display_path
from conftest import DATA, ROOT, line_of
from generate import main
from test_report import Page

# Debian's package (scripts/setup.sh): Playwright downloads no browser.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# README: where to look at the gallery as the test saw it.
SCREENSHOTS = ROOT / "test-artifacts"


# --- What the server serves, and what it refuses ---

@pytest.fixture
def out_folder(tmp_path) -> Path:
    """An output folder as a build leaves it, with a file outside it and links pointing out of it and within it."""
    out = tmp_path / "out"
    (out / "example").mkdir(parents=True)
    (out / ".preview").mkdir()
    (out / "example" / "facial.pdf").write_bytes(b"%PDF-1.7 facial")
    (out / ".preview" / "index.html").write_text("the gallery")
    (out / ".preview" / "0123456789abcdef0123-001.png").write_bytes(b"a picture")
    (out / ".build-cache.json").write_text('{"owners": {"example": "/home/someone/clinics/example"}}')
    (tmp_path / "secret.pdf").write_bytes(b"not for the browser")
    (out / "example" / "leak.pdf").symlink_to(tmp_path / "secret.pdf")
    (out / "example" / "alias.pdf").symlink_to(out / "example" / "facial.pdf")
    (out / "linked").symlink_to(tmp_path)
    (out / "also-example").symlink_to(out / "example")
    return out


@pytest.mark.parametrize("raw,expected", [
    ("/", ".preview/index.html"),
    ("/example/facial.pdf", "example/facial.pdf"),
    ("/example/facial.pdf?download=1", "example/facial.pdf"),
    ("/example/%66acial.pdf", "example/facial.pdf"),
    ("/.preview/0123456789abcdef0123-001.png", ".preview/0123456789abcdef0123-001.png"),
])
def test_the_output_folders_files_are_served(out_folder, raw, expected):
    assert served_file(out_folder, raw) == out_folder.resolve() / expected


REFUSED = [
    "/../secret.pdf",
    "/example/../../secret.pdf",
    "/%2e%2e/secret.pdf",
    "/%2E%2E/%2e%2e/secret.pdf",
    "/example/..%2f..%2fsecret.pdf",
    "/example%2F..%2F..%2Fsecret.pdf",
    "/%252e%252e/secret.pdf",
    "/example/%2e/facial.pdf",
    "/example\\..\\..\\secret.pdf",
    "/example/%5c..%5csecret.pdf",
    "/example/facial.pdf%00.png",
    "/.preview/../example/facial.pdf",
    "//secret.pdf",
    "/example//facial.pdf",
    "/C:/secret.pdf",
    "/%c0%ae%c0%ae/secret.pdf",
    # Links: out of the folder, within it, a folder link out of it, and one within it
    "/example/leak.pdf",
    "/example/alias.pdf",
    "/linked/secret.pdf",
    "/also-example/facial.pdf",
    "/.build-cache.json",
    "/.preview/",
    "/example/",
    "/example",
    "/.preview",
    "/example/missing.pdf",
    "/example/facial.PDF.txt",
]


@pytest.mark.parametrize("raw", REFUSED)
def test_nothing_else_is_served(out_folder, raw):
    assert served_file(out_folder, raw) is None


def test_an_absolute_path_is_never_served(out_folder, tmp_path):
    assert served_file(out_folder, str(tmp_path / "secret.pdf")) is None
    assert served_file(out_folder, "/" + str(tmp_path / "secret.pdf")) is None


@pytest.mark.parametrize(
    "linked", ["example/leak.pdf", "example/alias.pdf", "linked/secret.pdf", "also-example/facial.pdf"]
)
def test_the_reader_itself_refuses_a_link_anywhere_on_the_way(out_folder, linked):
    """What served_file checked may be a link by the time it is opened: the open must refuse it by itself."""
    with pytest.raises(OSError):
        read_served_file(out_folder, out_folder.resolve() / linked)


def test_a_file_or_folder_swapped_for_a_link_after_the_checks_is_not_read(out_folder, tmp_path):
    checked = served_file(out_folder, "/example/facial.pdf")
    assert read_served_file(out_folder, checked) == b"%PDF-1.7 facial"
    (out_folder / "example" / "swap.pdf").symlink_to(tmp_path / "secret.pdf")
    # Atomically, as the race does.
    os.replace(out_folder / "example" / "swap.pdf", checked)
    with pytest.raises(OSError):
        read_served_file(out_folder, checked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "report.json").write_text('{"secret": true}')
    (out_folder / "example" / "report.json").write_text("{}")
    checked = served_file(out_folder, "/example/report.json")
    (out_folder / "example-link").symlink_to(elsewhere)
    (out_folder / "example").rename(out_folder / "example-moved")
    # The folder on the way is now a link.
    (out_folder / "example-link").rename(out_folder / "example")
    with pytest.raises(OSError):
        read_served_file(out_folder, checked)


def test_a_fifo_or_a_file_over_the_limit_is_not_read(out_folder):
    os.mkfifo(out_folder / "example" / "fifo.pdf")
    # At once: a FIFO is never waited on.
    with pytest.raises(OSError):
        read_served_file(out_folder, out_folder.resolve() / "example" / "fifo.pdf")
    with pytest.raises(OSError):
        read_served_file(out_folder, out_folder.resolve() / "example" / "facial.pdf", limit=4)


@pytest.fixture
def serving(out_folder):
    """The preview's server for `out_folder` on a free port, without a build."""
    server = make_server(out_folder, BuildEvents(), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_link_anywhere_on_the_way_is_not_found_over_http(serving):
    assert get(serving, "/example/facial.pdf") == (200, b"%PDF-1.7 facial")
    for linked in ["/example/leak.pdf", "/example/alias.pdf", "/linked/secret.pdf", "/also-example/facial.pdf"]:
        assert get(serving, linked)[0] == 404, linked


def test_the_browser_finds_an_icon(serving):
    """Every browser asks for /favicon.ico, also when it shows a PDF: a 404 would be an error in its console."""
    status, icon = get(serving, "/favicon.ico")
    assert status == 200 and Image.open(io.BytesIO(icon)).size == (16, 16)


SAFETY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Cache-Control", "Referrer-Policy")


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /example/facial.pdf HTTP/1.1", "GET /example/leak.pdf HTTP/1.1", "POST / HTTP/1.1", "PUT /x.pdf HTTP/1.1",
        "DELETE /example/facial.pdf HTTP/1.1", "OPTIONS * HTTP/1.1", "HEAD / HTTP/1.1", "BREW / HTTP/1.1",
        "GET / HTTP/9.9", "not a request at all HTTP/1.1", "GET /example/facial.pdf"
    ],
)
def test_every_answer_carries_the_safety_headers(serving, request_line):
    """Errors the standard library writes itself (501 to a POST, 400, 505) included, not only the 200s."""
    with socket.create_connection(("127.0.0.1", serving), timeout=10) as client:
        client.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head.splitlines()[1:]}
    assert all(name.lower() in headers for name in SAFETY_HEADERS), head
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-content-type-options"] == "nosniff"


def test_a_visitor_gone_mid_answer_costs_no_traceback(out_folder, capfd):
    """Hundreds of dropped connections must not fill the console with tracebacks; serving goes on."""
    import socket
    import threading

    from brochures.preview.server import BuildEvents, make_server

    (out_folder / "example" / "big.pdf").write_bytes(b"%PDF-1.7 " + b"x" * 8_000_000)
    server = make_server(out_folder, BuildEvents(), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", port)) as client:
                # Reset on close.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.sendall(b"GET /example/big.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                client.recv(100)
        # Still serving.
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"GET /example/facial.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert b"200 OK" in client.recv(100)
    finally:
        server.shutdown()
        server.server_close()
    assert "Traceback" not in capfd.readouterr().err


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str]]:
    """The status and headers of the answer to `request`, sent as given on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").splitlines()
    return int(head[0].split()[1]), {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head[1:]}


@pytest.fixture
def serving_everywhere(out_folder):
    """The server bound to every interface (reached here on 127.0.0.1), also answering as preview.clinic.lan."""
    allowed = allowed_names("0.0.0.0", ["Preview.Clinic.LAN", "10.0.0.7"])
    server = make_server(out_folder, BuildEvents(), "0.0.0.0", 0, allowed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_host_check_holds_on_every_interface(serving_everywhere):
    """Bound to 0.0.0.0, a page elsewhere still cannot reach the server through a name of its own that points here
    (DNS rebinding): only this machine's names and the names allowed, each with this port or none, are answered."""
    port = serving_everywhere
    served = ["localhost", f"localhost:{port}", "127.0.0.1", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST",
              "preview.clinic.lan", f"preview.clinic.lan:{port}", f"10.0.0.7:{port}"]
    for host in served:
        assert get(port, "/example/facial.pdf", host=host) == (200, b"%PDF-1.7 facial"), host
    forbidden = ["evil.test", f"evil.test:{port}", f"localhost:{port + 1 if port < 65535 else 1}", "0.0.0.0",
                 f"0.0.0.0:{port}", "preview.clinic.lan.evil.test", "127.0.0.2", "[::2]"]
    malformed = ["", "localhost:", "local host", "::1", "[::1", "[not-an-address]", "evil.test/", "localhost:8x"]
    for host, status in [*((host, 403) for host in forbidden), *((host, 400) for host in malformed)]:
        request = f"GET /example/facial.pdf HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        answer, headers = exchange(port, request)
        assert answer == status, host
        assert all(name.lower() in headers for name in SAFETY_HEADERS), host
    # No Host, or two.
    assert exchange(port, b"GET /example/facial.pdf HTTP/1.1\r\n\r\n")[0] == 400
    assert exchange(port, b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.test\r\n\r\n")[0] == 400
    # Every method, not only GET.
    assert exchange(port, b"POST / HTTP/1.1\r\nHost: evil.test\r\nContent-Length: 0\r\n\r\n")[0] == 403


def test_a_server_bound_to_one_address_also_answers_to_it(out_folder):
    server = make_server(out_folder, BuildEvents(), "127.0.0.1", 0, allowed_names("127.0.0.1"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        assert allowed_names("192.168.1.20") == {"localhost", "127.0.0.1", "::1", "192.168.1.20"}
        assert allowed_names("::") == allowed_names("0.0.0.0") == {"localhost", "127.0.0.1", "::1"}
        assert get(port, "/example/facial.pdf", host=f"127.0.0.1:{port}")[0] == 200
        assert get(port, "/example/facial.pdf", host="preview.clinic.lan")[0] == 403
    finally:
        server.shutdown()
        server.server_close()


def still_open(client: socket.socket) -> bool:
    """Whether the server has left `client`'s connection open and unanswered (nothing to read, not even its end)."""
    poller = select.poll()
    poller.register(client, select.POLLIN)
    return not poller.poll(0)


def test_stalled_visitors_hold_no_thread_keep_no_one_waiting_and_are_dropped(out_folder):
    """Fifty visitors that send half a request and stop: the server keeps answering others at once, with no more
    threads than its bound, and drops them once the read timeout has passed."""
    before = threading.active_count()
    server = make_server(out_folder, BuildEvents(), "127.0.0.1", 0, read_timeout=2, max_connections=4, max_streams=1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port, stalled = server.server_address[1], []
    try:
        for number in range(50):
            client = socket.create_connection(("127.0.0.1", port), timeout=10)
            stalled.append(client)
            # Half a request line, or a whole line and half the headers.
            client.sendall(b"GET /example/facial.pdf HT" if number % 2 else b"GET / HTTP/1.1\r\nHost: local")
        started = time.monotonic()
        for _ in range(10):
            assert get(port, "/example/facial.pdf") == (200, b"%PDF-1.7 facial")
        assert time.monotonic() - started < 2, "answered only once the stalled visitors were dropped"
        assert all(still_open(client) for client in stalled)
        # serve_forever's, the reading thread, and at most 4 answering.
        assert threading.active_count() <= before + 2 + 4
        deadline = time.monotonic() + 10
        while any(still_open(client) for client in stalled) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(still_open(client) for client in stalled), "the stalled visitors were not dropped"
        # A visitor sending one byte at a time also has only the read timeout for its whole request.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as dripping:
            started = time.monotonic()
            for byte in b"GET /example/facial.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 100:
                if not still_open(dripping) or time.monotonic() - started > 6:
                    break
                dripping.send(bytes([byte]))
                time.sleep(0.05)
            assert not still_open(dripping) and time.monotonic() - started < 4
        assert get(port, "/example/facial.pdf")[0] == 200
    finally:
        for client in stalled:
            client.close()
        server.shutdown()
        server.server_close()


def read_event(stream) -> str:
    """The next event of a server-sent event stream, its lines joined (comments skipped)."""
    lines = []
    while True:
        line = stream.readline().decode()
        assert line, "the stream ended"
        if line.strip() and not line.startswith(":"):
            lines.append(line.strip())
        elif lines and not line.strip():
            return " ".join(lines)


def first_line(port: int, request: bytes) -> bytes:
    """The status line of the answer to `request` (the connection is closed after it: a stream is not waited on)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(request)
        return client.makefile("rb").readline()


def test_the_event_stream_outlives_the_read_timeout_and_has_a_bound_of_its_own(out_folder):
    """The live reload's stream stays open however long no build comes; streams take at most their own share of the
    answering threads, so that files are still answered; stopping the server ends them at once."""
    events = BuildEvents()
    server = make_server(out_folder, events, "127.0.0.1", 0, read_timeout=1, max_connections=3, max_streams=2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    request = f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    streams = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2)]
    readers = [stream.makefile("rb") for stream in streams]
    try:
        for stream, reader in zip(streams, readers):
            stream.sendall(request)
            assert reader.readline().startswith(b"HTTP/1.0 200")
            # The headers.
            while reader.readline() != b"\r\n":
                pass
            assert read_event(reader) == "event: built data: 0"
        # A third: refused at once, with the safety headers; files are still answered.
        status, headers = exchange(port, request)
        assert status == 503 and "content-security-policy" in headers
        assert get(port, "/example/facial.pdf")[0] == 200
        # Quiet for longer than the read timeout: still open, and told of the next build.
        time.sleep(2.5)
        events.started()
        assert [read_event(reader) for reader in readers] == ["event: building data: 0"] * 2
        events.finished()
        assert [read_event(reader) for reader in readers] == ["event: built data: 1"] * 2
        # A browser that leaves gives its place to the next, within a second or two.
        readers[0].close()
        streams[0].close()
        wait_until(lambda: first_line(port, request).startswith(b"HTTP/1.0 200"), "a stream's place", 10)
    finally:
        started = time.monotonic()
        server.shutdown()
        server.server_close()
    # Stopping ends the open stream.
    while readers[1].readline():
        pass
    assert time.monotonic() - started < 3
    for stream, reader in zip(streams, readers):
        reader.close()
        stream.close()


@pytest.mark.parametrize("value,said", [
    ("", "expected a host name or an IP address, got nothing"),
    ("preview.clinic.lan:8000", "without a port (the server's own port is implied), got 'preview.clinic.lan:8000'"),
    ("[::1]:8000", "without a port"),
    ("preview clinic.lan", "without spaces, got 'preview clinic.lan'"),
    (" preview.clinic.lan", "without spaces"),
    ("preview.clinic.lan\t", "without spaces"),
    ("http://preview.clinic.lan", "(letters, digits, '-' and '.'), got 'http://preview.clinic.lan'"),
    ("preview_clinic.lan", "(letters, digits, '-' and '.')"),
    ("-preview.lan", "(letters, digits, '-' and '.')"),
    ("preview..lan", "(letters, digits, '-' and '.')"),
    ("1.2.3.999", "(letters, digits, '-' and '.')"),
    ("[preview.lan]", "(letters, digits, '-' and '.')"),
])
def test_allow_host_values_are_checked(value, said, tmp_path, capsys):
    """A name the Host check could never match is said at once, as a usage error, and nothing is built or served."""
    with pytest.raises(SystemExit) as usage:
        serve_command([f"--allow-host={value}", "--out", str(tmp_path / "out")])
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert "generate.py serve: error: argument --allow-host: " in err and said in err, err
    assert not (tmp_path / "out").exists()


def test_allow_host_takes_names_and_addresses_as_the_host_check_compares_them():
    args = serve_parser().parse_args(
        ["--allow-host", "Preview.Clinic.LAN", "--allow-host", "192.168.1.20", "--allow-host", "[FE80::1]",
         "--allow-host", "fe80::2"]
    )
    assert args.allow_host == ["preview.clinic.lan", "192.168.1.20", "fe80::1", "fe80::2"]
    assert serve_parser().parse_args([]).allow_host == []


def test_serve_offers_only_the_options_it_takes():
    """--check and --approval build nothing to preview: serve refuses them, so its help does not offer them."""
    shown = serve_parser().format_help()
    assert "--check" not in shown and "--approval" not in shown and "--treatment" in shown


def test_serve_says_when_its_port_is_taken(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert f"could not serve the preview on 127.0.0.1 port {port}" in err and "choose another port with --port" in err
    # Nothing was built.
    assert not (tmp_path / "out").exists()


# --- The gallery page, as written ---


def test_the_gallery_shows_every_page_meets_wcag_aa_and_escapes_what_it_quotes(example_build, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(example_build.parent, out)
    clinic = load_clinic(DATA / "clinics" / "example" / "clinic.yaml", load_content(DATA))
    shown = ClinicShown(clinic.slug, clinic.config.name, clinic.locale, clinic.strings)
    mistake = 'data/clinics/x/clinic.yaml:3 name: expected plain text, got "<script>alert(1)</script>"'
    html = write_gallery(out, [shown], [mistake], 7, clinic.strings).read_text()
    page = Page(html)
    pages = sum(len(PdfReader(pdf).pages) for pdf in (out / "example").glob("*.pdf"))
    # Each page twice: its picture in the gallery, and the same picture in its page viewer (shown only when opened).
    assert len(page.images) == 2 * pages and all(image["alt"].startswith("Page ") for image in page.images)
    # Served from out/.preview/.
    assert all((out / image["src"].lstrip("/")).is_file() for image in page.images)
    assert page.lang == "en-GB" and page.headings[0] == 1 and page.headings.count(1) == 1
    assert all(later <= earlier + 1 for earlier, later in zip(page.headings, page.headings[1:])), page.headings
    assert page.header_cells and all(scope in ("col", "row") for scope in page.header_cells)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'data-build="7"' in html and "/example/facial.pdf" in page.links


def test_each_problem_of_a_build_is_shown_once_from_its_result_not_its_printed_lines(tmp_path):
    """The preview takes what went wrong from the build's result: each invalid setting and each failed document
    once, never the FAILED column or the closing list of failures that the terminal shows."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    broken = data / "clinics" / "x"
    broken.mkdir()
    (broken / "clinic.yaml").write_text(
        (data / "clinics" / "example" / "clinic.yaml").read_text().replace('primary: "#0F6E6E"', 'primary: "purplish"')
    )
    (broken / "logo.svg").write_bytes((data / "clinics" / "example" / "logo.svg").read_bytes())
    partial = data / "clinics" / "example" / "templates" / "partials" / "aftercare.html.j2"
    partial.parent.mkdir(parents=True)
    partial.write_text("<section></section>\n")
    options = BuildOptions(out=tmp_path / "out", data=data, treatments=("facial", "hair"), jobs=1)
    result, problems = Preview(options, BuildEvents()).run_pipeline()
    colour = next(problem for problem in problems if "colors.primary" in problem)
    line = line_of(broken / "clinic.yaml", "primary:")
    assert colour.startswith(f"{display_path(broken / 'clinic.yaml')}:{line} colors.primary: expected a colour")
    failed = [problem for problem in problems if problem != colour]
    assert [line.split(":")[0] for line in failed] == [
        display_path(tmp_path / "out" / "example" / name) for name in ("facial.pdf", "hair.pdf")
    ]
    assert all("not fit to give to patients" in line and "FAILED" not in line for line in failed)
    assert len(problems) == len(set(problems)) == 3 and [c.slug for c in result.clinics] == ["example"]


def test_a_documents_failure_is_shown_under_it_and_the_box_points_to_it(example_build, tmp_path):
    """Said once: the box names the failed document and links to it, its own section says why; the box keeps the
    invalid input and a failure of a document the page does not show. The status line does not say "Up to date"."""
    out = tmp_path / "out"
    shutil.copytree(example_build.parent, out)
    report = json.loads((out / "example" / "report.json").read_text())
    why = 'not fit to give to patients as it is: safety information is missing from the pages: "Keep the area clean."'
    facial = next(card for card in report["documents"] if card["document"] == "facial.pdf")
    facial.update(verdict="not_built", error=why)
    (out / "example" / "report.json").write_text(json.dumps(report))
    clinic = load_clinic(DATA / "clinics" / "example" / "clinic.yaml", load_content(DATA))
    shown = ClinicShown(clinic.slug, clinic.config.name, clinic.locale, clinic.strings)
    invalid = 'data/clinics/x/clinic.yaml:6 colors.primary: expected a colour, got "purplish"'
    elsewhere = f"{display_path(out / 'gone' / 'facial.pdf')}: {why}"
    html = write_gallery(
        out, [shown], [invalid, f"{display_path(out / 'example' / 'facial.pdf')}: {why}", elsewhere], 3, clinic.strings
    ).read_text()
    box = html.split('id="problems"', 1)[1].split("</section>", 1)[0]
    escaped = why.replace('"', "&#34;")
    # The box (the other document) and the section.
    assert "FAILED" not in html and html.count(escaped) == 2
    assert (
        box.count(escaped) == 1 and display_path(out / "gone" / "facial.pdf") in box and invalid.split(" got")[0] in box
    )
    assert 'href="#example-facial.pdf"' in box and 'id="example-facial.pdf"' in html
    r = clinic.strings.report
    assert f">{r.preview_finished_with_problems}<" in html and r.preview_ready not in html
    assert r.preview_problems_lines in box and r.preview_not_built in box
    calm = write_gallery(out, [shown], [], 4, clinic.strings).read_text()
    assert f">{r.preview_ready}<" in calm and 'id="problems"' not in calm


def test_changed_names_leave_out_scratch_files_and_files_gone(tmp_path):
    (tmp_path / "hair.yaml").write_text("saved")
    for scratch in ["hair.yaml.swp", "hair.yaml~", ".#hair.yaml", "4913", "sedXy12Ab", "#hair.yaml#"]:
        (tmp_path / scratch).write_text("an editor's")
    changes = {
        (watchfiles.Change.modified, str(tmp_path / "hair.yaml")),
        (watchfiles.Change.added, str(tmp_path / "sedaMdBlN")),
        (watchfiles.Change.deleted, str(tmp_path / "sedaMdBlN")),
    }
    changes |= {
        (watchfiles.Change.added, str(tmp_path / name))
        for name in ["hair.yaml.swp", "hair.yaml~", ".#hair.yaml", "4913", "sedXy12Ab", "#hair.yaml#"]
    }
    assert changed_names(changes) == [display_path(tmp_path / "hair.yaml")]


# --- The preview, in a real browser ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A GET with the path sent exactly as given (http.client neither normalises nor re-encodes it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host or f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until(check, what: str, seconds: float = 120):
    """Poll `check` until it returns something true; the deadline only stops a hung test, it measures nothing."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def purple_pixels(png: bytes) -> int:
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 24)
    return sum(count for count, (r, g, b) in colours if abs(r - 128) < 30 and g < 45 and abs(b - 128) < 30)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: sh scripts/setup.sh installs it")
def test_the_gallery_follows_every_saved_change(tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    sync_playwright, PlaywrightError = playwright_api.sync_playwright, playwright_api.Error
    data, out, port = tmp_path / "data", tmp_path / "out", free_port()
    shutil.copytree(DATA, data)
    config = data / "clinics" / "example" / "clinic.yaml"
    log_file = tmp_path / "serve.log"
    with log_file.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable, "generate.py", "serve", "--data", str(data), "--out", str(out), "--port", str(port),
                "--treatment", "facial", "--treatment", "hair"
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: get(port, "/")[0] == 200, "the first build")

        # Traversal, as a browser would never send it but an attacker would: 404, whatever the encoding.
        (out / "example" / "leak.pdf").symlink_to(config)
        for raw in [
            "/../data/clinics/example/clinic.yaml", "/%2e%2e/%2e%2e/etc/passwd", "/example/..%2f..%2f.build-cache.json",
            "/example\\..\\.build-cache.json", "/.build-cache.json", "/.build.lock", "/example/leak.pdf", "/example/"
        ]:
            assert get(port, raw)[0] == 404, raw
        status, pdf = get(port, "/example/facial.pdf")
        assert status == 200 and pdf.startswith(b"%PDF")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        policy = connection.getresponse().getheader("Content-Security-Policy")
        connection.close()
        # The page may reach nothing else.
        assert "default-src 'none'" in policy and "connect-src 'self'" in policy
        # And run no other script.
        assert "script-src 'sha256-" in policy and "script-src 'unsafe-inline'" not in policy
        # A page elsewhere cannot reach it by a name that points here.
        assert get(port, "/", host="attacker.test")[0] == 403

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            # A refused script or style, a missing icon…
            console_errors = []
            page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
            page.goto(f"http://127.0.0.1:{port}/")
            pictures = page.locator('[id="example-facial.pdf"] .pages img')

            def shown() -> list[str]:
                """The pictures' addresses, once every picture on the page has loaded."""
                page.wait_for_load_state("load")
                assert page.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")
                return [pictures.nth(i).get_attribute("src") for i in range(pictures.count())]

            def next_build(previous: str) -> str:
                """Wait, without reloading, until the page shows a newer build: it reloads itself."""

                def newer():
                    try:
                        build = page.evaluate("document.body.dataset.build")
                    # Caught in the middle of its reload: ask again.
                    except PlaywrightError:
                        return None
                    return build if build != previous else None

                return wait_until(newer, "the page to refresh itself")

            first = shown()
            # Facial.pdf, every page.
            assert len(first) == 4
            # And hair.pdf's.
            assert page.locator("#clinic-example .pages img").count() == 8
            # Not approved yet.
            assert page.locator("#clinic-example .verdict.needs_a_look").count() >= 1
            assert page.locator("#problems").count() == 0
            build = page.evaluate("document.body.dataset.build")
            first_page = get(port, first[0])[1]

            # The clinic manager changes the brand colour, to a CSS colour name, and saves.
            config.write_text(config.read_text().replace('"#0F6E6E"', '"purple"'))
            build = next_build(build)
            purple = shown()
            assert len(purple) == 4 and purple != first
            assert purple_pixels(get(port, purple[0])[1]) > 200 and purple_pixels(first_page) == 0
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / "preview-gallery.png", full_page=True)

            # A mistake: the page names file, line and field, and keeps the last good pictures.
            config.write_text(config.read_text().replace('"purple"', '"purplish"'))
            build = next_build(build)
            problems = page.locator("#problems")
            assert problems.is_visible()
            assert (
                f'clinic.yaml:{line_of(config, "primary:")} colors.primary: expected a colour like "#0F6E6E"'
                in problems.inner_text()
            )
            assert 'got "purplish" (did you mean "purple"?)' in problems.inner_text()
            assert shown() == purple
            page.screenshot(path=SCREENSHOTS / "preview-gallery-mistake.png", full_page=True)

            # Fixed: the message goes by itself, and the pictures are those of the same PDF as before.
            config.write_text(config.read_text().replace('"purplish"', '"#0F6E6E"'))
            build = next_build(build)
            assert page.locator("#problems").count() == 0
            assert shown() == first

            # A clinic's own template leaves the aftercare out: its documents fail, each said once, under its pictures.
            r = load_clinic(config, load_content(data)).strings.report
            partial = data / "clinics" / "example" / "templates" / "partials" / "aftercare.html.j2"
            partial.parent.mkdir(parents=True)
            partial.write_text("")
            build = next_build(build)
            box = page.locator("#problems").inner_text()
            assert "FAILED" not in box and "safety information is missing" not in box, box
            assert page.locator('#problems a[href="#example-facial.pdf"]').count() == 1
            assert "safety information is missing" in page.locator('[id="example-facial.pdf"]').inner_text()
            assert page.locator("#build-status").inner_text() == r.preview_finished_with_problems
            page.screenshot(path=SCREENSHOTS / "preview-gallery-failed.png", full_page=True)
            partial.unlink()
            build = next_build(build)
            assert (
                page.locator("#problems").count() == 0 and page.locator("#build-status").inner_text() == r.preview_ready
            )
            assert shown() == first

            # A treatment's words change: only the document that shows them is printed again.
            hair = data / "treatments" / "hair.yaml"
            log_before = log_file.read_text()
            hair.write_text(hair.read_text().replace("summary: ", "summary: Gentle. ", 1))
            next_build(build)
            assert shown() == first
            rebuilt = log_file.read_text()[len(log_before) :]
            assert "wrote      " in rebuilt and "hair.pdf" in rebuilt.split("wrote      ")[1].splitlines()[0]
            assert "unchanged  " in rebuilt and "facial.pdf" in rebuilt.split("unchanged  ")[1].splitlines()[0]
            assert not console_errors, console_errors
            browser.close()

        # Ctrl-C.
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0
        said = log_file.read_text()
        assert "Stopped the preview" in said and "Traceback" not in said, said
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    print(f"screenshots of the gallery: {SCREENSHOTS}")
