"""`python generate.py schema [--out DIR] [--check]`: write the JSON Schemas editors use to check clinic.yaml and the
treatment files as they are typed, or check that the committed ones match the models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brochures import exits, given_path
from brochures.files.output_folder import WriteError, write_atomically
from brochures.problems import display_path
from brochures.schema.json_schema import SCHEMAS_DIR, schema_texts


def command(argv: list[str]) -> int:
    """Write (or with --check, compare) every schema in the folder; the exit code."""
    parser = argparse.ArgumentParser(prog="generate.py schema", description=(
        "Write the JSON Schemas of clinic.yaml and of a treatment file, made from the generator's own checks, so that "
        "an editor completes every setting and flags a mistake as it is typed. Run it after changing a model in "
        "brochures/schema/, and commit what it writes."))
    parser.add_argument("--out", type=given_path, default=SCHEMAS_DIR, metavar="DIR",
                        help="the folder to write them to (default: schemas/)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a schema in the folder is missing or differs from the models")
    args = parser.parse_args(argv)

    texts = schema_texts()
    stale = [name for name, text in texts.items() if _read(args.out / name) != text]
    if args.check:
        if stale:
            for name in stale:
                print(f"{display_path(args.out / name)} is out of date with the models", file=sys.stderr)
            print("Run `python generate.py schema` and commit what it writes.", file=sys.stderr)
            return exits.FAILED
        print(f"The schemas in {display_path(args.out)}/ match the models.")
        return exits.OK
    try:
        # Only what changed is rewritten, each file whole or not at all.
        for name in stale:
            write_atomically(args.out / name, texts[name].encode("utf-8"))
    except WriteError as error:
        print(f"generate.py schema: {error}", file=sys.stderr)
        return exits.OUTPUT
    for name in texts:
        print(f"{'Wrote' if name in stale else 'Unchanged'}: {display_path(args.out / name)}")
    return exits.OK


def _read(path: Path) -> str | None:
    """The file's text, or None when it is missing or cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
