"""The report says what to do: each warning's hint, each language's reading target, and an accepted brand shade."""

from __future__ import annotations

import json
import shutil

from test_quality import approve

from brochures.brand.colours import palette
from conftest import DATA, edit_config, own_contacts
from generate import main

GOLD = "#FFD700"


def report_of(out, slug="example") -> dict:
    """A clinic's report.json; after a --check, which writes check-report.json beside it, that one."""
    folder = out / slug
    return json.loads((folder / ("check-report.json" if (folder / "check-report.json").exists() else "report.json"))
                      .read_text())


def colour_problems(report: dict) -> list[dict]:
    return [p for card in report["documents"] for p in card["problems"] if p["reason"] == "colours"]


def test_an_adjusted_shade_is_accepted_by_writing_it_as_the_text_colour_and_then_strict_passes(clinic_copy, tmp_path):
    shade = palette(GOLD, "#E8F4F4").text
    edit_config(clinic_copy, 'primary: "#0F6E6E"', f'primary: "{GOLD}"')
    approve(clinic_copy)
    own_contacts(clinic_copy)
    command = ["--clinic", str(clinic_copy), "--treatment", "facial", "--check", "--strict", "--out", str(tmp_path)]
    assert main(command) == 1
    found = colour_problems(report_of(tmp_path, clinic_copy.name))
    assert [p["setting"] for p in found] == ["colors.primary"]
    assert f'text: "{shade}"' in found[0]["hint"] and "under colors:" in found[0]["hint"]
    # The clinic writes that shade as its own text colour: checked like any text colour, it passes.
    edit_config(clinic_copy, f'primary: "{GOLD}"', f'primary: "{GOLD}"\n  text: "{shade}"')
    assert main(command) == 0
    card = report_of(tmp_path, clinic_copy.name)["documents"][0]
    assert card["verdict"] == "ready" and not card["problems"]


def test_a_text_colour_of_its_own_that_cannot_be_read_is_adjusted_and_named(clinic_copy, tmp_path):
    edit_config(clinic_copy, 'primary: "#0F6E6E"', 'primary: "#0F6E6E"\n  text: "#FFE000"')
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--check", "--out", str(tmp_path)]) == 0
    found = colour_problems(report_of(tmp_path, clinic_copy.name))
    assert [p["setting"] for p in found] == ["colors.text"]
    assert found[0]["message"].startswith('"#FFE000" as text gives') or found[0]["message"].startswith("#FFE000")
    assert palette("#0F6E6E", None, "#FFE000").text != "#FFE000"


def test_each_warning_says_what_to_do_and_each_language_has_its_own_reading_target(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    edit_config(data / "clinics" / "example", "language: en\n",
                'language: en\nlanguages: [en, es]\nin_language:\n  es:\n    disclaimer: "Información general."\n')
    out = tmp_path / "out"
    assert main(["--data", str(data), "--treatment", "facial", "--out", str(out)]) == 0
    html = (out / "example" / "report.html").read_text()
    # The approval's next step, and a translation's: who can act, in words.
    assert "What to do:</strong> the clinic&#39;s medical lead checks the documents, then approves them: run " in html
    assert "What to do:</strong> A clinician fluent in Spanish reviews it" in html
    # The Spanish document's score, in the English report, against its own target (INFLESZ: higher is easier).
    spanish = next(card for card in report_of(out)["documents"] if card["document"] == "es/facial.pdf")
    assert spanish["reading_target"] == 65 and spanish["reading_higher_is_easier"] is True
    assert f"INFLESZ {spanish['reading_grade']} (target 65 or more)" in html
    # In the Spanish report, in Spanish.
    assert "(objetivo 65 o más)" in (out / "example" / "es" / "report.html").read_text()
    assert "Qué hacer:" in (out / "example" / "es" / "report.html").read_text()
