"""The output folders of a build: whose they are, what is no longer built in them, and what an earlier build left."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from brochures.building.cache import BuildCache
from brochures.building.console import Console
from brochures.building.tasks import Outcome
from brochures.files.fingerprints import file_hash, is_fresh
from brochures.load.content import Content
from brochures.load.loaded import Clinic
from brochures.pdf.facts import Inspection
from brochures.pdf.printer import Printed, Printer
from brochures.plan.documents import BOOKLET, LAYOUTS, VARIANTS, Document, booklet_parts, plan_documents
from brochures.problems import Problem, display_path
from brochures.quality.report import CHECK_REPORT_NAMES, REPORT_NAMES
from brochures.render.errors import RenderError
from brochures.render.html import HtmlRenderer


def claim_output_folders(clinics: list[Clinic], cache: BuildCache,
                         build_dir: Path) -> tuple[list[Clinic], list[Problem]]:
    """Each clinic writes only to an output folder that holds its own brochures, never another clinic's."""
    kept, problems = [], []
    for clinic in clinics:
        # The folder as the user named it, links kept: a data folder reached through `current -> releases/…` is
        # the same clinic after the link moves to the next release.
        named = Path(os.path.abspath(clinic.config_file)).parent
        if owner := cache.claim(clinic.slug, named):
            problems.append(Problem(
                clinic.config_file, None, "",
                f"expected an output folder of its own, got {display_path(build_dir / clinic.slug)}/, which holds the "
                f"brochures of another clinic folder ({display_path(Path(owner))}); rename one of the folders, or "
                "delete the old output folder if that clinic is gone"))
        else:
            kept.append(clinic)
    return kept, problems


def remove_outputs_no_longer_built(clinics: list[Clinic], content: Content, cache: BuildCache,
                                   console: Console) -> None:
    """Delete PDFs this generator wrote earlier for these clinics that it no longer makes (a treatment dropped,
    or a language the clinic no longer offers: then that language's reports go too)."""
    folders = [(clinic.slug, {d.output for d in plan_documents([clinic], content, cache.out_dir, None, VARIANTS,
                                                                LAYOUTS)})
               for clinic in clinics]
    for clinic in clinics:
        offered = set((clinic.config.languages or [])[1:]) if clinic.main else None
        dropped = {name.split("/")[1] for name in list(cache.entries) if offered is not None and name.count("/") == 2
                   and name.startswith(f"{clinic.home}/") and name.split("/")[1] not in offered}
        folders += [(f"{clinic.home}/{language}", set()) for language in sorted(dropped)]
    for slug, everything in folders:
        if everything == set():
            for report in (*REPORT_NAMES, *CHECK_REPORT_NAMES):
                with contextlib.suppress(OSError):
                    (cache.out_dir / slug / report).unlink()
        for path, changed in cache.remove_unlisted(cache.out_dir / slug, keep=everything):
            if changed:
                console.say(f"  kept       {display_path(path)}: it is no longer built, but was changed after it "
                            "was written")
            else:
                console.say(f"  removed    {display_path(path)}  (no longer built for this clinic)")
        if everything == set():
            # Only when nothing else is left in it.
            with contextlib.suppress(OSError):
                (cache.out_dir / slug).rmdir()


def with_earlier_outcomes(outcomes: list[Outcome], clinics: list[Clinic], content: Content,
                          cache: BuildCache) -> list[Outcome]:
    """The outcomes, with the clinics' documents this build did not make (`--treatment`, `--variant`, `--layout`)
    that an earlier build did and that are on disk exactly as it wrote them, in the order they are planned: their
    reports list every document, with the pages, sizes, print checks and warnings the build cache recorded for the
    earlier ones, so a partial build never cuts a clinic's report down. (Content checks, such as approval and
    claims, are made again now for every document.)

    Such a file was made from the inputs of its day. Each is checked against what it would be made from now (its
    HTML rendered again, with its stylesheets, files and options: the key the build cache keeps): one made before
    the clinic's content, settings, approval or files changed is `outdated`, and its report says so, rather than
    vouching for a file that still says "Draft", or an old colour or text."""
    every = plan_documents(clinics, content, cache.out_dir, None, VARIANTS, LAYOUTS)
    built = {outcome.document.output for outcome in outcomes}
    found = list(outcomes)
    now = _InputsNow(content)
    for document in every:
        saved = cache.entries.get(cache.name(document.output))
        if document.output in built or not saved or file_hash(document.output) != saved.get("pdf"):
            continue
        found.append(Outcome(document=document, printed=Printed(
            document=document, pages=saved["pages"], size=document.output.stat().st_size, warnings=saved["warnings"],
            unchanged=True, inspection=Inspection(**saved["inspection"]), cache_entry=saved,
            outdated=not is_fresh(saved, document.output, now.key(document)))))
    order = {document.output: number for number, document in enumerate(every)}
    return sorted(found, key=lambda outcome: order.get(outcome.document.output, len(order)))


class _InputsNow:
    """The build cache's key for a document as it would be made now: its HTML rendered, and its stylesheets read,
    in this process (made only when an earlier file is there to compare)."""

    def __init__(self, content: Content):
        self.content = content
        self._renderer: HtmlRenderer | None = None
        self._printer: Printer | None = None

    def key(self, document: Document) -> str:
        if self._renderer is None or self._printer is None:
            self._renderer, self._printer = HtmlRenderer(self.content), Printer()
        try:
            html = self._renderer.render(document)
            parts = tuple((part, self._renderer.render(part)) for part in booklet_parts(document, self.content)
                          ) if document.kind == BOOKLET else ()
        except (RenderError, RecursionError):
            # Its templates no longer render: it could not be made now as it is.
            return ""
        return self._printer.inputs_key(document, html, parts)
