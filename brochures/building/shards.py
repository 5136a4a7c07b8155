"""Splits a franchise's clinics into N shards of about equal expected cost, and records what one shard built.

The split depends only on what the build will make (each clinic's output folder name and its planned
documents), never on the order files are listed in, dict or set order, or hash randomisation, so every
machine given the same input and options computes the same split.

Cost model: one unit per brochure (leaflet or tri-fold, standard or press, each is printed and checked
on its own) and per comparison sheet. A booklet binds the pages its leaflets and comparison sheet were laid out
in, so it costs one unit, plus one for each of those parts the same build does not make (then it lays that part
out itself). Clinics are then dealt out by
longest-processing-time first: sorted by (cost, highest first; then folder name), each goes to the shard
with the least cost so far (the lowest-numbered shard on a tie).

Each shard's manifest records every document of every language edition it planned, with its status, and the
fingerprint of what it was built from (the content's files, the options, the generator), so that the merge can
refuse shards of other content; and a checksum over the rest, so that the merge can refuse a manifest changed or
damaged since it was written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from brochures import PROJECT_ROOT
from brochures.files.fingerprints import MAX_HASHED_BYTES, code_version, sha256
from brochures.files.output_folder import write_atomically
from brochures.files.safe_read import read_regular_file
from brochures.load.clinic import clinic_slugs, find_clinic_file
from brochures.plan.documents import BOOKLET, COMPARISON, LEAFLET, Document
from brochures.problems import InputError

MAX_SHARDS = 10_000


# Set to 0, 1, … N-1 in each pod of a Kubernetes Indexed Job.
INDEX_VARIABLE = "JOB_COMPLETION_INDEX"


MANIFEST = re.compile(r"^shard-(\d+)-of-(\d+)\.json$")


# The manifest's layout (2: each document's language, the counts, the content/options/code fingerprint, a checksum).
MANIFEST_FORMAT = 2


# What a document's status may be in a manifest.
STATUSES = ("wrote", "unchanged", "checked", "failed", "not attempted")


# The data folder's files a build reads (besides the clinic folders), and the generator's own files beside its code.
CONTENT_FILES = ("treatments", "translations", "strings", "claims", "shared.yaml", "countries.yaml")
CODE_FILES = ("generate.py", "templates", "styles")


@dataclass(frozen=True)
class Shard:
    # 1 to count.
    number: int
    count: int

    @property
    def manifest_name(self) -> str:
        return f"shard-{self.number}-of-{self.count}.json"


def shard_argument(text: str, environ=os.environ) -> Shard:
    """`--shard K/N` (1 ≤ K ≤ N ≤ 10000), or `--shard auto/N`: K is JOB_COMPLETION_INDEX + 1.

    Raises ValueError with the message for the user (argparse shows it as a usage error).
    """
    match = re.fullmatch(r"\s*(\d{1,6}|auto)\s*/\s*(\d{1,6})\s*", text)
    if not match:
        raise ValueError(f"expected K/N, such as 2/8 (shard 2 of 8), or auto/N, got {text!r}")
    count = int(match[2])
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"expected a number of shards N from 1 to {MAX_SHARDS:,}, got {text!r}")
    if match[1] != "auto":
        number = int(match[1])
        if not 1 <= number <= count:
            raise ValueError(f"expected a shard number K from 1 to {count} (K/N counts from 1), got {text!r}")
        return Shard(number, count)
    index = environ.get(INDEX_VARIABLE)
    if index is None or not re.fullmatch(r"\d{1,6}", index.strip()) or int(index) >= count:
        found = "it is not set" if index is None else f"got {index!r}"
        raise ValueError(f"auto/{count} takes the shard from {INDEX_VARIABLE} (set by a Kubernetes Indexed Job): "
                         f"expected a whole number from 0 to {count - 1}, {found}")
    return Shard(int(index) + 1, count)


def document_cost(document: Document, planned: set[tuple]) -> float:
    """A document's expected cost: 1 for a brochure or a comparison sheet. A booklet binds its parts' pages: 1,
    plus 1 for each part not in `planned` (the (edition, variant, layout, name) of every planned document)."""
    if document.kind != BOOKLET:
        return 1
    parts = [*document.clinic.treatments, COMPARISON]
    return 1 + sum((document.clinic.key, document.variant, LEAFLET, name) not in planned for name in parts)


def clinic_costs(documents: list[Document]) -> dict[str, float]:
    """Each clinic's expected cost (by its output folder name), from the documents planned for it."""
    planned = {(d.clinic.key, d.variant, d.layout, d.name) for d in documents}
    costs: dict[str, float] = {}
    for document in documents:
        # All its languages.
        costs[document.clinic.home] = costs.get(document.clinic.home, 0) + document_cost(document, planned)
    return costs


def split(costs: dict[str, float], count: int) -> list[list[str]]:
    """The clinics of each shard (shard 1 first), balanced by cost, longest first."""
    shards: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for slug in sorted(costs, key=lambda slug: (-costs[slug], slug)):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        shards[lightest].append(slug)
        loads[lightest] += costs[slug]
    return [sorted(shard) for shard in shards]


def fingerprint(plan: list[list[str]], options: dict) -> str:
    """Names one split of one franchise with one set of options: shards to merge must share it."""
    text = json.dumps({"plan": plan, "options": options}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def franchise_folders(references, data_dir: Path) -> list[Path]:
    """Every clinic folder the build was given (each shard loads them all): the folders named, or every clinic
    in the data folder. A reference that names no clinic is left out (the build reports it as invalid input)."""
    folders = []
    for reference in references or clinic_slugs(data_dir):
        try:
            folders.append(find_clinic_file(reference, data_dir).parent)
        except InputError:
            continue
    return folders


def _hashed_files(path: Path, key: str) -> list[tuple[str, str]]:
    """(relative name, hash of the bytes) of a file, or of every file under a folder; what cannot be read is
    named as such, so that it differs from any readable file."""
    if path.is_dir():
        found = []
        for folder, subfolders, names in os.walk(path):
            subfolders.sort()
            for name in sorted(names):
                file = Path(folder) / name
                found += _hashed_files(file, f"{key}/{file.relative_to(path).as_posix()}")
        return found
    try:
        return [(key, sha256(read_regular_file(path, MAX_HASHED_BYTES + 1)))]
    except FileNotFoundError:
        return [(key, "missing")]
    except OSError as error:
        return [(key, f"unreadable {type(error).__name__}")]


def content_fingerprint(data_dir: Path, clinic_folders: list[Path]) -> str:
    """The content a franchise is built from, by the bytes of its files: the data folder's CONTENT_FILES and every
    clinic folder (by its name, so that the same files elsewhere on another machine give the same fingerprint)."""
    entries = [entry for name in CONTENT_FILES for entry in _hashed_files(data_dir / name, name)]
    for folder in clinic_folders:
        entries += _hashed_files(folder, f"clinics/{folder.name}")
    return sha256(json.dumps(sorted(entries), ensure_ascii=False).encode("utf-8"))[:16]


def code_fingerprint() -> str:
    """The generator that built a shard: its code and printing libraries (code_version), generate.py, and the
    templates and stylesheets every document is rendered with."""
    entries = [entry for name in CODE_FILES for entry in _hashed_files(PROJECT_ROOT / name, name)]
    return sha256(json.dumps([code_version(), sorted(entries)]).encode("utf-8"))[:16]


def manifest_checksum(data: dict) -> str:
    """The sha256 of a manifest's canonical JSON without its checksum: a manifest changed or damaged after its
    shard wrote it no longer matches."""
    canonical = {key: value for key, value in data.items() if key != "checksum"}
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return sha256(text.encode("utf-8"))


def status_counts(documents: list[dict]) -> dict[str, int]:
    """How many documents have each status, and how many there are."""
    counts = {status: sum(1 for d in documents if d.get("status") == status) for status in STATUSES}
    return {"documents": len(documents), **counts}


def write_manifest(out_dir: Path, shard: Shard, plan: list[list[str]], costs: dict[str, float], options: dict,
                   documents: list[dict], problems: list[str], warnings: int, seconds: float,
                   data_dir: Path, clinic_references=()) -> Path:
    """out/shard-K-of-N.json: what this shard was to build, from what content, options and code, what it built,
    and what went wrong; with a checksum over the rest, which the merge verifies."""
    mine = plan[shard.number - 1]
    data = {
        "format": MANIFEST_FORMAT,
        "shard": shard.number, "shards": shard.count, "plan": fingerprint(plan, options), "options": options,
        "fingerprint": {
            "content": content_fingerprint(data_dir, franchise_folders(clinic_references, data_dir)),
            "options": sha256(json.dumps(options, sort_keys=True, ensure_ascii=False).encode("utf-8"))[:16],
            "code": code_fingerprint(),
        },
        "franchise": sorted(slug for shard_clinics in plan for slug in shard_clinics),
        "clinics": mine, "cost": sum(costs[slug] for slug in mine),
        "documents": documents, "counts": status_counts(documents),
        "failures": sum(1 for d in documents if d["status"] == "failed"),
        "warnings": warnings, "problems": problems, "seconds": round(seconds, 1),
    }
    data["checksum"] = manifest_checksum(data)
    path = out_dir / shard.manifest_name
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))
    return path
