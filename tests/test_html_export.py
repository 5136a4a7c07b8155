"""`generate.py html`: every planned document as the standalone HTML the printer lays out, and a manifest that lists
each one; the HTML opens in WeasyPrint alone and gives the build's pages."""

from __future__ import annotations

import io
import json
import re
import shutil

import pytest
from pypdf import PdfReader

from brochures import exits
from brochures.cli.main import main
from conftest import DATA, EXAMPLE, edit_config


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    assert main(["html", "--clinic", "example", "--out", str(out)]) == 0
    return out, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_the_manifest_lists_every_planned_document_with_its_file(exported):
    out, manifest = exported
    documents = manifest["documents"]
    assert [d["name"] for d in documents] == ["facial", "hair", "body", "comparison", "booklet"]
    for document in documents:
        assert (out / document["html"]).is_file()
        assert document["output"] == f"example/{document['name']}.pdf"
        assert document["page_size"] == "A4" and document["landscape"] is False
        assert document["pdf_options"] == {"pdf_variant": "pdf/ua-1"}
    booklet = documents[-1]
    # The parts it binds after its cover and contents, in order: the leaflets' own files.
    assert [part["name"] for part in booklet["parts"]] == ["facial", "hair", "body", "comparison"]
    assert [part["html"] for part in booklet["parts"]] == [d["html"] for d in documents[:4]]


def test_the_html_stands_alone(exported):
    out, _ = exported
    text = (out / "example" / "facial.html").read_text(encoding="utf-8")
    assert f'<base href="{EXAMPLE.resolve().as_uri()}/">' in text
    styles = re.findall(r"<style>(.*?)</style>", text, re.S)
    # The fonts, the brand values, the layout sheet with common.css written in.
    assert len(styles) == 3 and "@font-face" in styles[0] and "--brand-primary" in styles[1]
    assert "@import" not in text and "@page" in styles[2]


def test_weasyprint_alone_prints_the_html_with_the_builds_pages(exported, example_build):
    from weasyprint import HTML

    out, manifest = exported
    facial = next(d for d in manifest["documents"] if d["name"] == "facial")
    pdf = HTML(filename=str(out / facial["html"])).write_pdf(**facial["pdf_options"])
    built = PdfReader(example_build / "facial.pdf")
    printed = PdfReader(io.BytesIO(pdf))
    assert len(printed.pages) == len(built.pages) == 4
    assert printed.pages[0].mediabox == built.pages[0].mediabox


def test_every_variant_and_layout_has_its_size_and_options(tmp_path):
    out = tmp_path / "html"
    assert main(["html", "--clinic", "example", "--treatment", "facial", "--treatment", "booklet",
                 "--variant", "all", "--layout", "all", "--out", str(out)]) == 0
    documents = json.loads((out / "manifest.json").read_text())["documents"]
    names = sorted(d["output"] for d in documents)
    assert names == sorted(f"example/{n}" for n in ("facial.pdf", "facial.trifold.pdf", "facial.press.pdf",
                                                       "facial.trifold.press.pdf", "booklet.pdf", "booklet.press.pdf"))
    trifold = next(d for d in documents if d["output"] == "example/facial.trifold.press.pdf")
    assert trifold["landscape"] is True and trifold["pdf_options"]["pdf_variant"] == "pdf/x-4"
    assert "press.css" in trifold["stylesheets"]
    # --treatment booklet alone: its parts are written all the same.
    press_booklet = next(d for d in documents if d["output"] == "example/booklet.press.pdf")
    assert all((out / part["html"]).is_file() for part in press_booklet["parts"])
    assert press_booklet["parts"][0]["html"] == "example/facial.press.html"


def test_mistakes_are_said_plainly(tmp_path, capsys):
    assert main(["html", "--treatment", "nonsense", "--out", str(tmp_path / "html")]) == 2
    err = capsys.readouterr().err
    assert '--treatment: expected one of' in err and "Traceback" not in err
    (tmp_path / "a-file").write_text("not a folder")
    assert main(["html", "--clinic", "example", "--out", str(tmp_path / "a-file")]) == 3
    assert "a-file: expected a folder for the brochures, got a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["html"])
    assert stop.value.code == 2 and "--out" in capsys.readouterr().err


def test_a_clinic_with_a_broken_template_is_left_out(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    broken = data / "clinics" / "broken"
    shutil.copytree(EXAMPLE, broken)
    edit_config(broken, "name: Example Aesthetics Clinic", "name: Broken Clinic")
    (broken / "templates").mkdir(exist_ok=True)
    (broken / "templates" / "brochure.html.j2").write_text('{% extends "base.html.j2" %}{% block body %}{{ x(',
                                                          encoding="utf-8")
    out = tmp_path / "html"
    assert main(["html", "--data", str(data), "--out", str(out)]) == 2
    assert "brochure.html.j2" in capsys.readouterr().err
    documents = json.loads((out / "manifest.json").read_text())["documents"]
    assert {d["clinic"] for d in documents} == {"example"} and not (out / "broken").exists()


def test_html_is_never_written_into_the_data_it_is_made_from(tmp_path, capsys):
    """As a build refuses: `html --out data/clinics` would write HTML files into the clinics' own folders."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    before = sorted(path.relative_to(data) for path in data.rglob("*"))
    assert main(["html", "--data", str(data), "--out", str(data / "clinics")]) == exits.OUTPUT
    assert "expected a folder apart from the input" in capsys.readouterr().err
    assert sorted(path.relative_to(data) for path in data.rglob("*")) == before
