"""The preview gallery: a picture of every page of every document, made once per PDF, and the page that shows them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium

from brochures import STYLES_DIR
from brochures.files.output_folder import write_atomically
from brochures.files.safe_read import read_regular_file
from brochures.pdf.inspection import page_pictures
from brochures.preview.server import GALLERY, MAX_SERVED_BYTES, PICTURES, SCRIPT
from brochures.problems import display_path
from brochures.quality.report import report_data
from brochures.render.sandbox import PlainDataSandbox
from brochures.schema.strings import Strings

# Each page's picture: shown 300 px wide in the gallery (large enough to read its headings), and at the width of the
# window when opened, so drawn wide enough to stay sharp on a laptop screen.
PICTURE_PX = 1200
# What page_files makes, and so may remove.
_PICTURE_NAME = re.compile(r"[0-9a-f]{20}-\d{3}\.png")


@dataclass(frozen=True)
class ClinicShown:
    """A clinic the gallery shows: its output folder, its name, and the labels of its language."""

    slug: str
    name: str
    locale: str
    strings: Strings
    # Its time zone, for when each document was made.
    timezone: str = "UTC"


def page_files(out_dir: Path, pdf: bytes) -> list[str]:
    """Addresses of a picture of each page of `pdf`, made once for each PDF's content (named by its hash)."""
    digest = hashlib.sha256(pdf).hexdigest()[:20]
    folder = out_dir / PICTURES
    document = pdfium.PdfDocument(pdf)
    try:
        count = len(document)
    finally:
        document.close()
    names = [f"{digest}-{page:03d}.png" for page in range(1, count + 1)]
    if not all((folder / name).is_file() for name in names):
        for name, png in zip(names, page_pictures(pdf, PICTURE_PX)):
            write_atomically(folder / name, png)
    return [f"/{PICTURES}/{name}" for name in names]


def write_gallery(
    out_dir: Path, clinics: list[ClinicShown], problems: list[str], build_id: int, strings: Strings
) -> Path:
    """out/.preview/index.html: each clinic's report (from its report.json) with every page, and the problems found.

    A clinic whose input is now invalid keeps its last report and pictures: its files are left as they were.
    A document's failure among `problems` is shown under that document, not again in the box at the top.
    """
    shown, used, not_built = [], set(), []
    for clinic in clinics:
        folder = out_dir / clinic.slug
        try:
            cards = json.loads(read_regular_file(folder / "report.json", MAX_SERVED_BYTES))["documents"]
        except (OSError, ValueError, KeyError, TypeError):
            # Never built yet.
            continue
        if not all(isinstance(card, dict) and "verdict" in card for card in cards):
            # Written by an older version: the next build of this clinic rewrites it.
            continue
        pictures = {}
        for card in cards:
            pdf = folder / card["document"]
            # As the build printed it.
            failure = f"{display_path(pdf)}: {card.get('error')}"
            if card.get("error") and failure in problems:
                # Said under the document, with its pictures: the box at the top only points to it.
                problems = [line for line in problems if line != failure]
                not_built.append(
                    {"clinic": clinic.name, "document": card["document"], "anchor": f"{clinic.slug}-{card['document']}"}
                )
            # Not built (yet): its card says why.
            with contextlib.suppress(OSError):
                data = read_regular_file(pdf, MAX_SERVED_BYTES)
                pages = page_files(out_dir, data)
                used.update(Path(page).name for page in pages)
                pictures[card["document"]] = {
                    "pages": pages,
                    "href": f"/{clinic.slug}/{card['document']}",
                    "built": pdf.stat().st_mtime,
                }
        shown.append(
            {
                "slug": clinic.slug,
                "name": clinic.name,
                "lang": clinic.locale,
                "r": clinic.strings.report.model_dump(mode="json"),
                "report": report_data(cards, clinic.strings, pictures, clinic.timezone),
            }
        )
    stylesheet = "\n".join((STYLES_DIR / name).read_text(encoding="utf-8") for name in ("report.css", "gallery.css"))
    html = PlainDataSandbox(None, strings).render_plain(
        "gallery.html.j2",
        {
            "t": strings.model_dump(mode="json"),
            "lang": clinics[0].locale if clinics else "en",
            "clinics": shown,
            "problems": problems,
            "not_built": not_built,
            "build_id": build_id,
            "stylesheet": stylesheet,
            "script": SCRIPT.read_text(encoding="utf-8"),
        },
    )
    path = out_dir / GALLERY
    write_atomically(path, html.encode("utf-8"))
    _remove_unused_pictures(out_dir / PICTURES, used)
    return path


def _remove_unused_pictures(folder: Path, used: set[str]) -> None:
    """Pictures of PDFs that are gone or changed: only files named as page_files names them."""
    for path in folder.iterdir():
        if _PICTURE_NAME.fullmatch(path.name) and path.name not in used:
            with contextlib.suppress(OSError):
                path.unlink()
