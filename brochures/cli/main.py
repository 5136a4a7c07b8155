"""The command line: one dispatch table, every subcommand listed in `generate.py --help`."""

from __future__ import annotations

import sys

from brochures import exits
from brochures.cli.libraries import import_command

# Each subcommand: the module and function that run it (given the rest of the command line), and its line in --help.
COMMANDS = {
    "serve": ("brochures.cli.serve", "run", "a live preview of every page in the browser, rebuilt on every change"),
    "init": ("brochures.cli.init", "init", "a new clinic folder with a commented clinic.yaml, ready to edit"),
    "list": ("brochures.cli.list", "list_choices", "the treatments (or fonts) a clinic can choose"),
    "translations": ("brochures.cli.translations", "command",
                     "each language's translations: complete, up to date, reviewed (--stamp to mark one checked)"),
    "pack": ("brochures.pack.command", "main",
             "before the consultation: an email per booked patient with the approved leaflets (--send delivers)"),
    "merge-reports": ("brochures.cli.merge_reports", "merge_reports_command",
                      "one franchise report from every shard's output folder"),
    "schema": ("brochures.cli.schema", "command", "write the JSON Schemas editors use to check clinic.yaml"),
    "html": ("brochures.cli.html", "command",
             "each document as the standalone HTML it prints, with a manifest (--out DIR): for other engines"),
}


def main(argv: list[str] | None = None) -> int:
    """The front door, for tests and scripts: run a command line, return its exit code."""
    return dispatch(sys.argv[1:] if argv is None else list(argv))[0]


def dispatch(argv: list[str]):
    """Run one command line; the exit code, and the BuildResult when it was a build (for the unchanged-build stamp)."""
    if argv and argv[0] in COMMANDS:
        module, function, _ = COMMANDS[argv[0]]
        return getattr(import_command(module), function)(argv[1:]), None
    build = import_command("brochures.cli.build")
    if argv[:1] in (["-h"], ["--help"]):
        build.build_parser().print_help()
        print("\nsubcommands (each has --help):")
        for name, (_, _, said) in COMMANDS.items():
            print(f"  {name:14} {said}")
        return exits.OK, None
    return build.run(argv)
