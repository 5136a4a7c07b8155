"""Plans the documents of a build: one brochure per treatment a clinic offers, plus a comparison sheet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .loading import Clinic, Content
from .models import Treatment

COMPARISON = "comparison"


@dataclass(frozen=True)
class Document:
    """One PDF to build for one clinic."""

    clinic: Clinic
    name: str  # file stem: a treatment slug or "comparison"
    title: str
    subject: str
    output: Path
    treatment: Treatment | None = None  # None for the comparison sheet

    @property
    def template(self) -> str:
        return "brochure.html.j2" if self.treatment else "comparison.html.j2"

    @property
    def stylesheet(self) -> str:
        return "brochure.css" if self.treatment else "comparison.css"


def plan_documents(clinics: list[Clinic], content: Content, out_dir: Path, only: set[str] | None = None) -> list[Document]:
    """Every document to build; `only` limits it to some treatment slugs and/or "comparison"."""
    documents = []
    for clinic in clinics:
        folder = out_dir / clinic.slug
        for slug in clinic.treatments:
            if only is None or slug in only:
                treatment = content.treatments[slug]
                documents.append(Document(
                    clinic=clinic, name=slug, title=treatment.title, treatment=treatment,
                    subject=clinic.strings.brochure_subject.replace("{treatment}", treatment.title),
                    output=folder / f"{slug}.pdf",
                ))
        if only is None or COMPARISON in only:
            documents.append(Document(
                clinic=clinic, name=COMPARISON, title=content.shared.title,
                subject=clinic.strings.comparison_subject.replace("{clinic}", clinic.config.name),
                output=folder / f"{COMPARISON}.pdf",
            ))
    return documents
