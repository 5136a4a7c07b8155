"""`python generate.py list treatments|fonts`: what a clinic can choose."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brochures import DATA_DIR, exits, given_path
from brochures.brand.fonts import available_fonts, refused_font_files
from brochures.load.clinic import find_clinic_file
from brochures.load.content import load_content
from brochures.problems import InputError, report_lines


def list_choices(argv: list[str]) -> int:
    """`python generate.py list treatments|fonts`: what a clinic can put in its clinic.yaml."""
    parser = argparse.ArgumentParser(prog="generate.py list", description=(
        "List the treatments a clinic can offer (treatments:) or the fonts it can choose (font:)."))
    parser.add_argument("what", choices=["treatments", "fonts"])
    parser.add_argument(
        "--data", type=given_path, default=DATA_DIR, metavar="DIR",
        help="treatments, strings and clinics (default: data/)",
    )
    parser.add_argument(
        "--clinic", metavar="PATH_OR_SLUG", help="for fonts: also the font files in this clinic's fonts/ folder"
    )
    args = parser.parse_args(argv)
    if args.what == "treatments":
        try:
            content = load_content(args.data)
        except InputError as error:
            for line in report_lines(error.problems):
                print(f"  {line}", file=sys.stderr)
            return exits.INVALID
        print("Treatments a clinic can offer (treatments: in clinic.yaml):")
        for slug, treatment in content.treatments.items():
            print(f"  {slug:12}  {treatment.title}")
        return exits.OK
    folder = Path("/nonexistent")
    if args.clinic:
        try:
            folder = find_clinic_file(args.clinic, args.data).parent
        except InputError as error:
            print("\n".join(report_lines(error.problems)), file=sys.stderr)
            return exits.INVALID
    print("Fonts a clinic can choose (font: in clinic.yaml):")
    for name in available_fonts(folder):
        print(f"  {name}")
    for message in refused_font_files(folder):
        print(f"  not used: {message}", file=sys.stderr)
    print(
        "More: install another font package into .venv (their names start with fontpkg-, like fontpkg-lexend), "
        "or put the font's files in the clinic's fonts/ folder."
    )
    return exits.OK
