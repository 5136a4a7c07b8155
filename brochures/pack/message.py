"""Composes one patient's email: plain text and HTML (inlined CSS) from the clinic's templates,
with the approved leaflets attached."""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import css_inline

from brochures import STYLES_DIR
from brochures.files.fetcher import RestrictedFetcher
from brochures.load.loaded import Clinic, Content
from brochures.load.locale import patient_content
from brochures.pack.appointments import Appointment
from brochures.pack.invitation import CALENDAR_FILE, without_stamp
from brochures.render.data import clinic_data, dump, fill, joined_list, long_date
from brochures.render.sandbox import PlainDataSandbox

# CRLF line ends, lines folded as mail servers expect.
EMAIL_POLICY = policy.SMTP
# Email programs rarely have the clinic's font.
FALLBACK_FONTS = "Arial, Helvetica, sans-serif"
# As shown in the email; drawn at twice that, for sharp screens.
LOGO_HEIGHT_PX = 48
LOGO_CID = "clinic-logo"


@dataclass(frozen=True)
class Leaflet:
    """An approved, generic PDF to attach: the same file for every patient."""

    slug: str
    title: str
    path: Path
    data: bytes


@dataclass(frozen=True)
class Composed:
    """One message, ready to write or send."""

    appointment: Appointment
    opaque_id: str
    message: EmailMessage
    # The message as sent (SMTP line ends)
    data: bytes
    # HMAC-SHA256 (keyed with out/.private/secret) of what the patient reads: parts and attachments.
    content_hash: str
    message_id: str


def mail_environment(clinic: Clinic) -> PlainDataSandbox:
    """The clinic's templates first, then the project's; HTML autoescaped, the plain-text part not (it is not HTML)."""
    environment = PlainDataSandbox(Path(clinic.folder).resolve() / "templates", clinic.strings)
    environment.autoescape = lambda name: not (name or "").endswith(".txt.j2")
    return environment


def date_words(clinic: Clinic, day: date) -> str:
    """A day in the clinic's own words: "Tuesday 3 June 2031", "Tuesday, June 3, 2031"."""
    strings = clinic.strings
    return fill(strings.pack.date_line, weekday=strings.pack.weekdays[day.weekday()], date=long_date(strings)(day))


def time_words(clinic: Clinic, when: datetime) -> str:
    """A time of day as the clinic's strings say it: "10:30", or "10:30 AM"."""
    pack = clinic.strings.pack
    return fill(pack.time_value, hour=when.hour, hour12=(when.hour - 1) % 12 + 1, minute=f"{when.minute:02d}",
                am_pm=pack.am_pm[when.hour >= 12])


def when_words(clinic: Clinic, when: datetime) -> str:
    """A day and time in the clinic's own words: "Thursday 26 November 2026, 9:30"."""
    return f"{date_words(clinic, when.date())}, {time_words(clinic, when)}"


def moment_words(clinic: Clinic, stamp: str) -> str:
    """A moment the ledger records (ISO 8601, with its offset: when an email was sent) in the clinic's own words and
    time zone, named as its staff know it: "Saturday 5 December 2026, 9:00 pm (EST)"."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    if moment.tzinfo is None:
        return stamp
    local = moment.astimezone(ZoneInfo(clinic.timezone))
    return f"{when_words(clinic, local)} ({local.tzname()})"


def appointment_words(appointment: Appointment, clinic: Clinic, titles: list[str]) -> dict:
    """The appointment in the clinic's own words: its date ("Tuesday 3 June 2031"), its time ("10:30" or
    "10:30 am", as its strings say), who the patient sees, and the treatments by their titles."""
    return {
        "date": date_words(clinic, appointment.when.date()),
        "time": time_words(clinic, appointment.when),
        "practitioner": appointment.practitioner,
        "treatments": joined_list(titles, clinic.strings.list_joiner),
    }


def letter_data(
    appointment: Appointment, clinic: Clinic, content: Content, leaflets: list[Leaflet], personal: bool = False,
    also_invited: list[datetime] = (),
) -> dict:
    """What the letter's templates may know, as plain data:
    the patient's first name, the appointment, and the content; and the times of the patient's other invitations
    (`also_invited`), each as "Tuesday 3 June 2031, 10:30"."""
    strings = clinic.strings
    read = patient_content(clinic, content)
    titles = [read["treatments"][slug]["title"] for slug in appointment.treatments]
    return {
        "clinic": clinic_data(clinic),
        "t": dump(strings),
        "subject": strings.pack.subject.replace("{clinic}", clinic.config.name),
        "patient": {"first_name": appointment.first_name},
        "appointment": appointment_words(appointment, clinic, titles),
        "before": [
            {"title": title, "items": read["treatments"][slug]["before_consultation"]}
            for slug, title in zip(appointment.treatments, titles)
        ],
        "questions": read["shared"]["consultation_questions"],
        "leaflets": [{"title": leaflet.title, "file": leaflet.path.name} for leaflet in leaflets],
        "personal": personal,
        "also_invited": [when_words(clinic, when) for when in also_invited],
    }


def logo_png(clinic: Clinic) -> bytes:
    """The clinic's logo as a PNG (email programs do not show SVG), drawn by WeasyPrint as the brochures draw it,
    through the same restricted fetcher, then cropped to what it draws."""
    import pypdfium2
    from PIL import Image, ImageChops
    from weasyprint import HTML

    height_mm = LOGO_HEIGHT_PX * 2 * 25.4 / 96
    src = quote(clinic.logo.relative_to(clinic.folder).as_posix())
    html = (
        '<!DOCTYPE html><html lang="en"><title>logo</title>'
        f'<style>@page {{ size: {height_mm * 8:.1f}mm {height_mm:.1f}mm; '
        f'margin: 0 }} body {{ margin: 0 }} img {{ height: {height_mm:.1f}mm; max-width: 100%; display: block }}'
        '</style>'
        f'<img src="{src}" alt="">'
    )
    pdf = HTML(
        string=html, base_url=clinic.folder.as_uri() + "/", url_fetcher=RestrictedFetcher([clinic.folder], frozenset())
    ).write_pdf()
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=96 / 72, fill_color=(255, 255, 255, 255)).to_pil().convert("RGB")
    finally:
        document.close()
    box = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    output = io.BytesIO()
    (image.crop(box) if box else image).save(output, format="PNG", optimize=True)
    return output.getvalue()


def brand_variables(clinic: Clinic) -> str:
    """The clinic's colours and font as a :root block, for css-inline to resolve
    (email programs know no CSS variables)."""
    colours = clinic.palette
    font = f"'{clinic.font.name}', {FALLBACK_FONTS}"
    values = {
        "primary": colours.primary,
        "on-primary": colours.on_primary,
        "accent": colours.accent,
        "text": colours.text,
        "ink": colours.ink,
        "font": font,
    }
    return ":root {\n" + "".join(f"  --brand-{name}: {value};\n" for name, value in values.items()) + "}\n"


def inline_css(html: str, clinic: Clinic) -> str:
    """Every rule of styles/email.css written into the style attributes it applies to; nothing fetched from anywhere."""
    stylesheet = brand_variables(clinic) + (STYLES_DIR / "email.css").read_text(encoding="utf-8")
    inliner = css_inline.CSSInliner(
        extra_css=stylesheet,
        load_remote_stylesheets=False,
        keep_link_tags=False,
        resolve_css_variables=True,
        keep_at_rules=False,
    )
    return inliner.inline(html)


def sender(clinic: Clinic) -> tuple[str, str, str | None]:
    """(name, address, reply-to) the email comes from: the clinic's email settings, else its contact address."""
    settings = clinic.config.email
    if settings is None:
        return clinic.config.name, clinic.config.contact.email, None
    return settings.from_name or clinic.config.name, settings.from_address, settings.reply_to


def compose(
    appointment: Appointment,
    opaque: str,
    clinic: Clinic,
    content: Content,
    leaflets: list[Leaflet],
    environment: PlainDataSandbox,
    now: datetime,
    secret: bytes,
    attachments: list[Leaflet] | None = None,
    logo: bytes | None = None,
    calendar: bytes | None = None,
    also_invited: list[datetime] = (),
) -> Composed:
    """The email for one appointment: text and HTML alternatives, then the leaflets (or `attachments`, such as
    the personal PDF) as attachments, and the `calendar` event (text/calendar; method=PUBLISH). Its hash, and the
    Message-ID made from it, are keyed with `secret`; the event's DTSTAMP is left out of the hash, so the same
    appointment gets the same hash on every run."""
    attachments = leaflets if attachments is None else attachments
    data = letter_data(appointment, clinic, content, leaflets, also_invited=also_invited)
    data["logo"] = {"src": f"cid:{LOGO_CID}", "height": LOGO_HEIGHT_PX} if logo else None
    text = environment.render_plain("email/message.txt.j2", data)
    html = inline_css(environment.render_plain("email/message.html.j2", data), clinic)
    name, address, reply_to = sender(clinic)

    message = EmailMessage(policy=EMAIL_POLICY)
    # The clinic's name only: subjects show on lock screens.
    message["Subject"] = data["subject"]
    message["From"] = formataddr((name, address))
    message["To"] = appointment.email
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if logo:
        message.get_body(("html",)).add_related(
            logo, maintype="image", subtype="png", cid=f"<{LOGO_CID}>", filename="logo.png", disposition="inline"
        )
    for leaflet in attachments:
        message.add_attachment(leaflet.data, maintype="application", subtype="pdf", filename=leaflet.path.name)
    if calendar:
        # As a file to open, which every calendar program offers to add; METHOD:PUBLISH says it is not a meeting
        # request to answer.
        message.add_attachment(
            calendar, maintype="text", subtype="calendar", filename=CALENDAR_FILE,
            params={"method": "PUBLISH", "charset": "utf-8"},
        )

    # Last: setting the content clears every Content- header set before it.
    message["Content-Language"] = clinic.locale

    # Keyed with the output folder's secret, like the opaque id: an unkeyed hash of what a patient reads would let
    # anyone holding the ledger or the send log confirm a guessed patient, address and appointment.
    digest = hmac.new(secret, digestmod=hashlib.sha256)
    files = (*(leaflet.data for leaflet in attachments), logo or b"", without_stamp(calendar or b""))
    for part in (data["subject"], appointment.email, text, html, *(hashlib.sha256(blob).hexdigest() for blob in files)):
        digest.update(part.encode("utf-8") + b"\0")
    content_hash = digest.hexdigest()
    message_id = f"<{opaque}.{content_hash[:12]}@{address.rpartition('@')[2]}>"
    message["Date"] = format_datetime(now.astimezone())
    message["Message-ID"] = message_id
    return Composed(
        appointment=appointment,
        opaque_id=opaque,
        message=message,
        data=message.as_bytes(policy=EMAIL_POLICY),
        content_hash=content_hash,
        message_id=message_id,
    )
