"""One booked appointment, checked: a row of the booking system's export, or one given on the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, StringConstraints, ValidationError

from brochures.pack.dates import date_example, parse_date, parse_time, parse_when
from brochures.pack.treatment_names import TreatmentNames, fold, treatment_names
from brochures.problems import Problem, describe, unsafe_character
from brochures.schema.fields import Language, Model, _email, mail_address

if TYPE_CHECKING:
    from brochures.load.loaded import Clinic, Content

# Problems kept to print; the rest are only counted.
KEPT_PROBLEMS = 200
# A cell starting with one of these is run as a formula when a spreadsheet opens a file it was copied into.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Appointment:
    """One booked consultation, checked."""

    first_name: str
    email: str
    when: datetime
    treatments: tuple[str, ...]
    practitioner: str | None = None
    language: str | None = None
    # Where it was read: "appointments.csv:7" or "command line" (so staff can match an email to its row)
    row: str = ""

    @property
    def key(self) -> str:
        """What makes an appointment this one: who (address and first name), when and what for. The same key is never
        sent twice. The treatments are sorted, so rows merged in any order give the same key."""
        return (
            f"{self.email.casefold()}|{self.when.isoformat(timespec='minutes')}|{','.join(sorted(self.treatments))}"
            f"|{self.first_name.casefold()}"
        )


@dataclass
class Appointments:
    """What was read: the valid appointments, and each problem with the others."""

    appointments: list[Appointment] = field(default_factory=list)
    # The first KEPT_PROBLEMS.
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    rows: int = 0
    # The file as a whole could not be used: nothing in it is processed.
    file_problem: bool = False
    # One appointment given with --name, --email…, not a file.
    from_command_line: bool = False
    # Good rows on other days than the ones asked for (--for, --days-ahead): left for their own day's run.
    other_days: int = 0
    # Rows on days before the clinic's today, when only some days are asked for: nobody's run will prepare them.
    passed_days: int = 0

    # The lines of the rows skipped for a problem: a row may have several.
    skipped_lines: set[int | None] = field(default_factory=set)

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        self.skipped_lines.add(problem.line)
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)

    @property
    def skipped(self) -> int:
        """How many rows were skipped for a problem (not how many problems they had)."""
        return len(self.skipped_lines)


def _plain_text(value: str) -> str:
    if value.startswith(FORMULA_STARTS):
        start = {"\t": "a tab", "\r": "a carriage return"}.get(value[0], value[0])
        raise ValueError(f"expected plain text, not a spreadsheet formula (text starting with {start})")
    if problem := unsafe_character(value):
        raise ValueError(f"expected plain text, without {problem}")
    return value


def _no_formula(value: object) -> object:
    """Before surrounding spaces are stripped: a cell starting with a tab or a carriage return is a formula too."""
    return _plain_text(value) if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _name(value: str) -> str:
    if not any(char.isalpha() for char in value):
        raise ValueError("expected a name with at least one letter")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(_plain_text),
    AfterValidator(_name),
    BeforeValidator(_no_formula),
]
PatientEmail = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_plain_text),
    AfterValidator(_email),
    AfterValidator(mail_address),
    BeforeValidator(_no_formula),
]


def _language_code(value: object) -> object:
    """ "EN", "en_gb" and "En-GB" as the code they mean: "en", "en-GB"."""
    if not isinstance(value, str) or not re.fullmatch(r"\s*[A-Za-z]{2}([-_][A-Za-z]{2})?\s*", value):
        return value
    language, _, region = value.strip().replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


PatientLanguage = Annotated[Language, BeforeValidator(_language_code)]


class AppointmentRow(Model):
    """The fields of one appointment that need no knowledge of the clinic or the clock."""

    first_name: Name
    email: PatientEmail
    practitioner: Name | None = None
    language: PatientLanguage | None = None


def _plain_message(detail: dict) -> str:
    message, kind, ctx = detail["msg"], detail["type"], detail.get("ctx") or {}
    if detail.get("input") is None:
        return "expected some text"
    if kind == "string_too_long":
        return f"expected at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        return "expected some text"
    if kind == "email":
        return 'expected an email address like "sam@example.test"'
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if message.startswith("expected"):
        return message
    return "expected text"


# --- Checking one appointment ---


@dataclass(frozen=True)
class Rules:
    """What an appointment is checked against: the clinic's treatments and language, its date order, and the clock."""

    # The slugs this clinic offers.
    treatments: tuple[str, ...]
    # Every treatment slug there is.
    known: tuple[str, ...]
    # The clinic's, e.g. "en-GB".
    language: str
    day_first: bool
    now: datetime
    # What a treatment cell may call each treatment: its slug, its title, the clinic's alias (default: slugs only).
    names: TreatmentNames | None = None
    # Whether `day_first` is known (the clinic's setting or --date-order); if not, it is the country's habit, and a
    # file is read the way its own dates settle, or refused when nothing does.
    settled: bool = True
    # Only the appointments of these days (--for, --days-ahead); None: every day.
    days: frozenset[date] | None = None
    # A date in the clinic's words ("Sunday 5 January 2031"), for messages about how a date was read.
    say_date: Callable[[date], str] = date.isoformat
    # The clinic's time zone (an IANA name): a time its clocks skip (when they go forward), or show twice (when they
    # go back), is no appointment.
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.names is None:
            object.__setattr__(self, "names", TreatmentNames.of_slugs((*self.known, *self.treatments)))

    @staticmethod
    def names_of(clinic: Clinic, content: Content) -> TreatmentNames:
        """The names for `names`: the treatments' slugs and titles, and the clinic's `treatment_aliases`."""
        return treatment_names(clinic, content)


# An appointment further ahead than this is a mistyped year (2126 for 2026), not a booking.
YEARS_AHEAD = 10


# Rules.now for reading a file whatever its appointments' days (--status names the patients of emails sent long
# ago): every appointment counts as still to come, however far ahead.
EVER = datetime.min


def check_appointment(
    values: dict[str, str | list[str] | None], rules: Rules, source: Path, line: int | None, names: dict[str, str]
) -> tuple[Appointment | None, list[Problem]]:
    """One appointment from raw text, or the problems with it (each naming its field as the user knows it: `names`).
    Neither, (None, []), for an appointment on a day other than `rules.days`: it is left for its own day's run."""
    problems: list[Problem] = []
    if rules.days is not None and (day := day_of(values, rules)) is not None and day not in rules.days:
        return None, []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(source, line, names.get(key, key), message))

    row = None
    plain = {key: values.get(key) or None for key in AppointmentRow.model_fields}
    try:
        row = AppointmentRow.model_validate(plain)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            key = str(detail["loc"][0])
            # Why an address is not one mailbox: "a comma may not be in the part before the @: …".
            why = (detail.get("ctx") or {}).get("detail")
            found = describe(detail.get("input")) + (f" ({why})" if why else "")
            problem(key, f"{_plain_message(detail)}, got {found}")

    # The cells read as dates, times and lists are refused whole when a spreadsheet would run them ("-2+3" is a
    # formula, not two treatments), before they are split or parsed.
    unsafe = set()
    for key in ("when", "date", "time", "treatments"):
        if isinstance(value := values.get(key), str):
            try:
                _plain_text(value)
            except ValueError as error:
                problem(key, f"{error}, got {describe(value)}")
                unsafe.add(key)
    when = _check_when(values, rules, problem) if not unsafe & {"when", "date", "time"} else None
    treatments = _check_treatments(values.get("treatments"), rules, problem) if "treatments" not in unsafe else ()
    if row and row.language and row.language.split("-")[0] != rules.language.split("-")[0]:
        problem(
            "language",
            f'expected {rules.language.split("-")[0]} (the pack sends its emails and leaflets in the clinic\'s main '
            f"language only), got {describe(values.get('language'))}",
        )
    if problems or row is None or when is None or not treatments:
        return None, problems
    return Appointment(
        first_name=row.first_name,
        email=row.email,
        when=when,
        treatments=treatments,
        practitioner=row.practitioner,
        language=row.language,
        row=f"{source.name}:{line}" if line else str(source),
    ), []


def day_of(values: dict, rules: Rules) -> date | None:
    """The appointment's day, if its cell can be read (else the checks below say why)."""
    text = str(values.get("when") if values.get("when") is not None else values.get("date") or "").strip()
    try:
        return parse_date(text.split("T")[0].split(" ")[0], rules.day_first)
    except (ValueError, TypeError):
        return None


def _check_when(values: dict, rules: Rules, problem) -> datetime | None:
    """The appointment's date and time, from one cell ("when") or two ("date" and "time"); still to come."""
    example = date_example(rules.day_first)
    if values.get("when") is not None:
        key = "when"
        text = str(values["when"]).strip()
        try:
            when = parse_when(text, rules.day_first)
        except ValueError:
            problem(key, f"expected a date and time like {example}, got {describe(text or None)}")
            return None
    else:
        key = "date"
        day, hour = str(values.get("date") or "").strip(), str(values.get("time") or "").strip()
        text = f"{day} {hour}"
        try:
            on = parse_date(day, rules.day_first)
        except ValueError:
            problem("date", f"expected a date like {example.split(' ')[0]}, got {describe(day or None)}")
            on = None
        try:
            at = parse_time(hour)
        except ValueError:
            problem("time", f"expected a time like 14:30 or 2:30 pm, got {describe(hour or None)}")
            return None
        if on is None:
            return None
        when = datetime.combine(on, at)
    if when <= rules.now:
        problem(key, f"expected an appointment still to come, got {describe(text)}, which has passed")
        return None
    if rules.now != EVER and when.year - rules.now.year > YEARS_AHEAD:
        problem(key, f"expected an appointment within {YEARS_AHEAD} years, got {describe(text)}, "
                     f"{when.year - rules.now.year} years from now: check the year")
        return None
    # There and back through UTC: a time the clocks skip comes back as another.
    zone = ZoneInfo(rules.zone)
    if when.replace(tzinfo=zone).astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != when:
        problem(key, f"expected a time the clinic's clocks show, got {describe(text)}: the clocks go forward then "
                     f"({rules.zone}), so that time does not happen that day")
        return None
    # A time the clocks show twice (when they go back): the email could not say which, and a calendar takes the first.
    if when.replace(tzinfo=zone, fold=0).utcoffset() != when.replace(tzinfo=zone, fold=1).utcoffset():
        problem(key, f"expected a time the clinic's clocks show once, got {describe(text)}: the clocks go back then "
                     f"({rules.zone}), so that time happens twice that day, and the email could not say which "
                     "(book the appointment outside that hour, or tell the patient yourself)")
        return None
    return when


def _check_treatments(value, rules: Rules, problem) -> tuple[str, ...]:
    """The treatments a cell names (or each --treatment), by slug, title or the clinic's alias; several to a cell."""
    cells = value if isinstance(value, list) else [str(value or "")]
    found = [named for cell in cells for named in rules.names.read(str(cell or ""))]
    offered = ", ".join(rules.treatments)
    if not found:
        problem("treatments", f"expected one or more treatments ({offered}), got nothing")
        return ()
    unknown = [named for named in found if named.slug not in rules.treatments]
    for named in unknown:
        text = named.text
        why = "one this clinic does not offer" if named.slug in rules.known else "an unknown treatment"
        if where := rules.names.aliases.get(fold(named.text)):
            why = f"which treatment_aliases ({where}) names as {describe(named.slug)}, {why}"
        elif named.slug is None and (close := rules.names.suggestion(named, rules.treatments)):
            meant, text = close
            why += f'; did you mean "{meant}"?'
        problem("treatments", f"expected treatments this clinic offers ({offered}), got {describe(text)}, {why}")
    return () if unknown else tuple(dict.fromkeys(named.slug for named in found))
