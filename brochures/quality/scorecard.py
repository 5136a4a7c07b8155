"""One document's scorecard: what each check found, its warnings and its verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

from brochures.files.yaml_reader import YamlFile
from brochures.problems import WARNING, Problem
from brochures.quality.reading import measure_for


def overdue(reviewed: dict[str, tuple[Path, YamlFile, object]], today: date) -> dict[str, Problem]:
    """A warning for each piece of content (by name) whose next review date has passed."""
    problems = {}
    for name, (path, doc, review) in reviewed.items():
        if review.next_review < today:
            problems[name] = Problem(path, doc.line_of(("review", "next_review")), "review.next_review",
                                     f"{name} was due for review on {review.next_review.isoformat()}: "
                                     "ask the clinic's medical lead to check it, then update the review block")
    return problems


# One verdict per document, for the clinic's staff: each has a word, an icon and a colour in the report.
READY, NEEDS_A_LOOK, NOT_BUILT = "ready", "needs_a_look", "not_built"


# Why a document needs a look, in the order the report lists them; each is a sentence in the strings file
# (report.reasons).
REASONS = ("outdated", "approval", "contact", "claims", "colours", "review", "translation", "reading", "printing")


# What to do about each kind of warning, in words for a practice manager (a problem may carry a more precise hint).
HINTS = {
    "contact": "Replace it in clinic.yaml with the clinic's own details, then build again.",
    "claims": (
        "Reword it so that it promises nothing and plays no risk down (the rule's reason says why), then build again."
    ),
    "review": "Ask the clinic's medical lead to check the content, then update its review block.",
    "reading": (
        "Use shorter sentences and everyday words in that section (the content's files, or the clinic's own text in "
        "clinic.yaml)."
    ),
    "printing": (
        "Look at the document's pages. For a low-resolution image, supply a larger PNG or an SVG; for a document over "
        "its pages, shorten the clinic's own text."
    ),
}


def as_warning(problem: Problem, reason: str, hint: str | None = None) -> Problem:
    """A problem a check found, as a warning of the scorecard: with its reason and what to do."""
    return replace(problem, severity=WARNING, reason=reason, hint=problem.hint or hint or HINTS[reason])


@dataclass
class Scorecard:
    """What a clinic sees about one document: is it readable, honest, legible and accessible?"""

    document: str
    pages: int = 0
    size_kb: int = 0
    # The score by the language's measure (reading_measure).
    reading_grade: float | None = None
    reading_sections: dict[str, float] = field(default_factory=dict)
    excluded_from_reading: list[str] = field(default_factory=list)
    lowest_text_contrast: float | None = None
    text_contrast_failures: int = 0
    smallest_text_pt: float | None = None
    body_text_pt: float | None = None
    accessibility: dict[str, bool] = field(default_factory=dict)
    # "approved", "unapproved" or "outdated": whether the clinic's medical lead approved this content.
    approval: str = ""
    # Every warning about this document, from every check, each with its reason and what to do: the one list the
    # terminal, report.json and report.html, --strict and the preview read.
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    reading_measure: str = "Flesch–Kincaid grade"
    # The document's language, as tagged ("en-GB", "es", "ar").
    language: str = "en"
    # The file just built, for the report's pictures; never in report.json.
    pdf: Path | None = field(default=None, compare=False)
    # Its first page as a PNG, when the worker that printed it made one (printer.Printed.picture); never in
    # report.json.
    picture: bytes | None = field(default=None, compare=False, repr=False)

    def said(self, reason: str) -> list[str]:
        return [problem.said() for problem in self.problems if problem.reason == reason]

    @property
    def claims(self) -> list[str]:
        return self.said("claims")

    @property
    def contrast_adjustments(self) -> list[str]:
        return self.said("colours")

    def warnings(self) -> list[str]:
        """Every warning about this document, from every check: what --strict turns into failures."""
        return [problem.said() for problem in self.problems]

    def verdict(self) -> str:
        """Not built (it failed), Needs a look (it has warnings), or Ready."""
        return NOT_BUILT if self.error else NEEDS_A_LOOK if self.problems else READY

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["pdf"], data["picture"]
        reasons = {problem.reason for problem in self.problems}
        # Each kind of warning is also listed as the terminal says it, by reason, for scripts written before the
        # problems were kept as objects.
        approval = self.said("approval")
        measure = measure_for(self.language)
        return data | {
            "problems": [problem.as_dict() for problem in self.problems],
            "claims": self.claims,
            "contrast_adjustments": self.contrast_adjustments,
            "review_warnings": self.said("review"),
            "translation_warnings": self.said("translation"),
            "print_warnings": [problem.message for problem in self.problems if problem.reason == "printing"],
            "contact_warnings": self.said("contact"),
            "approval_warning": approval[0] if approval else None,
            "warnings": self.warnings(),
            "verdict": self.verdict(),
            "verdict_reasons": [] if self.error else [reason for reason in REASONS if reason in reasons],
            # The reading score's own target in its language, and which way is easier (INFLESZ: 65, higher).
            "reading_target": measure.target,
            "reading_higher_is_easier": measure.higher_is_easier,
        }
