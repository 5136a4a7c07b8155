"""One build, one record of it: `build(options)` returns what it made, and every problem travels as data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from brochures import exits
from brochures.building.console import Console
from brochures.building.options import BuildOptions
from brochures.building.pipeline import build
from brochures.cli.main import COMMANDS
from brochures.quality.scorecard import REASONS
from conftest import DATA, ROOT, edit_config

PROBLEM_FIELDS = {"severity", "reason", "file", "line", "setting", "message", "hint", "code"}


@pytest.fixture(scope="module")
def claimed(tmp_path_factory):
    """The example clinic in English and Spanish, with a claim in its disclaimer, built by calling build() itself."""
    tmp = tmp_path_factory.mktemp("claimed")
    data = tmp / "data"
    shutil.copytree(DATA, data)
    config = edit_config(data / "clinics" / "example", "  This leaflet gives general information.",
                         "  Results are guaranteed. This leaflet gives general information.")
    edit_config(data / "clinics" / "example", "language: en\n",
                'language: en\nlanguages: [en, es]\nin_language:\n  es:\n    disclaimer: "Información general."\n')
    options = BuildOptions(out=tmp / "out", data=data, treatments=("facial", "comparison"), jobs=1)
    return build(options, Console(out=open(tmp / "said.txt", "w"))), config


def test_the_result_lists_every_document_of_every_language_with_its_outcome(claimed):
    result, _ = claimed
    assert result.finished and result.planned == 4 and result.exit_code() == exits.OK
    made = [(o.document.clinic.slug, o.document.output.name, result.document_status(o)) for o in result.outcomes]
    assert made == [("example", "facial.pdf", "wrote"), ("example", "comparison.pdf", "wrote"),
                    ("example/es", "facial.pdf", "wrote"), ("example/es", "comparison.pdf", "wrote")]
    assert [clinic.slug for clinic in result.clinics] == ["example", "example/es"]
    assert all(path.is_file() for path in result.reports.values()) and set(result.reports) == {"example", "example/es"}
    # What the CLI prints and what --strict counts are read from the same result.
    assert result.warnings and all(isinstance(warning, str) for warning in result.warnings)


def test_report_json_carries_each_problem_as_an_object_with_a_hint(claimed):
    result, config = claimed
    report = json.loads((result.options.out / "example" / "report.json").read_text())
    problems = [problem for card in report["documents"] for problem in card["problems"]]
    assert problems and all(set(problem) == PROBLEM_FIELDS for problem in problems)
    assert all(problem["hint"].strip() and problem["severity"] == "warning" for problem in problems)
    assert {problem["reason"] for problem in problems} <= set(REASONS)
    claim = next(problem for problem in problems if problem["reason"] == "claims")
    assert claim["file"].endswith("clinic.yaml") and claim["setting"] == "disclaimer"
    assert claim["line"] == next(n for n, line in enumerate(config.read_text().splitlines(), 1)
                                 if line.startswith("disclaimer:"))
    approval = next(problem for problem in problems if problem["reason"] == "approval")
    assert "--approval" in approval["hint"] and "--approval" not in approval["message"]
    # The Spanish edition's translation warnings say the clinic cannot change them, and who can.
    spanish = json.loads((result.options.out / "example" / "es" / "report.json").read_text())
    translation = [p for card in spanish["documents"] for p in card["problems"] if p["reason"] == "translation"]
    assert all("translators" in p["hint"] or "clinician" in p["hint"] for p in translation)


def test_the_report_shows_where_a_problem_is_from_its_fields_not_its_words(claimed):
    result, config = claimed
    html = (result.options.out / "example" / "report.html").read_text()
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if text.startswith("disclaimer:"))
    assert f"line {line}, the setting disclaimer:" in html


def test_every_subcommand_is_listed_in_help():
    said = subprocess.run([sys.executable, "generate.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert said.returncode == 0
    listed = said.stdout.split("subcommands", 1)[1]
    assert all(f"  {name} " in listed for name in COMMANDS), listed
    assert {"serve", "init", "list", "translations", "pack", "merge-reports", "schema"} <= set(COMMANDS)


def test_the_code_is_ruff_clean():
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
