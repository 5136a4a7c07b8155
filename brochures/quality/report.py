"""The clinic's quality report: report.json for scripts, report.html for staff."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from brochures import STYLES_DIR
from brochures.files.output_folder import write_atomically
from brochures.pdf.inspection import page_pictures
from brochures.pdf.printer import FIRST_PAGE_PX
from brochures.quality.reading import GRADE_TARGET, MEASURES_EN, measure_for
from brochures.quality.scorecard import NEEDS_A_LOOK, NOT_BUILT, READY, Scorecard
from brochures.render.data import clinic_data, fill, long_date
from brochures.render.sandbox import PlainDataSandbox

# Where a build's report is written in a clinic's folder, and a --check's: a check builds nothing, so it never takes
# the place of the report on the files that are there.
REPORT_NAMES = ("report.json", "report.html")
CHECK_REPORT_NAMES = ("check-report.json", "check-report.html")


def write_report(folder: Path, clinic, cards: list[Scorecard], environment, stylesheet: str,
                 names: tuple[str, str] = REPORT_NAMES) -> list[Path]:
    """report.json for machines and report.html for the clinic (or `names`), both written atomically.

    The report template is given the same plain data as report.json (each card's warnings and verdict
    precomputed), with a picture of each document's first page and a link to it, through the sandbox
    that renders the brochures.
    """
    data = {"clinic": clinic.config.name, "grade_target": GRADE_TARGET, "documents": [card.as_dict() for card in cards]}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    paths = [folder / names[0], folder / names[1]]
    write_atomically(paths[0], text.encode("utf-8"))
    pictures = {}
    for card in cards:
        if card.pdf and not card.error and card.pdf.is_file():
            # Made by the worker that printed it; a document not printed again is read from its file.
            first_page = [card.picture] if card.picture else page_pictures(card.pdf.read_bytes(), FIRST_PAGE_PX, 1)
            # In this folder or a language's folder inside it (es/facial.pdf), not one of --check's temporary files:
            # link to it, and say when it was made.
            beside = folder.resolve() in (card.pdf.resolve().parent, card.pdf.resolve().parent.parent)
            pictures[card.document] = {
                "pages": [f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" for png in first_page],
                "href": card.document if beside else None, "built": card.pdf.stat().st_mtime if beside else None}
    html = environment.render_plain("report.html.j2", {
        "clinic": clinic_data(clinic), "t": clinic.strings.model_dump(mode="json"),
        # Plain data, as in report.json.
        "report": report_data(json.loads(text)["documents"], clinic.strings, pictures, clinic.timezone),
        "stylesheet": stylesheet})
    write_atomically(paths[1], html.encode("utf-8"))
    return paths


# Each accessibility check (inspection.accessibility, as report.json keeps it) → its label in the strings.
ACCESSIBILITY_LABELS = {
    "tagged": "tagged",
    "structure tree": "structure_tree",
    "document language": "document_language",
    "title shown in title bar": "title_shown",
    "every figure has alternative text": "alternative_text",
    "identified as PDF/UA": "pdf_ua",
    "every table header says what it heads": "table_headers",
}


def report_data(cards: list[dict], strings, pictures: dict[str, dict], zone: str = "UTC") -> dict:
    """What the report and the preview gallery show of one clinic's documents, as plain data.

    `cards` are report.json's documents; `pictures` gives, by document name, the pictures of its pages
    (`pages`, image addresses), a link to it (`href`) and when its file was written (`built`, a Unix time).
    Each warning is listed once, with the documents it concerns.
    """
    documents, warnings = [], {}
    for card in cards:
        picture = pictures.get(card["document"], {})
        built = None
        if picture.get("built") is not None:
            # In the clinic's own time (`zone`, an IANA name), named as its staff know it: GMT, BST, CET…
            when = datetime.fromtimestamp(picture["built"], tz=ZoneInfo(zone))
            built = fill(strings.report.built, date=long_date(strings)(when.date()), time=when.strftime("%H:%M"),
                         zone=when.tzname())
        measure = measure_for(card.get("language", "en"))
        value = card.get("reading_grade")
        shown = value
        if measure.name != MEASURES_EN and value is not None:
            shown = f"{measure.name} {value} ({target(measure, strings)})"
        labels = strings.report.accessibility_checks
        checks = [
            {"name": getattr(labels, ACCESSIBILITY_LABELS[name]) if name in ACCESSIBILITY_LABELS else name, "ok": ok}
            for name, ok in card.get("accessibility", {}).items()
        ]
        documents.append(
            card
            | {
                "pages_shown": picture.get("pages", []),
                "href": picture.get("href"),
                "built": built,
                "reading_shown": shown,
                "accessibility_shown": checks,
                "sections_over": [name for name, v in card.get("reading_sections", {}).items() if measure.too_hard(v)],
            }
        )
        for problem in card.get("problems", []):
            shown = (problem["file"], problem["line"], problem["setting"], problem["message"], problem["hint"])
            warnings.setdefault(shown, []).append(card["document"])
    counts = {
        verdict: sum(card["verdict"] == verdict for card in cards) for verdict in (READY, NEEDS_A_LOOK, NOT_BUILT)
    }
    return {
        "documents": documents,
        "counts": counts,
        "grade_target": GRADE_TARGET,
        "warnings": [_where(*shown, strings) | {"documents": names} for shown, names in warnings.items()],
    }


def target(measure, strings) -> str:
    """A language's reading target in the report's words: "target 65 or more", or "information only"."""
    if measure.target is None:
        return strings.report.information_only
    label = strings.report.reading_target_higher if measure.higher_is_easier else strings.report.reading_target_lower
    return fill(label, target=f"{measure.target:g}")


def _where(file: str, line: int | None, setting: str, message: str, hint: str, strings) -> dict:
    """A warning as staff read it: where its cause is, in words, then what it says and what to do."""
    if line and setting:
        return {
            "where": fill(strings.report.where, file=file, line=str(line), setting=setting),
            "text": message,
            "hint": hint,
        }
    return {"where": None, "text": f"{file}{f':{line}' if line else ''}: {message}", "hint": hint}


def write_reports(out_dir: Path, clinics: list, cards: dict[str, list[Scorecard]], check: bool = False
                  ) -> dict[str, Path]:
    """Each clinic edition's report.json and report.html (for a --check, check-report.json and check-report.html:
    CHECK_REPORT_NAMES); returns where each report.html was written, by slug.

    A clinic's main report covers every language it offers (another language's documents named with their
    folder: es/facial.pdf); each other language's folder also has a report of its own, in that language.
    """
    stylesheet = (STYLES_DIR / "report.css").read_text(encoding="utf-8")
    written = {}
    for clinic in clinics:
        if clinic.slug not in cards:
            continue
        shown = cards[clinic.slug] + (
            [
                dataclasses.replace(card, document=f"{other.config.language}/{card.document}")
                for other in clinics
                if not other.main and other.folder == clinic.folder
                for card in cards.get(other.slug, [])
            ]
            if clinic.main
            else []
        )
        # The report is for the clinic's staff, from the project's own template: a clinic cannot override it.
        paths = write_report(out_dir / clinic.slug, clinic, shown, PlainDataSandbox(None, clinic.strings), stylesheet,
                             CHECK_REPORT_NAMES if check else REPORT_NAMES)
        written[clinic.slug] = paths[1]
    return written
