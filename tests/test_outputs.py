"""The files clinics need: press files for a print shop, the booklet, and size budgets for email."""

from __future__ import annotations

import re

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader

from conftest import ROSEWOOD, pdf_text, struct_nodes
from generate import main

MM = 72 / 25.4
A4 = (595.28, 841.89)
BRAND = (0x0F, 0x6E, 0x6E)


@pytest.fixture(scope="module")
def press_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("press")
    assert main(["--variant", "all", "--treatment", "facial", "--treatment", "comparison", "--out", str(out)]) == 0
    return out / "example"


def close(a, b, tolerance=14):
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def test_variant_all_writes_standard_and_press_files_side_by_side(press_build):
    assert sorted(p.name for p in press_build.glob("*.pdf")) == [
        "comparison.pdf", "comparison.press.pdf", "facial.pdf", "facial.press.pdf"]


@pytest.mark.parametrize("name", ["facial.press.pdf", "comparison.press.pdf"])
def test_press_file_has_bleed_trim_and_pdfx_identification(press_build, name):
    reader = PdfReader(press_build / name)
    bleed = 3 * MM
    for page in reader.pages:
        media, bleed_box, trim = page.mediabox, page.bleedbox, page.trimbox
        assert (round(float(trim.width), 1), round(float(trim.height), 1)) == (round(A4[0], 1), round(A4[1], 1))
        assert float(media.width) == pytest.approx(float(trim.width) + 2 * bleed, abs=0.1)
        assert float(media.height) == pytest.approx(float(trim.height) + 2 * bleed, abs=0.1)
        assert float(media.left) <= float(bleed_box.left) <= float(trim.left)
        assert float(trim.top) <= float(bleed_box.top) <= float(media.top)
    root = reader.trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFX" and "/DestOutputProfile" in intent
    xmp = root["/Metadata"].get_object().get_data()
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in xmp
    assert reader.metadata["/Trapped"] == "/False"
    # Still tagged.
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    assert root["/Lang"] == "en" and reader.metadata.title


def test_press_file_embeds_every_font(press_build):
    reader = PdfReader(press_build / "facial.press.pdf")
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font.get("/BaseFont")
            fonts += 1
    assert fonts


def test_press_backgrounds_reach_the_bleed_edge_and_crop_marks_are_drawn(press_build):
    document = pypdfium2.PdfDocument(press_build / "facial.press.pdf")
    for page in document:
        # The whole MediaBox, bleed included.
        image = page.render(scale=2).to_pil().convert("RGB")
        width, height = image.size
        for x in (0, width // 4, width // 2, width - 1):
            assert close(image.getpixel((x, 0)), BRAND), "the brand band does not reach the top bleed edge"
        # Still band inside the trim.
        assert close(image.getpixel((width // 2, round(6 * MM * 2))), BRAND)
        # And only a band.
        assert not close(image.getpixel((width // 2, round(12 * MM * 2))), BRAND)
        corner = [
            image.getpixel((x, y))
            for x in range(0, round(3 * MM * 2))
            for y in range(height - round(3 * MM * 2), height)
        ]
        assert any(sum(pixel) < 200 for pixel in corner), "no crop mark in the bottom-left bleed"


def test_standard_file_has_no_bleed(press_build):
    for page in PdfReader(press_build / "facial.pdf").pages:
        assert page.mediabox == page.trimbox


def test_low_resolution_logo_is_warned_about_in_press_files(tmp_path, capsys, assert_no_weasyprint_logs):
    assert main(["--clinic", str(ROSEWOOD), "--variant", "press", "--treatment", "facial", "--out", str(tmp_path)]) == 0
    for record in assert_no_weasyprint_logs:
        # This warning is what the test is about.
        record.expected_by_test = True
    out = capsys.readouterr().out
    assert re.search(r"warning: an image \(480×128 px\) prints at \d+ dpi, below the 300 dpi print shops need", out)


def test_svg_logo_raises_no_resolution_warning(tmp_path, capsys):
    assert main(["--variant", "press", "--treatment", "facial", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "dpi" not in out


@pytest.fixture(scope="module")
def booklet(example_build):
    return example_build / "booklet.pdf"


def outline_titles(reader, items=None, depth=0):
    titles = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            titles += outline_titles(reader, item, depth + 1)
        else:
            titles.append((depth, item.title, reader.get_destination_page_number(item) + 1))
    return titles


def test_booklet_has_a_bookmark_for_each_part(booklet):
    from brochures.load.content import load_content
    from conftest import DATA

    content = load_content(DATA)
    reader = PdfReader(booklet)
    top = [title for depth, title, _ in outline_titles(reader) if depth == 0]
    assert top == [content.shared.booklet_title] + [t.title for t in content.treatments.values()] + [
        content.shared.title
    ]
    assert reader.metadata.title == content.shared.booklet_title


def test_booklet_contents_link_to_the_first_page_of_each_leaflet(booklet):
    reader = PdfReader(booklet)
    contents = " ".join(reader.pages[1].extract_text().split())
    parts = [(title, page) for depth, title, page in outline_titles(reader) if depth == 0][1:]
    # Cover, contents, then the parts.
    assert [page for _, page in parts] == sorted(page for _, page in parts) and parts[0][1] == 3
    destinations = {
        name: reader.get_destination_page_number(dest) + 1 for name, dest in reader.named_destinations.items()
    }
    links = [annotation.get_object()["/Dest"] for annotation in reader.pages[1]["/Annots"]]
    assert [destinations[link] for link in links] == [page for _, page in parts]
    for title, page in parts:
        assert title in contents, f"{title} not in the contents page: {contents}"
        assert title in " ".join(reader.pages[page - 1].extract_text().split())


def test_booklet_binds_each_leaflet_as_printed_on_its_own(booklet):
    """The booklet's parts are the leaflets' own pages (laid out once for both): the same text, page for page,
    each with its own page numbers."""
    reader = PdfReader(booklet)
    page, labels = 3, ["i", "ii"]
    for place, name in enumerate(("facial", "hair", "body", "comparison"), start=1):
        leaflet = PdfReader(booklet.with_name(f"{name}.pdf"))
        for number, leaflet_page in enumerate(leaflet.pages, start=1):
            text = reader.pages[page - 1].extract_text()
            assert text == leaflet_page.extract_text(), f"booklet page {page} is not page {number} of {name}.pdf"
            assert f"Page {number} of {len(leaflet.pages)}" in text
            # A viewer numbers it as its footer does, after its place in the contents.
            labels.append(f"{place}-{number}")
            page += 1
    assert page - 1 == len(reader.pages)
    assert reader.page_labels == labels


def test_booklet_is_one_tagged_accessible_document(booklet):
    reader = PdfReader(booklet)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root and root["/Lang"] == "en"
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    text = pdf_text(booklet)
    for needed in (
        "Facial mesotherapy", "Hair mesotherapy", "Body mesotherapy", "Medical or cosmetic?", "Book a consultation"
    ):
        assert needed in text
    # The clinic's disclaimer, in each leaflet it binds.
    assert text.count("Please note:") == 4
    # one structure tree for the whole booklet: the cover's title, then each part's
    assert [node["/S"] for node in struct_nodes(booklet)].count("/H1") == 5


@pytest.mark.parametrize("name", ["facial.pdf", "hair.pdf", "body.pdf", "comparison.pdf"])
def test_standard_files_are_small_enough_to_email(example_build, name):
    assert (example_build / name).stat().st_size <= 200 * 1024


def test_every_file_name_is_safe_to_attach(example_build, press_build):
    for pdf in [*example_build.parent.rglob("*.pdf"), *press_build.rglob("*.pdf")]:
        assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.pdf", pdf.name), pdf.name
        assert re.fullmatch(r"[a-z0-9-]+", pdf.parent.name), pdf.parent.name


# --- Tri-fold ---


@pytest.fixture(scope="module")
def trifold_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("trifold")
    assert (
        main(
            [
                "--layout", "trifold", "--variant", "all", "--treatment", "facial", "--treatment", "hair",
                "--treatment", "body", "--out", str(out)
            ]
        )
        == 0
    )
    return out / "example"


@pytest.mark.parametrize("slug", ["facial", "hair", "body"])
def test_trifold_is_one_landscape_sheet_printed_both_sides(trifold_build, slug):
    reader = PdfReader(trifold_build / f"{slug}.trifold.pdf")
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert (round(float(page.trimbox.width)), round(float(page.trimbox.height))) == (842, 595)
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] and root["/Lang"] == "en"
    assert reader.metadata.title == f"{slug.capitalize()} mesotherapy"


def test_trifold_reading_order_starts_at_the_front_cover(trifold_build):
    # The front cover is painted at the right of the outside page, but it is read first.
    roles = [node["/S"] for node in struct_nodes(trifold_build / "facial.trifold.pdf") if node["/S"] in ("/H1", "/H2")]
    assert roles[0] == "/H1" and roles.count("/H1") == 1 and len(roles) >= 8


@pytest.mark.parametrize("name", ["facial.trifold.pdf", "hair.trifold.pdf", "body.trifold.press.pdf"])
def test_no_text_on_a_fold(trifold_build, name):
    """Every pixel column within 3 mm of a fold is one plain colour from top to bottom: no glyph crosses it."""
    reader = PdfReader(trifold_build / name)
    document = pypdfium2.PdfDocument(trifold_build / name)
    scale = 2
    for index, (page, folds) in enumerate(zip(document, ((97, 197), (100, 200)))):
        trim = reader.pages[index].trimbox
        # Bleed, in points.
        offset = float(trim.left) - float(reader.pages[index].mediabox.left)
        image = page.render(scale=scale).to_pil().convert("RGB")
        top, bottom = round((offset + 10) * scale), round((offset + float(trim.height) - 10) * scale)
        for fold in folds:
            centre = (offset + fold * MM) * scale
            for x in range(round(centre - 3 * MM * scale), round(centre + 3 * MM * scale)):
                colours = {image.getpixel((x, y)) for y in range(top, bottom)}
                assert len(colours) == 1 or max(max(c) - min(c) for c in zip(*colours)) < 20, (
                    f"{name} page {index + 1}: something is printed on the fold at {fold} mm"
                )


def test_trifold_front_cover_bleeds_in_the_press_file(trifold_build):
    image = pypdfium2.PdfDocument(trifold_build / "facial.trifold.press.pdf")[0].render(scale=2).to_pil().convert("RGB")
    width, height = image.size
    # Right bleed edge, beside the front cover.
    assert close(image.getpixel((width - 1, height // 2)), BRAND)
    # Top bleed edge over the front cover.
    assert close(image.getpixel((width - 40, 0)), BRAND)


def test_trifold_for_a_letter_clinic_is_letter_landscape(tmp_path):
    assert main(["--clinic", str(ROSEWOOD), "--layout", "trifold", "--treatment", "hair", "--out", str(tmp_path)]) == 0
    for page in PdfReader(tmp_path / "rosewood" / "hair.trifold.pdf").pages:
        assert (round(float(page.trimbox.width)), round(float(page.trimbox.height))) == (792, 612)


def test_a_too_full_panel_fails_with_its_name_instead_of_spilling(tmp_path, capsys):
    import shutil

    from conftest import DATA

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    facial = data / "treatments" / "facial.yaml"
    extra = "".join(
        f"  - Keep the area clean and dry, and follow any other advice you were given, number {n}.\n" for n in range(12)
    )
    facial.write_text(facial.read_text().replace("aftercare:\n", "aftercare:\n" + extra))
    assert (
        main(["--data", str(data), "--layout", "trifold", "--treatment", "facial", "--out", str(tmp_path / "out")]) == 1
    )
    err = capsys.readouterr().err
    assert "facial.trifold.pdf: the tri-fold" in err and ("too full" in err or "exactly 2 pages" in err)
    assert "use the leaflet layout" in err
    assert not (tmp_path / "out" / "example" / "facial.trifold.pdf").exists()


def test_a_booklet_binds_the_leaflets_its_worker_printed_without_laying_them_out_again(tmp_path):
    """Never lay out a page twice: the booklet binds the pages its leaflets were laid out in, and the gate counts
    what it measured on them. A printer that has not printed them lays them out itself, to the same booklet, and
    measures the same."""
    from brochures.load.clinic import find_clinic_file, load_clinic
    from brochures.load.content import load_content
    from brochures.pdf.printer import Printer
    from brochures.plan.documents import booklet_parts, plan_documents
    from brochures.render.html import HtmlRenderer
    from conftest import DATA

    content = load_content(DATA)
    clinic = load_clinic(find_clinic_file("example", DATA), content)
    renderer = HtmlRenderer(content)

    def spied(printer, laid_out):
        original = printer._lay_out
        printer._lay_out = lambda document, html: laid_out.append(document.name) or original(document, html)
        return printer

    booklets = []
    for folder, leaflets_first in ((tmp_path / "one-worker", True), (tmp_path / "booklet-alone", False)):
        documents = plan_documents([clinic], content, folder)
        booklet = next(document for document in documents if document.kind == "booklet")
        laid_out: list[str] = []
        printer = spied(Printer(), laid_out)
        if leaflets_first:
            for document in documents[:-1]:
                printer.build(document, renderer.render(document))
            laid_out.clear()
        parts = tuple((part, renderer.render(part)) for part in booklet_parts(booklet, content))
        printed = printer.build(booklet, renderer.render(booklet), parts=parts)
        assert laid_out == (["booklet"] if leaflets_first else ["booklet", *clinic.treatments, "comparison"])
        booklets.append((printed, [page.extract_text() for page in PdfReader(booklet.output).pages]))
    (reused, reused_text), (measured, measured_text) = booklets
    assert reused_text == measured_text
    assert reused.inspection == measured.inspection


def test_workers_share_which_layout_a_long_leaflet_keeps_and_the_pages_they_checked(tmp_path, monkeypatch):
    """One clinic, two workers: one binds the booklet, laying the leaflets out itself, while the other prints them.
    What one learns saves the other the same work (pdf/shared.py): a leaflet one page over its budget is laid out once,
    with the closer layout the other kept, not twice; and the booklet's check counts the pages the other worker
    measured on the leaflets instead of rendering them again, when they draw exactly the same. Either way, the same
    documents and the same findings."""
    import json

    from brochures.load.clinic import find_clinic_file, load_clinic
    from brochures.load.content import load_content
    from brochures.pdf import printer as printing
    from brochures.pdf.shared import Shared, content_digest
    from brochures.plan.documents import booklet_parts, plan_documents
    from brochures.render.html import HtmlRenderer
    from conftest import DATA

    content = load_content(DATA)
    clinic = load_clinic(find_clinic_file("example", DATA), content)
    renderer = HtmlRenderer(content)
    shared = tmp_path / "shared"
    rendered: list[str] = []
    known_pages: list[set[int]] = []
    inspect = printing.inspect_pages

    def counted(*args, known=None, **kwargs):
        known_pages.append(set(known or {}))
        return inspect(*args, known=known, **kwargs)

    monkeypatch.setattr(printing, "inspect_pages", counted)

    def worker():
        printer = printing.Printer(Shared(shared))
        original = printer._render
        printer._render = lambda document, html, sheets: rendered.append(document.name) or original(
            document, html, sheets)
        return printer

    def booklet_alone(folder):
        documents = plan_documents([clinic], content, folder)
        booklet = next(document for document in documents if document.kind == "booklet")
        parts = tuple((part, renderer.render(part)) for part in booklet_parts(booklet, content))
        return booklet, worker().build(booklet, renderer.render(booklet), parts=parts)

    # The booklet first, on its own: it lays out every leaflet, one of them twice (roomy, then closer).
    booklet, first = booklet_alone(tmp_path / "first")
    twice = sorted({name for name in rendered if rendered.count(name) == 2})
    assert twice, f"no leaflet of the example needs the closer layout any more ({rendered}): make one longer"
    assert not known_pages[-1]
    # The other worker prints the leaflets: each laid out once, the long one straight in the layout kept.
    rendered.clear()
    leaflets = [d for d in plan_documents([clinic], content, tmp_path / "second") if d.kind != "booklet"]
    printer = worker()
    for document in leaflets:
        printer.build(document, renderer.render(document), share=True)
    assert sorted(rendered) == sorted(document.name for document in leaflets)
    with pikepdf.open(booklet.output) as bound:
        digests = {content_digest(page) for page in bound.pages}
    for document in leaflets:
        with pikepdf.open(document.output) as leaflet:
            assert {content_digest(page) for page in leaflet.pages} <= digests, document.name

    # A booklet bound after that counts every page of its parts as measured, and finds what the first one found.
    rendered.clear()
    _, second = booklet_alone(tmp_path / "third")
    pages = len(PdfReader(booklet.output).pages)
    cover = pages - sum(len(PdfReader(d.output).pages) for d in leaflets)
    assert known_pages[-1] == set(range(cover + 1, pages + 1))
    assert rendered.count(twice[0]) == 1
    assert second.inspection == first.inspection

    # Facts for a page that draws something else are not used; nor is a file that is not what a worker writes.
    facts_file = sorted(shared.glob("pages-*.json"))[0]
    facts = json.loads(facts_file.read_text())
    facts[0][0] = "0" * 64
    facts_file.write_text(json.dumps(facts))
    for path in shared.glob("layout-*.json"):
        path.write_text("{not json")
    rendered.clear()
    _, third = booklet_alone(tmp_path / "fourth")
    assert len(known_pages[-1]) == pages - cover - 1
    assert rendered.count(twice[0]) == 2
    assert third.inspection == first.inspection
