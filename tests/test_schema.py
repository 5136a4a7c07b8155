"""The JSON Schemas editors use to check clinic.yaml and the treatment files as they are typed (schemas/)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from brochures.schema.json_schema import (
    CLINIC,
    PUBLISHED,
    SCHEMAS_DIR,
    TREATMENT,
    schema_texts,
)
from conftest import DATA, EXAMPLE, ROOT, ROSEWOOD
from generate import main

MODELINE = "# yaml-language-server: $schema="


def validator(published) -> Draft202012Validator:
    """A validator of the committed schema file, itself checked to be a valid draft 2020-12 schema."""
    schema = json.loads((SCHEMAS_DIR / published.file_name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def as_editor_reads(path: Path):
    """A YAML file's data as an editor's YAML 1.2 reader sees it: PyYAML (YAML 1.1) reads `2026-01-31` as a date,
    yaml-language-server as the text it is, which is what the schema (and the models) expect."""
    def plain(value):
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value.isoformat() if isinstance(value, date) else value

    return plain(yaml.safe_load(path.read_text(encoding="utf-8")))


def errors(published, data) -> list[str]:
    """Every error, as `field.path: message`, including those inside a choice (`anyOf`: a block or nothing), which
    name the exact setting, as an editor underlines it."""
    def flat(found):
        for error in found:
            yield error
            yield from flat(error.context or [])

    found = flat(validator(published).iter_errors(data))
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in found]


# --- (a) the committed files are what the models make now ---

def test_the_committed_schemas_are_what_the_models_make_now():
    texts = schema_texts()
    assert sorted(texts) == ["clinic.schema.json", "treatment.schema.json"]
    for name, text in texts.items():
        assert (SCHEMAS_DIR / name).read_text(encoding="utf-8") == text, (
            f"schemas/{name} is out of date with the models: run `python generate.py schema` and commit it")


def test_each_schema_names_itself_and_refuses_unknown_keys_everywhere():
    for published in PUBLISHED:
        schema = json.loads((SCHEMAS_DIR / published.file_name).read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] and schema["title"] == published.title
        assert "Unknown keys are refused" in schema["description"]
        objects = [schema, *schema["$defs"].values()]
        assert all(item["additionalProperties"] is False for item in objects if item.get("type") == "object"), published
    # The same text on every run, so that it can be committed.
    assert schema_texts() == schema_texts()


# --- (b) what ships passes ---

def test_the_example_clinic_and_the_test_clinic_pass_the_clinic_schema():
    for folder in (EXAMPLE, ROSEWOOD):
        assert errors(CLINIC, as_editor_reads(folder / "clinic.yaml")) == [], folder


def test_every_treatment_file_passes_the_treatment_schema():
    files = sorted((DATA / "treatments").glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        assert errors(TREATMENT, as_editor_reads(path)) == [], path


# --- (c) mistakes are refused, as the generator refuses them ---

def test_a_misspelt_setting_is_refused():
    data = as_editor_reads(EXAMPLE / "clinic.yaml")
    data["colours"] = data.pop("colors")
    found = errors(CLINIC, data)
    assert any("'colours' was unexpected" in error for error in found), found
    assert any("'colors' is a required property" in error for error in found), found


def test_a_misspelt_setting_inside_a_block_is_refused():
    data = as_editor_reads(EXAMPLE / "clinic.yaml")
    data["contact"]["telephone"] = data["contact"].pop("phone")
    found = errors(CLINIC, data)
    assert any(error.startswith("contact: ") and "'telephone' was unexpected" in error for error in found), found


@pytest.mark.parametrize(("field", "value", "said"), [
    ("name", ["Example", "Clinic"], "is not of type 'string'"),
    ("treatments", "facial", "is not of type 'array'"),
    ("page_size", "B5", "is not valid under any of the given schemas"),
    ("colors", "#0F6E6E", "is not of type 'object'"),
])
def test_a_wrong_kind_of_value_is_refused(field, value, said):
    data = as_editor_reads(EXAMPLE / "clinic.yaml")
    data[field] = value
    found = errors(CLINIC, data)
    assert [error for error in found if error.startswith(f"{field}: ") and said in error], found


def test_what_the_generator_accepts_in_any_case_the_schema_accepts_too():
    data = as_editor_reads(EXAMPLE / "clinic.yaml")
    for size in ("a5", "letter", "Letter", "A4"):
        assert errors(CLINIC, {**data, "page_size": size}) == [], size


def test_a_password_in_the_config_is_refused_by_the_schema_too():
    data = as_editor_reads(EXAMPLE / "clinic.yaml")
    data["email"] = {"from_address": "hello@example-clinic.test", "smtp_host": "smtp.example-clinic.test",
                     "password": "x"}
    assert [error for error in errors(CLINIC, data) if error.startswith("email.password: ")]


def test_a_treatment_with_a_misspelt_section_or_a_wrong_kind_of_value_is_refused():
    data = as_editor_reads(DATA / "treatments" / "facial.yaml")
    data["after_care"] = data.pop("aftercare")
    data["professional_only"] = "sometimes"
    found = errors(TREATMENT, data)
    assert any("'after_care' was unexpected" in error for error in found), found
    assert any(error.startswith("professional_only: ") and "'boolean'" in error for error in found), found


# --- (d) init points the new clinic.yaml at the schema ---

@pytest.mark.parametrize("where", ["data", "elsewhere/deeper/data"])
def test_init_writes_a_clinic_yaml_whose_first_line_points_an_editor_at_the_schema(tmp_path, where, capsys):
    data = tmp_path / where
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("clinics"))
    (data / "clinics").mkdir()
    assert main(["init", "lakeside", "--data", str(data)]) == 0
    capsys.readouterr()
    config = data / "clinics" / "lakeside" / "clinic.yaml"
    first = config.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), first
    reference = first.removeprefix(MODELINE)
    # A relative path, with forward slashes, from the clinic's folder to the committed schema.
    assert not Path(reference).is_absolute() and "\\" not in reference
    assert (config.parent / reference).resolve() == (ROOT / "schemas" / "clinic.schema.json").resolve()
    # What init writes passes the schema it points to.
    assert errors(CLINIC, as_editor_reads(config)) == []


def test_the_shipped_clinics_point_an_editor_at_the_schema():
    for folder in (EXAMPLE, ROSEWOOD):
        first = (folder / "clinic.yaml").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(MODELINE)
        assert (folder / first.removeprefix(MODELINE)).resolve() == (ROOT / "schemas" / "clinic.schema.json").resolve()


# --- (e) schema --check ---

def test_schema_check_passes_on_the_committed_files(capsys):
    assert main(["schema", "--check"]) == 0
    assert "match the models" in capsys.readouterr().out


def test_schema_check_fails_when_a_file_differs_from_what_the_models_make(tmp_path, capsys):
    out = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, out)
    assert main(["schema", "--check", "--out", str(out)]) == 0
    # As if a model had gained a setting since the file was written.
    clinic = json.loads((out / "clinic.schema.json").read_text(encoding="utf-8"))
    clinic["properties"]["colours"] = {"type": "object"}
    (out / "clinic.schema.json").write_text(json.dumps(clinic, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["schema", "--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "clinic.schema.json is out of date" in err and "treatment.schema.json" not in err
    assert "python generate.py schema" in err
    # A missing file is out of date too.
    (out / "treatment.schema.json").unlink()
    assert main(["schema", "--check", "--out", str(out)]) == 1


def test_schema_rewrites_what_is_out_of_date_and_then_check_passes(tmp_path, capsys):
    out = tmp_path / "fresh"
    assert main(["schema", "--out", str(out)]) == 0
    assert {path.name for path in out.iterdir()} == {"clinic.schema.json", "treatment.schema.json"}
    for name, text in schema_texts().items():
        assert (out / name).read_text(encoding="utf-8") == text
    (out / "clinic.schema.json").write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["schema", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Wrote: " in said and "clinic.schema.json" in said and "Unchanged: " in said
    assert main(["schema", "--check", "--out", str(out)]) == 0
    # Written whole, through a temporary file beside it: none is left behind.
    assert not list(out.glob(".brochures-partial-*"))
