"""The appointment as a calendar event (RFC 5545, METHOD:PUBLISH), for the patient to add to their calendar: in the
clinic's time zone, at the clinic's address, titled with the clinic's name only (a calendar is seen by others)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from brochures import __version__
from brochures.load.loaded import Clinic, Content
from brochures.pack.appointments import Appointment
from brochures.render.data import fill

# The part's file name, as email programs show it.
CALENDAR_FILE = "appointment.ics"
# "About 30 to 45 minutes.": the number before "minutes", the longest the session may take.
_MINUTES = re.compile(r"(\d{1,3})\s*(?:minutes?|mins?)\b", re.IGNORECASE)


def event_minutes(appointment: Appointment, clinic: Clinic, content: Content) -> int:
    """How long the event lasts: the longest session of the booked treatments, as their data says it in minutes;
    else the clinic's `appointments.length_minutes`."""
    found = []
    for slug in appointment.treatments:
        treatment = content.treatments.get(slug)
        text = treatment.course.session_length if treatment is not None else ""
        found += [int(minutes) for minutes in _MINUTES.findall(text) if 5 <= int(minutes) <= 480]
    return max(found) if found else clinic.config.appointments.length_minutes


def event_uid(secret: bytes, clinic_id: str, appointment: Appointment, domain: str) -> str:
    """The same for the same appointment on every run (so a calendar updates rather than doubles it); keyed, like the
    opaque id, so that it cannot confirm a guessed patient and time."""
    digest = hmac.new(secret, f"calendar|{clinic_id}|{appointment.key}".encode(), hashlib.sha256).hexdigest()
    return f"{digest[:32]}@{domain}"


def calendar_event(
    appointment: Appointment, clinic: Clinic, content: Content, uid: str, stamp: datetime
) -> bytes:
    """The iCalendar file: one event, its start in the clinic's time zone (with that zone's rules, VTIMEZONE, so every
    calendar program places it right), and `stamp` (when it was made) as DTSTAMP."""
    zone = ZoneInfo(clinic.timezone)
    start = appointment.when.replace(tzinfo=zone)
    calendar = Calendar()
    calendar.add("prodid", f"-//mesotherapy-brochures//generate.py pack {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=event_minutes(appointment, clinic, content)))
    event.add("summary", fill(clinic.strings.pack.calendar_summary, clinic=clinic.config.name))
    place = ", ".join(clinic.config.contact.address) or clinic.config.name
    event.add("location", place)
    calendar.add_component(event)
    # Only the zone's rules around the appointment, so the file stays small.
    calendar.add_missing_timezones(
        first_date=date(start.year - 1, 1, 1), last_date=date(min(start.year + 2, 9999), 1, 1)
    )
    return calendar.to_ical()


def without_stamp(ics: bytes) -> bytes:
    """The event without its DTSTAMP: what the patient reads, the same on every run (for the message's hash)."""
    return re.sub(rb"\r?\nDTSTAMP:[^\r\n]*", b"", ics)
