"""Real builds: the example clinic, a rebranded clinic, and the command's options."""

from __future__ import annotations

import shutil

import pypdfium2
import pytest
from pypdf import PdfReader

from brochures.load.content import load_content
from conftest import DATA, pdf_text, struct_elements, struct_nodes
from generate import main

CONTENT = load_content(DATA)
TREATMENTS = list(CONTENT.treatments)
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


def page_sizes(path):
    return {(round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2)) for p in PdfReader(path).pages}


def test_example_clinic_builds_every_document(example_build):
    names = sorted(p.name for p in example_build.glob("*.pdf"))
    assert names == sorted([f"{slug}.pdf" for slug in TREATMENTS] + ["booklet.pdf", "comparison.pdf"])
    assert not list(example_build.parent.rglob("*.tmp")), "temporary files left behind"


@pytest.mark.parametrize("slug", TREATMENTS)
def test_brochure_metadata_and_tags(example_build, slug):
    path = example_build / f"{slug}.pdf"
    reader = PdfReader(path)
    meta = reader.metadata
    assert meta.title == CONTENT.treatments[slug].title
    assert meta.author == "Example Aesthetics Clinic"
    assert meta.subject == f"Patient information: {CONTENT.treatments[slug].title}"
    assert "mesotherapy" in meta["/Keywords"]
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert root["/MarkInfo"]["/Marked"]
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    assert page_sizes(path) == {A4}
    assert 2 <= len(reader.pages) <= 5


@pytest.mark.parametrize("slug", TREATMENTS)
def test_brochure_says_everything_in_its_treatment_file(example_build, slug):
    """Every item of content in the treatment file reaches the patient."""
    text = pdf_text(example_build / f"{slug}.pdf")
    treatment = CONTENT.treatments[slug]
    expected = [treatment.title, treatment.summary, treatment.takeaway, treatment.results, treatment.ingredients_note]
    for name in ("intro", "helps_with", "benefits", "method", "limits", "home_care", "suits", "not_suitable",
                 "discuss_first", "aftercare", "contact_clinic", "emergency"):
        expected += getattr(treatment, name)
    expected += [i.name for i in treatment.ingredients] + [i.purpose for i in treatment.ingredients]
    expected += treatment.side_effects.common + treatment.side_effects.rare + [treatment.side_effects.common_note]
    expected += [treatment.course.sessions, treatment.course.spacing, treatment.course.downtime]
    missing = [item for item in expected if " ".join(item.split()) not in text]
    assert not missing, f"not in {slug}.pdf: {missing}"


def test_brochures_carry_safety_and_clinic_details(example_build):
    for slug in TREATMENTS:
        text = pdf_text(example_build / f"{slug}.pdf")
        for needed in ("Do not have this treatment if", "Side effects", "Looking after yourself afterwards",
                       "Call 999 straight away if", "Call us on 020 7946 0000.", "not permanent",
                       "example-clinic.test/book", "hello@example-clinic.test", "1 High Street",
                       "Page 1 of", "Information checked 24 November 2026", "Where this information comes from"):
            assert needed in text, f"{needed!r} missing from {slug}.pdf"


def test_honest_limits_from_the_source_article_survive(example_build):
    assert "does not create new hair" in pdf_text(example_build / "hair.pdf")
    body = pdf_text(example_build / "body.pdf")
    assert "not a substitute for" in body and "trained professional" in body
    assert "cannot replace sessions" in pdf_text(example_build / "facial.pdf")
    assert "cannot replace" in pdf_text(example_build / "comparison.pdf")


@pytest.mark.parametrize("slug", TREATMENTS + ["comparison", "booklet"])
def test_every_figure_has_alternative_text(example_build, slug):
    figures = struct_elements(example_build / f"{slug}.pdf", "/Figure")
    # logo and QR code everywhere; icon and skin diagram in each brochure
    assert len(figures) >= {"comparison": 2, "booklet": 2 + 2 * len(TREATMENTS)}.get(slug, 4)
    assert all(str(figure.get("/Alt", "")).strip() for figure in figures)
    assert struct_elements(example_build / f"{slug}.pdf", "/H1")


@pytest.mark.parametrize("slug", TREATMENTS + ["comparison"])
def test_side_by_side_columns_are_tagged_as_two_groups_not_as_layout_boxes(example_build, slug):
    # Two columns are laid out as table cells (common.css .columns); the anonymous table, row group and row that
    # WeasyPrint makes for them are not left in the tags as groups holding one group each.
    nodes = struct_nodes(example_build / f"{slug}.pdf")
    nested = [node for node in nodes if node["/S"] in ("/Div", "/Sect") and isinstance(node["/K"], list)
              and len(node["/K"]) == 1 and node["/K"][0].get_object().get("/S") == node["/S"]]
    assert not nested
    # Each pair of columns is one group holding two, each with its heading: "side effects" are common | rare.
    pairs = [node for node in nodes if node["/S"] == "/Div" and len(node["/K"]) == 2
             and all(kid.get_object()["/S"] in ("/Div", "/Sect") for kid in node["/K"])]
    assert len(pairs) >= (1 if slug == "comparison" else 3)


def test_comparison_sheet_comes_from_the_same_treatment_data(example_build):
    path = example_build / "comparison.pdf"
    text = pdf_text(path)
    assert PdfReader(path).metadata.title == CONTENT.shared.title
    for treatment in CONTENT.treatments.values():
        for cell in (treatment.title, treatment.goal, treatment.method_summary, treatment.course.downtime_summary,
                     treatment.home_care_summary, *treatment.benefits, *(i.name for i in treatment.ingredients)):
            assert " ".join(cell.split()) in text, cell
    mvc = CONTENT.shared.medical_vs_cosmetic
    for paragraph in (mvc.medical, mvc.cosmetic, mvc.important, CONTENT.shared.safety_note,
                      *CONTENT.shared.intro, *CONTENT.shared.in_summary, *CONTENT.shared.home_products):
        assert " ".join(paragraph.split()) in text
    # Body is professional only.
    assert "Only in the clinic, by a trained professional" in text


def test_second_clinic_rebrands_everything_by_config_alone(example_build, rosewood_build):
    assert sorted(p.name for p in rosewood_build.glob("*.pdf")) == [
        "booklet.pdf", "comparison.pdf", "facial.pdf", "hair.pdf"
    ]
    facial = rosewood_build / "facial.pdf"
    assert page_sizes(facial) == {LETTER}
    assert PdfReader(facial).metadata.author == "Rosewood Skin & Hair Clinic"
    text = pdf_text(facial)
    assert "Rosewood Skin & Hair Clinic" in text and "Call 911 straight away if" in text
    assert "rosewood-clinic.test/appointments" in text and "Example Aesthetics" not in text
    comparison = pdf_text(rosewood_build / "comparison.pdf")
    assert "Hair mesotherapy" in comparison and "Body mesotherapy" not in comparison

    # Look at page 1 as a person would: each clinic's own colour fills its pages, not the other's.
    def colour_share(path, rgb):
        image = pypdfium2.PdfDocument(path)[0].render(scale=0.5).to_pil().convert("RGB")
        colours = image.getcolors(maxcolors=image.width * image.height)
        close = sum(count for count, colour in colours if all(abs(a - b) <= 12 for a, b in zip(colour, rgb)))
        return close / (image.width * image.height)

    example_teal, rosewood_wine = (0x0F, 0x6E, 0x6E), (0x7A, 0x1F, 0x3D)
    assert colour_share(example_build / "facial.pdf", example_teal) > 0.01
    assert colour_share(facial, rosewood_wine) > 0.01
    assert colour_share(facial, example_teal) < 0.001
    assert colour_share(example_build / "facial.pdf", rosewood_wine) < 0.001


def test_treatment_option_builds_only_what_is_asked(tmp_path, capsys):
    assert main(["--treatment", "hair", "--treatment", "comparison", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "example").glob("*.pdf")) == ["comparison.pdf", "hair.pdf"]
    output = capsys.readouterr().out
    assert "hair.pdf" in output and "pages" in output and "KB" in output
    assert "Built 2 documents for 1 clinic in" in output


@pytest.mark.parametrize(
    "reference", ["example", str(DATA / "clinics" / "example"), str(DATA / "clinics" / "example" / "clinic.yaml")]
)
def test_clinic_can_be_named_by_slug_folder_or_file(tmp_path, reference):
    assert main(["--clinic", reference, "--treatment", "comparison", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "example" / "comparison.pdf").is_file()


def test_a_new_treatment_file_makes_a_new_brochure_without_code_changes(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    neck = (
        (data / "treatments" / "facial.yaml")
        .read_text()
        .replace("title: Facial mesotherapy", "title: Neck mesotherapy")
    )
    (data / "treatments" / "neck.yaml").write_text(neck)
    config = data / "clinics" / "example" / "clinic.yaml"
    # Default: every treatment.
    config.write_text(config.read_text().replace("treatments: [facial, hair, body]\n", ""))
    assert (
        main(["--data", str(data), "--treatment", "neck", "--treatment", "comparison", "--out", str(tmp_path / "out")])
        == 0
    )
    assert PdfReader(tmp_path / "out" / "example" / "neck.pdf").metadata.title == "Neck mesotherapy"
    assert "Neck mesotherapy" in pdf_text(tmp_path / "out" / "example" / "comparison.pdf")
