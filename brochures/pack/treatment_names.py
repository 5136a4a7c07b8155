"""The names a booking system gives a treatment: its slug (`facial`), its title in any case (`Facial mesotherapy`), or
the clinic's own name for it (`treatment_aliases:` in clinic.yaml, such as `"Meso – Face (30 min)": facial`)."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brochures.load.loaded import Clinic, Content

# Between two treatments in one cell: spaces, commas, semicolons…
SEPARATOR = "[\\s,;|+/]"
# Of these, the ones that end a part of the cell ("facial, hair"): a "did you mean" looks no further than them.
PART_ENDS = ",;|+/"
GAP = re.compile(f"{SEPARATOR}*")
# One word: what is read as a name when no known name fits.
WORD = re.compile("[^\\s,;|+/]+")


def fold(text: str) -> str:
    """A name as names are compared: in lower case, with runs of spaces as one."""
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class Named:
    """One treatment named in a cell: the text as written, and the slug it names (None for an unknown name)."""

    text: str
    slug: str | None
    # The part of the cell it is in (between commas, semicolons…), for a "did you mean" about the whole of it.
    part: str


@dataclass(frozen=True)
class TreatmentNames:
    """Every name a treatment is known by (folded name → slug), each as written (for "did you mean"), and, for the
    clinic's aliases, where they are set ("clinic.yaml:31")."""

    slugs: dict[str, str]
    shown: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_slugs(cls, slugs: tuple[str, ...]) -> TreatmentNames:
        return cls({fold(slug): slug for slug in slugs}, {fold(slug): slug for slug in slugs})

    @cached_property
    def pattern(self) -> re.Pattern:
        """Any known name at the start of what is left of a cell, the longest first (so that "Facial mesotherapy" is
        one treatment, not "facial" and an unknown "mesotherapy"), ending where the cell or a separator does."""
        names = sorted(self.slugs, key=len, reverse=True)
        alternatives = "|".join("\\s+".join(map(re.escape, name.split(" "))) for name in names)
        return re.compile(f"(?:{alternatives})(?={SEPARATOR}|$)", re.IGNORECASE)

    def read(self, cell: str) -> list[Named]:
        """Each treatment a cell names, in order: known names (the longest that fits), else words; the unknown words
        in a row (between known names, commas…) are one unknown name, reported once ("Meso - Face (30 min)")."""
        # (start, end, slug, start of its part)
        found: list[tuple[int, int, str | None, int]] = []
        position = part_start = 0
        while True:
            gap = GAP.match(cell, position)
            if any(char in PART_ENDS for char in gap.group()):
                part_start = gap.end()
            position = gap.end()
            if position >= len(cell):
                break
            match = self.pattern.match(cell, position)
            if not match or not match.group():
                match = WORD.match(cell, position)
            slug = self.slugs.get(fold(match.group()))
            if slug is None and found and found[-1][2] is None and found[-1][3] == part_start:
                found[-1] = (found[-1][0], match.end(), None, part_start)
            else:
                found.append((position, match.end(), slug, part_start))
            position = match.end()
        # Each part runs from its start to the end of its last name.
        part_ends = {part: end for _, end, _, part in found}
        return [Named(cell[start:end], slug, cell[part : part_ends[part]]) for start, end, slug, part in found]

    def suggestion(self, named: Named, offered: tuple[str, ...]) -> tuple[str, str] | None:
        """(what was meant, the text it is meant for): the closest name of a treatment the clinic offers to the
        unknown name, or to the whole part of the cell it is in ("Facial Mesotherapie": "Facial mesotherapy")."""
        choices = [name for name, slug in self.slugs.items() if slug in offered]
        best: tuple[float, str, str] | None = None
        for text in dict.fromkeys((named.text, named.part)):
            for close in difflib.get_close_matches(fold(text), choices, n=1):
                ratio = difflib.SequenceMatcher(None, fold(text), close).ratio()
                if best is None or ratio > best[0]:
                    best = (ratio, close, text)
        return (self.shown.get(best[1], best[1]), best[2]) if best else None


def treatment_names(clinic: Clinic, content: Content) -> TreatmentNames:
    """The names of every treatment there is, for the appointments of this clinic: slugs, titles (in English and in
    each of the clinic's languages) and the clinic's own aliases. A slug wins over an alias, an alias over a title."""
    slugs: dict[str, str] = {}
    shown: dict[str, str] = {}
    editions = [content, content.of(clinic)] + [
        content.editions[language.split("-")[0]]
        for language in clinic.config.languages or ()
        if language.split("-")[0] in content.editions
    ]
    for edition in editions:
        for slug, treatment in edition.treatments.items():
            slugs[fold(treatment.title)] = slug
            shown[fold(treatment.title)] = treatment.title
    aliases = {}
    for name, slug in clinic.config.treatment_aliases.items():
        slugs[fold(name)] = slug
        shown[fold(name)] = name
        aliases[fold(name)] = f"{clinic.config_file.name}:{clinic.doc.line_of(('treatment_aliases', name))}"
    for slug in content.treatments:
        slugs[fold(slug)] = slug
        shown[fold(slug)] = slug
        aliases.pop(fold(slug), None)
    return TreatmentNames(slugs, shown, aliases)
