"""The schema of every input file: clinic config, treatment, shared content and strings."""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
import webcolors

# Caps keep a pasted essay or a runaway list from becoming a 900-page PDF.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1200)]
TextList = Annotated[list[Text], Field(min_length=1, max_length=30)]
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


Slug = Annotated[str, AfterValidator(_slug)]


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
    try:  # the CSS named colours, from webcolors' table of the CSS specification
        return webcolors.name_to_hex(name).upper()
    except ValueError:
        if re.fullmatch(r"[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3}", text):  # the # left out
            close = ["#" + text.upper()]
        else:
            close = difflib.get_close_matches(text.lower(), [*webcolors.names("css3"), *CSS4_COLOURS], n=1)
        _fail("colour", 'expected a colour like "#0F6E6E" or "#0F6" (in quotes), or a CSS colour name like "teal"',
              f'did you mean "{close[0]}"?' if close else None)


# Named in CSS Color 4 but not in webcolors' CSS3 table.
CSS4_COLOURS = {"rebeccapurple": "#663399"}


def colour_as_given(given: str, colour: str) -> str:
    """How a message names a colour: `#0F6E6E` as written, or what the clinic wrote and what it means: `"teal" (#008080)`."""
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
            continue  # digits, dashes and combining marks belong to no script of their own
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
    except UnicodeError:  # a label IDNA 2003 refuses: encode each label on its own
        return ".".join(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii") for label in host.split("."))


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
    except ValueError:  # a malformed address, such as an unclosed [
        parts = hostname = None
    if parts and (parts.username or parts.password):  # https://your-clinic.test@elsewhere.test goes to elsewhere.test
        _fail("https_url", 'expected a web address without a name and "@" before its host, like '
                           '"https://example-clinic.test/book" (what comes before "@" hides where the link really goes)')
    if not parts or parts.scheme != "https" or not hostname or " " in value:
        _fail("https_url", 'expected a web address starting with "https://", like "https://example-clinic.test/book"')
    if detail := mixed_scripts(hostname):
        _fail("mixed_scripts", "expected a web address whose name uses one alphabet", detail)
    return value


def _email(value: str) -> str:
    if not re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^\W\d_]{2,}", value):
        _fail("email", 'expected an email address like "hello@example-clinic.test"')
    if detail := mixed_scripts(value.rpartition("@")[2]):
        _fail("mixed_scripts", "expected an email address whose domain name uses one alphabet", detail)
    return value


def mail_address(value: str) -> str:
    """An address as mail servers take it: the domain in its ASCII (IDNA) form, `jose@exämple.test` →
    `jose@xn--exmple-cua.test`. A local part that is not ASCII is refused: most mail servers cannot take it (SMTPUTF8)."""
    local, _, domain = value.rpartition("@")
    if not local.isascii():
        _fail("address_not_ascii", "expected an email address whose part before the @ is in plain letters a to z, digits "
                                   "and . _ - + (most mail servers cannot deliver to one with accents or other letters)")
    return f"{local}@{punycode(domain)}"


def _mail_address(value: str) -> str:
    return mail_address(_email(value))


def _phone(value: str) -> str:
    # "020 7946 0000", "+44 20 7946 0000", "(843) 555-0142", "+1 (843) 555-0142", "843.555.0142", "999"
    if (not re.fullmatch(r"\+?[0-9(][0-9 ()\-.]{1,24}", value) or sum(c.isdigit() for c in value) < 3
            or value.count("(") != value.count(")") or re.search(r"[ .\-]{2}", value.replace(" - ", "-"))):
        _fail("phone", 'expected a phone number of digits, spaces and + ( ) - ., in quotes, like "020 7946 0000", '
                       '"(843) 555-0142" or "843.555.0142"')
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
        _fail("fingerprint", "expected the 12-character fingerprint that `python generate.py --clinic <clinic> --approval` prints")
    return value.strip().lower()


def _relative_file(value: str) -> str:
    if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value) or "://" in value or ".." in value.replace("\\", "/").split("/"):
        _fail("relative_file", 'expected a file name inside the clinic folder, like "logo.svg"')
    return value


def _page_size(value: object) -> object:
    sizes = {"a4": "A4", "a5": "A5", "letter": "Letter"}
    return sizes.get(value.lower(), value) if isinstance(value, str) else value


Colour = Annotated[str, AfterValidator(_colour)]
HttpsUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), AfterValidator(_https_url)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_email)]
MailAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_mail_address)]  # one an email is sent from
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=25), AfterValidator(_phone)]
RelativeFile = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_relative_file)]
PageSize = Annotated[Literal["A4", "Letter", "A5"], BeforeValidator(_page_size)]
CountryCode = Annotated[str, AfterValidator(_country)]
EmergencyNumber = Annotated[str, StringConstraints(strip_whitespace=True, max_length=15), AfterValidator(_emergency_number)]
Fingerprint = Annotated[str, AfterValidator(_fingerprint)]
Language = Annotated[str, AfterValidator(_language)]


class Model(BaseModel):
    """Strict about shape: unknown keys are errors, so a typo such as `colours:` is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Clinic config: data/clinics/<slug>/clinic.yaml ---

class Colors(Model):
    primary: Colour
    accent: Colour | None = None


class Contact(Model):
    phone: Phone
    email: Email
    website: HttpsUrl | None = None
    address: Annotated[list[ShortText], Field(max_length=6)] = []


class Approval(Model):
    """The clinic's medical lead signed off the content whose fingerprint this is."""

    name: ShortText
    role: ShortText
    date: date
    fingerprint: Fingerprint


def _smtp_host(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}|\[?[0-9A-Fa-f:.]+\]?", value):
        _fail("smtp_host", 'expected the mail server\'s host name, like "smtp.example-clinic.test"')
    return value.strip("[]")


def _env_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", value):
        _fail("env_name", 'expected the name of an environment variable, like "CLINIC_SMTP_PASSWORD"')
    return value


def _no_password(value: object) -> object:
    _fail("password_in_config", "expected no password in the config (it would travel with the clinic folder): put it in "
                                "an environment variable and name it in password_env, or in a file outside the clinic "
                                "folder named in password_file")


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class EmailSettings(Model):
    """How the clinic's pre-consultation emails are sent: its own mail server (SMTP), never a password in the config."""

    from_address: MailAddress
    from_name: ShortText | None = None  # default: the clinic's name
    reply_to: MailAddress | None = None
    smtp_host: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_smtp_host)]
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: ShortText | None = None
    password_env: Annotated[str, AfterValidator(_env_name)] | None = None
    password_file: ShortText | None = None  # outside the clinic folder: checked when the clinic is used for sending
    password: Annotated[object, AfterValidator(_no_password)] = None
    per_minute: Annotated[int, Field(ge=1, le=600)] = 30  # messages sent per minute at most

    @field_validator("security")
    @classmethod
    def _tls_unless_local(cls, value: str, info: ValidationInfo) -> str:
        host = info.data.get("smtp_host")
        if value == "none" and host and host.lower() not in LOCAL_HOSTS:
            _fail("plaintext", f"expected starttls or tls for the mail server {host} (security: none is only allowed for a "
                               "server on this machine: localhost, 127.0.0.1 or ::1), so that no patient's email travels unencrypted")
        return value


class ClinicText(Model):
    """The clinic's own words a patient reads, in one of its other languages (`in_language: {es: …}`)."""

    disclaimer: Text | None = None
    directions: Annotated[list[Text], Field(max_length=6)] = []
    reschedule: Text | None = None


class ClinicConfig(Model):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    logo: RelativeFile
    colors: Colors
    font: ShortText = "Atkinson Hyperlegible"
    contact: Contact
    booking_url: HttpsUrl | None = None
    # The country decides local facts (data/countries.yaml): emergency number, date format, spelling, claims rules.
    # A clinic gives a country, an emergency number, or both: there is no default emergency number.
    country: CountryCode | None = None
    emergency_number: EmergencyNumber | None = None
    page_size: PageSize = "A4"
    language: Language = "en"
    # Every language the clinic hands brochures out in; the first is its main language (`language`, when this is
    # left out). Each other language's documents go to out/<clinic>/<language>/.
    languages: Annotated[list[Language], Field(min_length=1, max_length=10)] | None = None
    in_language: dict[Language, ClinicText] = {}  # the disclaimer, directions… in each other language
    # The medical lead's sign-off of each other language's content, by language (`approval` covers the main one).
    language_approvals: dict[Language, Approval] = {}
    # Checked against data/treatments/ when the clinic is loaded, so that every unknown name is reported.
    treatments: Annotated[list[ShortText], Field(min_length=1, max_length=50)] | None = None
    disclaimer: Text | None = None
    claims_profile: Slug | None = None  # data/claims/<profile>.yaml; default from the country, else the strings file
    claims_terms: Annotated[list[ShortText], Field(max_length=100)] = []  # the clinic's own words to flag
    approval: Approval | None = None  # the medical lead's sign-off; without a matching one, every page says "Draft"
    # The pre-consultation email (python generate.py pack): how to find the clinic, how to change an appointment,
    # and the mail server it is sent through.
    directions: Annotated[list[Text], Field(max_length=6)] = []
    reschedule: Text | None = None
    reschedule_url: HttpsUrl | None = None
    email: EmailSettings | None = None


# --- Countries: data/countries.yaml ---

class CountrySource(Model):
    id: Slug
    title: ShortText
    publisher: ShortText
    url: HttpsUrl | None = None


class Country(Model):
    name: ShortText
    emergency_number: EmergencyNumber
    date: ShortText  # a date pattern with {day}, {month} and {year}
    spelling: Language  # "en-GB" or "en-US": data/strings/<spelling>.yaml is laid over the language's file, if it exists
    claims_profile: Slug
    source: Slug  # the id of the entry in `sources` the emergency number comes from

    @field_validator("date")
    @classmethod
    def _date_placeholders(cls, value: str) -> str:
        if set(re.findall(r"\{(\w+)\}", value)) != {"day", "month", "year"}:
            _fail("placeholders", "expected text using exactly the placeholders {day}, {month}, {year}")
        return value


class Countries(Model):
    sources: Annotated[list[CountrySource], Field(min_length=1)]
    countries: dict[CountryCode, Country]


# --- Claim rules: data/claims/<profile>.yaml ---

class ClaimRule(Model):
    id: Slug
    phrases: Annotated[list[ShortText], Field(min_length=1)]
    reason: Text


class Negations(Model):
    """How the rules' language denies a claim: "no treatment is risk-free" is honest, not a claim."""

    words: Annotated[list[ShortText], Field(min_length=1)]  # a negation a few words before a phrase denies it
    not_before: list[ShortText] = []  # words after which a negation denies nothing ("not only … but")
    clause_ends: Annotated[list[ShortText], Field(min_length=1)]  # words that start a new clause ("and", "but")
    not_a_noun: list[ShortText] = []  # words a "best *" phrase does not take as its noun ("works best as a course")


class ClaimRules(Model):
    name: ShortText
    rules: Annotated[list[ClaimRule], Field(min_length=1)]
    negations: Negations | None = None  # default: English
    # Words written joined to the next one, which may come before a phrase (Arabic: و and, ب with, ال the).
    prefixes: list[ShortText] = []
    # Arabic: compare letters without short vowels or tatweel, and alef, ya and ta marbuta in one form each.
    normalize: Literal["none", "arabic"] = "none"


# --- Treatment and shared content: data/treatments/*.yaml, data/shared.yaml ---

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
    reviewed_on: date
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
    type_name: ShortText  # the treatment in a list of the types a clinic offers: "facial" in "facial, hair and body"
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
    in_summary: Text  # this treatment's sentence in the comparison sheet's summary
    before_consultation: TextList  # what to do before the consultation, for the emailed pack


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
    in_summary: TextList  # said whatever the clinic offers; each treatment's own sentence follows
    in_summary_closing: TextList
    consultation_questions: TextList  # questions worth asking at a consultation, for the emailed pack


# --- Strings: data/strings/<language>.yaml ---

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
    built: ShortText  # {date} and {time}
    open: ShortText  # {document}
    page_alt: ShortText  # {page} and {document}
    warnings_intro: Text
    found_in: ShortText
    see_why: ShortText  # in the table, for a document that was not made: a link to its reason, given once below
    where: ShortText  # {file}, {line} and {setting}: where a warning's cause is, before what it says
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

    pair: ShortText  # two items: "{first} and {last}"
    separator: Annotated[str, StringConstraints(max_length=20)]  # between the items of a longer list but the last two: ", "
    last: ShortText  # the last two of a longer list: "{rest} and {last}" (rest holds the others, already joined)

    @field_validator("pair", "last")
    @classmethod
    def _two_placeholders(cls, value: str, info: ValidationInfo) -> str:
        wanted = {"first", "last"} if info.field_name == "pair" else {"rest", "last"}
        if set(re.findall(r"\{(\w+)\}", value)) != wanted:
            _fail("placeholders", "expected text using exactly the placeholders " + ", ".join("{" + p + "}" for p in sorted(wanted)))
        return value


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
        "subject": {"clinic"}, "greeting": {"name"}, "personal_mark": {"name"}, "sent_because": {"clinic"},
        "change_by_phone": {"phone"}, "time_value": {"hour", "hour12", "minute", "am_pm"},
        "date_line": {"weekday", "date"},
    }

    weekdays: Annotated[list[ShortText], Field(min_length=7, max_length=7)]  # Monday first
    am_pm: Annotated[list[ShortText], Field(min_length=2, max_length=2)]  # before noon, after noon
    date_line: ShortText  # the appointment's day and date: "{weekday} {date}"
    subject: ShortText
    greeting: ShortText
    intro: Text
    appointment_heading: ShortText
    day: ShortText
    time: ShortText
    time_value: ShortText  # "{hour}:{minute}" (24-hour, 14:30) or "{hour12}:{minute} {am_pm}" (2:30 PM)
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

    @field_validator(*placeholders)
    @classmethod
    def _placeholders_match(cls, value: str, info: ValidationInfo) -> str:
        wanted = cls.placeholders[info.field_name]
        if not set(re.findall(r"\{(\w+)\}", value)) <= wanted:
            _fail("placeholders", "expected text using only the placeholders " + ", ".join("{" + p + "}" for p in sorted(wanted)))
        return value


class TranslationInfo(Model):
    """Who translated a file and who checked it, and what English it translates (per field, for the staleness check)."""

    translated_by: ShortText
    machine_assisted: bool
    # A clinician fluent in the language who checked it against the English; until then it needs review.
    reviewed_by: ShortText | None = None
    reviewed_on: date | None = None
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

    claims_profile: Slug  # used when the clinic gives neither claims_profile nor a country
    translation: TranslationInfo | None = None  # in every language but English
    direction: Literal["ltr", "rtl"] = "ltr"  # rtl: Arabic, Hebrew… the pages are mirrored
    # Font packages that draw this language's script, used after the clinic's own font (which draws Latin text).
    script_fonts: Annotated[list[ShortText], Field(max_length=3)] = []
    # Content words spelled differently in this variant ("ageing": "aging"): applied to every text a patient reads.
    spelling: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z'-]*$")], ShortText] = {}
    list_joiner: ListJoiner
    numbers: Annotated[list[ShortText], Field(min_length=1)]  # "one", "two"…: {count} past the end is written in digits
    months: Annotated[list[ShortText], Field(min_length=12, max_length=12)]
    date: ShortText
    brochure_subject: ShortText
    comparison_subject: ShortText
    booklet_subject: ShortText
    contents: ShortText
    ask_for_full_leaflet: Text
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
    pack: PackStrings | None = None  # the pre-consultation email and cover letter; required by `generate.py pack`

    @field_validator(*placeholders)
    @classmethod
    def _placeholders_match(cls, value: str, info: ValidationInfo) -> str:
        wanted = cls.placeholders[info.field_name]
        if set(re.findall(r"\{(\w+)\}", value)) != wanted:
            _fail("placeholders", "expected text using exactly the placeholders " + ", ".join("{" + p + "}" for p in sorted(wanted)))
        return value
