"""WeasyPrint reads only through the restricted fetcher: allowed folders, named font files, data: URLs."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from brochures import STYLES_DIR, TEMPLATES_DIR
from brochures.branding import find_font
from brochures.fetcher import ForbiddenResource, RestrictedFetcher
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
    "https://example.test/logo.svg",
    "http://127.0.0.1/",
    "ftp://example.test/x",
    "file:///etc/passwd",
])
def test_refuses_network_and_files_outside(fetcher, url):
    # Refused for its scheme, before any path is looked at; a file outside for its place.
    with pytest.raises(ForbiddenResource, match="refused to read /etc/passwd" if url.startswith("file:") else "refused to fetch"):
        fetcher(url)


def test_refuses_dot_dot_and_symlinks_out_of_the_folder(fetcher, tmp_path):
    with pytest.raises(ForbiddenResource):
        fetcher((tmp_path / "clinic").as_uri() + "/../outside.txt")
    os.symlink(tmp_path / "outside.txt", tmp_path / "clinic" / "link.txt")
    with pytest.raises(ForbiddenResource):
        fetcher((tmp_path / "clinic" / "link.txt").as_uri())


def test_a_full_build_fetches_nothing_but_allowed_files_and_data(tmp_path, monkeypatch):
    log = tmp_path / "fetched.txt"  # printing happens in worker processes: the spy writes down what it sees
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
    assert any(url.endswith("logo.svg") for url in seen)  # the spy really saw the build's reads


def test_a_logo_that_pulls_in_outside_files_fails_that_document(clinic_copy, tmp_path, capsys):
    (clinic_copy / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
        '<image width="10" height="10" xlink:href="file:///etc/passwd"/>'
        '<image width="10" height="10" xlink:href="https://example.test/track.png"/></svg>')
    edit_config(clinic_copy, "logo: logo.svg", "logo: evil.svg")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "facial.pdf" in err and "refused" in err
    assert not (tmp_path / "mine" / "facial.pdf").exists()
