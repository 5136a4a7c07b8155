"""Claims are looked for in the words the finished document prints, too: a clinic's own template, stylesheet
(CSS `content:`) or picture (an SVG's text) can put words on the page that are in no content file."""

from __future__ import annotations

import json
import shutil

from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.quality.claims import claims_on_pages
from conftest import DATA, ROOT
from generate import main

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="360" height="60" viewBox="0 0 360 60">'
    '<rect width="360" height="60" fill="#0F6E6E"/><text x="8" y="40" font-family="Atkinson Hyperlegible" '
    'font-size="22" fill="#fff">Guaranteed permanent results</text></svg>'
)


def card_of(out, document: str) -> dict:
    report = json.loads((out / "mine" / "report.json").read_text())
    card, = [card for card in report["documents"] if card["document"] == document]
    return card


def test_words_a_clinics_stylesheet_or_logo_prints_are_checked_for_claims(clinic_copy, tmp_path):
    templates = clinic_copy / "templates" / "partials"
    templates.mkdir(parents=True)
    shutil.copy(ROOT / "templates" / "partials" / "aftercare.html.j2", templates)
    with (templates / "aftercare.html.j2").open("a") as partial:
        partial.write('<style>.aftercare h2::after { content: " (100% safe, no side effects)" }</style>\n')
    (clinic_copy / "logo.svg").write_text(LOGO)
    out = tmp_path / "out"
    assert main(["--clinic", str(clinic_copy), "--out", str(out), "--treatment", "facial"]) == 0
    card = card_of(out, "facial.pdf")
    printed = sorted(p["message"] for p in card["problems"] if p["reason"] == "claims")
    assert [message.split(" printed on ")[0] for message in printed] == [
        '"100% safe"', '"100%"', '"Guaranteed"', '"no side effects"', '"permanent"'
    ], printed
    logo_pages = [message for message in printed if message.startswith('"Guaranteed"')][0]
    assert logo_pages.startswith('"Guaranteed" printed on page 1:'), logo_pages
    assert all(p["file"] == "facial.pdf" and "clinic's own templates, stylesheets and pictures" in p["hint"]
               for p in card["problems"] if p["reason"] == "claims")
    assert card["verdict"] == "needs_a_look" and "claims" in card["verdict_reasons"]
    assert len(card["claims"]) == 5


def test_honest_words_on_the_page_are_not_claims_and_a_claim_wrapped_over_a_line_is():
    content = load_content(DATA)
    clinic = load_clinic(DATA / "clinics" / "example" / "clinic.yaml", content)
    assert claims_on_pages(clinic, ["Results are not permanent. No treatment is risk-free."]) == []
    found = claims_on_pages(clinic, ["", "Guaran\ufffe\r\nteed results, with no\r\ndowntime."])
    assert [(claim["page"], claim["phrase"]) for claim in found] == [(2, "Guaranteed"), (2, "no downtime")]
