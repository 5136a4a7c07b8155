"""The build cache: unchanged documents are not printed again, and a changed input always is."""

from __future__ import annotations

import shutil

import pytest

from conftest import DATA, pdf_text
from generate import main


@pytest.fixture
def data(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    return copy


# The booklet takes as long as the rest together: only the test that is about it builds it.
SOME = ["--treatment", "facial", "--treatment", "hair", "--treatment", "comparison"]


def build(data, out, capsys, *extra) -> dict[str, str]:
    """Build, and return what the command said it did with each file: "wrote" or "unchanged"."""
    assert main(["--data", str(data), "--out", str(out), *(extra or SOME)]) == 0
    said = {}
    for line in capsys.readouterr().out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("wrote", "unchanged"):
            said[parts[1].rsplit("/", 1)[-1]] = parts[0]
    return said


ALL = ["comparison.pdf", "facial.pdf", "hair.pdf"]


def test_second_build_prints_nothing_again(data, tmp_path, capsys):
    out = tmp_path / "out"
    assert set(build(data, out, capsys).values()) == {"wrote"}
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "example").glob("*.pdf")}
    said = build(data, out, capsys)
    assert sorted(said) == ALL and set(said.values()) == {"unchanged"}
    assert {p.name: p.stat().st_mtime_ns for p in (out / "example").glob("*.pdf")} == stamps


def test_changed_content_rebuilds_only_what_shows_it(data, tmp_path, capsys):
    out = tmp_path / "out"
    build(data, out, capsys, *SOME, "--treatment", "booklet")
    hair = data / "treatments" / "hair.yaml"
    hair.write_text(
        hair.read_text().replace("feed and strengthen the roots of your hair.", "nourish the roots of your hair.")
    )
    said = build(data, out, capsys, *SOME, "--treatment", "booklet")
    assert said["hair.pdf"] == "wrote"
    # The summary is not in the comparison.
    assert said["facial.pdf"] == said["comparison.pdf"] == "unchanged"
    # But it is in the booklet.
    assert said["booklet.pdf"] == "wrote"
    assert "nourish the roots of your hair." in pdf_text(out / "example" / "hair.pdf")


@pytest.mark.parametrize(
    "file,old,new",
    [
        # A brand colour.
        ("clinic.yaml", '"#0F6E6E"', '"#1A5276"'),
        # The logo file, under the same name.
        ("logo.svg", 'fill="#FFFFFF"', 'fill="#FFEEDD"'),
    ],
)
def test_changed_branding_rebuilds_everything_for_that_clinic(data, tmp_path, capsys, file, old, new):
    out = tmp_path / "out"
    build(data, out, capsys)
    path = data / "clinics" / "example" / file
    path.write_text(path.read_text().replace(old, new))
    assert set(build(data, out, capsys).values()) == {"wrote"}


def test_deleted_or_altered_pdf_is_rebuilt(data, tmp_path, capsys):
    out = tmp_path / "out"
    build(data, out, capsys)
    (out / "example" / "facial.pdf").unlink()
    (out / "example" / "hair.pdf").write_bytes(b"%PDF-1.7 truncated")
    said = build(data, out, capsys)
    assert said["facial.pdf"] == said["hair.pdf"] == "wrote"
    assert said["comparison.pdf"] == "unchanged"
    assert "Hair mesotherapy" in pdf_text(out / "example" / "hair.pdf")


def test_force_prints_everything_again(data, tmp_path, capsys):
    out = tmp_path / "out"
    build(data, out, capsys)
    assert set(build(data, out, capsys, *SOME, "--force").values()) == {"wrote"}


def test_a_damaged_cache_file_only_costs_a_rebuild(data, tmp_path, capsys):
    out = tmp_path / "out"
    build(data, out, capsys)
    (out / ".build-cache.json").write_text("{not json")
    assert set(build(data, out, capsys).values()) == {"wrote"}


def test_a_file_the_logo_itself_reads_is_an_input_too(data, tmp_path, capsys):
    from PIL import Image

    clinic = data / "clinics" / "example"
    Image.new("RGB", (60, 24), "#0F6E6E").save(clinic / "inner.png")
    (clinic / "wrapper.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="150" height="60">'
        '<image width="150" height="60" href="inner.png"/></svg>'
    )
    config = clinic / "clinic.yaml"
    config.write_text(config.read_text().replace("logo: logo.svg", "logo: wrapper.svg"))
    out = tmp_path / "out"
    build(data, out, capsys)
    # Same name, new picture.
    Image.new("RGB", (60, 24), "#7A1F5C").save(clinic / "inner.png")
    assert set(build(data, out, capsys).values()) == {"wrote"}
    assert set(build(data, out, capsys).values()) == {"unchanged"}
