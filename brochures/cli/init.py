"""A first day for a new clinic: `init` makes its folder (a commented clinic.yaml and a placeholder logo); `list` shows
the treatments and fonts it can choose."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from string import Template

import fontpkg
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

from brochures import DATA_DIR, PROJECT_ROOT, TEMPLATES_DIR, exits, given_path
from brochures.files.output_folder import WriteError, write_atomically
from brochures.load.clinic import load_clinic, safe_name
from brochures.load.content import load_content
from brochures.problems import InputError, describe, display_path, report_lines
from brochures.quality.placeholders import PLACEHOLDER_CONTACT
from brochures.schema.fields import SLUG_RULE
from brochures.schema.json_schema import CLINIC, SCHEMAS_DIR

# Clinic.yaml and logo.svg, with $placeholders.
STARTER = TEMPLATES_DIR / "starter"


# The colour clinic.yaml starts with, so the logo matches it.
PLACEHOLDER_COLOUR = "#0F6E6E"


def init(argv: list[str]) -> int:
    """`python generate.py init NAME [--data DIR]`: a new clinic folder that builds at once, then what to do next."""
    parser = argparse.ArgumentParser(prog="generate.py init", description=(
        "Make a new clinic folder, DATA/clinics/NAME/, with a clinic.yaml that explains every setting and builds "
        "as it is, and a placeholder logo. Nothing that exists is changed."))
    parser.add_argument(
        "name", help=f"the clinic's folder name, which names its output folder too: {SLUG_RULE}, like rosewood"
    )
    parser.add_argument(
        "--data", type=given_path, default=DATA_DIR, metavar="DIR",
        help="treatments, strings and clinics (default: data/)",
    )
    args = parser.parse_args(argv)

    if safe_name(args.name) != args.name:
        return refuse(
            f"expected a clinic folder name of {SLUG_RULE}, like \"rosewood\" "
            f"(and not ending in a dash and six hex digits), got {describe(args.name)}"
        )
    folder = args.data / "clinics" / args.name
    if os.path.lexists(folder):
        return refuse(
            f"{display_path(folder)} already exists, and nothing in it was changed: choose another name, "
            "or edit its clinic.yaml"
        )
    try:
        content = load_content(args.data)
    except InputError as error:
        print(
            f"The content in {display_path(args.data)} has mistakes, so no clinic was made; fix them first:",
            file=sys.stderr,
        )
        for line in report_lines(error.problems):
            print(f"  {line}", file=sys.stderr)
        return exits.INVALID

    title = args.name.replace("-", " ").title()
    data_option = (
        ""
        if Path(os.path.abspath(args.data)) == Path(os.path.abspath(DATA_DIR))
        else f" --data {display_path(args.data)}"
    )
    command = generator_command()
    values = {
        "command": command,
        "phone": PLACEHOLDER_CONTACT["phone"],
        "email": PLACEHOLDER_CONTACT["email"],
        "address": "".join(f"\n    - {line}" for line in PLACEHOLDER_CONTACT["address"]),
        "name": args.name,
        "title": title,
        "treatments": ", ".join(content.treatments),
        "data_option": data_option,
        "clinic_option": f" --clinic {args.name}{data_option}",
        "colour": PLACEHOLDER_COLOUR,
        "initial": initial_outline(title[0]),
        "schema": schema_reference(folder),
        # Its name, and 8 random hex digits: unique however many clinics are made with the same name.
        "clinic_id": f"{args.name[:50]}-{secrets.token_hex(4)}",
    }
    try:
        folder.mkdir(parents=True)
        for name in ("clinic.yaml", "logo.svg"):
            text = Template((STARTER / name).read_text(encoding="utf-8")).substitute(values)
            write_atomically(folder / name, text.encode("utf-8"))
    # A read-only folder, a full disk.
    except OSError as error:
        print(
            f"generate.py init: {error if isinstance(error, WriteError) else WriteError(folder, error)}",
            file=sys.stderr,
        )
        return exits.OUTPUT
    # What init writes builds as it is: a failure here is a bug.
    load_clinic(folder / "clinic.yaml", content)

    shown = display_path(folder)
    print(
        f"Made {shown}/ for {title}:\n"
        f"  {shown}/clinic.yaml   its settings, each explained in a note above it\n"
        f"  {shown}/logo.svg      a placeholder logo with its initial: "
        "replace it with the clinic's own (SVG, PNG or JPEG)\n\n"
        "Next:\n"
        f"  1. See every brochure in your browser:  {command} serve{values['clinic_option']}\n"
        f"     then open http://127.0.0.1:8000/ and keep it open.\n"
        f"  2. Edit {shown}/clinic.yaml: the name, colours, contact details and country (it says GB until you\n"
        "     change it). Each time you save, the pages in the browser change within seconds.\n"
        "  3. Every page says \"Draft\" until the clinic's medical lead approves the content:\n"
        f"     {command} --clinic {args.name}{data_option} --approval"
    )
    return exits.OK


def generator_command() -> str:
    """How to run the generator from where the user is: with the Python that runs it now when that is a virtual
    environment's (the system's `python` has not got the libraries), else `python`; each path relative to the
    working folder when it is inside it (`.venv/bin/python generate.py`), else in full."""

    def shown(path: Path) -> str:
        return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)

    python = shown(Path(sys.executable)) if sys.prefix != sys.base_prefix else "python"
    return f"{python} {shown(PROJECT_ROOT / 'generate.py')}"


def schema_reference(folder: Path) -> str:
    """Where clinic.yaml's first line points an editor for its JSON Schema: the committed schemas/clinic.schema.json,
    relative to the clinic's folder (../../../schemas/clinic.schema.json from data/clinics/NAME/), or as a file:// URI
    when there is no relative path (another drive on Windows)."""
    schema = SCHEMAS_DIR / CLINIC.file_name
    try:
        return Path(os.path.relpath(schema, os.path.abspath(folder))).as_posix()
    except ValueError:
        return schema.as_uri()


def refuse(message: str) -> int:
    print(f"generate.py init: {message}", file=sys.stderr)
    return exits.INVALID


def initial_outline(letter: str) -> str:
    """An SVG path of `letter` in Atkinson Hyperlegible Bold, centred in a 64-unit square: a logo that needs no font."""
    bold = next(
        face for face in fontpkg.family("Atkinson Hyperlegible").files if face.weight == 700 and face.style == "normal"
    )
    with TTFont(bold.path) as font:
        glyph_set = font.getGlyphSet()
        name = font.getBestCmap().get(ord(letter.upper())) or font.getBestCmap()[ord("C")]
        glyph = glyph_set[name]
        units = font["head"].unitsPerEm
        cap_height = getattr(font["OS/2"], "sCapHeight", 0) or units * 0.7
        # Capitals 30 units tall in the 64-unit circle.
        scale = 30 / cap_height
        pen = SVGPathPen(glyph_set, ntos=lambda value: f"{value:.2f}".rstrip("0").rstrip("."))
        x = 32 - glyph.width * scale / 2
        y = 32 + cap_height * scale / 2
        # Font units point up, SVG's down.
        glyph.draw(TransformPen(pen, (scale, 0, 0, -scale, x, y)))
        return pen.getCommands()
