"""The kinds of value a setting can hold (a colour, a web address, a phone number…), each with its check."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import webcolors
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

# A name that is also a file name (a treatment, a claims profile, a source id): safe to attach to an email,
# send to a print shop or type on any system.
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


SLUG_RULE = "up to 40 lowercase letters a–z, digits and dashes, starting with a letter or digit"


def _fail(kind: str, expected: str, detail: str | None = None):
    """Refuse a value. `detail` is said after what was found: "expected …, got "…" (detail)"."""
    raise PydanticCustomError(kind, expected, {"detail": detail} if detail else None)


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        _fail("slug", f'expected a name of {SLUG_RULE}, like "uk"')
    return value


def _language(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", value):
        _fail("language", 'expected a language code like "en" or "en-US"')
    return value


def _colour(value: str) -> str:
    """`#0F6E6E`, the shorthand `#0F6` (`#00FF66`), or a CSS colour name such as `teal` (`#008080`), as `#RRGGBB`."""
    text = value.strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{6}", text):
        return text.upper()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", text):
        return "#" + "".join(digit * 2 for digit in text[1:]).upper()
    name = text.lower().replace(" ", "")
    if name in CSS4_COLOURS:
        return CSS4_COLOURS[name]
    # The CSS named colours, from webcolors' table of the CSS specification.
    try:
        return webcolors.name_to_hex(name).upper()
    except ValueError:
        # The # left out.
        if re.fullmatch(r"[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3}", text):
            close = ["#" + text.upper()]
        else:
            close = difflib.get_close_matches(text.lower(), [*webcolors.names("css3"), *CSS4_COLOURS], n=1)
        _fail("colour", 'expected a colour like "#0F6E6E" or "#0F6" (in quotes), or a CSS colour name like "teal"',
              f'did you mean "{close[0]}"?' if close else None)


def colour_as_given(given: str, colour: str) -> str:
    """How a message names a colour: `#0F6E6E` as written, or what the clinic wrote and what it means:
    `"teal" (#008080)`."""
    given = str(given).strip()
    return colour if given.upper() == colour else f'"{given}" ({colour})'


# Scripts that may share one label of a host name: Japanese, Chinese and Korean writing mixes them, with Latin
# (Unicode TS #39, "highly restrictive"). Any other mix, such as Latin with Cyrillic, is how a look-alike name is made.
_SCRIPT_SETS = ({"Latin", "Han", "Hiragana", "Katakana"}, {"Latin", "Han", "Bopomofo"}, {"Latin", "Han", "Hangul"})


_SCRIPT_ALIASES = {"Cjk": "Han", "Ideographic": "Han", "Katakana-Hiragana": "Katakana"}


def _scripts(label: str) -> list[str]:
    """The scripts of the letters in `label`, in order of appearance ("Latin", "Cyrillic", "Han"…)."""
    scripts: list[str] = []
    for char in label:
        if not unicodedata.category(char).startswith("L"):
            # Digits, dashes and combining marks belong to no script of their own.
            continue
        words = unicodedata.name(char, "").split()
        if not words or words[0] == "MODIFIER":
            continue
        script = words[0].title()
        script = _SCRIPT_ALIASES.get(script, script)
        if script not in scripts:
            scripts.append(script)
    return scripts


def punycode(host: str) -> str:
    """The ASCII form of a host name, as a browser shows a suspicious one: `exаmple.test` → `xn--exmple-4nf.test`."""
    try:
        return host.encode("idna").decode("ascii")
    # A label IDNA 2003 refuses: encode each label on its own.
    except UnicodeError:
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii") for label in host.split(".")
        )


def mixed_scripts(host: str) -> str | None:
    """Why a host name may be a look-alike (a label mixing Latin and Cyrillic letters, say), or None.

    A name entirely in one script, such as Cyrillic "пример.test", is a normal international name.
    """
    for label in unicodedata.normalize("NFKC", host).casefold().split("."):
        scripts = _scripts(label)
        if len(scripts) > 1 and not any(set(scripts) <= allowed for allowed in _SCRIPT_SETS):
            names = ", ".join(scripts[:-1]) + " and " + scripts[-1]
            return f"its name mixes {names} letters: {punycode(host)}"
    return None


def _https_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    # A malformed address, such as an unclosed [.
    except ValueError:
        parts = hostname = None
    # Https://your-clinic.test@elsewhere.test goes to elsewhere.test.
    if parts and (parts.username or parts.password):
        _fail(
            "https_url",
            'expected a web address without a name and "@" before its host, like '
            '"https://example-clinic.test/book" (what comes before "@" hides where the link really goes)',
        )
    if not parts or parts.scheme != "https" or not hostname or " " in value:
        _fail("https_url", 'expected a web address starting with "https://", like "https://example-clinic.test/book"')
    if detail := mixed_scripts(hostname):
        _fail("mixed_scripts", "expected a web address whose name uses one alphabet", detail)
    return value


# RFC 5321's dot-atom: what the part before the @ may hold between its dots (no quoted strings, no comments). Not "%",
# an old way of routing mail through another host, nor ",", ";" or spaces, which would make one cell two recipients.
ATEXT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&'*+/=?^_`{|}~-")


# A label of a domain name in its ASCII form (RFC 1035, as RFC 5321 takes it): letters, digits and inner hyphens.
DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


# How a message names a character that is hard to read between quotes.
_CHARACTER_NAMES = {
    " ": "a space",
    "\t": "a tab",
    '"': "a quotation mark",
    ",": "a comma",
    ";": "a semicolon",
}


def _local_part_problem(local: str) -> str | None:
    """Why the part before the @ is not RFC 5321's dot-atom, or None. Letters with accents pass here, so that
    `mail_address` can say why most mail servers refuse them."""
    if len(local) > 64:
        return "the part before the @ is longer than 64 characters"
    if any(not atom for atom in local.split(".")):
        return "a dot may not start or end the part before the @, nor follow another dot"
    for char in local.replace(".", ""):
        if char not in ATEXT and (char.isascii() or unicodedata.category(char)[0] not in "LMN"):
            shown = _CHARACTER_NAMES.get(char) or (f'"{char}"' if char.isprintable() else f"U+{ord(char):04X}")
            between = ": it would make two addresses" if char in ",;" else ""
            return f"{shown} may not be in the part before the @{between}"
    return None


def _domain_problem(domain: str) -> str | None:
    """Why `domain` is not a host name mail can be delivered to (an IP address in brackets, a comment, a single
    label…), or None. An international name is checked in the ASCII form it is sent in."""
    ascii_form = punycode(domain)
    labels = ascii_form.split(".")
    # The top-level domain: letters (in any alphabet), or their ASCII form (xn--…); never digits only.
    top_level = re.fullmatch(r"[^\W\d_]{2,}", domain.rpartition(".")[2]) or re.fullmatch(
        r"(?i)xn--[a-z0-9-]+", labels[-1]
    )
    if len(labels) < 2 or len(ascii_form) > 253 or not top_level or not all(map(DNS_LABEL.fullmatch, labels)):
        return (
            "the part after the @ must be a domain name: letters, digits and hyphens, in two or more parts joined by "
            "dots, like example-clinic.test"
        )
    return None


def _email(value: str) -> str:
    """One mailbox, as RFC 5321 writes it: `local@domain`, the local part a dot-atom, the domain a host name.
    Anything else could name two recipients, route through another host, or not be deliverable."""
    local, at, domain = value.partition("@")
    if not at or not local or not domain:
        _fail("email", 'expected an email address like "hello@example-clinic.test"')
    if "@" in domain:
        _fail("email", 'expected an email address like "hello@example-clinic.test"', "one address has one @")
    if detail := _local_part_problem(local) or _domain_problem(domain):
        _fail("email", 'expected an email address like "hello@example-clinic.test"', detail)
    if detail := mixed_scripts(domain):
        _fail("mixed_scripts", "expected an email address whose domain name uses one alphabet", detail)
    return value


def mail_address(value: str) -> str:
    """An address as mail servers take it: the domain in its ASCII (IDNA) form, `jose@exämple.test` →
    `jose@xn--exmple-cua.test`. A local part that is not ASCII is refused:
    most mail servers cannot take it (SMTPUTF8)."""
    local, _, domain = value.rpartition("@")
    if not local.isascii():
        _fail(
            "address_not_ascii",
            "expected an email address whose part before the @ is in plain letters a to z, digits "
            "and . _ - + (most mail servers cannot deliver to one with accents or other letters)",
        )
    return f"{local}@{punycode(domain)}"


def _mail_address(value: str) -> str:
    return mail_address(_email(value))


def _phone(value: str) -> str:
    # "020 7946 0000", "+44 20 7946 0000", "(843) 555-0142", "+1 (843) 555-0142", "843.555.0142", "999"
    if (
        not re.fullmatch(r"\+?[0-9(][0-9 ()\-.]{1,24}", value)
        or sum(c.isdigit() for c in value) < 3
        or value.count("(") != value.count(")")
        or re.search(r"[ .\-]{2}", value.replace(" - ", "-"))
    ):
        _fail(
            "phone",
            'expected a phone number of digits, spaces and + ( ) - ., in quotes, like "020 7946 0000", '
            '"(843) 555-0142" or "843.555.0142"',
        )
    return value


def _emergency_number(value: str) -> str:
    if not re.fullmatch(r"[0-9][0-9 ]{0,14}", value) or sum(c.isdigit() for c in value) < 2:
        _fail("emergency_number", 'expected the number to call in an emergency, in quotes, like "999", "911" or "15"')
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value.strip().upper()):
        _fail("country", 'expected a two-letter country code (ISO 3166), like "GB" or "US"')
    return value.strip().upper()


def _fingerprint(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{12}", value.strip().lower()):
        _fail(
            "fingerprint",
            "expected the 12-character fingerprint that `python generate.py --clinic <clinic> --approval` prints",
        )
    return value.strip().lower()


def _relative_file(value: str) -> str:
    if (
        value.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", value)
        or "://" in value
        or ".." in value.replace("\\", "/").split("/")
    ):
        _fail("relative_file", 'expected a file name inside the clinic folder, like "logo.svg"')
    return value


def _page_size(value: object) -> object:
    sizes = {"a4": "A4", "a5": "A5", "letter": "Letter"}
    return sizes.get(value.lower(), value) if isinstance(value, str) else value


class Model(BaseModel):
    """Strict about shape: unknown keys are errors, so a typo such as `colours:` is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Caps keep a pasted essay or a runaway list from becoming a 900-page PDF.
def _come(value: date) -> date:
    # A day ahead of this machine's: somewhere it is already tomorrow.
    if value > date.today() + timedelta(days=1):
        _fail("future_date", f"expected the day it was done: today ({date.today().isoformat()}) or before")
    return value


# The day something was done (approved, reviewed): never one still to come, which the brochures would print as done.
DayDone = Annotated[date, AfterValidator(_come)]


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1200)]


TextList = Annotated[list[Text], Field(min_length=1, max_length=30)]


Slug = Annotated[str, AfterValidator(_slug)]


# Named in CSS Color 4 but not in webcolors' CSS3 table.
CSS4_COLOURS = {"rebeccapurple": "#663399"}


Colour = Annotated[str, AfterValidator(_colour)]


HttpsUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(_https_url)]


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_email)]


# One an email is sent from.
MailAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_mail_address)]


Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=25), AfterValidator(_phone)]


RelativeFile = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_relative_file)
]


# In the JSON Schema (schemas/clinic.schema.json): the three sizes for an editor to offer, and any other case of them
# ("a4", "letter"), which the check above accepts too.
PAGE_SIZE_SCHEMA = {"anyOf": [{"enum": ["A4", "Letter", "A5"]},
                              {"pattern": "^([Aa][45]|[Ll][Ee][Tt][Tt][Ee][Rr])$", "type": "string"}]}


PageSize = Annotated[Literal["A4", "Letter", "A5"], BeforeValidator(_page_size), WithJsonSchema(PAGE_SIZE_SCHEMA)]


CountryCode = Annotated[str, AfterValidator(_country)]


EmergencyNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=15), AfterValidator(_emergency_number)
]


Fingerprint = Annotated[str, AfterValidator(_fingerprint)]


Language = Annotated[str, AfterValidator(_language)]


def _time_zone(value: str) -> str:
    """An IANA time zone name, as the tz database knows it (the tzdata package ships it)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        _fail("time_zone", 'expected a time zone name like "Europe/London" or "America/New_York"')
    return value


@functools.lru_cache(maxsize=1)
def _zone_countries() -> dict[str, frozenset[str]]:
    """Each zone of the tz database (and each name linked to one) → the countries (ISO 3166 codes) whose clocks it
    keeps, from the tzdata package's zone.tab, zone1970.tab and links. A fixed offset ("Etc/GMT+5", "UTC") is no
    country's."""
    folder = importlib.resources.files("tzdata") / "zoneinfo"
    found: dict[str, set[str]] = {}
    for table in ("zone.tab", "zone1970.tab"):
        for line in (folder / table).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                codes, _, zone = line.split("\t")[:3]
                found.setdefault(zone, set()).update(codes.split(","))
    for line in (folder / "tzdata.zi").read_text(encoding="utf-8").splitlines():
        if line.startswith("L "):
            _, target, link = line.split()[:3]
            found.setdefault(link, set()).update(found.get(target, ()))
    return {zone: frozenset(codes) for zone, codes in found.items()}


def zones_of(country: str) -> list[str]:
    """The tz database's zones for a country (ISO 3166 code), as zone.tab lists them (its main one first, most
    often), not the names linked to them."""
    folder = importlib.resources.files("tzdata") / "zoneinfo"
    rows = [line.split("\t") for line in (folder / "zone.tab").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return [row[2] for row in rows if row[0] == country]


def keeps_time_of(zone: str, country: str) -> bool:
    """Whether a time zone keeps the clocks of (a part of) a country: one of its zones, a name linked to one, or a
    zone whose clocks show the same time as one of its zones every day of the next two years ("EST5EDT" keeps New
    York's; "UTC" keeps no British clocks in summer)."""
    if country in _zone_countries().get(zone, ()):
        return True
    return any(_same_clocks(zone, theirs) for theirs in zones_of(country))


@functools.lru_cache(maxsize=256)
def _same_clocks(zone: str, other: str) -> bool:
    start = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    ours, theirs = ZoneInfo(zone), ZoneInfo(other)
    return all((start + timedelta(days=day)).astimezone(ours).utcoffset()
               == (start + timedelta(days=day)).astimezone(theirs).utcoffset() for day in range(731))


TimeZone = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(_time_zone)
]
