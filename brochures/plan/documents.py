"""Plans the documents of a build: brochures, comparison sheet and booklet, in each variant and layout asked for."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from brochures.load.loaded import Clinic, Content
from brochures.load.locale import respell
from brochures.problems import Problem
from brochures.schema.content import Treatment

COMPARISON, BOOKLET = "comparison", "booklet"


# Variants: for screens and office printers, or for a print shop.
STANDARD, PRESS = "standard", "press"


# Brochure layouts: portrait pages, or one sheet folded in three.
LEAFLET, TRIFOLD = "leaflet", "trifold"


VARIANTS, LAYOUTS = (STANDARD, PRESS), (LEAFLET, TRIFOLD)


@dataclass(frozen=True)
class Document:
    """One PDF to build for one clinic."""

    clinic: Clinic
    # "brochure", "comparison" or "booklet".
    kind: str
    # A treatment slug, "comparison" or "booklet".
    name: str
    title: str
    subject: str
    output: Path
    variant: str = STANDARD
    layout: str = LEAFLET
    treatment: Treatment | None = None
    # The safety text a patient must be able to read on the printed page, whatever the template does with it:
    # checked on the finished PDF (inspection.py). Each text with how many times it must appear.
    must_show: tuple[tuple[str, int], ...] = ()

    @property
    def sheet(self) -> str:
        """The template and the stylesheet share this name."""
        return TRIFOLD if self.layout == TRIFOLD else self.kind

    @property
    def template(self) -> str:
        return f"{self.sheet}.html.j2"

    @property
    def stylesheets(self) -> tuple[str, ...]:
        return (f"{self.sheet}.css", "press.css") if self.variant == PRESS else (f"{self.sheet}.css",)


def output_name(name: str, layout: str, variant: str) -> str:
    """`facial.pdf`, `facial.trifold.pdf`, `facial.press.pdf`, `facial.trifold.press.pdf`: safe to attach anywhere."""
    return name + (".trifold" if layout == TRIFOLD else "") + (".press" if variant == PRESS else "") + ".pdf"


def must_show(clinic: Clinic, content: Content, slugs: list[str], shared: bool) -> tuple[tuple[str, int], ...]:
    """Each treatment's safety items (who should not have it, side effects, aftercare, when to contact the
    clinic, when to call for help, and the number to call), and the shared safety note, as the patient reads them."""
    wanted: Counter = Counter()
    content = content.of(clinic)
    for slug in slugs:
        treatment = content.treatments[slug]
        wanted.update([*treatment.not_suitable, *treatment.side_effects.common, *treatment.side_effects.rare,
                       *treatment.aftercare, *treatment.contact_clinic, *treatment.emergency,
                       clinic.strings.emergency_heading.replace("{number}", clinic.emergency_number)])
    if shared:
        wanted[content.shared.safety_note] += 1
    wanted[clinic.config.contact.phone] += 1
    return tuple((respell(text, clinic.spelling), times) for text, times in wanted.items())


def plan_documents(clinics: list[Clinic], content: Content, out_dir: Path, only: set[str] | None = None,
                   variants: tuple[str, ...] = (STANDARD,), layouts: tuple[str, ...] = (LEAFLET,)) -> list[Document]:
    """Every document to build. `only` limits it to some treatment slugs, "comparison" and/or "booklet".

    Brochures come in each layout asked for; the comparison sheet and the booklet have one layout.
    """
    def wanted(name: str) -> bool:
        return only is None or name in only

    documents = []
    for clinic in clinics:
        folder = out_dir / clinic.slug
        strings = clinic.strings
        read = content.of(clinic)
        for variant in variants:
            for layout in layouts:
                for slug in clinic.treatments:
                    if wanted(slug):
                        treatment = read.treatments[slug]
                        # As the clinic's patients spell it.
                        title = respell(treatment.title, clinic.spelling)
                        documents.append(Document(
                            clinic=clinic, kind="brochure", name=slug, title=title, treatment=treatment,
                            subject=strings.brochure_subject.replace("{treatment}", title),
                            output=folder / output_name(slug, layout, variant), variant=variant, layout=layout,
                            must_show=must_show(clinic, content, [slug], shared=False)))
            for name, title, subject in ((COMPARISON, read.shared.title, strings.comparison_subject),
                                         (BOOKLET, read.shared.booklet_title, strings.booklet_subject)):
                if wanted(name):
                    documents.append(
                        Document(
                            clinic=clinic,
                            kind=name,
                            name=name,
                            title=respell(title, clinic.spelling),
                            subject=subject.replace("{clinic}", clinic.config.name),
                            output=folder / output_name(name, LEAFLET, variant),
                            variant=variant,
                            must_show=must_show(
                                clinic, content, clinic.treatments if name == BOOKLET else [], shared=True
                            ),
                        )
                    )
    return documents


def booklet_parts(booklet: Document, content: Content) -> list[Document]:
    """The documents a booklet binds after its cover and contents: each treatment's leaflet, then the comparison
    sheet, exactly as they are built on their own (so their pages, laid out once, serve both)."""
    names = {*booklet.clinic.treatments, COMPARISON}
    planned = plan_documents([booklet.clinic], content, Path("."), names, (booklet.variant,), (LEAFLET,))
    return [replace(part, output=booklet.output.with_name(part.output.name)) for part in planned]


def check_treatment_names(names, content: Content) -> list[Problem]:
    known = list(content.treatments) + [COMPARISON, BOOKLET]
    return [
        Problem(Path("generate.py"), None, "--treatment", f"expected one of {', '.join(known)}, got \"{name}\"")
        for name in names or []
        if name not in known
    ]
