"""The plain data templates are given: dicts, lists, text and numbers, made from the clinic and its content."""

from __future__ import annotations

import base64
import os
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from jinja2.runtime import LoopContext, Macro, Undefined

from brochures.brand.colours import Palette
from brochures.load.loaded import Clinic
from brochures.plan.documents import BOOKLET, Document

# Shared content printed in one kind of document only: a source that covers nothing else is cited only there.
PRINTED_ONLY_IN = {"booklet_title": BOOKLET, "booklet_summary": BOOKLET, "consultation_questions": "pack"}


PLAIN_SCALARS = (str, int, float, bool, type(None))


def fill(label: str, **values: object) -> str:
    """Put values into a label's {placeholders}. Plain replacement: a value is never read as a template."""
    for name, value in values.items():
        label = label.replace("{" + name + "}", str(value))
    return label


def display_url(url: str) -> str:
    """A web address as a person would type it: no scheme, no trailing slash."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/") + (f"?{parts.query}" if parts.query else "")


def data_uri(mime_type: str, payload: str) -> str:
    return f"data:{mime_type};base64," + base64.b64encode(payload.encode("utf-8")).decode("ascii")


def build_date(content_date: date) -> str:
    """The date stamped into PDF metadata: SOURCE_DATE_EPOCH when set, else the date the content was checked.
    Never the clock, so the same input always gives the same file."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{content_date.isoformat()}T00:00:00Z"


def plain_data_problem(value: object, where: str = "context") -> str | None:
    """Where `value` holds something other than plain data (dict with text keys, list, str, int, float,
    bool, None), and what it is; None when it is all plain data."""
    stack = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > 50:
            return f"{path}: nested more than 50 levels deep"
        kind = type(item)
        if kind in PLAIN_SCALARS:
            continue
        if kind is list:
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    return f"{path}: a key of type {type(key).__name__} ({key!r})"
                stack.append((child, f"{path}.{key}", depth + 1))
        else:
            return f"{path}: {kind.__module__}.{kind.__qualname__}"
    return None


def ensure_plain_data(value: object, where: str = "context") -> None:
    """Raise TypeError unless `value` is plain data all the way down: templates must never see anything else."""
    if problem := plain_data_problem(value, where):
        raise TypeError(f"templates are given plain data only, got {problem}")


def dump(model) -> dict:
    """A pydantic model as plain data (dates as ISO text)."""
    return model.model_dump(mode="json")


def document_data(document: Document) -> dict:
    """What templates may know about the document they print."""
    return {
        "title": document.title,
        "subject": document.subject,
        "kind": document.kind,
        "name": document.name,
        "variant": document.variant,
        "layout": document.layout,
        "sheet": document.sheet,
        "file": document.output.name,
    }


def clinic_data(clinic: Clinic) -> dict:
    """What templates may know about a clinic: its config as written, its slug and what follows from its country.
    No paths. `phone_href` and `emergency_href` are tap-to-call addresses (tel: with digits and + only)."""
    return {
        "slug": clinic.slug,
        "config": dump(clinic.config),
        "treatments": list(clinic.treatments),
        "emergency_number": clinic.emergency_number,
        "locale": clinic.locale,
        "country": clinic.country.name if clinic.country else None,
        "phone_href": tel_href(clinic.config.contact.phone),
        "emergency_href": tel_href(clinic.emergency_number),
    }


def tel_href(phone: str) -> str:
    """A tap-to-call address: "+1 (843) 555-0142" → "tel:+18435550142"."""
    return "tel:" + ("+" if phone.lstrip().startswith("+") else "") + "".join(c for c in phone if c.isdigit())


def joined_list(items: list[str], joiner) -> str:
    """Items joined as the strings' language joins a list: "facial and hair", "facial, hair and body"."""
    if len(items) < 2:
        return "".join(items)
    if len(items) == 2:
        return fill(joiner.pair, first=items[0], last=items[1])
    return fill(joiner.last, rest=joiner.separator.join(items[:-1]), last=items[-1])


def offered_data(clinic: Clinic, treatments: list[dict]) -> dict:
    """The sentences about the treatments a clinic offers, from the strings file's patterns (never written here)."""
    strings = clinic.strings
    count = len(treatments)
    values = {
        "count": strings.numbers[count - 1] if count <= len(strings.numbers) else str(count),
        "list": joined_list([treatment["type_name"] for treatment in treatments], strings.list_joiner),
    }

    def counted(pattern) -> str:
        return fill(pattern.one if count == 1 else pattern.other, **values)

    return {
        "count": count,
        "list": values["list"],
        "comparison_heading": counted(strings.comparison_heading),
        "comparison_summary": counted(strings.comparison_summary),
        "types_offered": counted(strings.types_offered),
    }


def palette_data(colours: Palette) -> dict:
    return {
        "primary": colours.primary,
        "on_primary": colours.on_primary,
        "accent": colours.accent,
        "text": colours.text,
        "ink": colours.ink,
    }


def long_date(strings):
    """The `long_date` filter: an ISO date ("2026-11-24") in the clinic's language ("24 November 2026")."""

    def format_date(day) -> str:
        if isinstance(day, str):
            day = date.fromisoformat(day)
        if not isinstance(day, date):
            raise TypeError(f"expected a date like 2026-01-31, got {_kind(day)}")
        return fill(strings.date, day=day.day, month=strings.months[day.month - 1], year=day.year)

    return format_date


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, range)):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "nothing"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, LoopContext):
        return "the loop"
    if isinstance(value, Macro):
        return "a macro"
    if isinstance(value, Undefined):
        return "an undefined value"
    if callable(value):
        return "a function"
    return f"a {type(value).__name__} object"
