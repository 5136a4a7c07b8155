"""Renders a planned document to HTML with Jinja2: autoescaped, strict, sandboxed, data never run as a template."""

from __future__ import annotations

import base64
import os
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

import segno
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import STYLES_DIR, TEMPLATES_DIR
from .branding import INK, Palette, palette
from .loading import Clinic, Content
from .planning import BOOKLET, Document


def fill(label: str, **values: object) -> str:
    """Put values into a label's {placeholders}. Plain replacement: a value is never read as a template."""
    for name, value in values.items():
        label = label.replace("{" + name + "}", str(value))
    return label


def display_url(url: str) -> str:
    """A web address as a person would type it: no scheme, no trailing slash."""
    parts = urlsplit(url)
    return (parts.netloc + parts.path).rstrip("/") + (f"?{parts.query}" if parts.query else "")


def data_uri(mime_type: str, payload: str) -> str:
    return f"data:{mime_type};base64," + base64.b64encode(payload.encode("utf-8")).decode("ascii")


def build_date(content_date: date) -> str:
    """The date stamped into PDF metadata: SOURCE_DATE_EPOCH when set, else the date the content was checked.
    Never the clock, so the same input always gives the same file."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{content_date.isoformat()}T00:00:00Z"


class RenderError(Exception):
    """A template could not be rendered (a bug in a template, or in a clinic's template override)."""


class HtmlRenderer:
    """Renders documents to HTML. Keeps one Jinja environment and one set of images per clinic."""

    def __init__(self, content: Content):
        self.content = content
        self._environments: dict[str, ImmutableSandboxedEnvironment] = {}
        self._images: dict[tuple[str, str], str] = {}

    def palette(self, clinic: Clinic) -> Palette:
        return palette(clinic.config.colors.primary, clinic.config.colors.accent)

    def environment(self, clinic: Clinic) -> ImmutableSandboxedEnvironment:
        """Templates from the clinic's own templates/ folder first, then the project's."""
        key = str(clinic.folder)
        if key not in self._environments:
            env = ImmutableSandboxedEnvironment(
                loader=FileSystemLoader([clinic.folder / "templates", TEMPLATES_DIR]),
                autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            )
            strings = clinic.strings
            env.filters["fill"] = fill
            env.filters["display_url"] = display_url
            env.filters["long_date"] = lambda day: fill(strings.date, day=day.day, month=strings.months[day.month - 1], year=day.year)
            self._environments[key] = env
        return self._environments[key]

    def render(self, document: Document) -> str:
        clinic = document.clinic
        env = self.environment(clinic)
        if document.kind == BOOKLET:
            parts = [self._part(clinic, slug) for slug in clinic.treatments] + [self._part(clinic, None)]
        else:
            parts = [self._part(clinic, document.name if document.treatment else None)]
        # A single document is its one part; the booklet's own frame carries the latest review of its parts.
        frame = parts[0] if len(parts) == 1 else {
            "treatment": None, "icon_src": None, "diagram_src": None, "sources": [],
            "review": max((part["review"] for part in parts), key=lambda review: review.reviewed_on)}
        context = {
            "doc": document,
            "clinic": clinic,
            "t": clinic.strings,
            "shared": self.content.shared,
            "treatments": [self.content.treatments[slug] for slug in clinic.treatments],
            "parts": parts,
            "in_booklet": document.kind == BOOKLET,
            "keywords": list(clinic.strings.keywords) + [document.title],
            "emergency_number": clinic.emergency_number,
            "created": build_date(frame["review"].reviewed_on),
            "logo_src": clinic.logo.name,
            "qr_src": self._qr(clinic),
            **{key: frame[key] for key in ("treatment", "icon_src", "diagram_src", "review", "sources")},
        }
        try:
            return env.get_template(document.template).render(context)
        except TemplateError as error:
            where = f" ({error.filename}:{error.lineno})" if getattr(error, "filename", None) else ""
            raise RenderError(f"template error{where}: {error}") from error

    def _part(self, clinic: Clinic, slug: str | None) -> dict:
        """What the templates need to print one treatment (or, for None, the comparison)."""
        if slug is None:
            shared = self.content.shared
            return {"id": "part-comparison", "title": shared.title, "treatment": None, "icon_src": None,
                    "diagram_src": None, "review": shared.review, "sources": shared.sources}
        treatment = self.content.treatments[slug]
        return {"id": f"part-{slug}", "title": treatment.title, "treatment": treatment,
                "icon_src": self._icon(clinic, treatment.icon), "diagram_src": self._diagram(clinic, slug, treatment),
                "review": treatment.review, "sources": treatment.sources}

    def _cached(self, clinic: Clinic, key: str, make) -> str:
        cache_key = (str(clinic.folder), key)
        if cache_key not in self._images:
            self._images[cache_key] = make()
        return self._images[cache_key]

    def _qr(self, clinic: Clinic) -> str | None:
        url = clinic.config.booking_url
        if not url:
            return None
        # Dark on white whatever the brand colours: scanners need the contrast.
        return self._cached(clinic, "qr", lambda: segno.make(url, error="m").svg_data_uri(scale=4, border=4, dark=INK, light="#FFFFFF"))

    def _icon(self, clinic: Clinic, name: str) -> str:
        def make() -> str:
            svg = (STYLES_DIR / "icons" / name).read_text(encoding="utf-8")
            return data_uri("image/svg+xml", svg.replace("currentColor", self.palette(clinic).text))
        return self._cached(clinic, f"icon:{name}", make)

    def _diagram(self, clinic: Clinic, slug: str, treatment) -> str:
        def make() -> str:
            svg = self.environment(clinic).get_template("skin_diagram.svg.j2").render(
                treatment=treatment, t=clinic.strings, palette=self.palette(clinic), font_name=clinic.font.css_name)
            return data_uri("image/svg+xml", svg)
        return self._cached(clinic, f"diagram:{slug}", make)
