"""Approval: each clinic's medical lead signs off the content the clinic prints, by its fingerprint."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from pathlib import Path

from brochures import DATA_DIR
from brochures.brand.fonts import MAX_FONT_BYTES
from brochures.files.safe_read import read_regular_file
from brochures.files.yaml_reader import dotted
from brochures.load.loaded import Clinic, Content
from brochures.load.locale import patient_content
from brochures.load.translations import (
    language_name,
)
from brochures.problems import WARNING, Problem, display_path


def content_fingerprint(clinic: Clinic, content: Content) -> str:
    """12 hex digits of the SHA-256 of what the clinic's medical lead approves, as canonical JSON.

    It covers the treatments the clinic offers and the shared content (with their sources and review
    blocks), as its patients read them (spelled for its locale), the words of its strings file, its
    language, its emergency number, its disclaimer, its own templates (an override can change
    what a patient is told, or leave out a safety section), its own font files (a font draws every character a
    patient reads: one whose glyphs draw other characters changes what the page says) and any other file of its
    folder (a picture its template shows). Not its branding otherwise
    (name, logo, colours, a packaged font's name, contact details, page size): rebranding needs no new approval,
    any change of what a patient is told or sees drawn does.
    The same content gives the same fingerprint on every machine and every run.
    """
    strings = {
        key: value
        for key, value in clinic.strings.model_dump(mode="json").items()
        if key not in ("report", "report_title")
    }
    payload = {
        "locale": clinic.locale,
        "emergency_number": clinic.emergency_number,
        "strings": strings,
        "disclaimer": clinic.config.disclaimer,
        "templates": _own_templates(clinic),
        **patient_content(clinic, content),
    }
    # Only when it has some, so that the fingerprints of clinics without their own fonts stay as they were.
    if fonts := _own_fonts(clinic):
        payload["fonts"] = fonts
    # The same: any other file of its folder, such as a picture its own template shows.
    if files := _own_files(clinic):
        payload["files"] = files
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def _own_fonts(clinic: Clinic) -> dict[str, str]:
    """The hash of each font file the clinic's documents use from its own folder, by name."""
    found = {}
    for family in clinic.fonts:
        for path in sorted(family.files):
            resolved = Path(os.path.realpath(path))
            if resolved.is_relative_to(Path(os.path.realpath(clinic.folder))):
                try:
                    found[resolved.relative_to(os.path.realpath(clinic.folder)).as_posix()] = hashlib.sha256(
                        read_regular_file(resolved, MAX_FONT_BYTES)).hexdigest()
                except OSError:
                    found[resolved.name] = "unreadable"
    return found


# The most files, and the largest file, of a clinic's folder that its fingerprint reads.
MAX_OWN_FILES, MAX_OWN_FILE_BYTES = 1000, 32 * 1024 * 1024


# What a clinic's own template may show or style from its folder.
SHOWN_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".tif", ".tiff", ".css",
                            ".html", ".htm"})


def _own_files(clinic: Clinic) -> dict[str, str]:
    """The hash of each other picture or stylesheet of the clinic's folder (SHOWN_SUFFIXES), by name: what its own
    templates may show, which a patient reads as surely as the text. Not its logo (branding), its templates or its
    font files (each counted on its own), nor files no page can show (a note, a backup of clinic.yaml). The first
    MAX_OWN_FILES of them: a folder with more cannot be approved (`approval_state`)."""
    folder = Path(os.path.realpath(clinic.folder))
    found = {}
    for path in _shown_files(clinic)[:MAX_OWN_FILES]:
        try:
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                read_regular_file(path, MAX_OWN_FILE_BYTES)).hexdigest()
        except OSError:
            found[path.relative_to(folder).as_posix()] = "unreadable"
    return found


def _shown_files(clinic: Clinic) -> list[Path]:
    """The pictures and stylesheets of the clinic's folder that `_own_files` fingerprints, in order: every one, so
    that files no page can show take up none of the MAX_OWN_FILES it reads."""
    folder = Path(os.path.realpath(clinic.folder))
    counted = {Path(os.path.realpath(path)) for path in (clinic.config_file, clinic.logo, *(
        path for family in clinic.fonts for path in family.files))}
    return [
        path for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in SHOWN_SUFFIXES and not path.is_relative_to(folder / "templates")
        and Path(os.path.realpath(path)) not in counted and path.is_file()
    ]


def _own_templates(clinic: Clinic) -> dict[str, str]:
    """The hash of each of the clinic's own template files, by name (read as the renderer would: regular files only)."""
    folder = clinic.folder / "templates"
    found = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            try:
                found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                    read_regular_file(path, 1024 * 1024)
                ).hexdigest()
            except OSError:
                # A folder, a named pipe, a broken link: the renderer refuses it and says so.
                continue
    return found


def approval_status(clinic: Clinic) -> dict:
    """Whether the clinic's medical lead approved the content it prints (resolved when it was loaded), as plain data
    for templates: see `approval_state`."""
    status = clinic.approval
    return status | {"warning": status["warning"].said() if status["warning"] else None}


def approval_state(clinic: Clinic, content: Content) -> dict:
    """Whether the clinic's medical lead approved the content it prints, as plain data (for templates and reports):

    state          "approved", "unapproved" (no approval block) or "outdated" (the content changed since)
    approved       True only when the approval's fingerprint is the content's
    fingerprint    the content's fingerprint now
    approval       the approval block as written ({name, role, date, fingerprint}), or None
    warning        the Problem for the scorecard and --strict when not approved (file, line, what to do), else None
    """
    current = content_fingerprint(clinic, content)
    approval = clinic.config.approval
    how = (f"the clinic's medical lead checks the documents, then approves them: run python generate.py "
           f"{clinic_option(clinic, content)} --approval and paste the block it prints into clinic.yaml")
    # The main language's sign-off is approval:, each other language's is under language_approvals:.
    field = ("approval",) if clinic.main else ("language_approvals", clinic.config.language)
    in_language = "" if clinic.main else f" in {language_name(clinic.language)}"
    if approval is None:
        state = UNAPPROVED
        line = (
            clinic.doc.line_of(("name",))
            if clinic.main
            else (clinic.doc.lines.get(field) or clinic.doc.line_of(("languages",)))
        )
        warning = Problem(
            clinic.config_file, line, dotted(field),
            f"not yet approved{in_language} by the clinic's medical lead, so every page is marked as a draft", WARNING,
            "approval", how
        )
    elif approval.fingerprint != current:
        state = OUTDATED
        warning = Problem(
            clinic.config_file,
            clinic.doc.line_of(field + ("fingerprint",)),
            dotted(field + ("fingerprint",)),
            f"the content changed since {approval.name} approved it on {approval.date.isoformat()} "
            f"(approved {approval.fingerprint}, now {current}), so every page is marked as a draft",
            WARNING,
            "approval",
            how,
        )
    else:
        state, warning = APPROVED, None
    if state == APPROVED and (beyond := _beyond_approval(clinic, field)):
        # The approval would not cover the files past those the fingerprint reads: a change to one of them would
        # reach patients as approved.
        state, warning = OUTDATED, beyond
    return {
        "state": state,
        "approved": state == APPROVED,
        "fingerprint": current,
        "approval": approval.model_dump(mode="json") if approval else None,
        "warning": warning,
    }


def _beyond_approval(clinic: Clinic, field: tuple) -> Problem | None:
    """Why the clinic's folder cannot be approved as it is (more pictures and stylesheets than its fingerprint
    reads), or None."""
    shown = len(_shown_files(clinic))
    if shown <= MAX_OWN_FILES:
        return None
    return Problem(
        clinic.config_file, clinic.doc.line_of(field + ("fingerprint",)) or clinic.doc.line_of(("name",)),
        dotted(field + ("fingerprint",)),
        f"expected at most {MAX_OWN_FILES:,} pictures and stylesheets in the clinic's folder, which an approval "
        f"covers, got {shown:,}: no approval can cover them all, so every page is marked as a draft",
        WARNING, "approval", "remove the pictures and stylesheets the clinic's templates do not show, then build again",
    )


def approval_request(clinic: Clinic, content: Content) -> str:
    """What `generate.py --clinic <clinic> --approval` prints: the fingerprint, what it covers,
    and the block to paste."""
    status = approval_status(clinic)
    titles = ", ".join(content.of(clinic).treatments[slug].title for slug in clinic.treatments)
    approval = status["approval"] or {}
    now = {
        APPROVED: f"It is approved: {approval.get('name')} approved this content on {approval.get('date')}.",
        OUTDATED: f"The approval in the config ({approval.get('fingerprint')}) is for content that has changed since: "
        "every page is marked as a draft.",
        UNAPPROVED: "It is not approved yet: every page is marked as a draft.",
    }[status["state"]]
    field = ("approval",) if clinic.main else ("language_approvals", clinic.config.language)
    if beyond := _beyond_approval(clinic, field):
        now = f"It cannot be approved as it is: {beyond.message}; {beyond.hint}."
    language = language_name(clinic.language)
    if clinic.main:
        where, block, pad = "(in place of any approval: block already there)", ["approval:"], "  "
    # Each other language is approved on its own, by someone who reads it.
    else:
        where = f"under language_approvals: (in place of any {clinic.config.language}: block already there)"
        block, pad = ["language_approvals:", f"  {clinic.config.language}:"], "    "
    return "\n".join(
        [
            f"Content fingerprint for {clinic.config.name}"
            + ("" if clinic.main else f" in {language}")
            + f": {status['fingerprint']}",
            f"It covers what this clinic's patients read: {titles}, the comparison sheet and the shared text, "
            f"in {clinic.locale}, with the emergency number {clinic.emergency_number}. Not the branding.",
            now,
            "",
            "When the clinic's medical lead"
            + ("" if clinic.main else f" (or a clinician who reads {language} and answers to them)")
            + f" has read every brochure built from this content, put this block in "
            f"{display_path(clinic.config_file)} {where}, "
            "with their name, role and the date:",
            "",
            *block,
            f'{pad}name: ""          # who approved it, e.g. "Dr Jane Smith"',
            f'{pad}role: ""          # e.g. "Medical lead"'
            + ("" if clinic.main else f", written in {language}: it is printed on its pages"),
            f'{pad}date: ""          # the day they approved it, e.g. 2026-11-25',
            f"{pad}fingerprint: {status['fingerprint']}",
            "",
            "Any later change to this content changes the fingerprint, "
            "and the brochures say \"Draft\" again until it is approved again.",
        ]
    )


def clinic_option(clinic: Clinic, content: Content) -> str:
    """The clinic named on the command line, as --clinic (and --data when it is not the default): its slug when it
    lives in data/clinics/, else its folder; quoted for the shell, and a name that starts with "-" given as
    --clinic=-name (argparse would take it for an option), so that a command can be pasted as it is."""
    named = Path(os.path.abspath(clinic.config_file))
    in_data = content.data_dir / "clinics" / named.parent.name / "clinic.yaml"
    if in_data.exists() and Path(os.path.abspath(in_data)) == named:
        default = Path(os.path.abspath(content.data_dir)) == Path(os.path.abspath(DATA_DIR))
        data = "" if default else f" --data {shlex.quote(display_path(content.data_dir))}"
        return _clinic_argument(named.parent.name) + data
    return _clinic_argument(display_path(named.parent))


def _clinic_argument(value: str) -> str:
    return ("--clinic=" if value.startswith("-") else "--clinic ") + shlex.quote(value)


APPROVED, UNAPPROVED, OUTDATED = "approved", "unapproved", "outdated"
