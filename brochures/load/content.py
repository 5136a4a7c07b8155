"""Loads and validates what every clinic's brochures say: treatments, shared content,
countries and their translations."""

from __future__ import annotations

from pathlib import Path

from brochures import STYLES_DIR
from brochures.files.yaml_reader import YamlFile, dotted, read_yaml
from brochures.load.loaded import RESERVED_NAMES, Content
from brochures.load.translations import (
    languages_available,
    load_edition,
    with_language,
)
from brochures.problems import InputError, Problem, describe
from brochures.schema.content import SharedContent, Sourced, Treatment
from brochures.schema.errors import validate
from brochures.schema.fields import SLUG, SLUG_RULE
from brochures.schema.reference import Countries

ICONS_DIR = STYLES_DIR / "icons"


def load_content(data_dir: Path) -> Content:
    """Every treatment in data/treatments/ and the shared content, checked; all problems at once."""
    problems: list[Problem] = []
    treatments: dict[str, Treatment] = {}
    docs: dict[str, YamlFile] = {}
    treatment_dir = data_dir / "treatments"
    paths = sorted(treatment_dir.glob("*.yaml")) if treatment_dir.is_dir() else []
    if not paths:
        problems.append(Problem(treatment_dir, None, "", "expected at least one treatment file (*.yaml), found none"))
    for path in paths:
        if problem := _treatment_name_problem(path):
            problems.append(problem)
            continue
        try:
            doc = read_yaml(path)
            treatment = validate(Treatment, doc)
            problems += _check_sources(treatment, doc) + _check_icon(treatment, doc)
            treatments[path.stem] = treatment
            docs[path.stem] = doc
        except InputError as error:
            problems += error.problems
    countries = None
    try:
        countries = _load_countries(data_dir / "countries.yaml")
    except InputError as error:
        problems += error.problems
    shared = None
    try:
        doc = read_yaml(data_dir / "shared.yaml")
        shared = validate(SharedContent, doc)
        problems += _check_sources(shared, doc)
        docs["shared"] = doc
    except InputError as error:
        problems += error.problems
    if problems:
        raise InputError(problems)
    ordered = dict(sorted(treatments.items(), key=lambda item: (item[1].order, item[0])))
    english = Content(data_dir=data_dir, treatments=ordered, shared=shared, docs=docs, countries=countries)
    for language in languages_available(data_dir):
        try:
            edition = load_edition(data_dir, language, ordered, shared, docs)
            english.editions[language] = with_language(edition, english)
            english.edition_warnings[language] = edition.warnings
        except InputError as error:
            english.edition_problems[language] = error.problems
    return english


def _load_countries(path: Path) -> Countries:
    """The table of local facts by country; every country names the source of its emergency number."""
    doc = read_yaml(path)
    countries: Countries = validate(Countries, doc)
    known = {source.id for source in countries.sources}
    problems = [
        Problem(
            path,
            doc.line_of(("countries", code, "source")),
            f"countries.{code}.source",
            f"expected the id of an entry in sources ({', '.join(sorted(known))}), got {describe(country.source)}",
        )
        for code, country in countries.countries.items()
        if country.source not in known
    ]
    if problems:
        raise InputError(problems)
    return countries


def _treatment_name_problem(path: Path) -> Problem | None:
    """A treatment's file name becomes its slug, its PDF's name and a --treatment choice:
    it must be safe and its own."""
    if not SLUG.fullmatch(path.stem):
        return Problem(
            path,
            None,
            "",
            f"expected a treatment file name of {SLUG_RULE} (no dots or spaces), "
            f'then ".yaml", like "facial.yaml"; got {describe(path.name)}',
        )
    if path.stem in RESERVED_NAMES:
        return Problem(
            path,
            None,
            "",
            f"expected a treatment file name other than {', '.join(RESERVED_NAMES)} "
            f"(the generator's own documents and reports use them), got {describe(path.name)}",
        )
    return None


def _check_sources(content: Sourced, doc: YamlFile) -> list[Problem]:
    """Every fact names where it comes from: each content field is covered by exactly one source."""
    problems = []
    wanted = content.content_fields()
    covered: dict[str, str] = {}
    for i, source in enumerate(content.sources):
        for j, name in enumerate(source.covers):
            loc = ("sources", i, "covers", j)
            if name not in wanted:
                problems.append(
                    Problem(
                        doc.path, doc.line_of(loc), dotted(loc), f"expected a content field name, got {describe(name)}"
                    )
                )
            elif name in covered:
                problems.append(
                    Problem(
                        doc.path,
                        doc.line_of(loc),
                        dotted(loc),
                        f'expected each field in one source only, got "{name}" again '
                        f'(also in source "{covered[name]}")',
                    )
                )
            else:
                covered[name] = source.id
    missing = [name for name in wanted if name not in covered]
    if missing:
        problems.append(
            Problem(
                doc.path,
                doc.line_of(("sources",)),
                "sources",
                f"expected every content field to name its source, got none for: {', '.join(missing)}",
            )
        )
    return problems


def _check_icon(treatment: Treatment, doc: YamlFile) -> list[Problem]:
    icon = (ICONS_DIR / treatment.icon).resolve()
    if not icon.is_relative_to(ICONS_DIR.resolve()) or not icon.is_file() or icon.suffix != ".svg":
        choices = ", ".join(sorted(p.name for p in ICONS_DIR.glob("*.svg")))
        return [
            Problem(
                doc.path,
                doc.line_of(("icon",)),
                "icon",
                f"expected an SVG file in styles/icons/ ({choices}), got {describe(treatment.icon)}",
            )
        ]
    return []
