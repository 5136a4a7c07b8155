"""The schema of a clinic's settings: data/clinics/<slug>/clinic.yaml."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from brochures.schema.fields import (
    Colour,
    CountryCode,
    DayDone,
    Email,
    EmergencyNumber,
    Fingerprint,
    HttpsUrl,
    Language,
    MailAddress,
    Model,
    PageSize,
    Phone,
    RelativeFile,
    ShortText,
    Slug,
    Text,
    TimeZone,
    _fail,
)


class Colors(Model):
    primary: Colour
    accent: Colour | None = None
    # The clinic's own colour for headings and brand-coloured text, checked like the shade the generator would
    # derive: writing the derived shade here accepts it.
    text: Colour | None = None


class Contact(Model):
    phone: Phone
    email: Email
    website: HttpsUrl | None = None
    address: Annotated[list[ShortText], Field(max_length=6)] = []


class Approval(Model):
    """The clinic's medical lead signed off the content whose fingerprint this is."""

    name: ShortText
    role: ShortText
    date: DayDone
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
    _fail(
        "password_in_config",
        "expected no password in the config (it would travel with the clinic folder): put it in "
        "an environment variable and name it in password_env, or in a file outside the clinic "
        "folder named in password_file",
    )


NO_PASSWORD_SCHEMA = {
    "not": {},
    "description": "Never a password here: name an environment variable in password_env, "
    "or a file outside the clinic folder in password_file.",
}


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class EmailSettings(Model):
    """How the clinic's pre-consultation emails are sent: its own mail server (SMTP), never a password in the config."""

    from_address: MailAddress
    # Default: the clinic's name.
    from_name: ShortText | None = None
    reply_to: MailAddress | None = None
    smtp_host: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_smtp_host)]
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: ShortText | None = None
    password_env: Annotated[str, AfterValidator(_env_name)] | None = None
    # Outside the clinic folder: checked when the clinic is used for sending.
    password_file: ShortText | None = None
    # Refused whatever it holds; the JSON Schema says so too, so that an editor flags it as it is typed.
    password: Annotated[object, AfterValidator(_no_password), WithJsonSchema(NO_PASSWORD_SCHEMA)] = None
    # Messages sent per minute at most.
    per_minute: Annotated[int, Field(ge=1, le=600)] = 30

    @field_validator("security")
    @classmethod
    def _tls_unless_local(cls, value: str, info: ValidationInfo) -> str:
        host = info.data.get("smtp_host")
        if value == "none" and host and host.lower() not in LOCAL_HOSTS:
            _fail(
                "plaintext",
                f"expected starttls or tls for the mail server {host} (security: none is only allowed for a "
                "server on this machine: localhost, 127.0.0.1 or ::1), so that no patient's email travels unencrypted",
            )
        return value


def _clinic_id(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{3,63}", value):
        _fail("clinic_id", 'expected an id of 4 to 64 lowercase letters, digits and dashes, like "harbour-3f9a2c7e"')
    return value


class AppointmentSettings(Model):
    """How the pack reads the booking system's appointments file, and how long the calendar event it sends lasts."""

    # How a date like 05/01/2031 is read: day_first (5 January) or month_first (May 1). Unset: a file whose every such
    # date could be read both ways, with no day over 12 to settle it, is refused.
    date_order: Literal["day_first", "month_first"] | None = None
    # The calendar event's length, when the booked treatments' data gives no session length in minutes.
    length_minutes: Annotated[int, Field(ge=5, le=480)] = 30


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
    # The clinic's time zone (an IANA name), for the times its staff read; default: its country's, where it has one.
    timezone: TimeZone | None = None
    language: Language = "en"
    # Every language the clinic hands brochures out in; the first is its main language (`language`, when this is
    # left out). Each other language's documents go to out/<clinic>/<language>/.
    languages: Annotated[list[Language], Field(min_length=1, max_length=10)] | None = None
    # The disclaimer, directions… in each other language.
    in_language: dict[Language, ClinicText] = {}
    # The medical lead's sign-off of each other language's content, by language (`approval` covers the main one).
    language_approvals: dict[Language, Approval] = {}
    # Checked against data/treatments/ when the clinic is loaded, so that every unknown name is reported.
    treatments: Annotated[list[ShortText], Field(min_length=1, max_length=50)] | None = None
    # The booking system's own names for treatments, for the appointments file of `generate.py pack`
    # ("Meso – Face (30 min)": facial): compared in any case, with runs of spaces as one.
    treatment_aliases: Annotated[dict[ShortText, Slug], Field(max_length=200)] = {}
    disclaimer: Text | None = None
    # Data/claims/<profile>.yaml; default from the country, else the strings file.
    claims_profile: Slug | None = None
    # The clinic's own words to flag.
    claims_terms: Annotated[list[ShortText], Field(max_length=100)] = []
    # The medical lead's sign-off; without a matching one, every page says "Draft".
    approval: Approval | None = None
    # The pre-consultation email (python generate.py pack): how to find the clinic, how to change an appointment,
    # and the mail server it is sent through.
    directions: Annotated[list[Text], Field(max_length=6)] = []
    reschedule: Text | None = None
    reschedule_url: HttpsUrl | None = None
    email: EmailSettings | None = None
    appointments: AppointmentSettings = AppointmentSettings()
    # The clinic's own id for the pack's record of emails sent (out/.private/): the record follows it when the folder
    # is renamed, moved, copied to a new release or reached through a link; two folders with the same id are refused.
    clinic_id: Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_clinic_id)] | None = None

    @field_validator("treatment_aliases")
    @classmethod
    def _aliases_of_offered_treatments(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        """Each alias names a treatment the clinic lists (when it lists them: else the pack checks them against
        data/treatments/), and each name once; every problem at once, each at its own line."""
        offered = info.data.get("treatments")
        errors, seen = [], {}
        for name, slug in value.items():
            key = " ".join(name.lower().split())
            if offered and slug not in offered:
                error = PydanticCustomError(
                    "alias_not_offered",
                    f"expected a treatment this clinic offers (in its treatments: {', '.join(offered)})",
                )
            elif key in seen:
                error = PydanticCustomError(
                    "alias_twice",
                    "expected each service name once (compared in any case, with runs of spaces as one)",
                    {"detail": f"the same name as \"{seen[key]}\""},
                )
            else:
                seen[key] = name
                continue
            errors.append({"type": error, "loc": (name,), "input": slug})
        if errors:
            raise ValidationError.from_exception_data("treatment_aliases", errors)
        return value
