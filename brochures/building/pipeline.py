"""The build, top-down: load and validate → plan → render HTML → print PDF → check and finish.

`build(options)` is the one road every command takes (the command line, the preview, the pack); it returns a
`BuildResult` with every document it made and every problem it found, and never reads back what it printed.
"""

from __future__ import annotations

import time
from pathlib import Path

from brochures.building import stamp
from brochures.building.cache import CACHE_FILE, BuildCache
from brochures.building.console import Console, unchanged_report
from brochures.building.options import BuildOptions
from brochures.building.outputs import claim_output_folders, remove_outputs_no_longer_built, with_earlier_outcomes
from brochures.building.progress import progress_line
from brochures.building.result import BuildResult
from brochures.building.shards import clinic_costs, split, write_manifest
from brochures.building.tasks import LOGO, RENDER, Budget, Outcome, Task, print_tasks
from brochures.building.workers import Workers
from brochures.files.output_folder import BuildLock, prepare, remove_stale_temporaries, run_temp_folder
from brochures.load.clinics import load_clinics
from brochures.load.content import Content, load_content
from brochures.load.loaded import Clinic
from brochures.plan.documents import Document, check_treatment_names, plan_documents
from brochures.problems import InputError, Problem, report_lines
from brochures.quality.findings import ClinicFindings, today
from brochures.quality.reading import save_grades
from brochures.quality.report import write_reports


def build(options: BuildOptions, console: Console | None = None) -> BuildResult:
    """Build every document the options ask for, check each one, and write the clinics' reports."""
    console = console or Console()
    started = time.perf_counter()
    result = BuildResult(options)
    # The inputs as they are now, before anything is read: a file saved during the build means no stamp.
    inputs_at_start = stamp.snapshot([*stamp.code_paths(), options.data, *(Path(c) for c in options.clinics)])
    try:
        content = load_content(options.data)
    except InputError as error:
        return invalid(result, error.problems, console)
    if unknown := check_treatment_names(options.treatments, content):
        return invalid(result, unknown, console)
    clinics, result.problems = load_clinics(options.clinics, options.data, content, console.warn)
    if result.problems:
        # A clinic with an invalid config gets no PDFs; the valid ones are still built.
        console.invalid(result.problems)
        if options.fail_fast:
            return result
    if options.shard:
        clinics, shard_split = shard_of(clinics, content, options)
    findings = {clinic.slug: ClinicFindings(clinic, content, today()) for clinic in clinics}
    save_grades()
    prepare(options.out, inputs=[options.data, *(clinic.folder for clinic in clinics)],
            outputs=[options.out / clinic.slug for clinic in clinics])
    with BuildLock(options.out), run_temp_folder() as temp_dir:
        # --check builds into a temporary folder: every check runs on real PDFs, and no brochure is written.
        build_dir = temp_dir / "check" if options.check else options.out
        cache = BuildCache(build_dir, force=options.force)
        clinics, taken = claim_output_folders(clinics, cache, build_dir)
        documents = plan_documents(clinics, content, build_dir, options.only, variants=options.variants,
                                   layouts=options.layouts)
        result.planned = len(documents)
        with progress_line(len(documents), quiet=options.quiet) as progress:
            outcomes = render_and_print(documents, content, cache, temp_dir, options, console, progress)
        # A clinic whose own logo or template misbehaves is invalid input: none of its documents is printed.
        if clinic_problems := taken + list(dict.fromkeys(o.problem for o in outcomes if o.problem)):
            console.invalid(clinic_problems)
            result.problems += clinic_problems
            invalid_slugs = {o.document.clinic.slug for o in outcomes if o.problem}
            clinics = [clinic for clinic in clinics if clinic.slug not in invalid_slugs]
            documents = [d for d in documents if d.clinic.slug not in invalid_slugs]
            outcomes = [o for o in outcomes if o.document.clinic.slug not in invalid_slugs]
        result.planned, result.outcomes, result.clinics = len(documents), outcomes, clinics
        if not options.check:
            remove_outputs_no_longer_built(clinics, content, cache, console)
        everything = outcomes if options.check else with_earlier_outcomes(outcomes, clinics, content, cache)
        result.cards = {slug: [findings[slug].scorecard(o) for o in everything if o.document.clinic.slug == slug]
                        for slug in dict.fromkeys(o.document.clinic.slug for o in everything)}
        result.reports = write_reports(options.out, clinics, result.cards, check=options.check)
        result.seconds = time.perf_counter() - started
        if options.shard:
            write_shard_manifest(result, shard_split, documents)
    result.seconds, result.finished = time.perf_counter() - started, True
    # Every document written or unchanged: the same command run again finds them all unchanged, so this build
    # leaves the stamp that answers it at once, with what that run would print (the first rebuild is instant too).
    if (not options.check and not result.problems and outcomes and len(outcomes) == len(documents)
            and all(o.printed for o in outcomes)):
        result.stamp = {
            "before": inputs_at_start,
            "depends_on": [options.data, *(c.folder for c in clinics), *(f for c in clinics for f in c.font.files)],
            "wrote": [options.out / CACHE_FILE, *(options.out / c.slug for c in clinics),
                      *options.out.glob("shard-*-of-*.json")],
            "stdout": unchanged_report(result, live=progress.live, quiet=options.quiet)}
    return result


def invalid(result: BuildResult, problems: list[Problem], console: Console) -> BuildResult:
    """The content itself is invalid: no clinic can be built."""
    console.invalid(problems)
    result.problems = problems
    return result


def render_and_print(documents: list[Document], content: Content, cache: BuildCache, temp_dir: Path,
                     options: BuildOptions, console: Console, progress) -> list[Outcome]:
    """Check each clinic's logo and render every document's HTML; then print the documents of every clinic
    whose logo and templates all passed.

    Returns one outcome per document attempted (a failed render, or the print's outcome), plus an outcome
    with a `problem` for each clinic found invalid on the way.
    """
    build_dir = cache.out_dir
    folders = [build_dir, *dict.fromkeys(document.output.parent for document in documents)]
    remove_stale_temporaries(folders)
    invalid_slugs: set[str] = set()

    def first_phase(outcome: Outcome) -> None:
        clinic = outcome.document.clinic
        if outcome.error and not outcome.problem:
            if outcome.task == LOGO:
                # The logo check ran over its budget.
                outcome.problem = Problem(clinic.config_file, clinic.doc.line_of(("logo",)), "logo",
                                          f"expected a logo that can be drawn, got one that does not: {outcome.error}")
            elif (clinic.folder / "templates").is_dir():
                # Its own templates are the likely cause (an endless loop, a huge page): the clinic's input is at fault.
                outcome.problem = Problem(clinic.folder / "templates", None, "templates",
                                          f"expected templates that render {outcome.document.output.name} within its "
                                          f"budget, got: {outcome.error}")
        if outcome.problem:
            invalid_slugs.add(clinic.slug)
        elif outcome.error:
            progress.advance(failed=True)
            console.outcome(outcome, checking=options.check)

    def finish(outcome: Outcome) -> None:
        if outcome.printed and outcome.printed.cache_entry:
            # Saved at once: a killed build resumes.
            cache.record(outcome.document.output, outcome.printed.cache_entry)
        progress.advance(failed=bool(outcome.error))
        # On a terminal the live line stands for the rest.
        console.outcome(outcome, checking=options.check, brief=progress.live)

    first_of_each_clinic = {document.clinic.slug: document for document in reversed(documents)}
    logos = [Task(LOGO, document) for document in reversed(first_of_each_clinic.values())]
    budget = Budget(options.time_limit, options.memory_limit)
    try:
        # No more workers than documents: each one forked is start-up time and memory.
        with Workers(content, jobs=min(options.jobs, len(documents)), budget=budget, temp_dir=temp_dir) as workers:
            checked = workers.run(logos + [Task(RENDER, document) for document in documents],
                                  fail_fast=options.fail_fast, report=first_phase,
                                  skip=lambda task: task.document.clinic.slug in invalid_slugs)
            rendered = [o for o in checked if o.task == RENDER and o.document.clinic.slug not in invalid_slugs]
            failed = [o for o in checked if o.problem] + [o for o in rendered if o.error]
            if options.fail_fast and failed:
                return failed
            tasks = print_tasks(rendered, content, cache.saved, workers.jobs)
            # From here the HTML is in the print tasks only, each let go once it is sent to a worker.
            for outcome in rendered:
                outcome.html, outcome.parts = None, ()
            printed = workers.run(tasks, fail_fast=options.fail_fast, report=finish)
    finally:
        # Those of workers stopped in the middle of a write.
        remove_stale_temporaries(folders)
    order = {document.output: i for i, document in enumerate(documents)}
    return sorted(failed + printed, key=lambda o: (order[o.document.output], o.problem is None))


def shard_of(clinics: list[Clinic], content: Content, options: BuildOptions):
    """--shard K/N: this shard's clinics (a clinic and all its languages); every shard's clinics and every clinic's
    cost, for the shard manifest."""
    planned = plan_documents(clinics, content, options.out, options.only, variants=options.variants,
                             layouts=options.layouts)
    # A clinic with nothing to build is in a shard too.
    costs = {clinic.home: 0 for clinic in clinics} | clinic_costs(planned)
    split_plan = split(costs, options.shard.count)
    mine = set(split_plan[options.shard.number - 1])
    return [clinic for clinic in clinics if clinic.home in mine], (split_plan, costs)


def write_shard_manifest(result: BuildResult, shard_split: tuple[list[list[str]], dict[str, float]],
                         documents: list[Document]) -> None:
    done = {o.document.output: o for o in result.outcomes}
    listed = []
    for document in documents:
        outcome = done.get(document.output)
        # Its clinic edition (example/es for the Spanish documents of example) and language.
        listed.append({"clinic": document.clinic.slug, "language": document.clinic.language,
                       "file": document.output.name, "status": result.document_status(outcome),
                       **({"error": outcome.error} if outcome is not None and outcome.error else {})})
    options = result.options
    # The data folder and every clinic folder given are fingerprinted by content: the merge refuses other data.
    write_manifest(options.out, options.shard, *shard_split, options.manifest(), listed,
                   report_lines(result.problems), len(result.warnings), result.seconds,
                   data_dir=options.data, clinic_references=options.clinics)
