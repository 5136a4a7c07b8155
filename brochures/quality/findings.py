"""The patient-communication quality gate: reading level, claims, review dates, and the clinic's scorecard."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

from brochures.load.approval import APPROVED, OUTDATED, clinic_option
from brochures.pdf.page_text import _pages
from brochures.problems import WARNING, Problem
from brochures.quality.claims import claim_checker, strings_in
from brochures.quality.placeholders import placeholder_problems
from brochures.quality.reading import (
    Reading,
    comparison_reading,
    measure_for,
    treatment_reading,
)
from brochures.quality.scorecard import HINTS, Scorecard, as_warning, overdue
from brochures.render.data import offered_data

# Clinic settings that are not words a patient reads.
CLINIC_SETTINGS = frozenset(
    {"logo", "colors", "font", "page_size", "language", "treatments", "claims_profile", "claims_terms", "timezone",
     "treatment_aliases"}
)


class ClinicFindings:
    """Everything the content checks found for one clinic, ready to be attached to each of its documents."""

    def __init__(self, clinic, content, today: date):
        content = content.of(clinic)
        self.clinic, self.content = clinic, content
        checker = claim_checker(clinic.claim_rules, tuple(clinic.config.claims_terms))
        self.checker = checker
        # Source → the phrases of the claims rules its files hold (`phrases`), found when first asked for.
        self._phrases: dict[str, set[tuple[str, str]]] = {}
        # The shared files' claims are the same for every clinic with the same rules: found once per batch.
        self.claims = {
            "clinic": checker.check(clinic.doc, skip=CLINIC_SETTINGS),
            "strings": checker.checked(clinic.strings_doc)
            + (checker.checked(clinic.strings_overlay) if clinic.strings_overlay else []),
            "shared": checker.checked(content.docs["shared"]),
        }
        self.claims |= {slug: checker.checked(content.docs[slug]) for slug in clinic.treatments}
        self.contrast = list(clinic.colour_warnings)
        reviewed = {"the shared content": (content.docs["shared"].path, content.docs["shared"], content.shared.review)}
        reviewed |= {
            content.treatments[slug].title: (
                content.docs[slug].path,
                content.docs[slug],
                content.treatments[slug].review,
            )
            for slug in clinic.treatments
        }
        self.overdue = overdue(reviewed, today)
        treatments = [content.treatments[slug] for slug in clinic.treatments]
        self.readings = {
            slug: treatment_reading(content.treatments[slug], clinic.language) for slug in clinic.treatments
        }
        offered = offered_data(clinic, [{"type_name": t.type_name} for t in treatments])
        self.readings["comparison"] = comparison_reading(content.shared, treatments, offered, clinic.language)
        # A treatment's translation concerns the documents that print that treatment; the shared content's and the
        # strings' concern every document.
        self.translation = [
            (problem.file.stem if problem.file.parent.name == "treatments" else None, problem)
            for problem in clinic.translation_warnings
        ]
        self.approval = clinic.approval
        self.placeholders = placeholder_problems(clinic)

    def phrases(self, sources: list[str]) -> set[tuple[str, str]]:
        """Every phrase of the claims rules the files of `sources` hold, honest (negated) or not: (rule, phrase)."""
        docs = {"clinic": [self.clinic.doc], "strings": [self.clinic.strings_doc, self.clinic.strings_overlay]}
        found = set()
        for source in sources:
            if source not in self._phrases:
                self._phrases[source] = {
                    (rule, phrase.casefold()) for doc in docs.get(source) or [self.content.docs[source]] if doc
                    for _, text in strings_in(doc.data) for phrase, rule, _ in self.checker.find(text, True)
                }
            found |= self._phrases[source]
        return found

    def sources(self, document) -> list[str]:
        """Which files' words reach this document."""
        if document.treatment:
            return ["clinic", "strings", document.name]
        return ["clinic", "strings", "shared", *self.clinic.treatments]

    def reading(self, document) -> Reading:
        if document.kind != "booklet":
            return self.readings[document.name if document.treatment else "comparison"]
        parts = {self.content.treatments[slug].title: self.readings[slug].grade for slug in self.clinic.treatments}
        parts[self.content.shared.title] = self.readings["comparison"].grade
        # The booklet is as hard as its hardest part.
        whole = (min if measure_for(self.clinic.language).higher_is_easier else max)(parts.values())
        return Reading(whole, parts, self.readings["comparison"].excluded, self.clinic.language)

    def scorecard(self, outcome) -> Scorecard:
        document = outcome.document
        reading = self.reading(document)
        sources = self.sources(document)
        titles = [self.content.treatments[slug].title for slug in sources if slug in self.content.treatments]
        claims = [claim for source in sources for claim in self.claims.get(source, [])]
        problems = [as_warning(claim.problem, "claims") for claim in claims]
        problems += [as_warning(problem, "colours") for problem in self.contrast]
        problems += [
            as_warning(problem, "review")
            for name, problem in self.overdue.items()
            if name in titles or name == "the shared content" and not document.treatment
        ]
        problems += [
            as_warning(problem, "translation") for slug, problem in self.translation if slug is None or slug in sources
        ]
        problems += [self.approval["warning"]] if self.approval["warning"] else []
        problems += [as_warning(problem, "contact") for problem in self.placeholders]
        card = Scorecard(
            document=document.output.name,
            reading_grade=reading.grade,
            reading_sections=reading.sections,
            excluded_from_reading=reading.excluded,
            reading_measure=measure_for(self.clinic.language).name,
            language=self.clinic.locale,
            approval=self.approval["state"],
            error=outcome.error,
        )
        if outcome.printed and outcome.printed.outdated:
            # Made by an earlier build, from other inputs: it does not show what is checked and approved now.
            problems.insert(0, Problem(
                Path(document.output.name), None, "",
                "made by an earlier build, before the clinic's content, settings, approval or files last changed, "
                "and not made again by this one: the file shows what they were then", WARNING, "outdated",
                f"Build it again before giving it out: python generate.py "
                f"{clinic_option(document.clinic, self.content)} --variant all --layout all"))
            if card.approval == APPROVED:
                card.approval = OUTDATED
        if outcome.printed:
            inspection = outcome.printed.inspection
            card.pages, card.size_kb = outcome.printed.pages, round(outcome.printed.size / 1024)
            card.smallest_text_pt, card.body_text_pt = inspection.smallest_text_pt, inspection.body_text_pt
            card.lowest_text_contrast = inspection.lowest_text_contrast
            card.text_contrast_failures = inspection.text_contrast_failures
            card.accessibility = inspection.accessibility
            problems += printing_problems(card.document, outcome.printed)
            known = {(claim.rule, claim.phrase.casefold()) for claim in claims}
            if document.clinic.strings.direction == "rtl":
                # A right-to-left page's text, as PDF readers give it, may put a sentence's full stop between a
                # negation and what it denies: any phrase the content files hold, honest or not, is theirs (and
                # checked there, with its negation).
                known |= self.phrases(sources)
            problems += printed_claims(card.document, inspection.page_claims, known)
            card.pdf, card.picture = document.output, outcome.printed.picture
        card.problems = problems + reading_problems(card)
        return card


def printed_claims(name: str, found: list[dict], known: set[tuple[str, str]]) -> list[Problem]:
    """The claims the finished document prints that no file of its content holds (`known`: (rule, phrase) of the
    claims found there, named by file and line): words a clinic's own template, stylesheet (CSS `content:`) or
    picture (text in an SVG) put on the page. One for each phrase and rule, naming the pages it is on."""
    pages: dict[tuple[str, str], list[int]] = {}
    for claim in found:
        key = (claim["rule"], claim["phrase"])
        if (claim["rule"], claim["phrase"].casefold()) not in known and claim["page"] not in pages.get(key, []):
            pages.setdefault(key, []).append(claim["page"])
    reasons = {(claim["rule"], claim["phrase"]): claim["reason"] for claim in found}
    return [
        Problem(Path(name), None, "", f'"{phrase}" printed on {_pages(numbers)}: {reasons[(rule, phrase)]}',
                WARNING, "claims", "the words are on the page but in none of the content files: look in the clinic's "
                "own templates, stylesheets and pictures, take them out, then build again")
        for (rule, phrase), numbers in pages.items()
    ]


def reading_problems(card: Scorecard) -> list[Problem]:
    """A document, or a section of it, harder to read than its language's target."""
    measure = measure_for(card.language)
    found = []
    if measure.too_hard(card.reading_grade):
        found.append(f"{measure.score(card.reading_grade)} is {measure.missed()}")
    found += [
        f"the {section} section {measure.reads_at(value)}, {measure.missed()}: use shorter sentences and everyday words"
        for section, value in card.reading_sections.items()
        if measure.too_hard(value)
    ]
    return [Problem(Path(card.document), None, "", message, WARNING, "reading", HINTS["reading"]) for message in found]


def printing_problems(document: str, printed) -> list[Problem]:
    """What printing and the page inspection found about one document, as its warnings."""
    return [Problem(Path(document), None, "", warning, WARNING, "printing", HINTS["printing"])
            for warning in print_warnings(printed)]


def print_warnings(printed) -> list[str]:
    """The warnings of a printed document: from printing (WeasyPrint, image resolution) and from its inspection
    (page budget, near-empty pages). Both are in the build cache, so an unchanged document gives the same ones."""
    return list(dict.fromkeys([*printed.warnings, *printed.inspection.warnings]))


def today() -> date:
    """The date review deadlines are checked against: SOURCE_DATE_EPOCH's day when set, for repeatable checks."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date() if epoch.isdigit() else date.today()
