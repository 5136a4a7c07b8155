"""The staff report: one verdict per document in plain words, each warning once, pictures and links, and a page that
meets WCAG AA."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

from test_hardening import UNPRINTABLE, override_partial
from test_quality import approve

from brochures import STYLES_DIR
from brochures.brand.colours import contrast
from brochures.pdf.inspection import page_pictures
from brochures.pdf.printer import FIRST_PAGE_PX
from brochures.quality.scorecard import REASONS
from brochures.schema.strings import Reasons
from conftest import edit_config, own_contacts, pdf_text
from generate import main


class Page(HTMLParser):
    """What a checker reads of an HTML page: its language, headings in order, table header cells, images and links."""

    def __init__(self, html: str):
        super().__init__()
        self.lang, self.headings, self.header_cells, self.images, self.links = None, [], [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "th":
            self.header_cells.append(attrs.get("scope"))
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "a":
            self.links.append(attrs.get("href"))


def test_every_document_has_one_verdict_and_each_warning_is_shown_once(example_build):
    report = json.loads((example_build / "report.json").read_text())
    for card in report["documents"]:
        # Only the approval is missing, and the clinic's own contact details (the example's reach no one).
        assert card["verdict"] == "needs_a_look" and card["verdict_reasons"] == ["approval", "contact"]
        # The fields scripts rely on stay.
        assert card["warnings"] and "accessibility" in card and "reading_grade" in card
    html = (example_build / "report.html").read_text()
    names = [card["document"] for card in report["documents"]]
    # Once, not once per document.
    assert html.count("not yet approved by the clinic&#39;s medical lead") == 1
    assert f"Found in: {', '.join(names)}" in html
    assert html.count(
        'Your medical lead has not approved this content yet, so every page says &#34;Draft&#34;.'
    ) == len(names)
    # The legend.
    for verdict in ("Ready", "Needs a look", "Not built"):
        assert f"</span> {verdict}</span>" in html
    assert "What the checks mean" in html and "Reading grade</dt>" in html and "Contrast</dt>" in html
    # No command-line jargon for the staff: no options, no commands, no `file:line setting:` and no check's code name.
    text = re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)
    # Only a warning's "What to do" gives the command, after who does it.
    to_do = re.findall(r'<span class="what-to-do">(.*?)</span>', text, flags=re.DOTALL)
    assert any("medical lead" in line and "python generate.py --clinic example --approval" in line for line in to_do)
    text = re.sub(r'<span class="what-to-do">.*?</span>', "", text, flags=re.DOTALL)
    assert not re.search(r"--[a-z]|python generate|`|\.yaml:\d|structure tree|PDF/UA:", text)
    assert re.search(
        r'<span class="where">In data/clinics/example/clinic.yaml, line \d+, the setting approval:</span> '
        r"not yet approved",
        text,
    )
    assert "Every picture has a description for people who cannot see it: passed" in text
    assert "Every table heading says which cells it belongs to" in text and "every table header says" not in text


def test_every_reason_has_its_sentence_for_the_staff():
    assert set(REASONS) == set(Reasons.model_fields)


def test_check_shows_the_pictures_but_neither_links_nor_a_time_for_files_it_did_not_write(tmp_path, capsys):
    """A check writes its own report, beside the build's, never in its place: the build's report is about the files
    that are there."""
    assert main(["--treatment", "comparison", "--out", str(tmp_path)]) == 0
    built = (tmp_path / "example" / "report.html").read_bytes()
    capsys.readouterr()
    assert main(["--check", "--treatment", "comparison", "--out", str(tmp_path)]) == 0
    assert "Checked 1 document for 1 clinic" in capsys.readouterr().out
    assert (tmp_path / "example" / "report.html").read_bytes() == built
    html = (tmp_path / "example" / "check-report.html").read_text()
    page = Page(html)
    assert [image["alt"] for image in page.images] == ["Page 1 of comparison.pdf"]
    assert "comparison.pdf" not in page.links and "Made on" not in html


def test_the_report_shows_each_documents_first_page_and_links_to_it(example_build):
    page = Page((example_build / "report.html").read_text())
    names = sorted(path.name for path in example_build.glob("*.pdf"))
    assert sorted(image["alt"] for image in page.images) == sorted(f"Page 1 of {name}" for name in names)
    # The report stands alone.
    assert all(image["src"].startswith("data:image/png;base64,") for image in page.images)
    assert set(names) <= set(page.links)
    assert "Made on " in (example_build / "report.html").read_text()


def test_each_picture_is_the_first_page_of_its_own_document(example_build):
    # Made by the worker that printed the document (printer.Printed.picture), not read back by the build: it must
    # be that document's first page as the file on disk shows it, not another document's.
    page = Page((example_build / "report.html").read_text())
    for image in page.images:
        name = image["alt"].removeprefix("Page 1 of ")
        expected = page_pictures((example_build / name).read_bytes(), FIRST_PAGE_PX, 1)[0]
        assert base64.b64decode(image["src"].split(",", 1)[1]) == expected, name


def test_the_report_page_meets_wcag_aa(example_build):
    page = Page((example_build / "report.html").read_text())
    assert page.lang == "en-GB"
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    # No level skipped.
    assert all(later <= earlier + 1 for earlier, later in zip(page.headings, page.headings[1:])), page.headings
    assert page.header_cells and all(scope in ("col", "row") for scope in page.header_cells)
    # Every pair of text and background colours in the stylesheets (report.css, and the gallery's on top of it).
    css = (STYLES_DIR / "report.css").read_text()
    colour = dict(re.findall(r"--([\w-]+): (#[0-9A-F]{6})", css))
    pairs = [
        ("ink", "head"),
        ("quiet", "head"),
        ("link", "head"),
        ("ready", "ready-bg"),
        ("look", "look-bg"),
        ("failed", "failed-bg"),
        ("ink", "failed-bg"),
    ]
    for text, background in pairs + [(name, None) for name in ("ink", "quiet", "link", "ready", "look", "failed")]:
        behind = colour[background] if background else "#FFFFFF"
        assert contrast(colour[text], behind) >= 4.5, (text, background)


def test_ready_and_not_built(clinic_copy, tmp_path, capsys):
    # The brochures cannot be printed; the sheet can.
    override_partial(clinic_copy, "takeaway.html.j2", UNPRINTABLE)
    approve(clinic_copy)
    own_contacts(clinic_copy)
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: Mine")
    assert (
        main(
            ["--clinic", str(clinic_copy), "--treatment", "facial", "--treatment", "comparison", "--out", str(tmp_path)]
        )
        == 1
    )
    cards = {
        card["document"]: card for card in json.loads((tmp_path / "mine" / "report.json").read_text())["documents"]
    }
    assert cards["facial.pdf"]["verdict"] == "not_built" and cards["facial.pdf"]["verdict_reasons"] == []
    assert cards["comparison.pdf"]["verdict"] == "ready" and cards["comparison.pdf"]["warnings"] == []
    html = (tmp_path / "mine" / "report.html").read_text()
    facial = html[html.index('id="facial.pdf"') : html.index('id="comparison.pdf"')]
    assert "Not built" in facial and "<strong>Why:</strong>" in facial and "/etc/hostname" in facial
    # Said once.
    assert html.count("Failed to load image") == 1 and 'href="#facial.pdf">Not made: see why below</a>' in html
    # No picture of a file that was not made.
    assert "<img" not in facial
    comparison = html[html.index('id="comparison.pdf"') :]
    assert "</span> Ready</span>" in comparison and 'href="comparison.pdf"' in comparison


def test_a_partial_build_keeps_every_document_built_earlier_in_the_report(clinic_copy, tmp_path):
    """`--treatment facial` after a full build: the report still lists every document on disk as it was written, in
    the usual order, with its recorded pages; a document deleted, or changed by hand, is no longer vouched for."""
    out = tmp_path / "out"
    build = ["--clinic", str(clinic_copy), "--out", str(out)]
    assert main(build) == 0

    def listed() -> dict[str, dict]:
        return {card["document"]: card for card in json.loads((out / "mine" / "report.json").read_text())["documents"]}

    everything = ["facial.pdf", "hair.pdf", "body.pdf", "comparison.pdf", "booklet.pdf"]
    assert list(listed()) == everything
    (out / "mine" / "body.pdf").unlink()
    with (out / "mine" / "hair.pdf").open("ab") as changed:
        changed.write(b"\n% changed by hand\n")
    assert main([*build, "--treatment", "facial", "--force"]) == 0
    assert list(listed()) == ["facial.pdf", "comparison.pdf", "booklet.pdf"]
    assert listed()["booklet.pdf"]["pages"] == 18 and listed()["comparison.pdf"]["verdict"] == "needs_a_look"
    assert 'id="booklet.pdf"' in (out / "mine" / "report.html").read_text()


def test_a_file_an_earlier_build_made_from_other_inputs_is_not_vouched_for(clinic_copy, tmp_path):
    """Press files built while the content was a draft; then the clinic approves it and builds its leaflet only. The
    press file on disk still says "Draft", so the report calls it out of date (not ready, not approved), until it
    is built again."""
    out = tmp_path / "out"
    build = ["--clinic", str(clinic_copy), "--out", str(out), "--treatment", "facial"]

    def listed() -> dict[str, dict]:
        return {card["document"]: card for card in json.loads((out / "mine" / "report.json").read_text())["documents"]}

    own_contacts(clinic_copy)
    assert main([*build, "--variant", "all"]) == 0
    approve(clinic_copy)
    assert main(build) == 0
    press = listed()["facial.press.pdf"]
    assert press["verdict"] == "needs_a_look" and press["verdict_reasons"] == ["outdated"], press["verdict_reasons"]
    assert press["approval"] == "outdated" and "made by an earlier build" in press["warnings"][0]
    assert "not yet approved" in pdf_text(out / "mine" / "facial.press.pdf")
    assert listed()["facial.pdf"]["verdict"] == "ready" and listed()["facial.pdf"]["approval"] == "approved"
    report = (out / "mine" / "report.html").read_text()
    assert "An earlier build made this file" in report[report.index('id="facial.press.pdf"'):]
    # Built again: it is what the report says.
    assert main([*build, "--variant", "all"]) == 0
    assert listed()["facial.press.pdf"]["verdict"] == "ready"
    assert "not yet approved" not in pdf_text(out / "mine" / "facial.press.pdf")

