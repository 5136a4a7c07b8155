"""The clinics a build is asked for: each found, loaded in every language it offers, and told apart."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from brochures.load.clinic import clinic_slugs, find_clinic_file, load_editions
from brochures.load.content import Content
from brochures.load.loaded import Clinic
from brochures.problems import InputError, Problem, display_path


def load_clinics(references, data_dir: Path, content: Content,
                 note=lambda text: print(text, file=sys.stderr)) -> tuple[list[Clinic], list[Problem]]:
    """Every valid clinic asked for (every clinic in the data folder when none is named), one edition per language
    it offers, and the problems of those that are not valid."""
    clinics, problems = [], []
    if not references:
        references = clinic_slugs(data_dir)
        if not references:
            return [], [Problem(data_dir / "clinics", None, "",
                                "expected at least one clinic folder with a clinic.yaml, found none")]
    for reference in references:
        try:
            config_file = find_clinic_file(reference, data_dir)
            if Path(os.path.realpath(config_file)).parent != Path(os.path.realpath(config_file.parent)):
                raise InputError([Problem(config_file, None, "", "expected a clinic.yaml inside its clinic folder, "
                                                                 "got a link to a file outside it")])
            editions, unbuildable = load_editions(config_file, content)
        except InputError as error:
            problems += error.problems
            continue
        # A language whose translation is incomplete: the clinic's other languages are built.
        problems += unbuildable
        clinic = editions[0]
        if same := next((other for other in clinics if clinic.folder == other.folder), None):
            # Not simply named twice: say why it is not built again.
            if clinic.config_file != same.config_file:
                note(f"note: {display_path(clinic.config_file)} is the same clinic as {display_path(same.config_file)} "
                     "(a link to it), so it is built once")
            continue
        if clash := next((other for other in clinics if other.slug == clinic.slug), None):
            problems.append(Problem(clinic.config_file, None, "",
                                    f"expected a clinic folder name of its own, got one that gives the same output "
                                    f"folder {clinic.slug}/ as {display_path(clash.folder)}"))
            continue
        # One clinic for each language it offers, each with its own output folder.
        clinics += editions
    return clinics, problems

