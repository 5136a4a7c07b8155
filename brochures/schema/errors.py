"""Schema errors in a clinic manager's words: `file:line field: expected …, got …`."""

from __future__ import annotations

import difflib
import typing

from pydantic import BaseModel, ValidationError

from brochures.files.yaml_reader import FieldPath, YamlFile, dotted
from brochures.problems import InputError, Problem, describe

# "Did you mean …?" for the first unknown fields of a file only: a file of 27,000 unknown keys is not
# a typo, and only the first few problems of a file are printed.
MAX_HINTS = 100


# What each kind of schema error means, in words a clinic manager understands.
EXPECTED = {
    "string_type": "expected text",
    "string_too_short": "expected some text",
    "list_type": "expected a list (one item per line starting with -, or [a, b])",
    "model_type": "expected a group of fields (name: value, indented below)",
    "model_attributes_type": "expected a group of fields (name: value, indented below)",
    "dict_type": "expected a group of fields (name: value, indented below)",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "date_from_datetime_parsing": "expected a date like 2026-01-31",
    "date_parsing": "expected a date like 2026-01-31",
    "date_type": "expected a date like 2026-01-31",
}


def validate(model: type[BaseModel], doc: YamlFile) -> BaseModel:
    """Check one file against its schema; raise InputError listing every problem."""
    try:
        result = model.model_validate(doc.data if doc.data is not None else {})
        problems = []
    except ValidationError as error:
        details = error.errors(include_url=False)
        problems = [_problem(model, doc, detail, hint=i < MAX_HINTS) for i, detail in enumerate(details)]
        # "colours: unknown field; did you mean colors?" already says what "colors: missing" would,
        # and a field the YAML reader refused needs no second message from the schema.
        suggested = {_suggested_field(p) for p in problems if "did you mean" in p.message}
        refused = {p.field for p in doc.problems}
        problems = [p for p, d in zip(problems, details)
                    if not (d["type"] == "missing" and p.field in suggested) and p.field not in refused]
    if problems or doc.problems:
        raise InputError(sorted(doc.problems + problems, key=lambda p: p.line or 0)) from None
    return result


def _problem(model: type[BaseModel], doc: YamlFile, detail: dict, hint: bool = True) -> Problem:
    loc: FieldPath = tuple(detail["loc"])
    kind, found = detail["type"], detail.get("input")
    line = doc.line_of(loc)
    if kind == "missing":
        return Problem(doc.path, line, dotted(loc), "required, but missing")
    if kind == "extra_forbidden":
        allowed = list(_model_at(model, loc[:-1]).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if hint else []
        hint = f'did you mean "{close[0]}"? ' if close else ""
        return Problem(doc.path, line, dotted(loc), f"unknown field; {hint}expected one of: {', '.join(allowed)}")
    ctx = detail.get("ctx") or {}
    if kind == "string_too_long":
        expected = f"expected at most {ctx['max_length']} characters"
        found = f"{len(found)} characters"
    elif kind == "too_long":
        expected, found = f"expected at most {ctx['max_length']} items", f"{ctx.get('actual_length')} items"
    elif kind == "too_short":
        expected = f"expected at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    elif kind == "literal_error":
        expected = f"expected one of {ctx['expected']}"
    elif kind in EXPECTED:
        expected = EXPECTED[kind]
    else:
        expected = _plain(detail["msg"], kind)
    if found is None and "#" in doc.source_line(line).partition(":")[2]:
        expected += " (in YAML a # starts a comment: put the value in quotes)"
    got = found if isinstance(found, str) and kind in ("string_too_long", "too_long") else describe(found)
    if kind == "password_in_config":
        # A secret is never printed, not even back to the one who wrote it.
        got = "a password (not shown)"
    after = f" ({ctx['detail']})" if ctx.get("detail") else ""
    return Problem(doc.path, line, dotted(loc), f"{expected}, got {got}{after}")


def _plain(message: str, kind: str) -> str:
    """A schema message in plain words: never a regular expression or a Python error."""
    # Our own validators' messages.
    if message.startswith("expected"):
        return message
    if kind == "string_pattern_mismatch":
        return "expected text in the form this field needs"
    if message.startswith("Input should be "):
        return "expected " + message.removeprefix("Input should be ")
    return "expected a valid value"


def _suggested_field(problem: Problem) -> str:
    """The field an "unknown field; did you mean …?" problem suggests, as a dotted path."""
    parent = problem.field.rpartition(".")[0]
    name = problem.message.split('"')[1]
    return f"{parent}.{name}" if parent else name


def _model_at(model: type[BaseModel], loc: FieldPath) -> type[BaseModel]:
    """The schema class that describes the field at `loc`."""
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        model = next((t for t in _flatten(annotation) if isinstance(t, type) and issubclass(t, BaseModel)), model)
    return model


def _flatten(annotation) -> list:
    args = typing.get_args(annotation)
    return [annotation] + [inner for arg in args for inner in _flatten(arg)] if args else [annotation]
