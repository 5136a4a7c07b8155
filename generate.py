#!/usr/bin/env python3
"""Build patient brochures: load → validate → plan → render HTML → print PDF → check and finish → summary.

    python generate.py                          every clinic in data/clinics/
    python generate.py --clinic example         one clinic (slug, folder or clinic.yaml)
    python generate.py --treatment facial       some treatments only ("comparison" for the sheet)

Exit codes: 0 everything built; 1 some documents failed (the rest were built); 2 invalid input or usage.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from brochures import DATA_DIR, PROJECT_ROOT
from brochures.build_cache import BuildCache
from brochures.loading import Clinic, Content, clinic_slugs, find_clinic_file, load_clinic, load_content
from brochures.planning import COMPARISON, Document, plan_documents
from brochures.printing import Printed, Printer, PrintError, remove_stale_temporaries
from brochures.problems import InputError, Problem, display_path
from brochures.rendering import HtmlRenderer, RenderError

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_arguments(argv)

    try:
        content = load_content(args.data)
    except InputError as error:
        return report_invalid(error.problems)
    if unknown := check_treatment_names(args.treatment, content):
        return report_invalid(unknown)
    clinics, problems = load_clinics(args.clinic, args.data, content)
    if problems:
        # A clinic with an invalid config gets no PDFs; the valid ones are still built.
        report_invalid(problems)

    documents = plan_documents(clinics, content, args.out, set(args.treatment) if args.treatment else None)
    remove_stale_temporaries(args.out)
    renderer, printer = HtmlRenderer(content), Printer(BuildCache(args.out, force=args.force))
    built, failures = [], []
    for document in documents:
        try:
            html = renderer.render(document)
            printed = printer.build(document, html)
        except (RenderError, PrintError) as error:
            failures.append((document, str(error)))
            print(f"  FAILED  {display_path(document.output)}: {error}", file=sys.stderr)
            continue
        except Exception as error:  # a bug: report it, keep building the rest
            failures.append((document, f"internal error: {error!r}"))
            print(f"  FAILED  {display_path(document.output)}: internal error (a bug, please report it):", file=sys.stderr)
            traceback.print_exc()
            continue
        built.append(printed)
        print_written(printed)
    printer.save_cache()

    print_summary(built, failures, clinics, problems, time.perf_counter() - started)
    if problems:
        return EXIT_INVALID
    return EXIT_FAILED if failures else EXIT_OK


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Build patient brochures (one PDF per treatment, plus a comparison sheet) for each clinic.",
        epilog="Exit codes: 0 all built; 1 some documents failed; 2 invalid input or usage.",
    )
    parser.add_argument("--clinic", action="append", metavar="PATH_OR_SLUG",
                        help="a clinic slug in DATA/clinics/, a clinic folder, or its clinic.yaml (repeatable; default: every clinic)")
    parser.add_argument("--treatment", action="append", metavar="SLUG",
                        help=f'build only this treatment\'s brochure, or "{COMPARISON}" for the comparison sheet (repeatable)')
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "out", metavar="DIR",
                        help="where PDFs are written, one folder per clinic (default: out/)")
    parser.add_argument("--data", type=Path, default=DATA_DIR, metavar="DIR",
                        help="treatments, strings and clinics (default: data/)")
    parser.add_argument("--force", action="store_true",
                        help="print every document again, even those whose inputs have not changed since the last build")
    return parser.parse_args(argv)


def load_clinics(references: list[str] | None, data_dir: Path, content: Content) -> tuple[list[Clinic], list[Problem]]:
    """Every valid clinic asked for, and the problems of those that are not."""
    clinics, problems = [], []
    if not references:
        references = clinic_slugs(data_dir)
        if not references:
            return [], [Problem(data_dir / "clinics", None, "", "expected at least one clinic folder with a clinic.yaml, found none")]
    for reference in references:
        try:
            clinic = load_clinic(find_clinic_file(reference, data_dir), content)
        except InputError as error:
            problems += error.problems
            continue
        if any(clinic.folder == other.folder for other in clinics):
            continue  # named twice
        clinics.append(clinic)
    return clinics, problems


def check_treatment_names(names: list[str] | None, content: Content) -> list[Problem]:
    known = list(content.treatments) + [COMPARISON]
    return [Problem(Path("generate.py"), None, "--treatment", f"expected one of {', '.join(known)}, got \"{name}\"")
            for name in names or [] if name not in known]


def report_invalid(problems: list[Problem]) -> int:
    print(f"Invalid input ({len(problems)} problem{'s' if len(problems) != 1 else ''}); nothing was built from it:", file=sys.stderr)
    for problem in dict.fromkeys(problems):
        print(f"  {problem}", file=sys.stderr)
    return EXIT_INVALID


def print_written(printed: Printed) -> None:
    pages = f"{printed.pages} page{'s' if printed.pages != 1 else ''}"
    action = "unchanged" if printed.unchanged else "wrote"
    print(f"  {action:9}  {display_path(printed.document.output)}  ({pages}, {printed.size / 1024:.0f} KB)")
    for warning in printed.warnings:
        print(f"         warning: {warning}")


def print_summary(built: list[Printed], failures: list[tuple[Document, str]], clinics: list[Clinic],
                  problems: list[Problem], seconds: float) -> None:
    clinic_count = len({p.document.clinic.slug for p in built}) or len(clinics)
    line = f"Built {len(built)} document{'s' if len(built) != 1 else ''} for {clinic_count} clinic{'s' if clinic_count != 1 else ''} in {seconds:.1f} s"
    if unchanged := sum(p.unchanged for p in built):
        line += f" ({unchanged} unchanged since the last build)"
    if failures:
        line += f"; {len(failures)} failed"
    if problems:
        line += f"; skipped invalid input ({len(problems)} problem{'s' if len(problems) != 1 else ''})"
    print(line + ".")
    for document, reason in failures:
        print(f"  failed: {display_path(document.output)}: {reason}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
