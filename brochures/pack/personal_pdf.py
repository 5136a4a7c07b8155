"""The personal PDF (--pack pdf): one tagged PDF/UA document, a cover letter for one patient
then the booklet of their treatments."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from brochures.load.approval import approval_status
from brochures.load.loaded import Clinic, Content
from brochures.pack.appointments import Appointment
from brochures.pack.message import Leaflet, letter_data
from brochures.pdf.checks import PrintError, check_pdf, expected_look
from brochures.pdf.inspection import inspect_pdf, inspection_failures
from brochures.pdf.printer import Printer
from brochures.plan.documents import BOOKLET, Document
from brochures.render.html import HtmlRenderer

# The attachment's name: the same for every patient, so it says nothing.
PACK_FILE = "before-your-consultation.pdf"


@dataclass(frozen=True)
class PersonalPack(Document):
    """The booklet of one patient's treatments, opened by their cover letter."""

    @property
    def template(self) -> str:
        return "email/personal_pack.html.j2"

    @property
    def stylesheets(self) -> tuple[str, ...]:
        return ("personal_pack.css",)


def personal_pdf(appointment: Appointment, clinic: Clinic, content: Content, printer: Printer, output: Path) -> bytes:
    """The patient's PDF, checked as every brochure is (tagged, PDF/UA, language, title, then the quality gate's
    measures). Its metadata holds the clinic's name and the letter's title, never the patient's."""
    theirs = dataclasses.replace(clinic, treatments=appointment.treatments)
    strings = clinic.strings
    document = PersonalPack(
        clinic=theirs,
        kind=BOOKLET,
        name=BOOKLET,
        title=strings.pack.letter_title,
        subject=strings.booklet_subject.replace("{clinic}", clinic.config.name),
        output=output,
    )
    leaflets = [
        Leaflet(slug=slug, title=content.of(clinic).treatments[slug].title, path=Path(PACK_FILE), data=b"")
        for slug in appointment.treatments
    ]
    letter = letter_data(appointment, theirs, content, leaflets, personal=True)
    extra = {key: letter[key] for key in ("patient", "appointment", "before", "questions", "leaflets", "personal",
                                          "also_invited")}
    # Of everything the clinic offers, as its medical lead approved it.
    extra["approval"] = approval_status(clinic)
    # A renderer per patient: it keeps data per clinic folder.
    html = HtmlRenderer(content).render(document, extra)
    pdf, _warnings = printer.print_pdf(document, html)
    check_pdf(document, pdf)
    # The quality gate every brochure passes, measured on the finished file: type sizes, contrast, tags, the pages.
    if unreadable := inspection_failures(inspect_pdf(pdf, pdf_ua=True, expected=expected_look(document))):
        raise PrintError("not fit to give to patients as it is: " + "; ".join(_once(unreadable)))
    return pdf


def _once(failures: list[str]) -> list[str]:
    """Each failure once: the name is on several pages and in two weights, so the same missing glyph is found twice
    ("… so they are drawn in DejaVu-Sans-Bold instead" and "… in DejaVu-Sans instead" say one thing)."""
    said: dict[str, list[str]] = {}
    for failure in failures:
        match = re.fullmatch(r"(.*, so they are drawn in )(.+)( instead)", failure, re.DOTALL)
        key, font = (match[1] + "{}" + match[3], match[2]) if match else (failure, "")
        fonts = said.setdefault(key, [])
        if font and font not in fonts:
            fonts.append(font)
    return [key.replace("{}", " and ".join(fonts)) if fonts else key for key, fonts in said.items()]
