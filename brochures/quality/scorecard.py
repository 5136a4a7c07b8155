"""One document's scorecard: what each check found, its warnings and its verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from brochures.files.yaml_reader import YamlFile
from brochures.problems import Problem
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


# Why a document needs a look, in the order the report lists them; each is a sentence in the strings file (report.reasons).
REASONS = ("approval", "contact", "claims", "colours", "review", "translation", "reading", "printing")


@dataclass
class Scorecard:
    """What a clinic sees about one document: is it readable, honest, legible and accessible?"""

    document: str
    pages: int = 0
    size_kb: int = 0
    reading_grade: float | None = None  # the score by the language's measure (reading_measure)
    reading_sections: dict[str, float] = field(default_factory=dict)
    excluded_from_reading: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    contrast_adjustments: list[str] = field(default_factory=list)
    lowest_text_contrast: float | None = None
    text_contrast_failures: int = 0
    smallest_text_pt: float | None = None
    body_text_pt: float | None = None
    accessibility: dict[str, bool] = field(default_factory=dict)
    review_warnings: list[str] = field(default_factory=list)
    # Its translation: older than the English it translates, or not yet reviewed by a clinician who reads it.
    translation_warnings: list[str] = field(default_factory=list)
    # What printing and the page inspection found: a low-resolution image in a press file, a WeasyPrint
    # warning, a leaflet over its page budget, a near-empty page. Replayed from the build cache when unchanged.
    print_warnings: list[str] = field(default_factory=list)
    approval: str = ""  # "approved", "unapproved" or "outdated": whether the clinic's medical lead approved this content
    # Contact details that reach no one: init's placeholders, or a domain kept for examples (starter.placeholder_problems).
    contact_warnings: list[str] = field(default_factory=list)
    approval_warning: str | None = None
    error: str | None = None
    reading_measure: str = "Flesch–Kincaid grade"
    language: str = "en"  # the document's language, as tagged ("en-GB", "es", "ar")
    pdf: Path | None = field(default=None, compare=False)  # the file just built, for the report's pictures; never in report.json

    def noted(self) -> list[tuple[str, str]]:
        """Every warning about this document, with the reason it counts under (one of REASONS)."""
        found = [("claims", f"claim {claim}") for claim in self.claims]
        found += [("colours", warning) for warning in self.contrast_adjustments]
        found += [("review", warning) for warning in self.review_warnings]
        found += [("translation", warning) for warning in self.translation_warnings]
        found += [("approval", self.approval_warning)] if self.approval_warning else []
        found += [("contact", warning) for warning in self.contact_warnings]
        found += [("printing", f"{self.document}: {warning}") for warning in self.print_warnings]
        measure = measure_for(self.language)
        if measure.too_hard(self.reading_grade):
            found.append(("reading", f"{self.document}: {measure.score(self.reading_grade)} is {measure.missed()}"))
        found += [("reading", f"{self.document}: the {section} section {measure.reads_at(value)}, {measure.missed()}: "
                              "use shorter sentences and everyday words")
                  for section, value in self.reading_sections.items() if measure.too_hard(value)]
        return found

    def warnings(self) -> list[str]:
        """Every warning about this document, from every check: what --strict turns into failures."""
        return [warning for _, warning in self.noted()]

    def verdict(self) -> str:
        """Not built (it failed), Needs a look (it has warnings), or Ready."""
        return NOT_BUILT if self.error else NEEDS_A_LOOK if self.noted() else READY

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["pdf"]
        return data | {"warnings": self.warnings(), "verdict": self.verdict(),
                       "verdict_reasons": [] if self.error else [r for r in REASONS if r in {reason for reason, _ in self.noted()}]}
