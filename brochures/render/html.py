"""A planned document rendered to HTML: its template, its plain data,
and the pictures it draws (QR code, icons, diagram)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import segno

from brochures import STYLES_DIR
from brochures.brand.colours import INK
from brochures.load.approval import approval_status
from brochures.load.loaded import Clinic, Content
from brochures.load.locale import patient_content
from brochures.plan.documents import BOOKLET, Document
from brochures.render.data import (
    PRINTED_ONLY_IN,
    build_date,
    clinic_data,
    data_uri,
    document_data,
    dump,
    offered_data,
    palette_data,
)
from brochures.render.sandbox import PlainDataSandbox


class HtmlRenderer:
    """Renders documents to HTML. Keeps one Jinja environment and one set of images per clinic."""

    def __init__(self, content: Content):
        self.content = content
        self._environments: dict[str, PlainDataSandbox] = {}
        self._images: dict[tuple[str, str], str] = {}
        # Plain data made once: treatments, shared content, each clinic's strings.
        self._data: dict[str, object] = {}

    def environment(self, clinic: Clinic) -> PlainDataSandbox:
        """Templates from the clinic's own templates/ folder first, then the project's."""
        key = clinic.key
        if key not in self._environments:
            self._environments[key] = PlainDataSandbox(Path(clinic.folder).resolve() / "templates", clinic.strings)
        return self._environments[key]

    def _plain(self, key: str, make):
        if key not in self._data:
            self._data[key] = make()
        return self._data[key]

    def _patient_content(self, clinic: Clinic) -> dict:
        """The treatments and shared content as the clinic's patients read them (spelled for its locale)."""
        return self._plain(f"content:{clinic.key}", lambda: patient_content(clinic, self.content.of(clinic)))

    def _treatment(self, clinic: Clinic, slug: str) -> dict:
        return self._patient_content(clinic)["treatments"][slug]

    def _shared(self, clinic: Clinic) -> dict:
        return self._patient_content(clinic)["shared"]

    def _strings(self, clinic: Clinic) -> dict:
        return self._plain(f"strings:{clinic.key}", lambda: dump(clinic.strings))

    def _clinic(self, clinic: Clinic) -> dict:
        return self._plain(f"clinic:{clinic.key}", lambda: clinic_data(clinic))

    def render(self, document: Document, extra: dict | None = None) -> str:
        """The document's HTML. `extra` is more plain data for the template (the pack's cover letter, say)."""
        clinic = document.clinic
        env = self.environment(clinic)
        if document.kind == BOOKLET:
            slugs = [*clinic.treatments, None]
        else:
            slugs = [document.name if document.treatment else None]
        parts = [self._part(clinic, slug) for slug in slugs]
        read = self.content.of(clinic)
        reviews = [read.treatments[slug].review if slug else read.shared.review for slug in slugs]
        latest = max(reviews, key=lambda review: review.reviewed_on)
        # A single document is its one part. The booklet's own pages (its cover and contents; the leaflets it binds
        # are printed from their own HTML) carry the latest review of its parts and cite the sources of its cover.
        frame = (
            parts[0]
            if document.kind != BOOKLET
            else {
                "treatment": None,
                "icon_src": None,
                "diagram_src": None,
                "review": dump(latest),
                "sources": [
                    source
                    for source in self._shared(clinic)["sources"]
                    if {name for name, only_in in PRINTED_ONLY_IN.items() if only_in == BOOKLET} & set(source["covers"])
                ],
            }
        )
        context = {
            "doc": document_data(document),
            "clinic": self._clinic(clinic),
            "t": self._strings(clinic),
            "shared": self._shared(clinic),
            "treatments": [self._treatment(clinic, slug) for slug in clinic.treatments],
            "offered": self._plain(
                f"offered:{clinic.key}",
                lambda: offered_data(clinic, [self._treatment(clinic, slug) for slug in clinic.treatments]),
            ),
            "approval": self._plain(f"approval:{clinic.key}", lambda: approval_status(clinic)),
            "parts": parts,
            "in_booklet": document.kind == BOOKLET,
            "keywords": list(clinic.strings.keywords) + [document.title],
            "emergency_number": clinic.emergency_number,
            "created": build_date(latest.reviewed_on),
            "logo_src": self._logo_src(clinic),
            "qr_src": self._qr(clinic),
            **{key: frame[key] for key in ("treatment", "icon_src", "diagram_src", "review", "sources")},
        }
        return env.render_plain(document.template, context | (extra or {}))

    @staticmethod
    def _logo_src(clinic: Clinic) -> str:
        """The logo's address relative to the clinic folder, percent-encoded:
        `logo #1?.svg` is a file, not a fragment."""
        logo = Path(clinic.logo)
        try:
            relative = logo.relative_to(Path(clinic.folder)).as_posix()
        except ValueError:
            relative = logo.name
        return quote(relative)

    def _part(self, clinic: Clinic, slug: str | None) -> dict:
        """What the templates need to print one treatment (or, for None, the comparison). A source is cited only
        where what it covers is printed: not the booklet's cover text on a comparison sheet,
        nor the pack's questions."""
        if slug is None:
            shared = self._shared(clinic)
            elsewhere = set(PRINTED_ONLY_IN)
            sources = [source for source in shared["sources"] if set(source["covers"]) - elsewhere]
            return {
                "id": "part-comparison",
                "title": shared["title"],
                "treatment": None,
                "icon_src": None,
                "diagram_src": None,
                "review": shared["review"],
                "sources": sources,
            }
        treatment = self._treatment(clinic, slug)
        return {
            "id": f"part-{slug}",
            "title": treatment["title"],
            "treatment": treatment,
            "icon_src": self._icon(clinic, self.content.treatments[slug].icon),
            "diagram_src": self._diagram(clinic, slug),
            "review": treatment["review"],
            "sources": treatment["sources"],
        }

    def _cached(self, clinic: Clinic, key: str, make) -> str:
        cache_key = (clinic.key, key)
        if cache_key not in self._images:
            self._images[cache_key] = make()
        return self._images[cache_key]

    def _qr(self, clinic: Clinic) -> str | None:
        url = clinic.config.booking_url
        if not url:
            return None
        # Dark on white whatever the brand colours: scanners need the contrast.
        return self._cached(
            clinic, "qr", lambda: segno.make(url, error="m").svg_data_uri(scale=4, border=4, dark=INK, light="#FFFFFF")
        )

    def _icon(self, clinic: Clinic, name: str) -> str:
        def make() -> str:
            svg = (STYLES_DIR / "icons" / name).read_text(encoding="utf-8")
            return data_uri("image/svg+xml", svg.replace("currentColor", clinic.palette.text))

        return self._cached(clinic, f"icon:{name}", make)

    def _diagram(self, clinic: Clinic, slug: str) -> str:
        def make() -> str:
            svg = self.environment(clinic).render_plain(
                "skin_diagram.svg.j2",
                {
                    "treatment": self._treatment(clinic, slug),
                    "t": self._strings(clinic),
                    "palette": palette_data(clinic.palette),
                },
            )
            return data_uri("image/svg+xml", svg)

        return self._cached(clinic, f"diagram:{slug}", make)
