"""Right to left: a document whose strings say `direction: rtl` is mirrored, and its Latin values keep their order.

The English strings with `direction: rtl` stand in for a right-to-left language: the layout is what is tested,
read from the PDF itself (where each word is drawn), not from the HTML. The documents are printed without the
build's checks, which compare text as a left-to-right reader extracts it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pdf.printer import Printer
from brochures.plan.documents import plan_documents
from brochures.render.html import HtmlRenderer
from conftest import pdf_words as words

ROOT = Path(__file__).resolve().parent.parent
# The example clinic's phone number.
PHONE = "020 7946 0000"


@pytest.fixture(scope="module")
def rtl_build(tmp_path_factory) -> dict[str, Path]:
    """The example clinic's facial brochure and comparison sheet, printed once with right-to-left strings."""
    root = tmp_path_factory.mktemp("rtl")
    data = root / "data"
    shutil.copytree(ROOT / "data", data)
    strings = data / "strings" / "en.yaml"
    text = strings.read_text(encoding="utf-8")
    assert "\ndirection:" not in text
    strings.write_text(text + "\ndirection: rtl\n", encoding="utf-8")
    content = load_content(data)
    clinic = load_clinic(data / "clinics" / "example" / "clinic.yaml", content)
    renderer, printer = HtmlRenderer(content), Printer()
    built = {}
    for document in plan_documents([clinic], content, root / "out", only={"facial", "comparison"}):
        pdf, _ = printer.print_pdf(document, renderer.render(document))
        document.output.parent.mkdir(parents=True, exist_ok=True)
        document.output.write_bytes(pdf)
        built[document.name] = document.output
    return built



def first(found, text: str, page: int | None = None):
    """The first word `text` (ignoring punctuation around it) on `page` (any page when None)."""
    for number, word, left, right, baseline in found:
        if word.strip(".,:;()") == text and (page is None or number == page):
            return number, left, right, baseline
    raise AssertionError(f"{text!r} is not drawn in the PDF")


def test_the_html_language_and_direction_reach_the_pdf(rtl_build):
    root = PdfReader(rtl_build["facial"]).trailer["/Root"]
    # The strings' language; the direction is in the layout, tested below.
    assert root["/Lang"] == "en"


def test_a_tables_first_column_is_on_the_right(rtl_build):
    found = words(rtl_build["facial"])
    # The ingredients table: "Ingredient" heads the first column, "Why it is used" the second.
    page, ingredient_left, _, baseline = first(found, "Ingredient")
    _, _, why_right, why_baseline = first(found, "Why", page)
    assert abs(baseline - why_baseline) < 2, "the two headings are on one row"
    assert ingredient_left > why_right, "the first column lies to the right of the second"


def test_the_comparison_tables_label_column_is_on_the_right(rtl_build):
    found = words(rtl_build["comparison"])
    # The comparison table's head row: "Type of treatment" labels the rows, then one column per treatment.
    page, type_left, _, baseline = first(found, "Type")
    _, _, facial_right, facial_baseline = first(found, "Facial", page)
    assert abs(baseline - facial_baseline) < 2
    assert type_left > facial_right


def test_list_bullets_are_on_the_right_of_their_text(rtl_build):
    found = words(rtl_build["facial"])
    bullets = [(number, left, baseline) for number, word, left, _, baseline in found if word == "•"]
    assert bullets, "the lists have bullets"
    # Every bullet is further right than the words of its own line.
    for number, left, baseline in bullets[:10]:
        line = [w for w in found if w[0] == number and abs(w[4] - baseline) < 2 and w[1] != "•"]
        near = [w for w in line if w[2] < left]
        assert near, "a bullet has text on its line"
        assert all(w[3] <= left + 1 for w in near[-3:]), "the bullet is to the right of its text"


def test_the_masthead_and_headings_are_mirrored(rtl_build):
    page = pdfium.PdfDocument(rtl_build["facial"])[0]
    width = page.get_width()
    found = words(rtl_build["facial"])
    # The masthead's review line is on the left (the logo, at the start of the line, is on the right): it is the
    # highest "Information" on the first page (the footer repeats it at the bottom).
    masthead = max((w for w in found if w[0] == 0 and w[1] == "Information"), key=lambda w: w[4])
    assert masthead[3] < width / 2, "the masthead's text is at the end of the line: the left"
    # A section heading starts on the right (after its bar).
    # "What it can help with".
    _, _, heading_right, _ = first(found, "help", 0)
    assert heading_right > width * 0.75


def test_the_phone_numbers_digits_keep_their_order(rtl_build):
    # Drawn left to right as written, so the text as drawn holds the number in order wherever it is printed.
    for path in rtl_build.values():
        drawn = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages)
        assert PHONE in drawn
        assert "0000 7946 020" not in drawn, "no phone number is printed with its groups reversed"


def test_the_footer_boxes_swap_sides(rtl_build):
    found = words(rtl_build["facial"])
    page = pdfium.PdfDocument(rtl_build["facial"])[0]
    width = page.get_width()
    # The footer's page number ("Page 1 of 4") is at the left, the clinic's name at the right.
    footer = [w for w in found if w[0] == 0 and w[4] < 60]
    page_word = next(w for w in footer if w[1] == "Page")
    clinic_word = next(w for w in footer if w[1] == "Clinic")
    assert page_word[3] < width / 3 and clinic_word[2] > width * 2 / 3


def test_a_right_to_left_document_tells_viewers_so(rtl_build):
    root = PdfReader(rtl_build["facial"]).trailer["/Root"]
    # Spreads and a bound booklet read right to left.
    assert root["/ViewerPreferences"]["/Direction"] == "/R2L"


def test_the_gate_fails_a_right_to_left_document_that_does_not_say_so(rtl_build):
    import io

    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    from brochures.pdf.facts import Expected
    from brochures.pdf.inspection import inspect_pdf, inspection_failures
    said = rtl_build["facial"].read_bytes()
    writer = PdfWriter(clone_from=io.BytesIO(said))
    del writer._root_object["/ViewerPreferences"][NameObject("/Direction")]
    silent = io.BytesIO()
    writer.write(silent)
    expected = Expected(right_to_left=True)
    assert inspect_pdf(said, True, expected).accessibility["reading direction right to left"] is True
    inspection = inspect_pdf(silent.getvalue(), True, expected)
    assert inspection.accessibility["reading direction right to left"] is False
    assert "accessibility check failed: reading direction right to left" in inspection_failures(inspection)


def test_the_safety_check_reads_arabic_as_pdf_readers_give_it_back():
    from brochures.pdf.page_text import _missing
    item = ("كنت حاملا أو مرضعة.", 1)
    # pdfium gives the lam-alef ligature's letters back in the other order, and moves the full stop.
    assert _missing(["لا تخضع لهذا العالج إذا\r\n.كنت حامال أو مرضعة"], (item,)) == []
    # A word really missing is still missing.
    assert _missing(["لا تخضع لهذا العالج إذا\r\n.كنت حامال أو"], (item,))


def test_a_phone_number_inside_arabic_is_found_in_reading_order_only_when_it_is_there():
    from brochures.pdf.page_text import _missing
    line = ("اتصل بنا على الرقم 020 7946 0000.", 1)
    # Pdfium turns the number's groups round.
    pdfium_text = ["اتصل بنا على الرقم 0000 7946 .020"]
    # Pypdf keeps each run in reading order, runs in visual order.
    pypdf_text = [".020 7946 0000 اتصل بنا على الرقم"]
    assert _missing(pdfium_text, (line,)) != []
    assert _missing(pdfium_text, (line,), pypdf_text) == []
    # A wrong number is not the number.
    assert _missing(pdfium_text, (line,), [".020 7946 9999 اتصل بنا على الرقم"]) != []


def test_a_changed_number_in_an_arabic_safety_line_is_missing_even_when_the_number_is_elsewhere():
    from brochures.pdf.page_text import _missing
    line = ("اتصل بالرقم 999 فورا إذا", 1)
    # 112 for 999; 999 is inside the phone number.
    drawn = ["إذا فورا 112 اتصل بالرقم\nExample Clinic 020 7999 0000"]
    assert _missing(drawn, (line,), drawn) != []
    # 24 and 48 the wrong way round.
    swapped = [".ساعة 48 لا تضعي المكياج لمدة\n.ساعة 24 تجنبي الشمس القوية لمدة"]
    assert _missing(swapped, ((".لا تضعي المكياج لمدة 24 ساعة", 1),), swapped) != []


def test_pypdf_is_loaded_only_to_read_right_to_left_text_and_without_cryptography(rtl_build):
    # The build's processes never load pypdf: only the gate, for a right-to-left document's logical text, does, and
    # not with the cryptography package (about 6 MB a worker) that pypdf would load to decrypt PDFs.
    import cryptography  # noqa: F401  (installed here, with the test tools: the check below means something)

    script = (
        "import sys\n"
        "import brochures.cli.main, brochures.building.pipeline, brochures.building.workers, brochures.pdf.inspection\n"
        "assert 'pypdf' not in sys.modules, 'pypdf loaded by the build'\n"
        "texts = brochures.pdf.inspection.logical_texts(open(sys.argv[1], 'rb').read())\n"
        "assert 'pypdf' in sys.modules and 'cryptography' not in sys.modules, sorted(sys.modules)\n"
        "print(len(texts))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script, rtl_build["facial"]], cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert int(ran.stdout) == len(PdfReader(rtl_build["facial"]).pages)
