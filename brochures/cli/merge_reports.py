"""`python generate.py merge-reports`: one franchise report from every shard's output folder."""

from __future__ import annotations

import argparse
import sys

from brochures import DATA_DIR, exits, given_path
from brochures.building.franchise import (
    MergeRefused,
    load_strings,
    merge,
    read_manifests,
    write_franchise_report,
)
from brochures.files.output_folder import WriteError
from brochures.problems import InputError, display_path, printable, report_lines


def merge_reports_command(argv: list[str]) -> int:
    """generate.py merge-reports: read every shard's manifest, refuse what does not fit together, write the report."""
    args = merge_parser().parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        print(f"merge-reports: --out {display_path(args.out)}: expected a folder for the franchise report, got a "
              "file; choose another --out. Nothing was written.", file=sys.stderr)
        return exits.OUTPUT
    try:
        strings = load_strings(args.data)
        report = merge(read_manifests(args.folders))
        paths = write_franchise_report(args.out, report, strings)
    except MergeRefused as refusal:
        print(f"merge-reports: {refusal}; nothing was written.", file=sys.stderr)
        return exits.INVALID
    except InputError as error:
        print("Invalid input; nothing was written:", file=sys.stderr)
        for line in report_lines(error.problems):
            print(f"  {line}", file=sys.stderr)
        return exits.INVALID
    except (OSError, WriteError) as error:
        print(f"merge-reports: could not write {display_path(args.out)}: {error}", file=sys.stderr)
        return exits.OUTPUT
    totals = report["totals"]
    if report["unbuilt"]:
        # Every document not built, in any language, as the build names its failures.
        print("Failures:", file=sys.stderr)
        for document in report["unbuilt"]:
            reason = document.get("error") or document["status"]
            print(f"  {document['path']} (shard {document['shard']}): {printable(reason)}", file=sys.stderr)
    languages = f" in {totals['languages']} languages" if totals["languages"] > 1 else ""
    print(f"Merged {report['shards']} shard{'s' if report['shards'] != 1 else ''}: {totals['clinics']} clinics"
          f"{languages}, {totals['built']} documents built, {totals['failed']} failed, {totals['not_attempted']} not "
          f"attempted, {totals['warnings']} warnings, {totals['problems']} input problems. "
          f"Report: {display_path(paths[1])}")
    return exits.FAILED if totals["failed"] or totals["not_attempted"] or totals["problems"] else exits.OK


def merge_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py merge-reports",
        description="Merge the reports of every shard of a sharded build (--shard K/N) into one franchise report.",
        epilog="Exit codes: 0 merged, every document built; 1 merged, with failures or invalid input; "
               "2 the shards cannot be merged (nothing written); 3 the report could not be written.")
    parser.add_argument("folders", nargs="+", type=given_path, metavar="SHARD_OUT",
                        help="the --out folder of each shard (one folder may hold several shards' manifests)")
    parser.add_argument("--out", type=given_path, required=True, metavar="DIR",
                        help="where franchise-report.json and franchise-report.html are written")
    parser.add_argument("--data", type=given_path, default=DATA_DIR, metavar="DIR",
                        help="the data folder whose strings label the HTML report (default: data/)")
    return parser
