"""JSON Schemas of the files a person writes by hand, made from the models: clinic.yaml and a treatment file.

An editor that reads them (VS Code's YAML extension, any editor with yaml-language-server) completes every setting
and flags a misspelt key or a wrong kind of value as it is typed. They are committed in schemas/ and rewritten by
`python generate.py schema`; a test checks that they match the models.

The models stay the judge: some checks (a colour name, a phone number, an https address) run only in Python, so a
file the schema accepts can still be refused by the generator, with its line and what to write instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel

from brochures import PROJECT_ROOT
from brochures.schema.clinic import ClinicConfig
from brochures.schema.content import Treatment

SCHEMAS_DIR = PROJECT_ROOT / "schemas"


DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Published:
    """One schema file: its name in schemas/, the model it is made from, and what it says of itself."""

    file_name: str
    model: type[BaseModel]
    title: str
    description: str


CLINIC = Published(
    "clinic.schema.json", ClinicConfig, "A clinic's settings (clinic.yaml)",
    "The settings of one clinic, in data/clinics/<name>/clinic.yaml: its name, logo, colours, contact details, "
    "country, languages, treatments and approval. Unknown keys are refused, so a misspelt setting is caught as it "
    "is typed. Made from the generator's own checks by `python generate.py schema`: do not edit it by hand.")


TREATMENT = Published(
    "treatment.schema.json", Treatment, "A treatment's content (data/treatments/<name>.yaml)",
    "What one treatment's brochure says, in data/treatments/<name>.yaml (not its translations, which have a shape of "
    "their own): every section, its sources and its review dates. Unknown keys are refused. Made from the generator's "
    "own checks by "
    "`python generate.py schema`: do not edit it by hand.")


PUBLISHED = (CLINIC, TREATMENT)


def schema_of(published: Published) -> dict:
    """The JSON Schema of one model, as a document of its own: its dialect, a name for it, a title and a description."""
    # "validation": what a file may hold, as the models read it (not what they give back).
    schema = published.model.model_json_schema(mode="validation")
    _refuse_unknown_keys(schema, published.model.__name__)
    # A URN names the schema without pretending it lives at a web address; editors find it by its relative path.
    stem = published.file_name.removesuffix(".schema.json")
    return {**schema, "$schema": DIALECT, "$id": f"urn:mesotherapy-brochures:schema:{stem}",
            "title": published.title, "description": published.description}


def schema_text(published: Published) -> str:
    """The schema as committed: keys sorted, two-space indents, a newline at the end; the same on every run."""
    return json.dumps(schema_of(published), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_texts() -> dict[str, str]:
    """Every published schema's text, by file name."""
    return {published.file_name: schema_text(published) for published in PUBLISHED}


def _refuse_unknown_keys(schema: dict, name: str) -> None:
    """Make sure every object the models describe refuses keys they do not know (`extra="forbid"` on the models):
    without it an editor would let `colours:` pass, which the generator refuses."""
    objects = [schema, *schema.get("$defs", {}).values()]
    open_ = [item.get("title", name) for item in objects
             if item.get("type") == "object" and "properties" in item and item.get("additionalProperties") is not False]
    if open_:
        raise ValueError(f"the JSON Schema of {name} lets unknown keys through in {', '.join(open_)}: "
                         "give their models extra=\"forbid\" (brochures.schema.fields.Model does)")
