"""The header of a booking system's export: which column holds which field, by name or alias, in any case."""

from __future__ import annotations

import re

# The columns of an appointments file, and the header spellings each is known by (compared in lower case,
# with "_", "-" and runs of spaces read as one space). Date and time come in one column or in two.
COLUMNS = {
    "first_name": (
        "first name", "firstname", "forename", "given name", "patient first name", "first", "name", "patient"
    ),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "patient email"),
    "when": ("appointment", "date and time", "datetime", "date time", "appointment date and time", "starts", "start"),
    "date": ("date", "appointment date", "day"),
    "time": ("time", "appointment time", "start time"),
    "treatments": ("treatments", "treatment", "services", "service", "procedures", "procedure"),
    "practitioner": ("practitioner", "doctor", "clinician", "with", "staff"),
    "language": ("language", "lang", "locale"),
}


# Beside a "date" column (and no "time"), read as the time: date,start,end.
START = ("start", "starts")


# In columns_of's ambiguous fields: a combined date-and-time column beside a date or time one.
WHEN_COLUMNS = "date and time"


def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def columns_of(header: list[str]) -> tuple[dict[str, int], list[str], dict[str, list[int]]]:
    """Which column holds what (by canonical name), the header texts that name nothing, and the fields more than one
    column could hold. A column named exactly for its field ("first name") wins over one named by an alias ("name");
    two of the same kind (two "email" columns, or "name" and "patient") cannot be decided, and are returned as such."""
    exact = {name.replace("_", " "): name for name in COLUMNS}
    alias = {spelling: name for name, known in COLUMNS.items() for spelling in known}
    # Per field: the exact columns, then the alias columns.
    found: dict[str, tuple[list[int], list[int]]] = {}
    unknown: list[str] = []
    for position, text in enumerate(header):
        key = _header_key(text)
        name = exact.get(key) or alias.get(key)
        if name is None:
            if text.strip():
                unknown.append(text.strip())
            continue
        found.setdefault(name, ([], []))[0 if key in exact else 1].append(position)
    index: dict[str, int] = {}
    ambiguous: dict[str, list[int]] = {}
    for name, (exact_positions, alias_positions) in found.items():
        positions = exact_positions or alias_positions
        if len(positions) == 1:
            index[name] = positions[0]
        else:
            ambiguous[name] = positions
    if "when" in index and "date" in index and "time" not in index and _header_key(header[index["when"]]) in START:
        # "date" then "start": the start is the time of day on that date.
        index["time"] = index.pop("when")
    # One cell and two: which says when?
    if "when" in index and ({"date", "time"} & index.keys()):
        ambiguous[WHEN_COLUMNS] = sorted(index.pop(name) for name in ("when", "date", "time") if name in index)
    return index, unknown, ambiguous
