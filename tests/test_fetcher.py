"""WeasyPrint reads only through the restricted fetcher: allowed folders, named font files, data: URLs."""

from __future__ import annotations

import base64
import os
import re
import struct
import threading
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from brochures import STYLES_DIR, TEMPLATES_DIR
from brochures.brand.fonts import find_font
from brochures.files.fetcher import ForbiddenResource, RestrictedFetcher
from conftest import EXAMPLE, edit_config
from generate import main


@pytest.fixture
def fetcher(tmp_path):
    (tmp_path / "clinic").mkdir()
    (tmp_path / "clinic" / "logo.svg").write_text("<svg/>")
    (tmp_path / "outside.txt").write_text("secret")
    return RestrictedFetcher([tmp_path / "clinic", STYLES_DIR])


def test_serves_files_inside_allowed_folders_and_data_urls(fetcher, tmp_path):
    assert fetcher((tmp_path / "clinic" / "logo.svg").as_uri()).read() == b"<svg/>"
    assert fetcher((STYLES_DIR / "common.css").as_uri()).read().startswith(b"/*")
    assert fetcher("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.parametrize("url", [
    "https://example.test/logo.svg", "http://127.0.0.1/", "ftp://example.test/x", "file:///etc/passwd"
])
def test_refuses_network_and_files_outside(fetcher, url):
    # Refused for its scheme, before any path is looked at; a file outside for its place.
    with pytest.raises(
        ForbiddenResource, match="refused to read /etc/passwd" if url.startswith("file:") else "refused to fetch"
    ):
        fetcher(url)


def test_refuses_dot_dot_and_symlinks_out_of_the_folder(fetcher, tmp_path):
    with pytest.raises(ForbiddenResource):
        fetcher((tmp_path / "clinic").as_uri() + "/../outside.txt")
    os.symlink(tmp_path / "outside.txt", tmp_path / "clinic" / "link.txt")
    with pytest.raises(ForbiddenResource):
        fetcher((tmp_path / "clinic" / "link.txt").as_uri())


def test_a_full_build_fetches_nothing_but_allowed_files_and_data(tmp_path, monkeypatch):
    # Printing happens in worker processes: the spy writes down what it sees.
    log = tmp_path / "fetched.txt"
    real_fetch = RestrictedFetcher.fetch

    def spy(self, url, headers=None):
        with open(log, "a") as file:
            file.write(url + "\n")
        return real_fetch(self, url, headers)

    monkeypatch.setattr(RestrictedFetcher, "fetch", spy)
    assert main(["--out", str(tmp_path / "out")]) == 0
    seen = log.read_text().split()
    schemes = {urlsplit(url).scheme for url in seen}
    assert schemes <= {"file", "data"}, schemes
    fonts = {face.path.resolve() for face in find_font("Atkinson Hyperlegible", EXAMPLE).faces}
    for url in seen:
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            assert path in fonts or any(path.is_relative_to(root) for root in (STYLES_DIR, TEMPLATES_DIR, EXAMPLE)), url
    # The spy really saw the build's reads.
    assert any(url.endswith("logo.svg") for url in seen)


def test_a_logo_that_pulls_in_outside_files_fails_its_clinic(clinic_copy, tmp_path, capsys):
    (clinic_copy / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
        '<image width="10" height="10" xlink:href="file:///etc/passwd"/>'
        '<image width="10" height="10" xlink:href="https://example.test/track.png"/></svg>'
    )
    edit_config(clinic_copy, "logo: logo.svg", "logo: evil.svg")
    # The logo is drawn once, on its own, before any document: it fails the clinic there, naming the field.
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "clinic.yaml" in err and " logo: expected a logo that can be drawn" in err and "refused" in err
    assert not (tmp_path / "mine").exists()


# --- What is served, and as what: decided by the bytes ---


def png(width: int, height: int) -> bytes:
    """A one-row greyscale PNG whose header says width×height."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
        + chunk(b"IEND", b"")
    )


def use_bomb(layers: int = 8) -> bytes:
    body = '<rect id="l0" width="1" height="1"/>' + "".join(
        f'<g id="l{n}">' + f'<use href="#l{n - 1}"/>' * 10 + "</g>" for n in range(1, layers + 1)
    )
    return f'<svg xmlns="http://www.w3.org/2000/svg"><defs>{body}</defs><use href="#l{layers}"/></svg>'.encode()


@pytest.mark.parametrize(
    "name,data,content_type",
    [
        # A PNG named .svg is served, and checked, as a PNG.
        ("logo.svg", png(40, 10), "image/png"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        ("shot.jpg", png(40, 10), "image/png"),
        # Not an image: the name's type.
        ("style.css", b"p { color: red }", "text/css"),
    ],
)
def test_the_content_type_comes_from_the_bytes(fetcher, tmp_path, name, data, content_type):
    (tmp_path / "clinic" / name).write_bytes(data)
    response = fetcher((tmp_path / "clinic" / name).as_uri())
    assert response.content_type == content_type and response.read() == data


@pytest.mark.parametrize(
    "name,data,fragment",
    [
        # Named .svg: the PNG size checks still apply.
        ("huge.svg", png(12000, 12000), "got 12000×12000"),
        # Named .png: the SVG checks still apply.
        ("bomb.png", use_bomb(), "at most 20,000 elements"),
        ("bomb.svg", use_bomb(), "at most 20,000 elements"),
        ("notes.png", b"just text", "expected an image, got a text file"),
        ("empty.svg", b"", "expected an image, got an empty file"),
        ("cut.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><g>', "cannot be read as XML"),
    ],
)
def test_images_are_checked_whatever_their_name(fetcher, tmp_path, name, data, fragment):
    (tmp_path / "clinic" / name).write_bytes(data)
    with pytest.raises(ForbiddenResource, match=re.escape(fragment)):
        fetcher((tmp_path / "clinic" / name).as_uri())
    assert not fetcher.served


def test_data_urls_are_checked_by_their_bytes(fetcher):
    bomb = base64.b64encode(use_bomb()).decode()
    with pytest.raises(ForbiddenResource, match="20,000 elements"):
        fetcher(f"data:application/octet-stream;base64,{bomb}")
    with pytest.raises(ForbiddenResource, match="expected an image, got a text file"):
        fetcher("data:image/png;base64," + base64.b64encode(b"not a png").decode())
    assert fetcher("data:image/svg+xml;base64," + base64.b64encode(png(4, 4)).decode()).content_type == "image/png"


def test_a_named_pipe_is_refused_without_blocking(fetcher, tmp_path):
    fifo = tmp_path / "clinic" / "pipe.svg"
    os.mkfifo(fifo)
    result: dict = {}

    def fetch():
        try:
            fetcher(fifo.as_uri())
        except Exception as error:  # noqa: BLE001 - checked below
            result["error"] = error

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():
        # Let the stuck reader go.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not thread.is_alive(), "the fetcher blocked on a named pipe"
    assert isinstance(result["error"], ForbiddenResource)
    assert "expected a regular file, got a named pipe (FIFO)" in str(result["error"])


def test_served_records_every_local_file_served_resolved_and_in_order(fetcher, tmp_path):
    (tmp_path / "clinic" / "real.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    os.symlink(tmp_path / "clinic" / "real.svg", tmp_path / "clinic" / "alias.svg")
    assert fetcher.served == {}
    fetcher((STYLES_DIR / "common.css").as_uri())
    fetcher((tmp_path / "clinic" / "alias.svg").as_uri())
    fetcher((tmp_path / "clinic" / "logo.svg").as_uri())
    # Served again: recorded once.
    fetcher((STYLES_DIR / "common.css").as_uri())
    # Not a file.
    fetcher("data:text/plain;base64,aGk=")
    for refused in ((tmp_path / "outside.txt").as_uri(), (tmp_path / "clinic" / "missing.svg").as_uri()):
        with pytest.raises((ForbiddenResource, FileNotFoundError)):
            fetcher(refused)
    assert list(fetcher.served) == [
        (STYLES_DIR / "common.css").resolve(),
        (tmp_path / "clinic" / "real.svg").resolve(),
        (tmp_path / "clinic" / "logo.svg").resolve(),
    ]


def test_refusals_are_safe_to_print(fetcher, tmp_path):
    with pytest.raises(ForbiddenResource) as raised:
        fetcher((tmp_path / "evil\x1b[2J\u202e.svg").as_uri())
    assert "\x1b" not in str(raised.value) and "\u202e" not in str(raised.value)
    assert "evil\\x1b[2J\\u202e.svg" in str(raised.value)
