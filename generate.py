#!/usr/bin/env python3
"""Build patient brochures: load → validate → plan → render HTML → print PDF → check and finish → scorecard and summary.

    python generate.py                          every clinic in data/clinics/
    python generate.py --clinic example         one clinic (slug, folder or clinic.yaml)
    python generate.py --treatment facial       some treatments only ("comparison" for the sheet)
    python generate.py serve                    a live preview of every page in the browser, rebuilt on every change
    python generate.py init rosewood            a new clinic folder with a commented clinic.yaml, ready to edit
    python generate.py list treatments          the treatments (or: fonts) a clinic can choose
    python generate.py translations [--stamp es]  each language's translations: complete, up to date, reviewed
    python generate.py pack [--send]            an email per booked patient (see brochures/pack/command.py)
    python generate.py --shard 2/8              one eighth of the clinics, balanced by cost (see merge-reports)
    python generate.py merge-reports OUT1 OUT2 --out DIR   one franchise report from every shard's --out

Exit codes: 0 everything built; 1 some documents failed (the rest were built), or warnings with --strict;
2 invalid input or usage; 3 the output folder could not be used (another build holds it, it is not
writable, or the disk is full); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import math
import os
import signal
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

# Ctrl-C while the libraries load (about a second) ends quietly, like Ctrl-C later on.
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))

# A rebuild in which nothing changed prints the last build's report again, without loading the libraries.
from brochures.building import stamp as build_stamp  # noqa: E402  (the standard library only)

if __name__ == "__main__":
    _STARTED = time.perf_counter()
    if (_replayed := build_stamp.replay(sys.argv[1:], lambda: time.perf_counter() - _STARTED)) is not None:
        sys.exit(_replayed)

try:
    from brochures import DATA_DIR, PROJECT_ROOT, STYLES_DIR, __version__  # noqa: E402
    from brochures.building.cache import CACHE_FILE, BuildCache, file_hash
    from brochures.building.progress import (
        NoProgressLine,
        only_failures_and_summary,
        progress_line,
    )
    from brochures.building.shards import (
        MAX_SHARDS,
        clinic_costs,
        shard_argument,
        split,
        write_manifest,
    )
    from brochures.building.tasks import LOGO, RENDER, Budget, Outcome, Task, print_tasks
    from brochures.building.workers import Workers
    from brochures.files.output_folder import (
        BuildLock,
        OutputFolderError,
        WriteError,
        prepare,
        remove_stale_temporaries,
        run_temp_folder,
    )
    from brochures.load.approval import approval_request
    from brochures.load.clinic import clinic_slugs, find_clinic_file, load_editions
    from brochures.load.content import load_content
    from brochures.load.loaded import Clinic, Content
    from brochures.load.translations import language_name
    from brochures.pdf.facts import Inspection
    from brochures.pdf.printer import Printed
    from brochures.plan.documents import (
        BOOKLET,
        COMPARISON,
        LAYOUTS,
        VARIANTS,
        Document,
        plan_documents,
    )
    from brochures.problems import InputError, Problem, display_path, report_lines
    from brochures.quality.findings import ClinicFindings, print_warnings
    from brochures.quality.reading import MEASURES_EN, measure_for, save_grades
    from brochures.quality.report import write_report
    from brochures.quality.scorecard import Scorecard
    from brochures.render.sandbox import PlainDataSandbox
except ModuleNotFoundError as missing:  # a Python without the project installed (not .venv/bin/python)
    if __name__ != "__main__":
        raise
    print(f"generate.py: this Python ({sys.executable}) does not have the libraries the generator needs "
          f"({missing.name} is missing). Install them with `sh scripts/setup.sh`, then run the same command with "
          "`.venv/bin/python` in place of `python`, like `.venv/bin/python generate.py`.", file=sys.stderr)
    sys.exit(2)

from brochures.exits import FAILED as EXIT_FAILED, INTERRUPTED as EXIT_INTERRUPTED, INVALID as EXIT_INVALID, OK as EXIT_OK, OUTPUT as EXIT_OUTPUT, TERMINATED as EXIT_TERMINATED  # noqa: E402
MAX_JOBS = 4 * (os.cpu_count() or 1)  # each worker holds a WeasyPrint of its own: more only costs memory
# WeasyPrint's warnings, passed on from the workers: tests listen here to catch CSS typos and missing assets.
PRINT_WARNINGS = logging.getLogger("brochures.print_warnings")
PRINT_WARNINGS.addHandler(logging.NullHandler())
PRINT_WARNINGS.propagate = False
signal.signal(signal.SIGINT, signal.default_int_handler)
# What the last build depended on and wrote, when every document was unchanged (for brochures/build_stamp.py).
UNCHANGED_BUILD: dict = {}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["pack"]:  # before the consultation: one email per booked patient (brochures/pack/)
        from brochures.pack.command import main as pack
        return pack(argv[1:], build_brochures=main)
    if argv[:1] == ["merge-reports"]:  # one franchise report from the shards' output folders
        from brochures.cli.merge_reports import merge_reports_command
        return merge_reports_command(argv[1:])
    if argv and argv[0] in SUBCOMMANDS:  # serve, init, list: see "Subcommands" below
        return SUBCOMMANDS[argv[0]](argv[1:])
    started = time.perf_counter()
    args = parse_arguments(argv)
    with stopped_by_sigterm(), only_failures_and_summary(args.quiet) as summary:
        try:
            return build(args, started, summary)
        except (OutputFolderError, WriteError) as error:
            print(error, file=sys.stderr)
            return EXIT_OUTPUT
        except KeyboardInterrupt as stop:
            print(f"\n{stop.args[0] if stop.args else 'Interrupted'}: the documents written so far are complete, and nothing "
                  "half-written was left behind. Run the same command again to finish: what is already built is not "
                  "printed again.", file=sys.stderr)
            return EXIT_TERMINATED if stop.args else EXIT_INTERRUPTED


def build(args: argparse.Namespace, started: float, summary=None) -> int:
    # The inputs as they are now, before anything is read: a file saved during the build means no stamp.
    inputs_at_start = build_stamp.snapshot([*build_stamp.code_paths(), args.data, *(Path(c) for c in args.clinic or ())])
    try:
        content = load_content(args.data)
    except InputError as error:
        return report_invalid(error.problems)
    if unknown := check_treatment_names(args.treatment, content):
        return report_invalid(unknown)
    clinics, problems = load_clinics(args.clinic, args.data, content)
    if args.approval:
        for clinic in clinics:
            print(approval_request(clinic, content) + "\n")
        return report_invalid(problems) if problems else EXIT_OK
    if problems:
        # A clinic with an invalid config gets no PDFs; the valid ones are still built.
        report_invalid(problems)
        if args.fail_fast:
            return EXIT_INVALID

    if args.shard:
        clinics, split_plan, costs = shard_of(clinics, content, args)
    findings = {clinic.slug: ClinicFindings(clinic, content, today()) for clinic in clinics}
    save_grades()
    prepare(args.out, inputs=[args.data, *(clinic.folder for clinic in clinics)],
            outputs=[args.out / clinic.slug for clinic in clinics])
    with BuildLock(args.out), run_temp_folder() as temp_dir:
        # --check builds into a temporary folder: every check runs on real PDFs, and no brochure is written.
        build_dir = temp_dir / "check" if args.check else args.out
        cache = BuildCache(build_dir, force=args.force)
        clinics, taken = claim_output_folders(clinics, cache, build_dir)
        documents = plan_documents(clinics, content, build_dir, set(args.treatment) if args.treatment else None,
                                   variants=choices(args.variant, VARIANTS), layouts=choices(args.layout, LAYOUTS))
        with progress_line(len(documents), quiet=args.quiet) as progress:
            outcomes = render_and_print(documents, content, cache, temp_dir, args, progress)
        # A clinic whose own logo or template misbehaves is invalid input: none of its documents is printed.
        if clinic_problems := taken + list(dict.fromkeys(o.problem for o in outcomes if o.problem)):
            report_invalid(clinic_problems)
            problems += clinic_problems
            invalid = {o.document.clinic.slug for o in outcomes if o.problem}
            clinics = [clinic for clinic in clinics if clinic.slug not in invalid]
            documents = [d for d in documents if d.clinic.slug not in invalid]
            outcomes = [o for o in outcomes if o.document.clinic.slug not in invalid]
        if not args.check:
            remove_outputs_no_longer_built(clinics, content, cache)
        cards = scorecards(with_earlier_outcomes(outcomes, clinics, content, cache, args), findings, clinics, args.out)
        if args.shard:
            write_shard_manifest(args, (split_plan, costs), documents, outcomes, problems, cards, time.perf_counter() - started)

    print_summary(outcomes, len(documents), clinics, problems, time.perf_counter() - started, file=summary)
    UNCHANGED_BUILD.clear()
    if not args.check and not problems and outcomes and len(outcomes) == len(documents) and all(
            o.printed and o.printed.unchanged for o in outcomes):
        UNCHANGED_BUILD.update(
            before=inputs_at_start,
            depends_on=[args.data, *(c.folder for c in clinics), *(f for c in clinics for f in c.font.files)],
            wrote=[args.out / CACHE_FILE, *(args.out / c.slug for c in clinics), *args.out.glob("shard-*-of-*.json")])
    warnings = sorted({warning for clinic_cards in cards.values() for card in clinic_cards for warning in card.warnings()})
    if any(o.machine_fault for o in outcomes):
        return EXIT_OUTPUT
    if problems:
        return EXIT_INVALID
    if len(outcomes) < len(documents) or any(o.error for o in outcomes):
        return EXIT_FAILED
    if args.strict and warnings:
        print(f"--strict: {'1 warning counts as a failure' if len(warnings) == 1 else f'{len(warnings)} warnings count as failures'}.",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def claim_output_folders(clinics: list[Clinic], cache: BuildCache, build_dir: Path) -> tuple[list[Clinic], list[Problem]]:
    """Each clinic writes only to an output folder that holds its own brochures, never another clinic's."""
    kept, problems = [], []
    for clinic in clinics:
        if owner := cache.claim(clinic.slug, clinic.folder):
            problems.append(Problem(clinic.config_file, None, "", f"expected an output folder of its own, got "
                                    f"{display_path(build_dir / clinic.slug)}/, which holds the brochures of another clinic "
                                    f"folder ({display_path(Path(owner))}); rename one of the folders, or delete the old "
                                    "output folder if that clinic is gone"))
        else:
            kept.append(clinic)
    return kept, problems


def render_and_print(documents: list[Document], content: Content, cache: BuildCache, temp_dir: Path,
                     args: argparse.Namespace, progress=NoProgressLine()) -> list[Outcome]:
    """Check each clinic's logo and render every document's HTML; then print the documents of every clinic
    whose logo and templates all passed.

    Returns one outcome per document attempted (a failed render, or the print's outcome), plus an outcome
    with a `problem` for each clinic found invalid on the way.
    """
    build_dir = cache.out_dir
    folders = [build_dir, *dict.fromkeys(document.output.parent for document in documents)]
    remove_stale_temporaries(folders)
    invalid: set[str] = set()

    def first_phase(outcome: Outcome) -> None:
        clinic = outcome.document.clinic
        if outcome.error and not outcome.problem:
            if outcome.task == LOGO:  # the logo check ran over its budget
                outcome.problem = Problem(clinic.config_file, clinic.doc.line_of(("logo",)), "logo",
                                          f"expected a logo that can be drawn, got one that does not: {outcome.error}")
            elif (clinic.folder / "templates").is_dir():
                # Its own templates are the likely cause (an endless loop, a huge page): the clinic's input is at fault.
                outcome.problem = Problem(clinic.folder / "templates", None, "templates",
                                          f"expected templates that render {outcome.document.output.name} within its "
                                          f"budget, got: {outcome.error}")
        if outcome.problem:
            invalid.add(clinic.slug)
        elif outcome.error:
            progress.advance(failed=True)
            print_outcome(outcome, checking=args.check)

    def finish(outcome: Outcome) -> None:
        if outcome.printed and outcome.printed.cache_entry:
            cache.record(outcome.document.output, outcome.printed.cache_entry)  # saved at once: a killed build resumes
        progress.advance(failed=bool(outcome.error))
        print_outcome(outcome, checking=args.check, brief=progress.live)  # on a terminal the live line stands for the rest

    first_of_each_clinic = {document.clinic.slug: document for document in reversed(documents)}
    logos = [Task(LOGO, document) for document in reversed(first_of_each_clinic.values())]
    try:
        with Workers(content, jobs=args.jobs, budget=Budget(args.time_limit, args.memory_limit), temp_dir=temp_dir) as workers:
            checked = workers.run(logos + [Task(RENDER, document) for document in documents], fail_fast=args.fail_fast,
                                  report=first_phase, skip=lambda task: task.document.clinic.slug in invalid)
            rendered = [o for o in checked if o.task == RENDER and o.document.clinic.slug not in invalid]
            failed = [o for o in checked if o.problem] + [o for o in rendered if o.error]
            if args.fail_fast and failed:
                return failed
            printed = workers.run(print_tasks(rendered, content, cache.saved, workers.jobs), fail_fast=args.fail_fast, report=finish)
    finally:
        remove_stale_temporaries(folders)  # those of workers stopped in the middle of a write
    order = {document.output: i for i, document in enumerate(documents)}
    return sorted(failed + printed, key=lambda o: (order[o.document.output], o.problem is None))


@contextlib.contextmanager
def stopped_by_sigterm():
    """SIGTERM (a service manager, `kill`) stops the build the way Ctrl-C does: cleanly, with exit code 143."""
    def stop(signum, frame):
        raise KeyboardInterrupt("Stopped (SIGTERM)")
    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def remove_outputs_no_longer_built(clinics: list[Clinic], content: Content, cache: BuildCache) -> None:
    """Delete PDFs this generator wrote earlier for these clinics that it no longer makes (a treatment dropped,
    or a language the clinic no longer offers: then that language's reports go too)."""
    folders = [(clinic.slug, {d.output for d in plan_documents([clinic], content, cache.out_dir, None, VARIANTS, LAYOUTS)})
               for clinic in clinics]
    for clinic in clinics:
        offered = set((clinic.config.languages or [])[1:]) if clinic.main else None
        dropped = {name.split("/")[1] for name in list(cache.entries) if offered is not None and name.count("/") == 2
                   and name.startswith(f"{clinic.home}/") and name.split("/")[1] not in offered}
        folders += [(f"{clinic.home}/{language}", set()) for language in sorted(dropped)]
    for slug, everything in folders:
        if everything == set():
            for report in ("report.json", "report.html"):
                with contextlib.suppress(OSError):
                    (cache.out_dir / slug / report).unlink()
        for path, changed in cache.remove_unlisted(cache.out_dir / slug, keep=everything):
            if changed:
                print(f"  kept       {display_path(path)}: it is no longer built, but was changed after it was written")
            else:
                print(f"  removed    {display_path(path)}  (no longer built for this clinic)")
        if everything == set():
            with contextlib.suppress(OSError):
                (cache.out_dir / slug).rmdir()  # only when nothing else is left in it


def with_earlier_outcomes(outcomes: list[Outcome], clinics: list[Clinic], content: Content, cache: BuildCache,
                          args: argparse.Namespace) -> list[Outcome]:
    """The outcomes, with the clinics' documents this build did not make (`--treatment`, `--variant`, `--layout`)
    that an earlier build did and that are on disk exactly as it wrote them, in the order they are planned: their
    reports list every document, with the pages, sizes, print checks and warnings the build cache recorded for the
    earlier ones, so a partial build never cuts a clinic's report down. (Content checks, such as approval and
    claims, are made again now for every document.)"""
    if args.check:
        return outcomes
    every = plan_documents(clinics, content, cache.out_dir, None, VARIANTS, LAYOUTS)
    built = {outcome.document.output for outcome in outcomes}
    found = list(outcomes)
    for document in every:
        saved = cache.entries.get(cache.name(document.output))
        if document.output in built or not saved or file_hash(document.output) != saved.get("pdf"):
            continue
        found.append(Outcome(document=document, printed=Printed(
            document=document, pages=saved["pages"], size=document.output.stat().st_size, warnings=saved["warnings"],
            unchanged=True, inspection=Inspection(**saved["inspection"]), cache_entry=saved)))
    order = {document.output: number for number, document in enumerate(every)}
    return sorted(found, key=lambda outcome: order.get(outcome.document.output, len(order)))


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def build_parser() -> argparse.ArgumentParser:
    """The options of a build: `python generate.py` and `python generate.py serve` share them."""
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Build patient brochures (one PDF per treatment, plus a comparison sheet) for each clinic.",
        epilog="Also: `generate.py serve` (a live preview in the browser), `generate.py init NAME` (a new clinic), "
               "`generate.py list treatments|fonts`; each has --help. "
               "Exit codes: 0 all built; 1 some documents failed, or warnings with --strict; 2 invalid input or usage; "
               "3 the output folder could not be used (in use by another build, not writable, disk full); 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--clinic", action="append", metavar="PATH_OR_SLUG",
                        help="a clinic slug in DATA/clinics/, a clinic folder, or its clinic.yaml (repeatable; default: every clinic)")
    parser.add_argument("--treatment", action="append", metavar="SLUG",
                        help=f'build only this treatment\'s brochure, "{COMPARISON}" for the comparison sheet or "{BOOKLET}" '
                             "for the booklet (repeatable; default: all of them)")
    parser.add_argument("--variant", choices=[*VARIANTS, "all"], default=VARIANTS[0],
                        help="standard: tagged PDF/UA to print in the clinic or email (default); "
                             "press: PDF/X-4 with bleed and crop marks for a print shop; all: both")
    parser.add_argument("--layout", choices=[*LAYOUTS, "all"], default=LAYOUTS[0],
                        help="leaflet: portrait pages in the clinic's page size (default); "
                             "trifold: one landscape sheet folded in three; all: both")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "out", metavar="DIR",
                        help="where PDFs are written, one folder per clinic (default: out/)")
    parser.add_argument("--data", type=Path, default=DATA_DIR, metavar="DIR",
                        help="treatments, strings and clinics (default: data/)")
    parser.add_argument("--force", action="store_true",
                        help="print every document again, even those whose inputs have not changed since the last build")
    parser.add_argument("--check", action="store_true",
                        help="run every check and write the quality reports, but no brochures (PDFs are built in a temporary folder)")
    parser.add_argument("--approval", action="store_true",
                        help="print each clinic's content fingerprint and the approval block its medical lead pastes "
                             "into clinic.yaml; build nothing")
    parser.add_argument("--strict", action="store_true",
                        help="treat warnings (claims, colour adjustments, overdue reviews, reading grade over 8, low-resolution images, "
                             "pages over budget, printing warnings) as failures: exit code 1")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop at the first invalid clinic or failed document (default: build everything that can be built)")
    parser.add_argument("--jobs", type=number_in(int, 1, MAX_JOBS), default=os.cpu_count() or 1, metavar="N",
                        help="documents printed at once (default: one per CPU core)")
    parser.add_argument("--time-limit", type=number_in(float, 0, 3600), default=Budget.seconds, metavar="SECONDS",
                        help=f"time budget per document; a document over it fails (default: {Budget.seconds:g})")
    parser.add_argument("--memory-limit", type=number_in(int, 32, 1024 * 1024), default=Budget.memory_mb, metavar="MB",
                        help=f"memory budget per document; a document over it fails (default: {Budget.memory_mb})")
    parser.add_argument("--shard", type=shard_option, metavar="K/N",
                        help=f"build shard K of N (1 <= K <= N <= {MAX_SHARDS:,}): a share of the clinics balanced by expected "
                             "cost, the same on every machine; auto/N takes K from JOB_COMPLETION_INDEX (0-based, set by a "
                             "Kubernetes Indexed Job). Writes OUT/shard-K-of-N.json; merge the shards with merge-reports")
    parser.add_argument("--quiet", action="store_true",
                        help="print only failures, invalid input and the final summary line")
    return parser


def shard_option(text: str):
    try:
        return shard_argument(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def choices(value: str, every: tuple[str, ...]) -> tuple[str, ...]:
    return every if value == "all" else (value,)


def number_in(kind, least: float, most: float):
    """An argparse type: a finite number above `least` (or from `least`, for whole numbers) and at most `most`."""
    if kind is int:
        expected = f"expected a whole number from {least} to {most}"
    else:
        expected = f"expected a number above {least:g} and at most {most:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not (least <= value if kind is int else least < value) or value > most:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
        return value
    return parse


def load_clinics(references: list[str] | None, data_dir: Path, content: Content) -> tuple[list[Clinic], list[Problem]]:
    """Every valid clinic asked for, and the problems of those that are not."""
    clinics, problems = [], []
    if not references:
        references = clinic_slugs(data_dir)
        if not references:
            return [], [Problem(data_dir / "clinics", None, "", "expected at least one clinic folder with a clinic.yaml, found none")]
    for reference in references:
        try:
            config_file = find_clinic_file(reference, data_dir)
            if Path(os.path.realpath(config_file)).parent != Path(os.path.realpath(config_file.parent)):
                raise InputError([Problem(config_file, None, "", "expected a clinic.yaml inside its clinic folder, "
                                                                 "got a link to a file outside it")])
            editions, unbuildable = load_editions(config_file, content)
        except InputError as error:
            problems += error.problems
            continue
        problems += unbuildable  # a language whose translation is incomplete: the clinic's other languages are built
        clinic = editions[0]
        if same := next((other for other in clinics if clinic.folder == other.folder), None):
            if clinic.config_file != same.config_file:  # not simply named twice: say why it is not built again
                print(f"note: {display_path(clinic.config_file)} is the same clinic as {display_path(same.config_file)} "
                      "(a link to it), so it is built once", file=sys.stderr)
            continue
        if clash := next((other for other in clinics if other.slug == clinic.slug), None):
            problems.append(Problem(clinic.config_file, None, "", f'expected a clinic folder name of its own, got one that gives the '
                                                                   f'same output folder {clinic.slug}/ as {display_path(clash.folder)}'))
            continue
        clinics += editions  # one clinic for each language it offers, each with its own output folder
    return clinics, problems


def check_treatment_names(names: list[str] | None, content: Content) -> list[Problem]:
    known = list(content.treatments) + [COMPARISON, BOOKLET]
    return [Problem(Path("generate.py"), None, "--treatment", f"expected one of {', '.join(known)}, got \"{name}\"")
            for name in names or [] if name not in known]


def report_invalid(problems: list[Problem]) -> int:
    count = len(set(problems))
    print(f"Invalid input ({count:,} problem{'s' if count != 1 else ''}); nothing was built from it:", file=sys.stderr)
    for line in report_lines(problems):
        print(f"  {line}", file=sys.stderr)
    return EXIT_INVALID


def print_outcome(outcome: Outcome, checking: bool = False, brief: bool = False) -> None:
    """One line per document (`brief`: only failures and warnings, under a live progress line)."""
    output = outcome.document.output.name if checking else display_path(outcome.document.output)
    if outcome.error:
        print(f"  FAILED     {output}: {outcome.error}", file=sys.stderr)
        return
    printed = outcome.printed
    pages = f"{printed.pages} page{'s' if printed.pages != 1 else ''}"
    # Flushed line by line, so progress shows at once in a pipe or a CI log.
    action = "checked" if checking else "unchanged" if printed.unchanged else "wrote"
    if not brief or print_warnings(printed):
        print(f"  {action:9}  {output}  ({pages}, {printed.size / 1024:.0f} KB)", flush=True)
    for warning in print_warnings(printed):
        print(f"             warning: {warning}")
    for warning in printed.warnings:  # WeasyPrint's own, for the tests that catch CSS typos and missing assets
        PRINT_WARNINGS.warning("%s: %s", output, warning)


def shard_of(clinics: list[Clinic], content: Content, args: argparse.Namespace):
    """--shard K/N: this shard's clinics; every shard's clinics and every clinic's cost, for the shard manifest."""
    planned = plan_documents(clinics, content, args.out, set(args.treatment) if args.treatment else None,
                             variants=choices(args.variant, VARIANTS), layouts=choices(args.layout, LAYOUTS))
    costs = {clinic.home: 0 for clinic in clinics} | clinic_costs(planned)  # a clinic with nothing to build is in a shard too
    split_plan = split(costs, args.shard.count)
    mine = set(split_plan[args.shard.number - 1])
    return [clinic for clinic in clinics if clinic.home in mine], split_plan, costs  # a clinic and all its languages


def write_shard_manifest(args: argparse.Namespace, shard_split: tuple[list[list[str]], dict[str, float]], documents: list[Document],
                         outcomes: list[Outcome], problems: list[Problem], cards: dict, seconds: float) -> None:
    done = {o.document.output: o for o in outcomes}
    listed = []
    for document in documents:
        outcome = done.get(document.output)
        status = ("not attempted" if outcome is None else "failed" if outcome.error else "checked" if args.check
                  else "unchanged" if outcome.printed.unchanged else "wrote")
        listed.append({"clinic": document.clinic.slug, "file": document.output.name, "status": status,
                       **({"error": outcome.error} if outcome is not None and outcome.error else {})})
    warnings = len({w for clinic_cards in cards.values() for card in clinic_cards for w in card.warnings()})
    options = {"treatment": sorted(args.treatment or []), "variant": args.variant, "layout": args.layout, "check": args.check}
    write_manifest(args.out, args.shard, *shard_split, options, listed, report_lines(problems), warnings, seconds)


def today() -> date:
    """The date review deadlines are checked against: SOURCE_DATE_EPOCH's day when set, for repeatable checks."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date() if epoch.isdigit() else date.today()


def scorecards(outcomes: list[Outcome], findings: dict[str, ClinicFindings], clinics: list[Clinic],
               out_dir: Path) -> dict[str, list[Scorecard]]:
    """One scorecard per document, printed as a table and written as out/<clinic>/report.json and report.html."""
    cards: dict[str, list[Scorecard]] = {}
    for outcome in outcomes:
        clinic = outcome.document.clinic.slug
        cards.setdefault(clinic, []).append(findings[clinic].scorecard(outcome))
    stylesheet = (STYLES_DIR / "report.css").read_text(encoding="utf-8")
    for clinic in clinics:
        if clinic.slug not in cards:
            continue
        # A clinic's main report covers every language it offers (another language's documents named with their
        # folder: es/facial.pdf); each other language's folder also has a report of its own, in that language.
        shown = cards[clinic.slug] + ([dataclasses.replace(card, document=f"{other.config.language}/{card.document}")
                                       for other in clinics if not other.main and other.folder == clinic.folder
                                       for card in cards.get(other.slug, [])] if clinic.main else [])
        # The report is for the clinic's staff, from the project's own template: a clinic cannot override it.
        paths = write_report(out_dir / clinic.slug, clinic, shown, PlainDataSandbox(None, clinic.strings), stylesheet)
        language = "" if clinic.main else f" in {language_name(clinic.language)}"
        print(f"\nScorecard for {clinic.config.name}{language} (full report: {display_path(paths[1])}):")
        print(f"  {'document':28} {'pages':>5} {'size':>7} {'grade':>5} {'claims':>6} {'colours':>7} {'smallest':>8} {'body':>7}  accessibility")
        if (measure := measure_for(clinic.language)).name != MEASURES_EN:  # "grade" is another measure in this language
            print(f"  (grade: {measure.name}, " + (f"target {measure.target_text()})" if measure.target else "information only)"))
        for card in cards[clinic.slug]:
            if card.error:
                print(f"  {card.document:28} failed: {card.error[:80]}")
                continue
            passed = sum(card.accessibility.values())
            print(f"  {card.document:28} {card.pages:>5} {card.size_kb:>4} KB {card.reading_grade:>5} {len(card.claims):>6} "
                  f"{len(card.contrast_adjustments):>7} {card.smallest_text_pt:>5} pt {card.body_text_pt:>4} pt  "
                  f"{passed}/{len(card.accessibility)} passed")
        unique = sorted({warning for card in cards[clinic.slug] for warning in card.warnings()})
        for warning in unique:
            print(f"  warning: {warning}")
    return cards


def print_summary(outcomes: list[Outcome], planned: int, clinics: list[Clinic], problems: list[Problem], seconds: float,
                  file=None) -> None:
    built = [o for o in outcomes if o.printed]
    failed = [o for o in outcomes if o.error]
    editions = {o.document.clinic.slug: o.document.clinic for o in built} or {clinic.slug: clinic for clinic in clinics}
    clinic_count = len({clinic.folder for clinic in editions.values()})
    languages = len({clinic.locale for clinic in editions.values()})
    in_languages = f" in {languages} languages" if languages > 1 else ""
    line = (f"Built {len(built)} document{'s' if len(built) != 1 else ''} for {clinic_count} clinic{'s' if clinic_count != 1 else ''}"
            f"{in_languages} in {seconds:.1f} s")
    if unchanged := sum(o.printed.unchanged for o in built):
        line += f" ({unchanged} unchanged since the last build)"
    if failed:
        line += f"; {len(failed)} failed"
    if skipped := planned - len(outcomes):
        line += f"; {skipped} not attempted ({'the output folder could not be written' if any(o.machine_fault for o in outcomes) else '--fail-fast'})"
    if problems:
        line += f"; skipped invalid input ({len(problems)} problem{'s' if len(problems) != 1 else ''})"
    print(line + ".", file=file or sys.stdout)
    if failed:
        print("Failures:", file=sys.stderr)
    for outcome in failed:
        print(f"  {display_path(outcome.document.output)}: {outcome.error}", file=sys.stderr)


# --- Subcommands: each lives in a module of its own; the plain command builds ---

def serve(argv: list[str]) -> int:
    from brochures.preview import serve as serve_preview
    return serve_preview(argv, sys.modules[__name__])  # handed this pipeline: build_parser, number_in, build, load_clinics


def init(argv: list[str]) -> int:
    from brochures.cli.init import init as init_clinic
    return init_clinic(argv)


def list_choices(argv: list[str]) -> int:
    from brochures.cli.list import list_choices as list_them
    return list_them(argv)


def translations(argv: list[str]) -> int:
    from brochures.cli.translations import command
    return command(argv)


SUBCOMMANDS = {"serve": serve, "init": init, "list": list_choices, "translations": translations}


class QuietWhenClosed:
    """Standard output that stops writing, instead of failing, once its reader has gone (`generate.py | head`):
    the build itself goes on, and its files and reports are all written."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())  # so the final flush succeeds too
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name):
        return getattr(self.stream, name)


if __name__ == "__main__":
    sys.stdout = QuietWhenClosed(sys.stdout)
    if build_stamp.replayable(sys.argv[1:]):  # a build's report is kept, to be replayed (never serve's endless log)
        sys.stdout, sys.stderr = build_stamp.Tee(sys.stdout), build_stamp.Tee(sys.stderr)
    exit_code = main()
    if UNCHANGED_BUILD and isinstance(sys.stdout, build_stamp.Tee):
        build_stamp.record(sys.argv[1:], UNCHANGED_BUILD["before"], UNCHANGED_BUILD["depends_on"], UNCHANGED_BUILD["wrote"],
                           sys.stdout.text(), sys.stderr.text(), exit_code)
    sys.exit(exit_code)
