"""The schema of what the brochures say: data/treatments/*.yaml and data/shared.yaml."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)

from brochures.schema.fields import (
    DayDone,
    HttpsUrl,
    Model,
    RelativeFile,
    ShortText,
    Slug,
    Text,
    TextList,
    _fail,
)


class Source(Model):
    """Where facts come from, as a patient sees it cited: title, publisher and (when known) the web address."""

    id: Slug
    title: ShortText
    publisher: ShortText
    url: HttpsUrl | None = None
    note: Text | None = None
    covers: Annotated[list[ShortText], Field(min_length=1)]


class Review(Model):
    reviewed_by: ShortText
    reviewed_on: DayDone
    next_review: date

    @field_validator("next_review")
    @classmethod
    def _after_review(cls, value: date, info: ValidationInfo) -> date:
        reviewed_on = info.data.get("reviewed_on")
        if reviewed_on and value <= reviewed_on:
            _fail("review_dates", f"expected a date after reviewed_on ({reviewed_on.isoformat()})")
        return value


class Ingredient(Model):
    name: ShortText
    purpose: Text


class Course(Model):
    sessions: Text
    spacing: Text
    maintenance: Text
    session_length: Text
    downtime: Text
    downtime_summary: ShortText


class SideEffects(Model):
    common: TextList
    common_note: Text
    rare: TextList


class Sourced(Model):
    """Content whose every field must name the source it comes from."""

    # Fields that are settings or bookkeeping rather than facts.
    not_content: ClassVar[frozenset[str]] = frozenset({"order", "icon", "injection_depth", "review", "sources"})
    review: Review
    sources: Annotated[list[Source], Field(min_length=1)]

    @classmethod
    def content_fields(cls) -> list[str]:
        return [name for name in cls.model_fields if name not in cls.not_content]


class Treatment(Sourced):
    title: ShortText
    # The treatment in a list of the types a clinic offers: "facial" in "facial, hair and body".
    type_name: ShortText
    summary: ShortText
    order: int = 100
    icon: RelativeFile
    icon_alt: ShortText
    injection_depth: Literal["upper-dermis", "scalp-dermis", "deep-dermis-and-fat"]
    diagram_alt: Text
    goal: Text
    intro: TextList
    helps_with: TextList
    benefits: TextList
    ingredients: Annotated[list[Ingredient], Field(min_length=1, max_length=30)]
    ingredients_note: Text
    method: TextList
    method_summary: Text
    limits: TextList
    takeaway: Text
    home_care: TextList
    home_care_summary: Text
    professional_only: bool
    suits: TextList
    not_suitable: TextList
    discuss_first: TextList
    course: Course
    side_effects: SideEffects
    aftercare: TextList
    contact_clinic: TextList
    emergency: TextList
    results: Text
    # This treatment's sentence in the comparison sheet's summary.
    in_summary: Text
    # What to do before the consultation, for the emailed pack.
    before_consultation: TextList


class MedicalVsCosmetic(Model):
    medical: Text
    cosmetic: Text
    important: Text


class SharedContent(Sourced):
    title: ShortText
    booklet_title: ShortText
    booklet_summary: Text
    intro: TextList
    medical_vs_cosmetic: MedicalVsCosmetic
    safety_note: Text
    home_products: TextList
    # Said whatever the clinic offers; each treatment's own sentence follows.
    in_summary: TextList
    in_summary_closing: TextList
    # Questions worth asking at a consultation, for the emailed pack.
    consultation_questions: TextList
