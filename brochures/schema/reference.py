"""The schema of the project's reference files: data/countries.yaml and data/claims/<profile>.yaml."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
)

from brochures.schema.fields import (
    CountryCode,
    EmergencyNumber,
    HttpsUrl,
    Language,
    Model,
    ShortText,
    Slug,
    Text,
    TimeZone,
    _fail,
)


class CountrySource(Model):
    id: Slug
    title: ShortText
    publisher: ShortText
    url: HttpsUrl | None = None


class Country(Model):
    name: ShortText
    emergency_number: EmergencyNumber
    # A date pattern with {day}, {month} and {year}.
    date: ShortText
    # "en-GB" or "en-US": data/strings/<spelling>.yaml is laid over the language's file, if it exists.
    spelling: Language
    claims_profile: Slug
    # The id of the entry in `sources` the emergency number comes from.
    source: Slug
    # Its time zone, where the whole country keeps one (a clinic in a country of several sets its own).
    timezone: TimeZone | None = None

    @field_validator("date")
    @classmethod
    def _date_placeholders(cls, value: str) -> str:
        if set(re.findall(r"\{(\w+)\}", value)) != {"day", "month", "year"}:
            _fail("placeholders", "expected text using exactly the placeholders {day}, {month}, {year}")
        return value


class Countries(Model):
    sources: Annotated[list[CountrySource], Field(min_length=1)]
    countries: dict[CountryCode, Country]


class ClaimRule(Model):
    id: Slug
    phrases: Annotated[list[ShortText], Field(min_length=1)]
    reason: Text


class Negations(Model):
    """How the rules' language denies a claim: "no treatment is risk-free" is honest, not a claim."""

    # A negation a few words before a phrase denies it.
    words: Annotated[list[ShortText], Field(min_length=1)]
    # Words after which a negation denies nothing ("not only … but")
    not_before: list[ShortText] = []
    # Words that start a new clause ("and", "but")
    clause_ends: Annotated[list[ShortText], Field(min_length=1)]
    # Words a "best *" phrase does not take as its noun ("works best as a course")
    not_a_noun: list[ShortText] = []


class ClaimRules(Model):
    name: ShortText
    rules: Annotated[list[ClaimRule], Field(min_length=1)]
    # Default: English.
    negations: Negations | None = None
    # Words written joined to the next one, which may come before a phrase (Arabic: و and, ب with, ال the).
    prefixes: list[ShortText] = []
    # Arabic: compare letters without short vowels or tatweel, and alef, ya and ta marbuta in one form each.
    normalize: Literal["none", "arabic"] = "none"
