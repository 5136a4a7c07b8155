"""Loads and validates every input: treatments, shared content, strings and clinic configs."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import stat
import typing
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from . import DATA_DIR, STYLES_DIR
from .branding import FontFamily, available_fonts, find_font, undrawable
from .fetcher import MAX_IMAGE_BYTES, SVG_TYPE, check_image
from .models import SLUG, SLUG_RULE, ClaimRules, ClinicConfig, Countries, Country, SharedContent, Sourced, Strings, Treatment
from .problems import InputError, NotARegularFile, Problem, describe, display_path, file_kind, read_regular_file
from .translations import language_name, languages_available, load_edition, strings_warnings, with_language
from .yaml_reader import FieldPath, YamlFile, dotted, read_yaml

# The logo's name and its bytes must agree. A photograph of a sign or a logo exported from an office program is often a JPEG.
LOGO_TYPES = {".svg": SVG_TYPE, ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
ICONS_DIR = STYLES_DIR / "icons"
# Names the generator gives its own outputs in a clinic's folder (comparison.pdf, booklet.pdf, report.json,
# report.html), and index for a gallery page: a treatment file may not take them.
RESERVED_NAMES = ("booklet", "comparison", "index", "report")
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


@dataclass(frozen=True)
class Content:
    """Everything the brochures say, shared by every clinic."""

    data_dir: Path
    treatments: dict[str, Treatment]  # slug → treatment, in brochure order
    shared: SharedContent
    docs: dict[str, YamlFile] = field(default_factory=dict)  # slug (or "shared") → its file, with line numbers
    countries: Countries | None = None  # data/countries.yaml: local facts by country
    language: str = "en"  # the language of the text: English, or one of `editions`
    # The content in each other language with translations in data/translations/ (text over the English facts),
    # and the problems of a language whose translations are incomplete (reported when a clinic asks for it).
    editions: dict[str, "Content"] = field(default_factory=dict)
    edition_problems: dict[str, list[Problem]] = field(default_factory=dict)
    edition_warnings: dict[str, list[Problem]] = field(default_factory=dict)

    def of(self, clinic: "Clinic") -> "Content":
        """The content as this clinic edition's patients read it: in its language."""
        return self.editions.get(clinic.language, self) if clinic.language != self.language else self


@dataclass(frozen=True)
class Clinic:
    """A validated clinic: its config plus everything resolved from it."""

    slug: str
    folder: Path
    config_file: Path
    config: ClinicConfig
    logo: Path
    font: FontFamily
    strings: Strings
    treatments: tuple[str, ...]
    doc: YamlFile  # the config as read, with line numbers
    strings_doc: YamlFile
    strings_overlay: YamlFile | None  # the variant's file laid over strings_doc (en-US.yaml), when there is one
    claim_rules: ClaimRules
    emergency_number: str = ""  # the clinic's own, else its country's: never a default it did not choose
    country: Country | None = None
    locale: str = "en"  # the language as printed and tagged: "en-GB", "en-US"
    spelling: dict[str, str] = field(default_factory=dict)  # content words respelled for the locale ("ageing" → "aging")
    language: str = "en"  # the language of this edition's documents ("en", "es", "ar"): the config's languages, one by one
    main: bool = True  # the clinic's main language: its documents go to out/<clinic>/, the others' to out/<clinic>/<language>/
    script_fonts: tuple[FontFamily, ...] = ()  # the fonts that draw the language's script, after the clinic's font
    translation_warnings: tuple[Problem, ...] = ()  # its translations: older than the English, or not yet reviewed

    @property
    def home(self) -> str:
        """The clinic's output folder name, which its languages share (example for example/es)."""
        return self.slug.split("/")[0]

    @property
    def key(self) -> str:
        """What tells this clinic edition from every other: its folder and its language."""
        return f"{self.folder}|{self.locale}"

    @property
    def fonts(self) -> tuple[FontFamily, ...]:
        return (self.font, *self.script_fonts)


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
        got = "a password (not shown)"  # a secret is never printed, not even back to the one who wrote it
    after = f" ({ctx['detail']})" if ctx.get("detail") else ""
    return Problem(doc.path, line, dotted(loc), f"{expected}, got {got}{after}")


def _plain(message: str, kind: str) -> str:
    """A schema message in plain words: never a regular expression or a Python error."""
    if message.startswith("expected"):  # our own validators' messages
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


# --- Content ---

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
    problems = [Problem(path, doc.line_of(("countries", code, "source")), f"countries.{code}.source",
                        f"expected the id of an entry in sources ({', '.join(sorted(known))}), got {describe(country.source)}")
                for code, country in countries.countries.items() if country.source not in known]
    if problems:
        raise InputError(problems)
    return countries


def _treatment_name_problem(path: Path) -> Problem | None:
    """A treatment's file name becomes its slug, its PDF's name and a --treatment choice: it must be safe and its own."""
    if not SLUG.fullmatch(path.stem):
        return Problem(path, None, "", f"expected a treatment file name of {SLUG_RULE} (no dots or spaces), "
                                       f'then ".yaml", like "facial.yaml"; got {describe(path.name)}')
    if path.stem in RESERVED_NAMES:
        return Problem(path, None, "", f"expected a treatment file name other than {', '.join(RESERVED_NAMES)} "
                                       f"(the generator's own documents and reports use them), got {describe(path.name)}")
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
                problems.append(Problem(doc.path, doc.line_of(loc), dotted(loc), f"expected a content field name, got {describe(name)}"))
            elif name in covered:
                problems.append(Problem(doc.path, doc.line_of(loc), dotted(loc), f'expected each field in one source only, got "{name}" again (also in source "{covered[name]}")'))
            else:
                covered[name] = source.id
    missing = [name for name in wanted if name not in covered]
    if missing:
        problems.append(Problem(doc.path, doc.line_of(("sources",)), "sources",
                                f"expected every content field to name its source, got none for: {', '.join(missing)}"))
    return problems


def _check_icon(treatment: Treatment, doc: YamlFile) -> list[Problem]:
    icon = (ICONS_DIR / treatment.icon).resolve()
    if not icon.is_relative_to(ICONS_DIR.resolve()) or not icon.is_file() or icon.suffix != ".svg":
        choices = ", ".join(sorted(p.name for p in ICONS_DIR.glob("*.svg")))
        return [Problem(doc.path, doc.line_of(("icon",)), "icon", f"expected an SVG file in styles/icons/ ({choices}), got {describe(treatment.icon)}")]
    return []


# --- Clinics ---

def safe_name(text: str) -> str:
    """The output folder name for a clinic folder called `text`: distinct, and safe to attach or send anywhere.

    The rule: a name that is already safe (up to 40 lowercase letters a–z, digits and dashes, starting
    with a letter or digit) is used as it is: `rosewood` → `rosewood`. Any other name is transliterated
    as far as it can be (accents dropped, other characters turned into dashes, at most 32 characters)
    and followed by a dash and the first 6 hex digits of the SHA-256 of the original name, so that two
    different names never share a folder and the same name always gets the same one:
    `Rose Wood` → `rose-wood-` + 6 hex digits, `東京` → `clinic-` + 6 hex digits.
    A safe name that itself ends like that (`clinic-130016`) is hashed too, so that no folder can
    take the output folder another clinic's name is given.
    """
    if SLUG.fullmatch(text) and not re.search(r"-[0-9a-f]{6}$", text):
        return text
    ascii_name = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:32].strip("-") or "clinic"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{stem}-{digest}"


# Fields of a clinic config that are settings, never printed as text.
_SETTINGS = {"logo", "colors", "font", "page_size", "language", "country", "treatments", "claims_profile",
             "claims_terms", "approval"}


def _printed_text(data, loc: FieldPath):
    """Every (field, text) of a clinic config that reaches the page."""
    if isinstance(data, dict):
        for key, value in data.items():
            if not (loc == () and key in _SETTINGS):
                yield from _printed_text(value, loc + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _printed_text(value, loc + (index,))
    elif isinstance(data, str):
        yield loc, data


def find_clinic_file(reference: str, data_dir: Path) -> Path:
    """A clinic named by slug (in data/clinics/), folder path or clinic.yaml path.

    A clinic.yaml that exists but is not a regular file (a folder, a named pipe) is returned all the
    same, so that reading it says what it is rather than that there is no such clinic.
    """
    as_path = Path(reference)
    candidates = [data_dir / "clinics" / reference / "clinic.yaml", as_path / "clinic.yaml", as_path]
    for candidate in candidates:
        if os.path.lexists(candidate) and not (candidate is as_path and candidate.is_dir()):
            return candidate
    known = ", ".join(clinic_slugs(data_dir)) or "none"
    raise InputError([Problem(as_path, None, "--clinic",
                              f"expected a clinic slug in {display_path(data_dir / 'clinics')} ({known}) or a folder with a clinic.yaml, got {describe(reference)}")])


def clinic_slugs(data_dir: Path) -> list[str]:
    folder = data_dir / "clinics"
    return sorted(p.parent.name for p in folder.glob("*/clinic.yaml")) if folder.is_dir() else []


def load_editions(config_file: Path, content: Content) -> tuple[list[Clinic], list[Problem]]:
    """A clinic in each language it offers (`languages:`), its main language first; and the problems of the other
    languages that cannot be built (an incomplete translation): those languages are left out, the rest are built.
    An invalid config (in any language), or a main language that cannot be built, raises InputError.""" 
    editions, problems = [load_clinic(config_file, content)], []
    for language in (editions[0].config.languages or [])[1:]:
        try:
            editions.append(load_clinic(config_file, content, language))
        except InputError as error:
            problems += error.problems
    if any(problem.file == config_file for problem in problems):
        raise InputError(problems)  # the clinic's own config is wrong (a language it cannot offer): none of it is built
    return editions, problems


def load_clinic(config_file: Path, content: Content, language: str | None = None) -> Clinic:
    """One clinic in one of its languages (default: its main one), fully checked: schema, logo, fonts, language,
    translations and treatments."""
    doc = read_yaml(config_file)
    config: ClinicConfig = validate(ClinicConfig, doc)
    folder = config_file.parent.resolve()  # where files are looked for and contained
    problems: list[Problem] = []

    def problem(loc: FieldPath, message: str) -> None:
        problems.append(Problem(config_file, doc.line_of(loc), dotted(loc), message))

    languages = list(config.languages or [config.language])
    if config.languages and "language" in (doc.data or {}) and config.language != languages[0]:
        problem(("language",), f"expected the first of languages ({languages[0]}), or no language: line, got {describe(config.language)}")
    for i, code in enumerate(languages):
        if code in languages[:i]:
            problem(("languages", i), f"expected each language once, got {describe(code)} again")
    for group in ("in_language", "language_approvals"):
        for code in getattr(config, group):
            if code not in languages[1:]:
                problem((group, code), f"expected one of the clinic's other languages ({', '.join(languages[1:]) or 'none'}), got {describe(code)}")
    language = language or languages[0]
    main = language == languages[0]
    base = language.split("-")[0]
    if base != content.language and base not in content.editions and (content.data_dir / "strings" / f"{base}.yaml").is_file():
        where = ("languages", languages.index(language)) if config.languages else ("language",)
        if found := content.edition_problems.get(base):
            problems += found
        else:
            known = ", ".join([content.language, *content.editions]) or "none"
            problem(where, f"expected a language with translated content in data/translations/ ({known}), got {describe(language)}")
    if main:
        config = config.model_copy(update={"language": language})
    else:
        own = config.in_language.get(language)
        if config.disclaimer and not (own and own.disclaimer) and (content.data_dir / "strings" / f"{base}.yaml").is_file():
            problem(("in_language",) if config.in_language else ("disclaimer",),
                    f"expected the disclaimer in {language_name(language)} too (in_language: {language}: disclaimer:), "
                    "since every document prints it; got none")
        config = config.model_copy(update={
            "language": language, "approval": config.language_approvals.get(language),
            "disclaimer": own.disclaimer if own else None, "directions": own.directions if own else [],
            "reschedule": own.reschedule if own else None})

    if reason := _logo_problem(folder, config.logo):
        problem(("logo",), reason)
    logo = (folder / config.logo).resolve()

    font = find_font(config.font, folder)
    if font is None:
        choices = ", ".join(available_fonts(folder)) or "none"
        problem(("font",), f"expected an installed font family or font files in {folder.name}/fonts/ (available: {choices}), got {describe(config.font)}")

    country = None
    if config.country:
        table = content.countries.countries if content.countries else {}
        country = table.get(config.country)
        if country is None:
            problem(("country",), f"expected a country in data/countries.yaml ({', '.join(sorted(table)) or 'none'}), "
                                  f"got {describe(config.country)}; or add it there, with the source of its emergency number")
    if not config.country and not config.emergency_number:
        problem(("country",), 'expected the clinic\'s country (like "GB" or "US"), which sets its emergency number, '
                              'or an emergency_number: the brochures never print an emergency number the clinic did not choose')

    strings = strings_doc = strings_overlay = claim_rules = None
    # A country's spelling, date format and claims rules are for text in its own language.
    local = country if country and country.spelling.split("-")[0] == base else None
    locale = _locale(language, local)
    spelling: dict[str, str] = {}
    script_fonts: list[FontFamily] = []
    translation_warnings = list(content.edition_warnings.get(base, [])) if base != content.language else []
    strings_file = content.data_dir / "strings" / f"{base}.yaml"
    if not strings_file.is_file():
        choices = ", ".join(sorted(p.stem for p in (content.data_dir / "strings").glob("*.yaml")))
        where = ("languages", languages.index(language)) if config.languages else ("language",)
        problem(where, f"expected a language with a strings file in data/strings/ ({choices}), got {describe(language)}")
    else:
        try:
            strings_doc = read_yaml(strings_file)
            validate(Strings, strings_doc)  # the language's own file is complete on its own
            strings, strings_overlay = _localized_strings(strings_doc, content.data_dir / "strings" / f"{locale}.yaml", local)
            spelling = dict(strings.spelling)
            english_strings = content.data_dir / "strings" / "en.yaml"
            if base != "en" and english_strings.is_file():
                translation_warnings += strings_warnings(strings_doc, read_yaml(english_strings), base)
        except InputError as error:
            problems += error.problems
    if strings:
        for name in strings.script_fonts:
            family = find_font(name, folder)
            if family is None:
                problems.append(Problem(strings_file, strings_doc.line_of(("script_fonts",)), "script_fonts",
                                        f"expected an installed font package for {language_name(base)} text, got {describe(name)} "
                                        f"(install it: it is a dependency in pyproject.toml)"))
            else:
                script_fonts.append(family)
        profile = (config.claims_profile if main else None) or (local.claims_profile if local else strings.claims_profile)
        rules_file = content.data_dir / "claims" / f"{profile}.yaml"
        if not rules_file.is_file():
            choices = ", ".join(sorted(p.stem for p in (content.data_dir / "claims").glob("*.yaml"))) or "none"
            where = ("claims_profile",) if config.claims_profile and main else ()
            problem(where, f"expected a claims profile in data/claims/ ({choices}), got {describe(profile)}")
        else:
            try:
                claim_rules = validate(ClaimRules, read_yaml(rules_file))
            except InputError as error:
                problems += error.problems
    if font is not None:
        # Text the fonts cannot draw would print as empty boxes, or in whatever font this machine has.
        fonts = [font, *script_fonts]
        for loc, text in _printed_text(doc.data, ()):
            if loc[:1] in (("in_language",), ("language_approvals",)) and loc[1:2] != (language,):
                continue  # another language's words: checked with that language's fonts
            if missing := "".join(c for c in undrawable(font, text) if all(c in undrawable(f, c) for f in fonts[1:])):
                shown = ", ".join(f"U+{ord(c):04X}" for c in missing[:8])
                problem(loc, f'expected text the font {font.name} can draw, got "{missing[:8]}" ({shown}), which it has no '
                             "letters for: choose a font that covers them (font:), or write the text in another script")

    known = list(content.treatments)
    offered = config.treatments or known
    for i, slug in enumerate(offered):
        if slug not in content.treatments:
            close = difflib.get_close_matches(slug, known, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            problem(("treatments", i), f"unknown treatment; {hint}expected one of {', '.join(known)}, got {describe(slug)}")
        elif slug in offered[:i]:
            problem(("treatments", i), f"expected each treatment once, got {describe(slug)} again")

    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    # The output folder is named after the folder as the user named it: a symlinked clinic folder keeps
    # the link's name, not its target's. Another language's documents go to a folder of that language inside it.
    named = safe_name(Path(os.path.abspath(config_file)).parent.name)
    return Clinic(
        slug=named if main else f"{named}/{language}", folder=folder, config_file=config_file, config=config, logo=logo,
        font=font, strings=strings, treatments=tuple(s for s in content.treatments if s in offered),
        doc=doc, strings_doc=strings_doc, strings_overlay=strings_overlay, claim_rules=claim_rules,
        emergency_number=config.emergency_number or country.emergency_number, country=country, locale=locale,
        spelling=spelling, language=base, main=main, script_fonts=tuple(script_fonts),
        translation_warnings=tuple(translation_warnings),
    )


def _logo_problem(folder: Path, name: str) -> str | None:
    """Why the logo file `name` in `folder` cannot be printed, or None.

    Only a regular file inside the folder is opened. What it holds is judged from its bytes, and must be
    an SVG, PNG or JPEG image that agrees with its name and passes the image checks (size, bombs, damage).
    """
    logo = (folder / name).resolve()
    if not logo.is_relative_to(folder):
        return f"expected a file inside the clinic folder {folder.name}/, got {describe(name)}, which leads outside it"
    try:
        info = logo.stat()
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(logo, file_kind(info.st_mode))
        if info.st_size > MAX_IMAGE_BYTES:
            return (f"expected an image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB, "
                    f"got {info.st_size / (1024 * 1024):.1f} MB ({name})")
        if logo.suffix.lower() not in LOGO_TYPES:
            return f"expected an SVG, PNG or JPEG file, got {describe(name)}"
        data = read_regular_file(logo, MAX_IMAGE_BYTES + 1)
    except NotARegularFile as error:
        return f"expected a regular file, got {error.kind} ({name})"
    except (FileNotFoundError, NotADirectoryError):
        return f"expected an existing file in {folder.name}/, got {describe(name)}, which does not exist"
    except OSError as error:
        return f"expected a file this program may read, got {describe(name)}, which cannot be read ({error.strerror or type(error).__name__})"
    check = check_image(data)
    if check.problem:
        return f"{check.problem} ({name})"
    if check.mime_type not in LOGO_TYPES.values():
        return f"expected an SVG, PNG or JPEG image, got {check.what} ({name})"
    if check.mime_type != LOGO_TYPES[logo.suffix.lower()]:
        right = next(suffix for suffix, mime_type in LOGO_TYPES.items() if mime_type == check.mime_type)
        return f"expected a file whose name says what it holds, got {check.what} named {describe(name)} (name it {Path(name).with_suffix(right).name})"
    return None


# --- Local facts: language, country and spelling ---

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
    if country:  # only a country whose language this is
        data["date"] = country.date
    spelling = data.get("spelling") or {}
    data = {key: value if key == "spelling" else respell(value, spelling) for key, value in data.items()}
    return validate(Strings, YamlFile(path=doc.path, data=data, lines=lines, text=doc.text, problems=list(doc.problems))), overlay


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
    pattern = re.compile(r"\b(" + "|".join(re.escape(word) for word in sorted(spelling, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)
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
    return respell({"treatments": {slug: content.treatments[slug].model_dump(mode="json") for slug in clinic.treatments},
                    "shared": content.shared.model_dump(mode="json")}, clinic.spelling)


# --- Approval: each clinic signs off its own content ---

APPROVED, UNAPPROVED, OUTDATED = "approved", "unapproved", "outdated"


def content_fingerprint(clinic: Clinic, content: Content) -> str:
    """12 hex digits of the SHA-256 of what the clinic's medical lead approves, as canonical JSON.

    It covers the treatments the clinic offers and the shared content (with their sources and review
    blocks), as its patients read them (spelled for its locale), the words of its strings file, its
    language, its emergency number, its disclaimer, and its own templates (an override can change
    what a patient is told, or leave out a safety section). Not its branding (name, logo, colours, font, contact details,
    page size): rebranding needs no new approval, any change of what a patient is told does.
    The same content gives the same fingerprint on every machine and every run.
    """
    strings = {key: value for key, value in clinic.strings.model_dump(mode="json").items() if key not in ("report", "report_title")}
    payload = {"locale": clinic.locale, "emergency_number": clinic.emergency_number, "strings": strings,
               "disclaimer": clinic.config.disclaimer, "templates": _own_templates(clinic),
               **patient_content(clinic, content)}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def _own_templates(clinic: Clinic) -> dict[str, str]:
    """The hash of each of the clinic's own template files, by name (read as the renderer would: regular files only)."""
    folder = clinic.folder / "templates"
    found = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            try:
                found[path.relative_to(folder).as_posix()] = hashlib.sha256(read_regular_file(path, 1024 * 1024)).hexdigest()
            except OSError:
                continue  # a folder, a named pipe, a broken link: the renderer refuses it and says so
    return found


def approval_status(clinic: Clinic, content: Content) -> dict:
    """Whether the clinic's medical lead approved the content it prints, as plain data (for templates and reports):

    state          "approved", "unapproved" (no approval block) or "outdated" (the content changed since)
    approved       True only when the approval's fingerprint is the content's
    fingerprint    the content's fingerprint now
    approval       the approval block as written ({name, role, date, fingerprint}), or None
    warning        for the scorecard and --strict when not approved (file, line, what to do), else None
    """
    current = content_fingerprint(clinic, content)
    approval = clinic.config.approval
    how = f"to approve it, run `python generate.py --clinic {clinic_reference(clinic, content)} --approval`"
    # The main language's sign-off is approval:, each other language's is under language_approvals:.
    field = ("approval",) if clinic.main else ("language_approvals", clinic.config.language)
    in_language = "" if clinic.main else f" in {language_name(clinic.language)}"
    if approval is None:
        state = UNAPPROVED
        line = clinic.doc.line_of(("name",)) if clinic.main else (clinic.doc.lines.get(field) or clinic.doc.line_of(("languages",)))
        warning = Problem(clinic.config_file, line, dotted(field),
                          f"not yet approved{in_language} by the clinic's medical lead, so every page is marked as a draft; {how}")
    elif approval.fingerprint != current:
        state = OUTDATED
        warning = Problem(clinic.config_file, clinic.doc.line_of(field + ("fingerprint",)), dotted(field + ("fingerprint",)),
                          f"the content changed since {approval.name} approved it on {approval.date.isoformat()} "
                          f"(approved {approval.fingerprint}, now {current}), so every page is marked as a draft; {how}")
    else:
        state, warning = APPROVED, None
    return {"state": state, "approved": state == APPROVED, "fingerprint": current,
            "approval": approval.model_dump(mode="json") if approval else None,
            "warning": str(warning) if warning else None}


def approval_request(clinic: Clinic, content: Content) -> str:
    """What `generate.py --clinic <clinic> --approval` prints: the fingerprint, what it covers, and the block to paste."""
    status = approval_status(clinic, content)
    titles = ", ".join(content.of(clinic).treatments[slug].title for slug in clinic.treatments)
    approval = status["approval"] or {}
    now = {APPROVED: f"It is approved: {approval.get('name')} approved this content on {approval.get('date')}.",
           OUTDATED: f"The approval in the config ({approval.get('fingerprint')}) is for content that has changed since: "
                     "every page is marked as a draft.",
           UNAPPROVED: "It is not approved yet: every page is marked as a draft."}[status["state"]]
    language = language_name(clinic.language)
    if clinic.main:
        where, block, pad = "(in place of any approval: block already there)", ["approval:"], "  "
    else:  # each other language is approved on its own, by someone who reads it
        where = f"under language_approvals: (in place of any {clinic.config.language}: block already there)"
        block, pad = ["language_approvals:", f"  {clinic.config.language}:"], "    "
    return "\n".join([
        f"Content fingerprint for {clinic.config.name}" + ("" if clinic.main else f" in {language}") + f": {status['fingerprint']}",
        f"It covers what this clinic's patients read: {titles}, the comparison sheet and the shared text, "
        f"in {clinic.locale}, with the emergency number {clinic.emergency_number}. Not the branding.",
        now,
        "",
        "When the clinic's medical lead" + ("" if clinic.main else f" (or a clinician who reads {language} and answers to them)")
        + f" has read every brochure built from this content, put this block in {display_path(clinic.config_file)} {where}, "
        "with their name, role and the date:",
        "",
        *block,
        f'{pad}name: ""          # who approved it, e.g. "Dr Jane Smith"',
        f'{pad}role: ""          # e.g. "Medical lead"' + ("" if clinic.main else f", written in {language}: it is printed on its pages"),
        f'{pad}date: ""          # the day they approved it, e.g. 2026-11-25',
        f"{pad}fingerprint: {status['fingerprint']}",
        "",
        "Any later change to this content changes the fingerprint, and the brochures say \"Draft\" again until it is approved again.",
    ])


def clinic_reference(clinic: Clinic, content: Content) -> str:
    """How to name the clinic on the command line: its slug when it lives in data/clinics/, else its folder."""
    named = Path(os.path.abspath(clinic.config_file))
    in_data = content.data_dir / "clinics" / named.parent.name / "clinic.yaml"
    if in_data.exists() and Path(os.path.abspath(in_data)) == named:
        default = Path(os.path.abspath(content.data_dir)) == Path(os.path.abspath(DATA_DIR))
        return named.parent.name if default else f"{named.parent.name} --data {display_path(content.data_dir)}"
    return display_path(named.parent)
