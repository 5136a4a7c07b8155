"""Content in other languages: translation files hold text only, laid over the English files' facts.

A treatment's translation (data/translations/<lang>/treatments/<slug>.yaml) and the shared content's
(data/translations/<lang>/shared.yaml) give every text field of the English file, with the same keys and the
same number of items in every list, item for item: a safety item can be neither dropped nor merged. Facts that
do not depend on language (order, icon, injection depth, professional_only, review dates, sources) are never in
a translation, so a translation cannot disagree with the English on a fact. Each translation says who translated
it and who reviewed it, and holds a fingerprint of the English text of each field it translates: when the English
changes, the translation is reported as older than the English, field by field, until it is updated and stamped
again (`python generate.py translations --stamp <lang>`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from brochures.files.yaml_reader import FieldPath, YamlFile, dotted, read_yaml
from brochures.problems import WARNING, InputError, Problem, describe, display_path
from brochures.schema.content import SharedContent, Treatment
from brochures.schema.strings import TranslationInfo

TRANSLATIONS = "translations"


# Facts shared by every language: they live in the English file only.
FACTS = ("order", "icon", "injection_depth", "professional_only", "review", "sources")


# A translation's own blocks, besides the text it translates.
OWN_BLOCKS = ("translation", "source_notes", "reviewed_by")


# Settings of a strings file that are not text to translate.
STRINGS_SETTINGS = ("claims_profile", "translation", "direction", "script_fonts", "spelling", "date")


LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "ar": "Arabic", "fr": "French", "it": "Italian", "de": "German",
                  "pt": "Portuguese"}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code.split("-")[0], code)


def fingerprint(value) -> str:
    """8 hex digits of the SHA-256 of a field's English text: what a translation records it translates."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True)
class Edition:
    """The content in one language other than English, and what its files need (warnings, not errors)."""

    language: str
    treatments: dict[str, Treatment]
    shared: SharedContent
    # Slug (or "shared") → the translation file, for claims checks and line numbers.
    docs: dict[str, YamlFile]
    warnings: list[Problem] = field(default_factory=list)


def translation_folder(data_dir: Path, language: str) -> Path:
    return data_dir / TRANSLATIONS / language


def languages_available(data_dir: Path) -> list[str]:
    folder = data_dir / TRANSLATIONS
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def load_edition(data_dir: Path, language: str, treatments: dict[str, Treatment], shared: SharedContent,
                 english_docs: dict[str, YamlFile]) -> Edition:
    """The content in `language`: each English file with its text replaced by the translation's. Raises InputError
    naming every missing, extra or misshapen field."""
    folder = translation_folder(data_dir, language)
    problems: list[Problem] = []
    if not folder.is_dir():
        known = ", ".join(["en", *languages_available(data_dir)])
        raise InputError([Problem(folder, None, "", f"expected a folder of translations for {describe(language)} "
                                                    f"(languages with content: {known}), found none")])
    translated: dict[str, Treatment] = {}
    docs: dict[str, YamlFile] = {}
    warnings: list[Problem] = []
    wanted = [(slug, folder / "treatments" / f"{slug}.yaml", Treatment) for slug in treatments]
    wanted.append(("shared", folder / "shared.yaml", SharedContent))
    result_shared = None
    for slug, path, model in wanted:
        english = english_docs[slug]
        # Anything else there (a folder, a link) is read, and refused, as it is.
        if not os.path.lexists(path):
            problems.append(Problem(path, None, "", f"expected the {language_name(language)} translation of "
                                                    f"{display_path(english.path)}, found no such file"))
            continue
        try:
            doc = read_yaml(path)
            merged, found = _laid_over(english, doc, language)
            problems += found
            if found:
                continue
            from brochures.schema.errors import validate

            item = validate(
                model, YamlFile(path=path, data=merged, lines=doc.lines, text=doc.text, problems=list(doc.problems))
            )
            info = translation_info(doc)
            warnings += staleness(doc, english, info, [k for k in english.data if k not in FACTS], language)
            docs[slug] = doc
            if slug == "shared":
                result_shared = item
            else:
                translated[slug] = item
        except InputError as error:
            problems += error.problems
    if problems:
        raise InputError(problems)
    return Edition(language, translated, result_shared, docs, warnings)


def _laid_over(english: YamlFile, doc: YamlFile, language: str) -> tuple[dict, list[Problem]]:
    """The English file's data with the translation's text in place of its own, and every way the translation's
    shape differs from the English."""
    problems: list[Problem] = []
    data = doc.data if isinstance(doc.data, dict) else None
    if data is None:
        return {}, [Problem(doc.path, 1, "", "expected the translated fields, as name: value lines")]

    def problem(loc: FieldPath, message: str) -> None:
        problems.append(Problem(doc.path, doc.line_of(loc), dotted(loc), message))

    where = f"{display_path(english.path)}"
    for key in data:
        if key in FACTS:
            problem(
                (key,),
                f"expected only text in a translation, got {key}, a fact shared by every language: "
                f"it is kept in {where} only",
            )
        elif key not in english.data and key not in OWN_BLOCKS:
            problem((key,), f"unknown field; expected the fields of {where}")
    if "translation" not in data:
        problem(
            ("translation",),
            "required, but missing: who translated this file, whether it was machine-assisted, "
            "and who reviewed it (translation: translated_by, machine_assisted, reviewed_by)",
        )
    merged = copy.deepcopy(english.data)

    def walk(english_value, value, loc: FieldPath):
        if isinstance(english_value, str):
            if not isinstance(value, str) or not value.strip():
                problem(loc, f"expected the {language_name(language)} text of this field, got {describe(value)}")
                return english_value
            return value
        if isinstance(english_value, list):
            if not isinstance(value, list) or len(value) != len(english_value):
                count = f"{len(value)} items" if isinstance(value, list) else describe(value)
                problem(
                    loc,
                    f"expected {len(english_value)} items, one for each item in {where}:{english.line_of(loc) or ''} "
                    f"in the same order, got {count}",
                )
                return english_value
            return [walk(e, v, loc + (i,)) for i, (e, v) in enumerate(zip(english_value, value))]
        if isinstance(english_value, dict):
            if not isinstance(value, dict):
                problem(
                    loc, f"expected a group of fields like {where}:{english.line_of(loc) or ''}, got {describe(value)}"
                )
                return english_value
            result = dict(english_value)
            for key, inner in english_value.items():
                if key not in value:
                    problem(
                        loc + (key,),
                        f"required, but missing: the {language_name(language)} text of {dotted(loc + (key,))} "
                        f"({where}:{english.line_of(loc + (key,)) or ''})",
                    )
                else:
                    result[key] = walk(inner, value[key], loc + (key,))
            for key in value:
                if key not in english_value:
                    problem(loc + (key,), f"unknown field; expected the fields of {dotted(loc)} in {where}")
            return result
        # A fact inside a group: never translated.
        return english_value

    for key, english_value in english.data.items():
        if key in FACTS:
            continue
        if key not in data:
            problem(
                (key,),
                f"required, but missing: the {language_name(language)} text of {key} "
                f"({where}:{english.line_of((key,)) or ''})",
            )
            continue
        merged[key] = walk(english_value, data[key], (key,))

    notes = data.get("source_notes") or {}
    ids = [source.get("id") for source in english.data.get("sources") or [] if isinstance(source, dict)]
    if not isinstance(notes, dict):
        problem(
            ("source_notes",), f"expected a group of source ids ({', '.join(map(str, ids))}), got {describe(notes)}"
        )
        notes = {}
    for source_id in ids:
        if source_id not in notes:
            problem(
                ("source_notes",),
                f"required, but missing: source_notes.{source_id}, how the source {source_id!r} is "
                f"described to patients in {language_name(language)} (publisher:, and note: when the "
                "English has one)",
            )
    for source_id, note in notes.items():
        if source_id not in ids:
            problem(
                ("source_notes", source_id),
                f"expected the id of a source in {where} ({', '.join(map(str, ids))}), got {describe(source_id)}",
            )
        elif (
            not isinstance(note, dict)
            or set(note) - {"title", "publisher", "note"}
            or not all(isinstance(v, str) for v in note.values())
        ):
            problem(
                ("source_notes", source_id),
                f"expected publisher: and note: in {language_name(language)} (and title:, for a "
                f"source this project wrote rather than a published work), got {describe(note)}",
            )
        else:
            for source in merged.get("sources") or []:
                if source.get("id") == source_id:
                    source.update({k: v for k, v in note.items() if isinstance(v, str)})
    if isinstance(data.get("reviewed_by"), str) and isinstance(merged.get("review"), dict):
        merged["review"] = {**merged["review"], "reviewed_by": data["reviewed_by"]}
    return merged, problems


# What a clinic is told to do about a translation it cannot change itself.
TRANSLATORS = (
    "The project's translators update the translation in data/translations/; the clinic cannot change it, "
    "and until then the document prints as it is."
)


def untranslated(doc: YamlFile, english: YamlFile, fields: list[str]) -> list[Problem]:
    """Text of four words or more that is the same as the English: most likely copied and not yet translated."""
    found = []

    def walk(value, english_value, loc: FieldPath) -> None:
        if isinstance(value, str) and value == english_value and len(value.split()) >= 4:
            found.append(
                Problem(
                    doc.path,
                    doc.line_of(loc),
                    dotted(loc),
                    "the same as the English: translate it (or, if it "
                    "must stay in English, keep it and say so in a comment)",
                    WARNING,
                    "translation",
                    TRANSLATORS,
                    "translation-same",
                )
            )
        elif isinstance(value, list) and isinstance(english_value, list):
            for i, (inner, english_inner) in enumerate(zip(value, english_value)):
                walk(inner, english_inner, loc + (i,))
        elif isinstance(value, dict) and isinstance(english_value, dict):
            for key, inner in value.items():
                walk(inner, english_value.get(key), loc + (key,))

    for name in fields:
        if isinstance(doc.data, dict) and name in doc.data and name in english.data:
            walk(doc.data[name], english.data[name], (name,))
    return found


def staleness(
    doc: YamlFile, english: YamlFile, info: TranslationInfo, fields: list[str], language: str
) -> list[Problem]:
    """Warnings for a translation: text left as the English, each field whose English changed since it was
    translated, and a translation that no clinician fluent in the language has reviewed yet."""
    warnings = untranslated(doc, english, fields)
    stamp = f"python generate.py translations --stamp {language}"
    if not info.english:
        warnings.append(
            Problem(
                doc.path,
                doc.line_of(("translation",)),
                "translation.english",
                f"expected a record of the English it translates, got none: check it against "
                f"{display_path(english.path)}, then run {stamp}",
                WARNING,
                "translation",
                f"{TRANSLATORS} They check it against the English, then run `{stamp}`.",
                "translation-unrecorded",
            )
        )
    else:
        for name in fields:
            if name in english.data and info.english.get(name) != fingerprint(english.data[name]):
                warnings.append(
                    Problem(
                        doc.path,
                        doc.line_of((name,)),
                        name,
                        f"older than the English it translates: {name} in {display_path(english.path)} "
                        f"changed since; update the translation, then run {stamp}",
                        WARNING,
                        "translation",
                        f"{TRANSLATORS} They update it, then run `{stamp}`.",
                        "translation-stale",
                    )
                )
    if info.reviewed_by is None:
        kind = "a machine-assisted translation" if info.machine_assisted else "a translation"
        warnings.append(
            Problem(
                doc.path,
                doc.line_of(("translation",)),
                "translation.reviewed_by",
                f"{kind} not yet reviewed: a clinician fluent in {language_name(language)} must check it "
                "against the English before patients read it",
                WARNING,
                "translation",
                f"A clinician fluent in {language_name(language)} reviews it and records their name under "
                "translation: reviewed_by; the clinic cannot change the translation itself.",
                "translation-unreviewed",
            )
        )
    return warnings


def translation_info(doc: YamlFile) -> TranslationInfo:
    """A file's `translation:` block, checked: problems name its fields as `translation.<field>`, with their lines."""
    from brochures.schema.errors import validate

    block = doc.data.get("translation") if isinstance(doc.data, dict) else None
    try:
        return validate(
            TranslationInfo,
            YamlFile(
                path=doc.path,
                data=block,
                text=doc.text,
                lines={k[1:]: v for k, v in doc.lines.items() if k[:1] == ("translation",)},
            ),
        )
    except InputError as error:
        raise InputError(
            [
                Problem(
                    p.file,
                    p.line or doc.line_of(("translation",)),
                    dotted(("translation", p.field)) if p.field else "translation",
                    p.message,
                )
                for p in error.problems
            ]
        ) from None


def strings_warnings(doc: YamlFile, english: YamlFile, language: str) -> list[Problem]:
    """A strings file's translation record checked like a content file's (InputError if the record is malformed)."""
    block = doc.data.get("translation") if isinstance(doc.data, dict) else None
    if block is None:
        return [
            Problem(
                doc.path, 1, "translation",
                "expected a translation: block saying who translated this file and who reviewed it", WARNING,
                "translation", TRANSLATORS, "translation-unrecorded"
            )
        ]
    info = translation_info(doc)
    fields = [k for k in english.data if k not in STRINGS_SETTINGS]
    return staleness(doc, english, info, fields, language)


def stamped(path: Path, english: YamlFile, settings: tuple[str, ...] = FACTS) -> tuple[str, str]:
    """A translation file's text, and its text with the fingerprint of each English field it translates recorded
    (its `english:` line). Comments and layout are kept: only that one line is rewritten."""
    text = path.read_text(encoding="utf-8")
    fields = [k for k in english.data if k not in settings and k not in OWN_BLOCKS]
    record = "{" + ", ".join(f"{name}: {fingerprint(english.data[name])}" for name in fields) + "}"
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("translation:")), None)
    if start is None:
        raise InputError([Problem(path, None, "translation", "expected a translation: block to record the English in")])
    if lines[start].split("#")[0].strip() != "translation:":
        raise InputError(
            [
                Problem(
                    path,
                    start + 1,
                    "translation",
                    "expected the translation: block written one field per "
                    "line (translated_by:, machine_assisted:, reviewed_by: indented below it), to record the "
                    "English in; got it on one line: the file was left as it was",
                )
            ]
        )
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        end += 1
    block = lines[start + 1 : end]
    at = next((i for i, line in enumerate(block) if re.match(r"\s+english:", line)), None)
    indent = re.match(r"(\s+)", block[0]).group(1) if block and block[0].strip() else "  "
    new_line = f"{indent}english: {record}"
    if at is None:
        block.insert(next((i for i in range(len(block), 0, -1) if block[i - 1].strip()), 0), new_line)
    else:
        following = at + 1
        while following < len(block) and len(block[following]) - len(block[following].lstrip()) > len(indent):
            following += 1
        block[at:following] = [new_line]
    return text, "\n".join(lines[: start + 1] + block + lines[end:])


def with_language(edition_or_none: Edition | None, content):
    """Content as a clinic edition in that language reads it."""
    if edition_or_none is None:
        return content
    return replace(
        content,
        treatments={slug: edition_or_none.treatments[slug] for slug in content.treatments},
        shared=edition_or_none.shared,
        docs=dict(edition_or_none.docs),
        language=edition_or_none.language,
        editions={},
        edition_problems={},
        edition_warnings={},
    )
