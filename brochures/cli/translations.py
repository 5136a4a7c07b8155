"""`python generate.py translations`: where each language stands, and stamping a checked translation."""

from __future__ import annotations

from brochures import given_path
from brochures.files.yaml_reader import read_yaml
from brochures.load.translations import (
    FACTS,
    STRINGS_SETTINGS,
    TRANSLATIONS,
    language_name,
    stamped,
    strings_warnings,
    translation_folder,
)
from brochures.problems import InputError, Problem, describe, display_path
from brochures.schema.strings import Strings


def command(argv: list[str]) -> int:
    """List each language's translations: complete or not, older than the English or not, reviewed or not.
    With --stamp LANG, record that LANG's files translate the English as it is now (after checking them)."""
    import argparse
    import sys

    from brochures import DATA_DIR
    from brochures.load.content import load_content
    from brochures.problems import report_lines
    from brochures.schema.errors import validate

    parser = argparse.ArgumentParser(prog="generate.py translations", description=(
        "Show whether each language's translations are complete, up to date with the English, and reviewed. "
        "After updating a translation to match a change in the English, --stamp LANG records that it now translates "
        "the English as it is."))
    parser.add_argument(
        "--data",
        type=given_path,
        default=DATA_DIR,
        metavar="DIR",
        help="treatments, strings and translations (default: data/)",
    )
    parser.add_argument(
        "--stamp", metavar="LANG", help="record that LANG's translation files translate the current English"
    )
    args = parser.parse_args(argv)
    try:
        content = load_content(args.data)
    except InputError as error:
        print("\n".join(f"  {line}" for line in report_lines(error.problems)), file=sys.stderr)
        return 2
    languages = sorted(set(content.editions) | set(content.edition_problems))
    if args.stamp:
        if args.stamp not in languages:
            print(
                f"--stamp: expected a language with translations in {display_path(args.data / TRANSLATIONS)} "
                f"({', '.join(languages) or 'none'}), got {describe(args.stamp)}",
                file=sys.stderr,
            )
            return 2
        if problems := content.edition_problems.get(args.stamp):
            print(f"Not stamped: the {language_name(args.stamp)} translation is incomplete:", file=sys.stderr)
            print("\n".join(f"  {line}" for line in report_lines(problems)), file=sys.stderr)
            return 2
        folder = translation_folder(args.data, args.stamp)
        files = [(folder / "shared.yaml", content.docs["shared"], FACTS)]
        files += [(folder / "treatments" / f"{slug}.yaml", content.docs[slug], FACTS) for slug in content.treatments]
        strings = args.data / "strings" / f"{args.stamp}.yaml"
        if strings.is_file():
            try:
                validate(Strings, read_yaml(strings))
            except InputError as error:
                print("\n".join(f"  {line}" for line in report_lines(error.problems)), file=sys.stderr)
                return 2
            files.append((strings, read_yaml(args.data / "strings" / "en.yaml"), STRINGS_SETTINGS))
        # Every file is checked before any is written: a stamp is all or nothing.
        try:
            texts = [(path, *stamped(path, english, settings)) for path, english, settings in files]
        except InputError as error:
            print("Not stamped:\n" + "\n".join(f"  {line}" for line in report_lines(error.problems)), file=sys.stderr)
            return 2
        from brochures.files.output_folder import write_atomically

        for path, before, after in texts:
            if after != before:
                write_atomically(path, after.encode("utf-8"))
            print(f"  {'stamped' if after != before else 'already up to date'}  {display_path(path)}")
        return 0
    if not languages:
        print(f"No translations yet: add a folder of them in {display_path(args.data / TRANSLATIONS)} (see README.md).")
        return 0
    incomplete = False
    for language in languages:
        problems = content.edition_problems.get(language, [])
        warnings = list(content.edition_warnings.get(language, []))
        strings = args.data / "strings" / f"{language}.yaml"
        if strings.is_file():
            try:
                warnings += strings_warnings(read_yaml(strings), read_yaml(args.data / "strings" / "en.yaml"), language)
            except InputError as error:
                problems = problems + error.problems
        else:
            problems = problems + [
                Problem(strings, None, "", f"expected the {language_name(language)} strings file, found none")
            ]
        stale = sum(w.code == "translation-stale" for w in warnings)
        unreviewed = sum(w.code == "translation-unreviewed" for w in warnings)
        state = ("incomplete" if problems else "complete") + (
            f"; {stale} field{'s' if stale != 1 else ''} older than the English" if stale else ""
        )
        state += (
            f"; {unreviewed} file{'s' if unreviewed != 1 else ''} not yet reviewed by a clinician" if unreviewed else ""
        )
        same = sum(w.code == "translation-same" for w in warnings)
        state += f"; {same} text{'s' if same != 1 else ''} the same as the English" if same else ""
        print(f"{language} ({language_name(language)}): {state}")
        for line in report_lines(problems + warnings):
            print(f"  {line}")
        incomplete |= bool(problems)
    return 2 if incomplete else 0
