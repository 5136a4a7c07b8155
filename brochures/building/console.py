"""What a build says on the terminal: a line per document as it is made, invalid input, the scorecards, the summary."""

from __future__ import annotations

import io
import logging
import sys
from dataclasses import dataclass
from typing import TextIO

from brochures.building.result import BuildResult
from brochures.building.tasks import Outcome
from brochures.load.translations import language_name
from brochures.problems import Problem, display_path, report_lines
from brochures.quality.findings import print_warnings
from brochures.quality.reading import MEASURES_EN, measure_for

# WeasyPrint's warnings, passed on from the workers: tests listen here to catch CSS typos and missing assets.
PRINT_WARNINGS = logging.getLogger("brochures.print_warnings")
PRINT_WARNINGS.addHandler(logging.NullHandler())
PRINT_WARNINGS.propagate = False


@dataclass
class Console:
    """Where a build's lines go: standard output and error by default; the pack and tests give their own."""

    out: TextIO | None = None
    err: TextIO | None = None

    def say(self, text: str = "", flush: bool = False) -> None:
        print(text, file=self.out or sys.stdout, flush=flush)

    def warn(self, text: str) -> None:
        print(text, file=self.err or sys.stderr)

    def invalid(self, problems: list[Problem]) -> None:
        count = len(set(problems))
        self.warn(f"Invalid input ({count:,} problem{'s' if count != 1 else ''}); nothing was built from it:")
        for line in report_lines(problems):
            self.warn(f"  {line}")

    def outcome(self, outcome: Outcome, checking: bool = False, brief: bool = False, relay: bool = True) -> None:
        """One line per document (`brief`: only failures and warnings, under a live progress line). `relay`: pass
        WeasyPrint's warnings on to the tests' logger (not when only the words are wanted)."""
        output = outcome.document.output.name if checking else display_path(outcome.document.output)
        if outcome.error:
            self.warn(f"  FAILED     {output}: {outcome.error}")
            return
        printed = outcome.printed
        pages = f"{printed.pages} page{'s' if printed.pages != 1 else ''}"
        action = "checked" if checking else "unchanged" if printed.unchanged else "wrote"
        warnings = print_warnings(printed)
        if not brief or warnings:
            # Flushed line by line, so progress shows at once in a pipe or a CI log.
            self.say(f"  {action:9}  {output}  ({pages}, {printed.size / 1024:.0f} KB)", flush=True)
        for warning in warnings:
            self.say(f"             warning: {warning}")
        # WeasyPrint's own, for the tests that catch CSS typos and missing assets.
        for warning in printed.warnings if relay else ():
            PRINT_WARNINGS.warning("%s: %s", output, warning)

    def scorecards(self, result: BuildResult) -> None:
        """Each clinic edition's scorecards as a table, with its warnings, and where its full report is."""
        for clinic in result.clinics:
            if clinic.slug not in result.reports:
                continue
            language = "" if clinic.main else f" in {language_name(clinic.language)}"
            self.say(f"\nScorecard for {clinic.config.name}{language} (full report: "
                     f"{display_path(result.reports[clinic.slug])}):")
            self.say(f"  {'document':28} {'pages':>5} {'size':>7} {'grade':>5} {'claims':>6} {'colours':>7} "
                     f"{'smallest':>8} {'body':>7}  accessibility")
            # "grade" is another measure in this language.
            if (measure := measure_for(clinic.language)).name != MEASURES_EN:
                self.say(f"  (grade: {measure.name}, "
                         + (f"target {measure.target_text()})" if measure.target else "information only)"))
            cards = result.cards[clinic.slug]
            for card in cards:
                if card.error:
                    self.say(f"  {card.document:28} failed: {card.error[:80]}")
                    continue
                passed = sum(card.accessibility.values())
                self.say(f"  {card.document:28} {card.pages:>5} {card.size_kb:>4} KB {card.reading_grade:>5} "
                         f"{len(card.claims):>6} {len(card.contrast_adjustments):>7} {card.smallest_text_pt:>5} pt "
                         f"{card.body_text_pt:>4} pt  {passed}/{len(card.accessibility)} passed")
            for warning in sorted({warning for card in cards for warning in card.warnings()}):
                self.say(f"  warning: {warning}")

    def summary(self, result: BuildResult, file: TextIO | None = None) -> None:
        """The closing line, and every failure with its reason."""
        built, failed = result.built, result.failed
        editions = ({o.document.clinic.slug: o.document.clinic for o in built}
                    or {clinic.slug: clinic for clinic in result.clinics})
        clinic_count = len({clinic.folder for clinic in editions.values()})
        # British and American English are one language, in two spellings.
        languages = len({clinic.language for clinic in editions.values()})
        in_languages = f" in {languages} languages" if languages > 1 else ""
        # A --check builds every document to check it, and writes none.
        verb = "Checked" if result.options.check else "Built"
        line = (f"{verb} {len(built)} document{'s' if len(built) != 1 else ''} for {clinic_count} "
                f"clinic{'s' if clinic_count != 1 else ''}{in_languages} in {result.seconds:.1f} s")
        if result.options.check:
            line += " (no brochure written; the reports are check-report.html and check-report.json)"
        if unchanged := sum(o.printed.unchanged for o in built):
            line += f" ({unchanged} unchanged since the last build)"
        if failed:
            line += f"; {len(failed)} failed"
        if skipped := result.planned - len(result.outcomes):
            why = ("the output folder could not be written" if any(o.machine_fault for o in result.outcomes)
                   else "--fail-fast")
            line += f"; {skipped} not attempted ({why})"
        if problems := result.problems:
            line += f"; skipped invalid input ({len(problems)} problem{'s' if len(problems) != 1 else ''})"
        print(line + ".", file=file or self.out or sys.stdout)
        if failed:
            self.warn("Failures:")
        for failure in result.failures():
            self.warn(f"  {failure}")


def unchanged_report(result: BuildResult, live: bool, quiet: bool) -> str:
    """What the same build prints on standard output when it is run again at once: every document unchanged, with
    the same pages, sizes and warnings, then the same scorecards and summary (`live`: under a progress line, only
    the documents with warnings have a line; `quiet`: the summary alone). What it printed on standard error (a
    clinic's notes, --strict's count) it prints again as it was."""
    rebuilt = result.unchanged_rebuild()
    out = io.StringIO()
    console = Console(out=out, err=io.StringIO())
    if not quiet:
        for outcome in rebuilt.outcomes:
            console.outcome(outcome, brief=live, relay=False)
        if rebuilt.finished:
            console.scorecards(rebuilt)
    console.summary(rebuilt, file=out)
    return out.getvalue()
