"""The schema of a language's words: data/strings/<language>.yaml."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from brochures.schema.fields import (
    DayDone,
    Model,
    ShortText,
    Slug,
    Text,
    _fail,
)


def with_placeholders(value: str, wanted: set[str], exact: bool) -> str:
    """Text whose {placeholders} are all `wanted` ones (and, if `exact`, every one of them)."""
    found = set(re.findall(r"\{(\w+)\}", value))
    if found != wanted if exact else not found <= wanted:
        _fail("placeholders", f"expected text using {'exactly' if exact else 'only'} the placeholders "
              + ", ".join("{" + p + "}" for p in sorted(wanted)))
    return value

class DiagramLabels(Model):
    epidermis: ShortText
    dermis: ShortText
    fat: ShortText
    injection: ShortText


class Verdicts(Model):
    """A word, or a sentence, for each verdict a document can get (quality.READY, NEEDS_A_LOOK, NOT_BUILT)."""

    ready: Text
    needs_a_look: Text
    not_built: Text


class Reasons(Model):
    """Why a document needs a look, one plain sentence for each reason (quality.REASONS)."""

    outdated: Text
    approval: Text
    contact: Text
    claims: Text
    colours: Text
    review: Text
    translation: Text
    reading: Text
    printing: Text


class AccessibilityLabels(Model):
    """Each accessibility check of the inspection (inspection.accessibility), as staff read it in the report."""

    tagged: ShortText
    structure_tree: ShortText
    document_language: ShortText
    title_shown: ShortText
    alternative_text: ShortText
    pdf_ua: ShortText
    table_headers: ShortText


class GlossaryEntry(Model):
    term: ShortText
    meaning: Text


class FranchiseReportLabels(Model):
    """The franchise report of a sharded build (generate.py merge-reports), for a head office."""

    title: ShortText
    intro: Text
    totals: ShortText
    clinics: ShortText
    clinic: ShortText
    shard: ShortText
    shards: ShortText
    documents: ShortText
    built: ShortText
    failed: ShortText
    not_attempted: ShortText
    warnings: ShortText
    problems: ShortText
    cost: ShortText
    seconds: ShortText
    folder: ShortText
    none: ShortText


class ReportLabels(Model):
    intro: Text
    document: ShortText
    pages: ShortText
    size: ShortText
    reading_grade: ShortText
    claims: ShortText
    contrast: ShortText
    smallest_text: ShortText
    body_text: ShortText
    accessibility: ShortText
    sections: ShortText
    excluded: ShortText
    warnings: ShortText
    none: ShortText
    passed: ShortText
    failed: ShortText
    # The verdicts, their legend and reasons, and the preview gallery (python generate.py serve).
    verdict: ShortText
    verdicts: Verdicts
    legend_heading: ShortText
    legend: Verdicts
    reasons: Reasons
    summary_heading: ShortText
    documents_heading: ShortText
    why: ShortText
    # {date} and {time}.
    built: ShortText
    # {document}.
    open: ShortText
    # {page} and {document}.
    page_alt: ShortText
    warnings_intro: Text
    found_in: ShortText
    # In the table, for a document that was not made: a link to its reason, given once below.
    see_why: ShortText
    # {file}, {line} and {setting}: where a warning's cause is, before what it says.
    where: ShortText
    # Before a warning's hint: what to do about it.
    what_to_do: ShortText
    # {target}: a reading score shown against its language's own target, higher or lower being easier.
    reading_target_higher: ShortText
    reading_target_lower: ShortText
    # A reading score with no target in its language.
    information_only: ShortText
    accessibility_checks: AccessibilityLabels
    glossary_heading: ShortText
    glossary: Annotated[list[GlossaryEntry], Field(min_length=1, max_length=30)]
    preview_title: ShortText
    preview_intro: Text
    preview_building: ShortText
    preview_ready: ShortText
    preview_problems: ShortText
    preview_problems_intro: Text
    preview_problems_lines: Text
    preview_not_built: Text
    preview_finished_with_problems: ShortText
    preview_none: Text
    # The page viewer of the preview: a page at the width of the window.
    preview_previous: ShortText
    preview_next: ShortText
    preview_close: ShortText
    franchise: FranchiseReportLabels


class ComparisonRows(Model):
    goal: ShortText
    suits: ShortText
    benefits: ShortText
    ingredients: ShortText
    method: ShortText
    course: ShortText
    downtime: ShortText
    home_care: ShortText
    professional_only: ShortText


class ListJoiner(Model):
    """How the strings' language joins a list: "facial and hair", "facial, hair and body"."""

    # Two items: "{first} and {last}".
    pair: ShortText
    # Between the items of a longer list but the last two: ", ".
    separator: Annotated[str, StringConstraints(max_length=20)]
    # The last two of a longer list: "{rest} and {last}" (rest holds the others, already joined)
    last: ShortText

    @field_validator("pair", "last")
    @classmethod
    def _two_placeholders(cls, value: str, info: ValidationInfo) -> str:
        wanted = {"first", "last"} if info.field_name == "pair" else {"rest", "last"}
        return with_placeholders(value, wanted, exact=True)


class Counted(Model):
    """Text that depends on how many treatments a clinic offers. Placeholders: {count} (a word) and {list}."""

    one: ShortText
    other: ShortText

    @field_validator("one", "other")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        if not set(re.findall(r"\{(\w+)\}", value)) <= {"count", "list"}:
            _fail("placeholders", "expected text using only the placeholders {count} and {list}")
        return value


class PackStrings(Model):
    """The words of the pre-consultation email and cover letter. Placeholders are `{name}`."""

    placeholders: ClassVar[dict[str, set[str]]] = {
        "subject": {"clinic"},
        "greeting": {"name"},
        "personal_mark": {"name"},
        "sent_because": {"clinic"},
        "change_by_phone": {"phone"},
        "time_value": {"hour", "hour12", "minute", "am_pm"},
        "date_line": {"weekday", "date"},
        "calendar_summary": {"clinic"},
        "other_invitation": {"when"},
    }

    # Monday first.
    weekdays: Annotated[list[ShortText], Field(min_length=7, max_length=7)]
    # Before noon, after noon.
    am_pm: Annotated[list[ShortText], Field(min_length=2, max_length=2)]
    # The appointment's day and date: "{weekday} {date}".
    date_line: ShortText
    subject: ShortText
    greeting: ShortText
    intro: Text
    appointment_heading: ShortText
    day: ShortText
    time: ShortText
    # "{hour}:{minute}" (24-hour, 14:30) or "{hour12}:{minute} {am_pm}" (2:30 PM)
    time_value: ShortText
    practitioner: ShortText
    treatments: ShortText
    place: ShortText
    how_to_find_us: ShortText
    change_heading: ShortText
    change_by_phone: Text
    change_online: ShortText
    before_heading: ShortText
    before_intro: Text
    questions_heading: ShortText
    questions_intro: Text
    leaflets_heading: ShortText
    leaflets_intro: Text
    leaflets_in_pack: Text
    contact_heading: ShortText
    closing: Text
    sign_off: ShortText
    sent_because: Text
    personal_mark: ShortText
    letter_title: ShortText
    # The calendar event's title: the clinic, never the treatment (a calendar is seen by others).
    calendar_summary: ShortText
    # Said when the patient was sent an invitation for another time too (a moved appointment leaves the first in
    # their calendar): "{when}" is its day and time. Without it, nothing is said.
    other_invitation: Text | None = None

    @field_validator(*placeholders)
    @classmethod
    def _placeholders_match(cls, value: str | None, info: ValidationInfo) -> str | None:
        return value if value is None else with_placeholders(value, cls.placeholders[info.field_name], exact=False)


class TranslationInfo(Model):
    """Who translated a file and who checked it, and what English it translates (per field, for the staleness check)."""

    translated_by: ShortText
    machine_assisted: bool
    # A clinician fluent in the language who checked it against the English; until then it needs review.
    reviewed_by: ShortText | None = None
    reviewed_on: DayDone | None = None
    # Field → fingerprint of the English it translates, written by `python generate.py translations --stamp`.
    english: dict[ShortText, Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]] = {}


class Strings(Model):
    """Every word a template prints that is not content. Placeholders are `{name}`."""

    placeholders: ClassVar[dict[str, set[str]]] = {
        "footer_page": {"page", "pages"},
        "footer_reviewed": {"date"},
        "emergency_heading": {"number"},
        "qr_alt": {"url"},
        "logo_alt": {"clinic"},
        "contact_phone_line": {"phone"},
        "brochure_subject": {"treatment"},
        "comparison_subject": {"clinic"},
        "booklet_subject": {"clinic"},
        "date": {"day", "month", "year"},
        "review_line": {"reviewer", "date", "next"},
        "report_title": {"clinic"},
        "approved_line": {"clinic", "name", "role", "date"},
        "draft_mark": {"clinic"},
        "draft_mark_running": set(),
    }

    # Used when the clinic gives neither claims_profile nor a country.
    claims_profile: Slug
    # In every language but English.
    translation: TranslationInfo | None = None
    # Rtl: Arabic, Hebrew… the pages are mirrored.
    direction: Literal["ltr", "rtl"] = "ltr"
    # Font packages that draw this language's script, used after the clinic's own font (which draws Latin text).
    script_fonts: Annotated[list[ShortText], Field(max_length=3)] = []
    # Content words spelled differently in this variant ("ageing": "aging"): applied to every text a patient reads.
    spelling: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z'-]*$")], ShortText] = {}
    list_joiner: ListJoiner
    # "one", "two"…: {count} past the end is written in digits.
    numbers: Annotated[list[ShortText], Field(min_length=1)]
    months: Annotated[list[ShortText], Field(min_length=12, max_length=12)]
    date: ShortText
    brochure_subject: ShortText
    comparison_subject: ShortText
    booklet_subject: ShortText
    contents: ShortText
    ask_for_full_leaflet: Text
    comparison_detail_note: Text
    keywords: Annotated[list[ShortText], Field(min_length=1)]
    footer_page: ShortText
    footer_reviewed: ShortText
    logo_alt: ShortText
    what_it_helps_with: ShortText
    may_also_help_with: ShortText
    possible_benefits: ShortText
    what_goes_into_it: ShortText
    ingredient: ShortText
    why_it_is_used: ShortText
    how_it_is_done: ShortText
    good_to_know: ShortText
    diagram_caption: ShortText
    diagram_labels: DiagramLabels
    your_course: ShortText
    sessions: ShortText
    spacing: ShortText
    session_length: ShortText
    maintenance: ShortText
    downtime: ShortText
    typical_note: Text
    is_it_right_for_you: ShortText
    it_may_suit: ShortText
    do_not_have_it_if: ShortText
    talk_to_us_first_if: ShortText
    side_effects: ShortText
    common_side_effects: ShortText
    rare_side_effects: ShortText
    aftercare: ShortText
    when_to_contact_us: ShortText
    contact_us_if: ShortText
    contact_phone_line: ShortText
    emergency_heading: ShortText
    key_takeaway: ShortText
    home_care: ShortText
    results_heading: ShortText
    professional_only: ShortText
    home_use_possible: ShortText
    book_a_consultation: ShortText
    booking_prompt: Text
    qr_alt: ShortText
    phone: ShortText
    email: ShortText
    website: ShortText
    address: ShortText
    about_this_leaflet: ShortText
    review_line: ShortText
    sources_heading: ShortText
    comparison_heading: Counted
    comparison_summary: Counted
    types_offered: Counted
    treatment_column: ShortText
    comparison_rows: ComparisonRows
    medical_vs_cosmetic: ShortText
    medical: ShortText
    cosmetic: ShortText
    important: ShortText
    home_products: ShortText
    in_summary: ShortText
    about_mesotherapy: ShortText
    disclaimer_heading: ShortText
    approved_line: ShortText
    draft_mark: ShortText
    draft_mark_running: ShortText
    report_title: ShortText
    report: ReportLabels
    # The pre-consultation email and cover letter; required by `generate.py pack`.
    pack: PackStrings | None = None

    @field_validator(*placeholders)
    @classmethod
    def _placeholders_match(cls, value: str, info: ValidationInfo) -> str:
        wanted = cls.placeholders[info.field_name]
        if set(re.findall(r"\{(\w+)\}", value)) != wanted:
            _fail(
                "placeholders",
                "expected text using exactly the placeholders " + ", ".join("{" + p + "}" for p in sorted(wanted)),
            )
        return value
