"""Loads and validates every input: treatments, shared content, strings and clinic configs."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
import unicodedata
from dataclasses import replace
from pathlib import Path

from brochures.brand.colours import palette
from brochures.brand.fonts import FontFamily, available_fonts, find_font, refused_font_files, undrawable
from brochures.files.images import MAX_IMAGE_BYTES, SVG_TYPE, check_image
from brochures.files.safe_read import NotARegularFile, file_kind, read_regular_file
from brochures.files.yaml_reader import FieldPath, dotted, read_yaml
from brochures.load.approval import approval_state
from brochures.load.loaded import Clinic, Content
from brochures.load.locale import _locale, _localized_strings
from brochures.load.translations import (
    language_name,
    strings_warnings,
)
from brochures.problems import WARNING, InputError, Problem, describe, display_path
from brochures.schema.clinic import ClinicConfig
from brochures.schema.errors import validate
from brochures.schema.fields import SLUG, colour_as_given, keeps_time_of, zones_of
from brochures.schema.reference import ClaimRules
from brochures.schema.strings import Strings

# The logo's name and its bytes must agree. A photograph of a sign or a logo exported from an office program is
# often a JPEG.
LOGO_TYPES = {".svg": SVG_TYPE, ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


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
_SETTINGS = {
    "logo",
    "colors",
    "font",
    "page_size",
    "language",
    "country",
    "treatments",
    "claims_profile",
    "claims_terms",
    "approval",
    "timezone",
    "treatment_aliases",
}


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
    raise InputError(
        [
            Problem(
                as_path,
                None,
                "--clinic",
                f"expected a clinic slug in {display_path(data_dir / 'clinics')} ({known}) "
                f"or a folder with a clinic.yaml, got {describe(reference)}",
            )
        ]
    )


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
        # The clinic's own config is wrong (a language it cannot offer): none of it is built.
        raise InputError(problems)
    return editions, problems


def load_clinic(config_file: Path, content: Content, language: str | None = None) -> Clinic:
    """One clinic in one of its languages (default: its main one), fully checked: schema, logo, fonts, language,
    translations and treatments."""
    doc = read_yaml(config_file)
    config: ClinicConfig = validate(ClinicConfig, doc)
    # Where files are looked for and contained.
    folder = config_file.parent.resolve()
    problems: list[Problem] = []

    def problem(loc: FieldPath, message: str) -> None:
        problems.append(Problem(config_file, doc.line_of(loc), dotted(loc), message))

    languages = list(config.languages or [config.language])
    if config.languages and "language" in (doc.data or {}) and config.language != languages[0]:
        problem(
            ("language",),
            f"expected the first of languages ({languages[0]}), or no language: line, got {describe(config.language)}",
        )
    for i, code in enumerate(languages):
        if code in languages[:i]:
            problem(("languages", i), f"expected each language once, got {describe(code)} again")
    for group in ("in_language", "language_approvals"):
        for code in getattr(config, group):
            if code not in languages[1:]:
                problem(
                    (group, code),
                    f"expected one of the clinic's other languages ({', '.join(languages[1:]) or 'none'}), "
                    f"got {describe(code)}",
                )
    language = language or languages[0]
    main = language == languages[0]
    base = language.split("-")[0]
    if (
        base != content.language
        and base not in content.editions
        and (content.data_dir / "strings" / f"{base}.yaml").is_file()
    ):
        where = ("languages", languages.index(language)) if config.languages else ("language",)
        if found := content.edition_problems.get(base):
            problems += found
        else:
            known = ", ".join([content.language, *content.editions]) or "none"
            problem(
                where,
                f"expected a language with translated content in data/translations/ ({known}), "
                f"got {describe(language)}",
            )
    if main:
        config = config.model_copy(update={"language": language})
    else:
        own = config.in_language.get(language)
        if (
            config.disclaimer
            and not (own and own.disclaimer)
            and (content.data_dir / "strings" / f"{base}.yaml").is_file()
        ):
            problem(
                ("in_language",) if config.in_language else ("disclaimer",),
                f"expected the disclaimer in {language_name(language)} too (in_language: {language}: disclaimer:), "
                "since every document prints it; got none",
            )
        config = config.model_copy(
            update={
                "language": language,
                "approval": config.language_approvals.get(language),
                "disclaimer": own.disclaimer if own else None,
                "directions": own.directions if own else [],
                "reschedule": own.reschedule if own else None,
            }
        )

    if reason := _logo_problem(folder, config.logo):
        problem(("logo",), reason)
    logo = (folder / config.logo).resolve()

    font = find_font(config.font, folder)
    # A font file over a bound is refused whether the clinic uses it or not: its family name is inside it.
    for message in refused_font_files(folder):
        problem(("font",), message)
    if font is None:
        choices = ", ".join(available_fonts(folder)) or "none"
        problem(
            ("font",),
            f"expected an installed font family or font files in {folder.name}/fonts/ (available: {choices}), "
            f"got {describe(config.font)}",
        )

    country = None
    if config.country:
        table = content.countries.countries if content.countries else {}
        country = table.get(config.country)
        if country is None:
            problem(
                ("country",),
                f"expected a country in data/countries.yaml ({', '.join(sorted(table)) or 'none'}), "
                f"got {describe(config.country)}; or add it there, with the source of its emergency number",
            )
    if not config.country and not config.emergency_number:
        problem(
            ("country",),
            'expected the clinic\'s country (like "GB" or "US"), which sets its emergency number, '
            'or an emergency_number: the brochures never print an emergency number the clinic did not choose',
        )

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
        problem(
            where, f"expected a language with a strings file in data/strings/ ({choices}), got {describe(language)}"
        )
    else:
        try:
            strings_doc = read_yaml(strings_file)
            # The language's own file is complete on its own.
            validate(Strings, strings_doc)
            strings, strings_overlay = _localized_strings(
                strings_doc, content.data_dir / "strings" / f"{locale}.yaml", local
            )
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
                problems.append(
                    Problem(
                        strings_file,
                        strings_doc.line_of(("script_fonts",)),
                        "script_fonts",
                        f"expected an installed font package for {language_name(base)} text, got {describe(name)} "
                        f"(install it: it is a dependency in pyproject.toml)",
                    )
                )
            else:
                script_fonts.append(family)
        profile = (config.claims_profile if main else None) or (
            local.claims_profile if local else strings.claims_profile
        )
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
                # Another language's words: checked with that language's fonts.
                continue
            if missing := "".join(c for c in undrawable(font, text) if all(c in undrawable(f, c) for f in fonts[1:])):
                shown = ", ".join(f"U+{ord(c):04X}" for c in missing[:8])
                problem(
                    loc,
                    f'expected text the font {font.name} can draw, got "{missing[:8]}" ({shown}), which it has no '
                    "letters for: choose a font that covers them (font:), or write the text in another script",
                )

    known = list(content.treatments)
    offered = config.treatments or known
    for i, slug in enumerate(offered):
        if slug not in content.treatments:
            close = difflib.get_close_matches(slug, known, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            problem(
                ("treatments", i), f"unknown treatment; {hint}expected one of {', '.join(known)}, got {describe(slug)}"
            )
        elif slug in offered[:i]:
            problem(("treatments", i), f"expected each treatment once, got {describe(slug)} again")

    if config.timezone and config.country and not keeps_time_of(config.timezone, config.country):
        examples = " or ".join(f'"{zone}"' for zone in zones_of(config.country)[:2])
        problem(
            ("timezone",),
            f"expected a time zone of the clinic's country ({config.country})"
            + (f", such as {examples}" if examples else "")
            + f", got {describe(config.timezone)}, which keeps no clocks there: a fixed offset or another country's "
            "zone puts patients' appointments at the wrong time in their calendars for part of the year",
        )

    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    # The output folder is named after the folder as the user named it: a symlinked clinic folder keeps
    # the link's name, not its target's. Another language's documents go to a folder of that language inside it.
    named = safe_name(Path(os.path.abspath(config_file)).parent.name)
    clinic = Clinic(
        slug=named if main else f"{named}/{language}",
        folder=folder,
        config_file=config_file,
        config=config,
        logo=logo,
        font=font,
        strings=strings,
        treatments=tuple(s for s in content.treatments if s in offered),
        doc=doc,
        strings_doc=strings_doc,
        strings_overlay=strings_overlay,
        claim_rules=claim_rules,
        emergency_number=config.emergency_number or country.emergency_number,
        country=country,
        locale=locale,
        spelling=spelling,
        language=base,
        main=main,
        script_fonts=tuple(script_fonts),
        translation_warnings=tuple(translation_warnings),
        palette=palette(config.colors.primary, config.colors.accent, config.colors.text),
        timezone=config.timezone or (country.timezone if country else None) or "UTC",
    )
    clinic = replace(clinic, colour_warnings=colour_warnings(clinic))
    return replace(clinic, approval=approval_state(clinic, content))


def colour_warnings(clinic: Clinic) -> tuple[Problem, ...]:
    """Each brand colour the palette had to adjust to be readable, named as the clinic wrote it."""
    given = (clinic.doc.data or {}).get("colors") or {}
    found = []
    for name, message, shade in clinic.palette.adjustments:
        key = name.split(".")[1]
        colour = getattr(clinic.config.colors, key)
        if isinstance(given.get(key), str):
            # `"gold" (#FFD700) as text gives …`: the colour as the clinic wrote it, and what it means.
            message = message.replace(colour, colour_as_given(given[key], colour), 1)
        hint = (COLOUR_HINT.format(shade=shade) if shade else
                "Nothing is needed for the documents: they print in the readable shade. To change it, choose another "
                f"colour for {name} in clinic.yaml.")
        found.append(Problem(clinic.config_file, clinic.doc.line_of(tuple(name.split("."))), name, message, WARNING,
                             "colours", hint))
    return tuple(found)


COLOUR_HINT = ("Nothing is needed for the documents: they print in the readable shade. To accept it as the clinic's "
               'own text colour, write text: "{shade}" under colors: in clinic.yaml, and this warning goes.')


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
            return (
                f"expected an image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB, "
                f"got {info.st_size / (1024 * 1024):.1f} MB ({name})"
            )
        if logo.suffix.lower() not in LOGO_TYPES:
            return f"expected an SVG, PNG or JPEG file, got {describe(name)}"
        data = read_regular_file(logo, MAX_IMAGE_BYTES + 1)
    except NotARegularFile as error:
        return f"expected a regular file, got {error.kind} ({name})"
    except (FileNotFoundError, NotADirectoryError):
        return f"expected an existing file in {folder.name}/, got {describe(name)}, which does not exist"
    except OSError as error:
        return (
            f"expected a file this program may read, got {describe(name)}, "
            f"which cannot be read ({error.strerror or type(error).__name__})"
        )
    check = check_image(data)
    if check.problem:
        return f"{check.problem} ({name})"
    if check.mime_type not in LOGO_TYPES.values():
        return f"expected an SVG, PNG or JPEG image, got {check.what} ({name})"
    if check.mime_type != LOGO_TYPES[logo.suffix.lower()]:
        right = next(suffix for suffix, mime_type in LOGO_TYPES.items() if mime_type == check.mime_type)
        return (
            f"expected a file whose name says what it holds, got {check.what} named {describe(name)} "
            f"(name it {Path(name).with_suffix(right).name})"
        )
    return None
