"""Every planned document as the standalone HTML the printer lays out, for anyone who wants to print it with another
engine, compare engines, or debug a template in a browser (`generate.py html`).

Each document's HTML is rendered by the build's own renderer, and the stylesheets the printer gives WeasyPrint are
written into it, in the printer's order (the fonts' @font-face rules, the clinic's brand values, the project's
sheets with their @import resolved), with a `<base href>` for the files of the clinic's folder (its logo). Beside
them, `manifest.json` lists each document with its HTML file, its output name, its page size, its PDF options and,
for a booklet, the parts it binds after its own cover and contents, in order.

What the printer adds only once a layout is known is not in the HTML: `fit.css`, laid over a leaflet that runs one
page over its budget (and `compact.css` over a comparison sheet), and the finishing of the PDF (page labels, table
scopes). A file read through the HTML is not limited to the clinic's folder, as the build's fetcher limits it.
"""

from __future__ import annotations

import html as markup
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from brochures import STYLES_DIR, __version__
from brochures.brand.css import SHEETS
from brochures.building.options import BuildOptions
from brochures.files.output_folder import prepare, write_atomically
from brochures.load.clinics import load_clinics
from brochures.load.content import Content, load_content
from brochures.load.loaded import Clinic
from brochures.pdf.printer import PDF_OPTIONS, Printer
from brochures.plan.documents import BOOKLET, TRIFOLD, Document, booklet_parts, check_treatment_names, plan_documents
from brochures.problems import InputError, Problem
from brochures.render.errors import ClinicTemplateError, RenderError
from brochures.render.html import HtmlRenderer

MANIFEST = "manifest.json"


# `@import "common.css";` or `@import url("common.css");` in one of the project's sheets.
IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']([^"']+)["']\s*\)?\s*;""")


# A relative url(…) in one of the project's sheets (none has one now): made absolute, since the HTML's base is the
# clinic's folder.
RELATIVE_URL = re.compile(r"""url\(\s*(["']?)(?![a-z][a-z0-9+.-]*:|#|/)([^"')]+)\1\s*\)""", re.I)


HEAD = re.compile(r"<head\b[^>]*>", re.I)
HEAD_END = re.compile(r"</head\s*>", re.I)


@dataclass
class Exported:
    """What `export_html` did: the documents written, those that failed with their reason, the invalid input."""

    written: list[Document] = field(default_factory=list)
    failed: list[tuple[Document, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    manifest: Path | None = None


def export_html(options: BuildOptions, out: Path, note=print) -> Exported:
    """Write every document the options plan (clinics, treatments, variants, layouts, as a build plans them) as
    standalone HTML under `out`, one folder per clinic edition as in a build's output, and `out/manifest.json`.
    `note`: where a clinic's notes go while it loads. Raises WriteError when a file cannot be written."""
    exported = Exported()
    try:
        content = load_content(options.data)
    except InputError as error:
        exported.problems = error.problems
        return exported
    if unknown := check_treatment_names(options.treatments, content):
        exported.problems = unknown
        return exported
    clinics, exported.problems = load_clinics(options.clinics, options.data, content, note)
    # As a build: nothing is written into a folder the documents are made from (the data, a clinic's folder).
    prepare(out, inputs=[options.data, *(clinic.folder for clinic in clinics)],
            outputs=[out / clinic.slug for clinic in clinics])
    documents = plan_documents(clinics, content, out, options.only, variants=options.variants,
                               layouts=options.layouts)
    renderer, printer = HtmlRenderer(content), Printer()
    # Each HTML file by its path: a booklet's part is the leaflet's own file when the leaflet is exported too.
    files: dict[Path, str] = {}
    listed = []
    for slug in dict.fromkeys(document.clinic.slug for document in documents):
        # One clinic edition at a time: a clinic whose own template fails is invalid, and none of its files is kept.
        own_files, own_entries, written = dict(files), [], []
        try:
            for document in (d for d in documents if d.clinic.slug == slug):
                try:
                    own_entries.append(_export(document, content, renderer, printer, own_files, out))
                    written.append(document)
                except ClinicTemplateError:
                    raise
                except (RenderError, RecursionError) as error:
                    exported.failed.append((document, str(error) or "its HTML is nested too deeply to render"))
        except ClinicTemplateError as error:
            exported.problems.append(Problem(error.template, error.line, "templates", error.message))
            exported.failed = [(document, why) for document, why in exported.failed if document.clinic.slug != slug]
            continue
        files, exported.written = own_files, exported.written + written
        listed += own_entries
    for path, text in files.items():
        write_atomically(path, text.encode("utf-8"))
    manifest = {"generator": __version__, "documents": listed}
    exported.manifest = out / MANIFEST
    write_atomically(exported.manifest, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return exported


def _export(document: Document, content: Content, renderer: HtmlRenderer, printer: Printer, files: dict[Path, str],
            out: Path) -> dict:
    """One document's manifest entry; its HTML (and its parts') added to `files`."""
    entry = _entry(document, standalone_html(document, renderer.render(document), printer), files, out)
    if document.kind == BOOKLET:
        parts = []
        for part in booklet_parts(document, content):
            part_entry = _entry(part, standalone_html(part, renderer.render(part), printer), files, out)
            parts.append({key: part_entry[key] for key in ("name", "html", "page_size", "landscape", "pdf_options")})
        entry["parts"] = parts
    return entry


def _entry(document: Document, text: str, files: dict[Path, str], out: Path) -> dict:
    path = document.output.with_suffix(".html")
    if files.setdefault(path, text) != text:
        # Not the leaflet's own HTML after all: a file of its own.
        path = path.with_name(f"{path.stem}.part.html")
        files[path] = text
    clinic = document.clinic
    sheet, landscape = (SHEETS[clinic.config.page_size][0], True) if document.layout == TRIFOLD else (
        clinic.config.page_size, False)
    return {
        "clinic": clinic.slug, "language": clinic.language, "kind": document.kind, "name": document.name,
        "variant": document.variant, "layout": document.layout,
        "html": path.relative_to(out).as_posix(), "output": document.output.relative_to(out).as_posix(),
        "page_size": sheet, "landscape": landscape, "pdf_options": dict(PDF_OPTIONS[document.variant]),
        "stylesheets": list(document.stylesheets),
    }


def standalone_html(document: Document, html: str, printer: Printer) -> str:
    """The document's HTML with every stylesheet the printer gives it written in (in its order, after the
    document's own styles, as WeasyPrint applies them), and a base for the clinic's files."""
    styles = "".join(f"<style>\n{_in_style(css_text(text))}</style>\n" for _, text in printer.stylesheets(document))
    base = f'<base href="{markup.escape(base_url(document.clinic), quote=True)}">'
    if head := HEAD.search(html):
        html = html[:head.end()] + base + html[head.end():]
    else:
        html = base + html
    if end := HEAD_END.search(html):
        return html[:end.start()] + styles + html[end.start():]
    return html.replace(base, base + styles, 1)


def base_url(clinic: Clinic) -> str:
    """Where the printer resolves the clinic's files from."""
    return clinic.folder.as_uri() + "/"


def css_text(text: str, folder: Path = STYLES_DIR, seen: frozenset[Path] = frozenset()) -> str:
    """A stylesheet's text with each @import of the project's sheets replaced by that sheet's text (resolved the
    same way), and relative URLs made absolute."""
    def imported(match: re.Match) -> str:
        path = (folder / match[1]).resolve()
        if path in seen or not path.is_relative_to(STYLES_DIR.resolve()) or not path.is_file():
            return match[0]
        return css_text(path.read_text(encoding="utf-8"), path.parent, seen | {path})

    text = IMPORT.sub(imported, text)
    return RELATIVE_URL.sub(lambda match: f'url("{(folder / match[2]).resolve().as_uri()}")', text)


def _in_style(text: str) -> str:
    """CSS safe inside a <style> element: no `</style` can end it early (`\\/` is `/` to CSS)."""
    return re.sub(r"</(style)", r"<\\/\1", text, flags=re.I)
