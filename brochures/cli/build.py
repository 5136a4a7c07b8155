"""`python generate.py [options]`: build every clinic's brochures, then show the scorecards and a summary."""

from __future__ import annotations

import argparse
import contextlib
import math
import signal
import sys

from brochures import __version__, exits, given_path
from brochures.building.console import Console
from brochures.building.options import MAX_JOBS, BuildOptions
from brochures.building.pipeline import build
from brochures.building.progress import only_failures_and_summary
from brochures.building.result import BuildResult
from brochures.building.shards import MAX_SHARDS, shard_argument
from brochures.building.tasks import Budget
from brochures.files.output_folder import OutputFolderError, WriteError
from brochures.load.approval import approval_request
from brochures.load.clinics import load_clinics
from brochures.load.content import load_content
from brochures.plan.documents import BOOKLET, COMPARISON, LAYOUTS, VARIANTS
from brochures.problems import InputError

DEFAULTS = BuildOptions()


def run(argv: list[str]) -> tuple[int, BuildResult | None]:
    """Parse, build, show what was built; the exit code, and the build's result for the front door's stamp."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.approval and args.check:
        parser.error("expected --approval (print each clinic's fingerprint, build nothing) or --check (build and check "
                     "everything, write no brochure), got both; give one of them")
    console = Console()
    if args.approval:
        return approval(args, console), None
    with stopped_by_sigterm(), only_failures_and_summary(args.quiet) as summary:
        try:
            result = build(options_from(args), console)
        except (OutputFolderError, WriteError) as error:
            print(error, file=sys.stderr)
            return exits.OUTPUT, None
        except KeyboardInterrupt as stop:
            print(f"\n{stop.args[0] if stop.args else 'Interrupted'}: the documents written so far are complete, "
                  "and nothing half-written was left behind. Run the same command again to finish: what is already "
                  "built is not printed again.", file=sys.stderr)
            return (exits.TERMINATED if stop.args else exits.INTERRUPTED), None
        if result.finished:
            console.scorecards(result)
            console.summary(result, file=summary)
    code = result.exit_code()
    if code == exits.FAILED and args.strict and not result.failed and len(result.outcomes) == result.planned:
        count = len(result.warnings)
        print(f"--strict: {'1 warning counts as a failure' if count == 1 else f'{count} warnings count as failures'}.",
              file=sys.stderr)
    return code, result


def approval(args: argparse.Namespace, console: Console) -> int:
    """--approval: each clinic's content fingerprint and the block its medical lead pastes into clinic.yaml."""
    try:
        content = load_content(args.data)
    except InputError as error:
        console.invalid(error.problems)
        return exits.INVALID
    clinics, problems = load_clinics(args.clinic, args.data, content)
    for clinic in clinics:
        print(approval_request(clinic, content) + "\n")
    if problems:
        console.invalid(problems)
        return exits.INVALID
    return exits.OK


def options_from(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(out=args.out, data=args.data, clinics=tuple(args.clinic or ()),
                        treatments=tuple(args.treatment or ()), variant=args.variant, layout=args.layout,
                        force=args.force, check=args.check, strict=args.strict, fail_fast=args.fail_fast,
                        jobs=args.jobs, time_limit=args.time_limit, memory_limit=args.memory_limit, shard=args.shard,
                        quiet=args.quiet)


def add_document_choice(parser: argparse.ArgumentParser, verb: str) -> None:
    """--clinic and --treatment: which documents a command makes (a build, `generate.py html`)."""
    parser.add_argument("--clinic", action="append", metavar="PATH_OR_SLUG",
                        help="a clinic slug in DATA/clinics/, a clinic folder, or its clinic.yaml (repeatable; "
                             "default: every clinic)")
    parser.add_argument("--treatment", action="append", metavar="SLUG",
                        help=f'{verb} this treatment\'s brochure, "{COMPARISON}" for the comparison sheet or '
                             f'"{BOOKLET}" for the booklet (repeatable; default: all of them)')


def build_parser(prog: str = "generate.py", previews: bool = False) -> argparse.ArgumentParser:
    """The options of a build: `python generate.py` and `python generate.py serve` share them (`previews`: for serve,
    which takes --check and --approval only to refuse them, and does not offer them)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Build patient brochures (one PDF per treatment, plus a comparison sheet) for each clinic.",
        epilog=exits.SAID)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_document_choice(parser, "build only")
    parser.add_argument("--variant", choices=[*VARIANTS, "all"], default=DEFAULTS.variant,
                        help="standard: tagged PDF/UA to print in the clinic or email (default); "
                             "press: PDF/X-4 with bleed and crop marks for a print shop; all: both")
    parser.add_argument("--layout", choices=[*LAYOUTS, "all"], default=DEFAULTS.layout,
                        help="leaflet: portrait pages in the clinic's page size (default); "
                             "trifold: one landscape sheet folded in three; all: both")
    parser.add_argument("--out", type=given_path, default=DEFAULTS.out, metavar="DIR",
                        help="where PDFs are written, one folder per clinic (default: out/)")
    parser.add_argument("--data", type=given_path, default=DEFAULTS.data, metavar="DIR",
                        help="treatments, strings and clinics (default: data/)")
    parser.add_argument("--force", action="store_true",
                        help="print every document again, even those whose inputs have not changed since the last "
                             "build")
    parser.add_argument("--check", action="store_true",
                        help=argparse.SUPPRESS if previews else
                        "run every check and write the quality reports (check-report.html, check-report.json), but "
                        "no brochures (PDFs are built in a temporary folder)")
    parser.add_argument("--approval", action="store_true",
                        help=argparse.SUPPRESS if previews else
                        "print each clinic's content fingerprint and the approval block its medical lead pastes "
                        "into clinic.yaml; build nothing")
    parser.add_argument("--strict", action="store_true",
                        help="treat warnings (claims, colour adjustments, overdue reviews, reading grade over 8, "
                             "low-resolution images, pages over budget, printing warnings) as failures: exit code 1")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop at the first invalid clinic or failed document (default: build everything that "
                             "can be built)")
    parser.add_argument("--jobs", type=number_in(int, 1, MAX_JOBS), default=DEFAULTS.jobs, metavar="N",
                        help="documents printed at once (default: one per CPU core)")
    parser.add_argument("--time-limit", type=number_in(float, 0, 3600), default=DEFAULTS.time_limit,
                        metavar="SECONDS",
                        help=f"time budget per document; a document over it fails (default: {Budget.seconds:g})")
    parser.add_argument("--memory-limit", type=number_in(int, 32, 1024 * 1024), default=DEFAULTS.memory_limit,
                        metavar="MB",
                        help=f"memory budget per document; a document over it fails (default: {Budget.memory_mb})")
    parser.add_argument("--shard", type=shard_option, metavar="K/N",
                        help=f"build shard K of N (1 <= K <= N <= {MAX_SHARDS:,}): a share of the clinics balanced by "
                             "expected cost, the same on every machine; auto/N takes K from JOB_COMPLETION_INDEX "
                             "(0-based, set by a Kubernetes Indexed Job). Writes OUT/shard-K-of-N.json; merge the "
                             "shards with merge-reports")
    parser.add_argument("--quiet", action="store_true",
                        help="print only failures, invalid input and the final summary line")
    return parser


def shard_option(text: str):
    try:
        return shard_argument(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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


@contextlib.contextmanager
def stopped_by_sigterm():
    """SIGTERM (a service manager, `kill`) stops the build the way Ctrl-C does: cleanly, with exit code 143."""
    def stop(signum, frame):
        raise KeyboardInterrupt("Stopped (SIGTERM)")
    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:
        # Not the main thread: leave signals alone.
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
