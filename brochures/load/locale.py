"""A clinic's local facts: its language, its country's spelling and date format, and the words its patients read."""

from __future__ import annotations

import re
from pathlib import Path

from brochures.files.yaml_reader import YamlFile, read_yaml
from brochures.load.loaded import Clinic, Content
from brochures.problems import InputError, Problem
from brochures.schema.errors import validate
from brochures.schema.reference import Country
from brochures.schema.strings import Strings


def _locale(language: str, country: Country | None) -> str:
    """The language as printed: `en-US` as written, else the country's variant of it (`en` in the US is `en-US`)."""
    if "-" in language or country is None:
        return language
    return country.spelling if country.spelling.split("-")[0] == language else language


def _localized_strings(base: YamlFile, overlay_file: Path, country: Country | None) -> tuple[Strings, YamlFile | None]:
    """The language's strings, with its variant's overlay file (only the strings that differ) laid over them,
    the country's date format, and the variant's spelling table applied to every string; and the overlay as read."""
    data, lines, doc, overlay = _merge(base.data, {}), dict(base.lines), base, None
    if overlay_file.is_file() and overlay_file.resolve() != base.path.resolve():
        overlay = read_yaml(overlay_file)
        if not isinstance(overlay.data, dict):
            raise InputError([Problem(overlay_file, 1, "", "expected the strings that differ, as name: value lines")])
        data, lines = _merge(data, overlay.data), lines | overlay.lines
        doc = overlay
    # Only a country whose language this is.
    if country:
        data["date"] = country.date
    spelling = data.get("spelling") or {}
    data = {key: value if key == "spelling" else respell(value, spelling) for key, value in data.items()}
    return validate(
        Strings, YamlFile(path=doc.path, data=data, lines=lines, text=doc.text, problems=list(doc.problems))
    ), overlay


def _merge(base, overlay):
    """`overlay` laid over `base`: groups are merged field by field, anything else is replaced."""
    if not isinstance(base, dict) or not isinstance(overlay, dict):
        return overlay
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = _merge(base[key], value) if key in base and isinstance(base[key], dict) else value
    return merged


def respell(value, spelling: dict[str, str]):
    """Plain data with every whole word of the spelling table respelled, keeping capitals: with
    {"ageing": "aging"}, "Early signs of ageing" → "Early signs of aging", "Ageing" → "Aging"."""
    if not spelling:
        return value
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(word) for word in sorted(spelling, key=len, reverse=True)) + r")\b", re.IGNORECASE
    )
    table = {word.lower(): new for word, new in spelling.items()}

    def same_case(match: re.Match) -> str:
        found, new = match.group(0), table[match.group(0).lower()]
        if found.isupper() and len(found) > 1:
            return new.upper()
        return new[:1].upper() + new[1:] if found[:1].isupper() else new

    def walk(item):
        if isinstance(item, str):
            return pattern.sub(same_case, item)
        if isinstance(item, list):
            return [walk(child) for child in item]
        if isinstance(item, dict):
            return {key: walk(child) for key, child in item.items()}
        return item

    return walk(value)


def patient_content(clinic: Clinic, content: Content) -> dict:
    """What a clinic's patients read of the content, as plain data: the treatments it offers and the shared
    content, spelled for its locale."""
    content = content.of(clinic)
    return respell(
        {
            "treatments": {slug: content.treatments[slug].model_dump(mode="json") for slug in clinic.treatments},
            "shared": content.shared.model_dump(mode="json"),
        },
        clinic.spelling,
    )
