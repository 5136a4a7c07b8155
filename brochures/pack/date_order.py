"""Which way round a file's dates are: 05/01/2031 is 5 January day first and May 1 month first. The clinic's setting
(`appointments: {date_order: …}`), the command line (`--date-order`) or a date in the file that only one order can
read (a day over 12) settles it; a file whose dates could all be read both ways, with nothing to settle it, is refused
whole, so that no patient is sent the wrong day."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from brochures.pack.dates import slash_date
from brochures.problems import Problem


@dataclass
class DateOrder:
    """What a file's dates say about their order, as they are read: the first date each order alone can read, and
    the first that reads as two different days."""

    # (line, text) of the first date only day-first can read (13/01/2031), and of the first only month-first can.
    day_first: tuple[int, str] | None = None
    month_first: tuple[int, str] | None = None
    # (line, column, text) of the first date that reads as two different days.
    both: tuple[int, str, str] | None = None
    # What the two readings of `both` are.
    readings: tuple[date, date] | None = field(default=None, repr=False)

    def see(self, text: str, line: int, column: str) -> None:
        parts = slash_date(text)
        if parts is None:
            return
        first, second, year = parts
        if first > 12 >= second and self.day_first is None:
            self.day_first = (line, text.strip())
        elif second > 12 >= first and self.month_first is None:
            self.month_first = (line, text.strip())
        elif first <= 12 and second <= 12 and first != second and self.both is None:
            try:
                self.readings = (date(year, second, first), date(year, first, second))
            except ValueError:
                return
            self.both = (line, column, text.strip())

    def settled(self) -> bool | None:
        """True day first, False month first, or None when the file alone does not say (no date, or both kinds)."""
        if self.day_first and not self.month_first:
            return True
        if self.month_first and not self.day_first:
            return False
        return None

    def problem(self, source: Path, say_date: Callable[[date], str], in_a_file: bool = True) -> Problem | None:
        """Why the file cannot be read, when its dates could all be read two ways and nothing settles which (or, not
        `in_a_file`, why the one date given cannot be)."""
        if self.both is None or self.settled() is not None:
            return None
        line, column, text = self.both
        day_first, month_first = self.readings
        if self.day_first and self.month_first:
            why = (
                f"and the file's other dates disagree (line {self.day_first[0]}: \"{self.day_first[1]}\" is day "
                f"first; line {self.month_first[0]}: \"{self.month_first[1]}\" is month first)"
            )
        elif in_a_file:
            why = "and no date in the file has a day over 12 to settle it"
        else:
            why = "and nothing says which"
        return Problem(
            source,
            line,
            column,
            f'expected dates that can be read only one way, got "{text}", which reads as {say_date(day_first)} '
            f"(day first) or {say_date(month_first)} (month first), {why}. Say which in clinic.yaml "
            "(appointments: {date_order: day_first}, or month_first), or give --date-order day_first (or "
            "month_first)",
        )
