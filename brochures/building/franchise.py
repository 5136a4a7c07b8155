"""Merges the shard manifests and clinic reports of a sharded build into one franchise report (JSON and HTML).

    python generate.py merge-reports out-1 out-2 … --out franchise

Each folder is the `--out` of one or more shards. The merge refuses a manifest changed or damaged since its shard
wrote it, shards built from other content, options or code, shards of different splits, a shard given twice, a
missing shard, and a clinic claimed by two shards, so the report covers each clinic once, with every document of
every language it offers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from brochures import STYLES_DIR
from brochures.building.shards import MANIFEST, MANIFEST_FORMAT, STATUSES, manifest_checksum, status_counts
from brochures.files.output_folder import write_atomically
from brochures.files.safe_read import read_regular_file
from brochures.files.yaml_reader import read_yaml
from brochures.problems import display_path, printable
from brochures.quality.report import CHECK_REPORT_NAMES, REPORT_NAMES
from brochures.render.sandbox import PlainDataSandbox
from brochures.schema.errors import validate
from brochures.schema.strings import Strings

MAX_JSON_BYTES = 64 * 1024 * 1024


MANIFEST_FIELDS = {"format": int, "shard": int, "shards": int, "plan": str, "fingerprint": dict, "franchise": list,
                   "clinics": list, "documents": list, "counts": dict, "failures": int, "warnings": int,
                   "problems": list, "seconds": (int, float), "cost": (int, float), "options": dict, "checksum": str}


# What the content, options and code parts of a shard's fingerprint cover, for the refusal of shards that differ.
FINGERPRINT_PARTS = {
    "content": "content (the data folder's treatments, translations, strings, claims, shared.yaml or countries.yaml, "
               "or a clinic folder)",
    "options": "options (--treatment, --variant, --layout, --check)",
    "code": "generator (its code, libraries, templates or styles)",
}


# A clinic's output folder, or a language's folder inside it: never a path out of a shard's folder.
FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class MergeRefused(Exception):
    """The shards given cannot be merged into one report; the message says why."""


def load_strings(data_dir: Path) -> dict:
    doc = read_yaml(data_dir / "strings" / "en.yaml")
    return validate(Strings, doc).model_dump(mode="json")


def read_manifests(folders: list[Path]) -> list[tuple[Path, dict]]:
    """Every shard manifest in the folders given (its file and its content), each checked whole: its format, its
    checksum, its fields and their types, and that its documents add up to its counts."""
    found = []
    for folder in folders:
        if not folder.is_dir():
            raise MergeRefused(f"expected a shard's output folder, got {display_path(folder)}, which is not a folder")
        names = sorted(p.name for p in folder.iterdir() if MANIFEST.match(p.name))
        if not names:
            raise MergeRefused(f"expected a shard manifest (shard-K-of-N.json, written by generate.py --shard K/N) "
                               f"in {display_path(folder)}, found none")
        for name in names:
            path = folder / name
            manifest = read_json(path, what="a shard manifest written by generate.py --shard")
            check_manifest(path, manifest)
            found.append((path, manifest))
    return found


def check_manifest(path: Path, manifest) -> None:
    """Refuses, naming the file, a manifest of another format, changed or damaged since it was written, or whose
    fields do not fit together."""
    where = display_path(path)
    if not isinstance(manifest, dict):
        raise MergeRefused(f"{where}: expected a shard manifest (a JSON object), got a JSON {type(manifest).__name__}")
    if manifest.get("format") != MANIFEST_FORMAT or "checksum" not in manifest:
        raise MergeRefused(f"{where}: expected a shard manifest of format {MANIFEST_FORMAT}, got one written by "
                           f"another version of generate.py (format {printable(str(manifest.get('format', 1)))[:20]})"
                           f"; build the shard again")
    if manifest["checksum"] != manifest_checksum(manifest):
        raise MergeRefused(f"{where}: expected the shard manifest as its shard wrote it, got one changed or damaged "
                           f"since (its checksum does not match its content); build the shard again")
    for field, kind in MANIFEST_FIELDS.items():
        if not isinstance(manifest.get(field), kind) or isinstance(manifest.get(field), bool):
            raise MergeRefused(f"{where}: expected a shard manifest with the field {field!r}, got "
                               f"{'none' if field not in manifest else type(manifest[field]).__name__}")
    if not all(isinstance(manifest["fingerprint"].get(part), str) for part in FINGERPRINT_PARTS):
        raise MergeRefused(f"{where}: expected a fingerprint of its {', '.join(FINGERPRINT_PARTS)}, got "
                           f"{printable(json.dumps(manifest['fingerprint']))[:120]}")
    number = MANIFEST.match(path.name)
    if (manifest["shard"], manifest["shards"]) != (int(number[1]), int(number[2])) or manifest["shard"] < 1:
        raise MergeRefused(f"{where}: expected shard {int(number[1])} of {int(number[2])}, as the file is named, got "
                           f"shard {manifest['shard']} of {manifest['shards']}")
    for slug in [*manifest["franchise"], *manifest["clinics"]]:
        if not isinstance(slug, str) or not FOLDER_NAME.fullmatch(slug):
            raise MergeRefused(f"{where}: expected clinic output folder names, got {printable(repr(slug))[:120]}")
    if stray := sorted(set(manifest["clinics"]) - set(manifest["franchise"])):
        raise MergeRefused(f"{where}: expected its clinics among the franchise's, got {printable(stray[0])!r}, "
                           f"which is not")
    for document in manifest["documents"]:
        check_document(where, document, set(manifest["clinics"]))
    counts = status_counts(manifest["documents"])
    if manifest["counts"] != counts or manifest["failures"] != counts["failed"]:
        raise MergeRefused(f"{where}: expected counts that add up to its {len(manifest['documents'])} documents "
                           f"({printable(json.dumps(counts))}), got {printable(json.dumps(manifest['counts']))[:200]} "
                           f"and {manifest['failures']} failures")
    listed = [(d["clinic"], d["file"]) for d in manifest["documents"]]
    if len(set(listed)) != len(listed):
        twice = next(item for item in listed if listed.count(item) > 1)
        raise MergeRefused(f"{where}: expected each document once, got {printable('/'.join(twice))} twice")


def check_document(where: str, document, clinics: set[str]) -> None:
    """A document of one of the shard's clinic editions (example, example/es), with a known status."""
    fields = {"clinic": str, "language": str, "file": str, "status": str}
    if not isinstance(document, dict) or not all(isinstance(document.get(f), k) for f, k in fields.items()):
        raise MergeRefused(f"{where}: expected each document with its clinic, language, file and status, got "
                           f"{printable(json.dumps(document, ensure_ascii=False))[:200]}")
    edition = document["clinic"].split("/")
    if (len(edition) > 2 or not all(FOLDER_NAME.fullmatch(part) for part in edition) or edition[0] not in clinics
            or not FOLDER_NAME.fullmatch(document["file"])):
        raise MergeRefused(f"{where}: expected documents of its own clinics, got "
                           f"{printable(document['clinic'] + '/' + document['file'])[:200]}")
    if document["status"] not in STATUSES or not isinstance(document.get("error", ""), str):
        raise MergeRefused(f"{where}: expected a document's status to be one of {', '.join(STATUSES)}, got "
                           f"{printable(json.dumps(document, ensure_ascii=False))[:200]}")


def read_json(path: Path, what: str):
    try:
        return json.loads(read_regular_file(path, MAX_JSON_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise MergeRefused(f"{display_path(path)}: expected {what}, got a file that cannot be read as JSON "
                           f"({printable(str(error))[:120]})") from None


def check_same_build(found: list[tuple[Path, dict]]) -> None:
    """Refuses shards built from other content, other options or another generator, naming both files and what
    differs: their documents would not make one franchise's set."""
    first_path, first = found[0]
    for path, manifest in found[1:]:
        differ = [part for part in FINGERPRINT_PARTS if manifest["fingerprint"][part] != first["fingerprint"][part]]
        if differ:
            parts = " and ".join(FINGERPRINT_PARTS[part] for part in differ)
            raise MergeRefused(
                f"expected shards built from the same content, options and generator, got {display_path(first_path)} "
                f"and {display_path(path)}, whose {parts} differ; build every shard again from the same data with the "
                f"same options and the same generate.py"
            )


def merge(found: list[tuple[Path, dict]]) -> dict:
    """One franchise report from every shard's manifest and its clinics' report.json: every document of every
    language edition, each counted once."""
    check_same_build(found)
    first_path, first = found[0]
    for path, manifest in found[1:]:
        if (manifest["shards"], manifest["plan"]) != (first["shards"], first["plan"]):
            raise MergeRefused(
                f"expected shards of one split, got {display_path(path)} (of {manifest['shards']}, split "
                f"{manifest['plan']}) and {display_path(first_path)} (of {first['shards']}, split "
                f"{first['plan']}); build every shard from the same data with the same options"
            )
    by_number: dict[int, Path] = {}
    for path, manifest in found:
        if manifest["shard"] in by_number:
            raise MergeRefused(
                f"shard {manifest['shard']} of {first['shards']} is given twice, in "
                f"{display_path(by_number[manifest['shard']].parent)} and {display_path(path.parent)}"
            )
        by_number[manifest["shard"]] = path
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

    clinics, runs, problems, unbuilt = [], [], set(), []
    for path, manifest in sorted(found, key=lambda item: item[1]["shard"]):
        folder = path.parent
        runs.append(
            {
                "shard": manifest["shard"],
                "folder": display_path(folder),
                "clinics": len(manifest["clinics"]),
                "documents": len(manifest["documents"]),
                "failures": manifest["failures"],
                "not_attempted": manifest["counts"]["not attempted"],
                "warnings": manifest["warnings"],
                "cost": manifest["cost"],
                "seconds": manifest["seconds"],
            }
        )
        problems.update(manifest["problems"])
        for slug in manifest["clinics"]:
            clinics.append(merged_clinic(folder, slug, manifest))
        unbuilt += [
            {**d, "shard": manifest["shard"], "path": display_path(folder / d["clinic"] / d["file"])}
            for d in manifest["documents"]
            if d["status"] in ("failed", "not attempted")
        ]
    # Every shard's documents, each once: check_document let through only documents of the shard's own clinics.
    documents = [d for clinic in clinics for d in clinic["documents"]]
    return {
        "shards": first["shards"],
        "plan": first["plan"],
        "fingerprint": first["fingerprint"],
        "options": first["options"],
        "totals": {
            "clinics": len(clinics),
            "editions": sum(len(c["editions"]) for c in clinics),
            "languages": len({d["language"] for d in documents}),
            "documents": len(documents),
            "built": sum(c["built"] for c in clinics),
            "failed": sum(c["failed"] for c in clinics),
            "not_attempted": sum(c["not_attempted"] for c in clinics),
            "warnings": sum(run["warnings"] for run in runs),
            "problems": len(problems),
            "seconds": round(sum(run["seconds"] for run in runs), 1),
            "longest_shard_seconds": max(run["seconds"] for run in runs),
        },
        "shard_runs": runs,
        "clinics": sorted(clinics, key=lambda c: c["slug"]),
        "unbuilt": sorted(unbuilt, key=lambda d: (d["clinic"], d["file"])),
        "problems": sorted(problems),
    }


def counted(documents: list[dict]) -> dict:
    return {
        "built": sum(d["status"] not in ("failed", "not attempted") for d in documents),
        "failed": sum(d["status"] == "failed" for d in documents),
        "not_attempted": sum(d["status"] == "not attempted" for d in documents),
    }


def merged_clinic(folder: Path, slug: str, manifest: dict) -> dict:
    """A clinic of a shard: its documents in every language it offers, counted for each edition (example,
    example/es) and in all, and its report.json (which covers every language)."""
    documents = [d for d in manifest["documents"] if d["clinic"].split("/")[0] == slug]
    editions = []
    for edition in dict.fromkeys([slug, *sorted(d["clinic"] for d in documents)]):
        mine = [d for d in documents if d["clinic"] == edition]
        language = mine[0]["language"] if mine else None
        editions.append({"slug": edition, "language": language, "documents": len(mine), **counted(mine)})
    report_file = folder / slug / (CHECK_REPORT_NAMES if manifest.get("options", {}).get("check") else REPORT_NAMES)[0]
    report = read_json(report_file, "a clinic's report.json") if report_file.is_file() else None
    report = report if isinstance(report, dict) else None
    return {
        "slug": slug,
        "shard": manifest["shard"],
        "name": report["clinic"] if report and isinstance(report.get("clinic"), str) else slug,
        "languages": sorted({d["language"] for d in documents}),
        "documents": documents,
        **counted(documents),
        "warnings": len(report_warnings(report)),
        "editions": editions,
        "report": report,
    }


def report_warnings(report: dict | None) -> set[str]:
    """Every warning a clinic's report.json lists (in any of its languages), each once."""
    cards = report.get("documents") if report else None
    found = set()
    for card in cards if isinstance(cards, list) else []:
        warnings = card.get("warnings") if isinstance(card, dict) else None
        found.update(str(warning) for warning in (warnings if isinstance(warnings, list) else []))
    return found


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
