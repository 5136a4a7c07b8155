"""Merges the shard manifests and clinic reports of a sharded build into one franchise report (JSON and HTML).

    python generate.py merge-reports out-1 out-2 … --out franchise

Each folder is the `--out` of one or more shards. The merge refuses shards of different splits, a shard
given twice, a missing shard, and a clinic claimed by two shards, so the report covers each clinic once.
"""

from __future__ import annotations

import json
from pathlib import Path

from brochures import STYLES_DIR
from brochures.building.shards import MANIFEST
from brochures.files.output_folder import write_atomically
from brochures.files.safe_read import read_regular_file
from brochures.files.yaml_reader import read_yaml
from brochures.problems import display_path, printable
from brochures.render.sandbox import PlainDataSandbox
from brochures.schema.errors import validate
from brochures.schema.strings import Strings

MAX_JSON_BYTES = 64 * 1024 * 1024


MANIFEST_FIELDS = {"shard": int, "shards": int, "plan": str, "franchise": list, "clinics": list, "documents": list,
                   "failures": int, "warnings": int, "problems": list, "seconds": (int, float), "cost": (int, float),
                   "options": dict}


class MergeRefused(Exception):
    """The shards given cannot be merged into one report; the message says why."""


def load_strings(data_dir: Path) -> dict:
    doc = read_yaml(data_dir / "strings" / "en.yaml")
    return validate(Strings, doc).model_dump(mode="json")


def read_manifests(folders: list[Path]) -> list[tuple[Path, dict]]:
    """Every shard manifest in the folders given, each checked for the fields the merge reads."""
    found = []
    for folder in folders:
        if not folder.is_dir():
            raise MergeRefused(f"expected a shard's output folder, got {display_path(folder)}, which is not a folder")
        names = sorted(p.name for p in folder.iterdir() if MANIFEST.match(p.name))
        if not names:
            raise MergeRefused(f"expected a shard manifest (shard-K-of-N.json, written by generate.py --shard K/N) "
                               f"in {display_path(folder)}, found none")
        for name in names:
            found.append((folder, read_json(folder / name, what="a shard manifest written by generate.py --shard")))
    for folder, manifest in found:
        for field, kind in MANIFEST_FIELDS.items():
            if not isinstance(manifest.get(field), kind) or isinstance(manifest.get(field), bool):
                raise MergeRefused(f"{display_path(folder)}: expected a shard manifest with the field {field!r}, got "
                                   f"{'none' if field not in manifest else type(manifest[field]).__name__}")
    return found


def read_json(path: Path, what: str):
    try:
        return json.loads(read_regular_file(path, MAX_JSON_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise MergeRefused(f"{display_path(path)}: expected {what}, got a file that cannot be read as JSON "
                           f"({printable(str(error))[:120]})") from None


def merge(found: list[tuple[Path, dict]]) -> dict:
    """One franchise report from every shard's manifest and its clinics' report.json."""
    first_folder, first = found[0]
    for folder, manifest in found[1:]:
        if (manifest["shards"], manifest["plan"]) != (first["shards"], first["plan"]):
            raise MergeRefused(
                f"expected shards of one split, got {display_path(folder)} (of {manifest['shards']}, split "
                f"{manifest['plan']}) and {display_path(first_folder)} (of {first['shards']}, split "
                f"{first['plan']}); build every shard from the same data with the same options"
            )
    by_number: dict[int, Path] = {}
    for folder, manifest in found:
        if manifest["shard"] in by_number:
            raise MergeRefused(
                f"shard {manifest['shard']} of {first['shards']} is given twice, in "
                f"{display_path(by_number[manifest['shard']])} and {display_path(folder)}"
            )
        by_number[manifest["shard"]] = folder
    if missing := [n for n in range(1, first["shards"] + 1) if n not in by_number]:
        raise MergeRefused(
            f"expected all {first['shards']} shards, got none for shard "
            f"{', '.join(map(str, missing[:20]))}{' …' if len(missing) > 20 else ''}"
        )
    owner: dict[str, int] = {}
    for _, manifest in found:
        for slug in manifest["clinics"]:
            if slug in owner:
                raise MergeRefused(
                    f"clinic {printable(slug)!r} is in shard {owner[slug]} and shard {manifest['shard']}"
                )
            owner[slug] = manifest["shard"]
    if missing := sorted(set(first["franchise"]) - set(owner)):
        raise MergeRefused(f"no shard built clinic {', '.join(map(printable, missing[:20]))}")

    clinics, runs, problems = [], [], set()
    for folder, manifest in sorted(found, key=lambda item: item[1]["shard"]):
        runs.append(
            {
                "shard": manifest["shard"],
                "folder": display_path(folder),
                "clinics": len(manifest["clinics"]),
                "documents": len(manifest["documents"]),
                "failures": manifest["failures"],
                "warnings": manifest["warnings"],
                "cost": manifest["cost"],
                "seconds": manifest["seconds"],
            }
        )
        problems.update(manifest["problems"])
        for slug in manifest["clinics"]:
            documents = [d for d in manifest["documents"] if d.get("clinic") == slug]
            report_file = folder / slug / "report.json"
            report = read_json(report_file, "a clinic's report.json") if report_file.is_file() else None
            clinics.append(
                {
                    "slug": slug,
                    "shard": manifest["shard"],
                    "name": report["clinic"] if isinstance(report, dict) and "clinic" in report else slug,
                    "documents": documents,
                    "built": sum(d["status"] != "failed" and d["status"] != "not attempted" for d in documents),
                    "failed": sum(d["status"] == "failed" for d in documents),
                    "warnings": len(
                        {w for card in (report or {}).get("documents", []) for w in card.get("warnings", [])}
                    ),
                    "report": report,
                }
            )
    documents = [d for clinic in clinics for d in clinic["documents"]]
    return {
        "shards": first["shards"],
        "plan": first["plan"],
        "options": first["options"],
        "totals": {
            "clinics": len(clinics),
            "documents": len(documents),
            "built": sum(c["built"] for c in clinics),
            "failed": sum(c["failed"] for c in clinics),
            "not_attempted": sum(d["status"] == "not attempted" for d in documents),
            "warnings": sum(run["warnings"] for run in runs),
            "problems": len(problems),
            "seconds": round(sum(run["seconds"] for run in runs), 1),
            "longest_shard_seconds": max(run["seconds"] for run in runs),
        },
        "shard_runs": runs,
        "clinics": sorted(clinics, key=lambda c: c["slug"]),
        "problems": sorted(problems),
    }


def write_franchise_report(out_dir: Path, report: dict, strings: dict) -> list[Path]:
    """franchise-report.json for scripts, franchise-report.html for the head office; both written atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "franchise-report.json", out_dir / "franchise-report.html"]
    text = json.dumps(report, indent=2, ensure_ascii=False)
    html = PlainDataSandbox(None).render_plain(
        "franchise_report.html.j2",
        {
            "report": json.loads(text),
            "t": strings,
            "stylesheet": (STYLES_DIR / "report.css").read_text(encoding="utf-8"),
        },
    )
    write_atomically(paths[0], text.encode("utf-8"))
    write_atomically(paths[1], html.encode("utf-8"))
    return paths
