"""`python generate.py html --out DIR [--clinic …] [--treatment …] [--variant …] [--layout …] [--data DIR]`: every
planned document as the standalone HTML the printer lays out, with a manifest (brochures/building/export.py)."""

from __future__ import annotations

import argparse
import sys

from brochures import exits, given_path
from brochures.building.console import Console
from brochures.building.export import export_html
from brochures.building.options import BuildOptions
from brochures.cli.build import add_document_choice
from brochures.files.output_folder import OutputFolderError, WriteError
from brochures.plan.documents import LAYOUTS, VARIANTS
from brochures.problems import display_path

DEFAULTS = BuildOptions()


def html_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py html",
        description="Write every document a build would print as standalone HTML (stylesheets inlined, a <base> for "
                    "the clinic's files), one folder per clinic, and a manifest.json listing each document with its "
                    "HTML file, output name, page size, PDF options and, for a booklet, the parts it binds: to print "
                    "with another engine, or to look at a template in a browser. Nothing is printed.",
        epilog="Exit codes: 0 written; 1 some documents could not be rendered (the rest were written); 2 invalid "
               "input or usage; 3 the folder could not be written.")
    parser.add_argument("--out", type=given_path, required=True, metavar="DIR",
                        help="where the HTML files and manifest.json are written")
    add_document_choice(parser, "only")
    parser.add_argument("--variant", choices=[*VARIANTS, "all"], default=DEFAULTS.variant,
                        help="standard (default), press or all, as in a build")
    parser.add_argument("--layout", choices=[*LAYOUTS, "all"], default=DEFAULTS.layout,
                        help="leaflet (default), trifold or all, as in a build")
    parser.add_argument("--data", type=given_path, default=DEFAULTS.data, metavar="DIR",
                        help="treatments, strings and clinics (default: data/)")
    return parser


def command(argv: list[str]) -> int:
    args = html_parser().parse_args(argv)
    options = BuildOptions(data=args.data, clinics=tuple(args.clinic or ()), treatments=tuple(args.treatment or ()),
                           variant=args.variant, layout=args.layout)
    console = Console()
    try:
        exported = export_html(options, args.out, note=console.warn)
    except (OutputFolderError, WriteError) as error:
        print(error, file=sys.stderr)
        return exits.OUTPUT
    for document in exported.written:
        console.say(f"  wrote      {display_path(document.output.with_suffix('.html'))}")
    for document, reason in exported.failed:
        console.warn(f"  FAILED     {display_path(document.output.with_suffix('.html'))}: {reason}")
    if exported.problems:
        console.invalid(exported.problems)
    if exported.manifest is not None:
        count = len(exported.written)
        console.say(f"Wrote {count} document{'s' if count != 1 else ''} as HTML, listed in "
                    f"{display_path(exported.manifest)}.")
    if exported.problems:
        return exits.INVALID
    return exits.FAILED if exported.failed else exits.OK

