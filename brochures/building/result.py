"""What a build made: every document of every language edition with its outcome, and every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from brochures import exits
from brochures.building.options import BuildOptions
from brochures.building.tasks import Outcome
from brochures.load.loaded import Clinic
from brochures.problems import Problem, display_path
from brochures.quality.scorecard import Scorecard


@dataclass
class BuildResult:
    """The one record of a build: the command line, the preview, the pack and the shard files read it."""

    options: BuildOptions
    # How many documents were planned, and what happened to each one attempted (in planned order).
    planned: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    # The clinic editions built (one per language a clinic offers), and the problems of the input that was not.
    clinics: list[Clinic] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Each clinic edition's scorecards (by its slug: example, example/es), and where its report was written.
    cards: dict[str, list[Scorecard]] = field(default_factory=dict)
    reports: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    # When every document was written or unchanged: what the build depended on and wrote, and what the same
    # command prints when it runs again (`stdout`), so that the next run can be replayed.
    stamp: dict | None = None
    # Whether the build went to its end: the content and, with --fail-fast, every clinic were valid.
    finished: bool = False

    @property
    def built(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.printed]

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.error]

    @property
    def machine_fault(self) -> bool:
        return any(outcome.machine_fault for outcome in self.outcomes)

    @property
    def warnings(self) -> list[str]:
        """Every warning of every document, each once: what --strict counts."""
        return sorted({warning for cards in self.cards.values() for card in cards for warning in card.warnings()})

    def failures(self) -> list[str]:
        """Each failed document with its reason, as the terminal, the preview and the pack name it."""
        return [f"{display_path(outcome.document.output)}: {outcome.error}" for outcome in self.failed]

    def exit_code(self) -> int:
        if self.machine_fault:
            return exits.OUTPUT
        if self.problems:
            return exits.INVALID
        if len(self.outcomes) < self.planned or self.failed:
            return exits.FAILED
        if self.options.strict and self.warnings:
            return exits.FAILED
        return exits.OK

    def unchanged_rebuild(self) -> BuildResult:
        """This build as the same command run again at once finds it: every document printed is unchanged, with the
        same pages, sizes, warnings and scorecards."""
        outcomes = [replace(o, printed=replace(o.printed, unchanged=True)) if o.printed else o for o in self.outcomes]
        return replace(self, outcomes=outcomes)

    def document_status(self, outcome: Outcome | None) -> str:
        if outcome is None:
            return "not attempted"
        if outcome.error:
            return "failed"
        return "checked" if self.options.check else "unchanged" if outcome.printed.unchanged else "wrote"
