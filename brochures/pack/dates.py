"""The appointment's date and time as a booking system writes them: ISO dates, day-first or month-first,
12- or 24-hour clocks."""

from __future__ import annotations

import re
from datetime import date, datetime, time

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


_SLASH_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")


_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s*([ap]\.?m\.?)?", re.IGNORECASE)


def parse_date(text: str, day_first: bool) -> date:
    text = text.strip()
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SLASH_DATE.fullmatch(text):
        first, second, year = (int(part) for part in match.groups())
        day, month = (first, second) if day_first else (second, first)
    else:
        raise ValueError
    return date(year, month, day)


def parse_time(text: str) -> time:
    match = _TIME.fullmatch(text.strip())
    # A bare "14" is not a time.
    if not match or (match[2] is None and match[4] is None):
        raise ValueError
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError
        hour = hour % 12 + (12 if match[4].lower().startswith("p") else 0)
    return time(hour, minute)


def parse_when(text: str, day_first: bool) -> datetime:
    """ "2026-12-03 14:30", "2026-12-03T14:30", "03/12/2026 2:30 pm" (12/03/2026 in the US)."""
    parts = re.split(r"[T ]", text.strip(), maxsplit=1)
    if len(parts) != 2:
        raise ValueError
    return datetime.combine(parse_date(parts[0], day_first), parse_time(parts[1]))


def date_example(day_first: bool) -> str:
    return "2026-12-03 14:30 (or 03/12/2026 14:30)" if day_first else "2026-12-03 14:30 (or 12/03/2026 2:30 pm)"


def slash_date(text: str) -> tuple[int, int, int] | None:
    """The three numbers of a date written with slashes or dots ("05/01/2031", or "05/01/2031 14:30" in one cell), or
    None for an ISO date or anything else: only these can be read two ways."""
    match = _SLASH_DATE.fullmatch(re.split(r"[T ]", text.strip(), maxsplit=1)[0])
    return (int(match[1]), int(match[2]), int(match[3])) if match else None
