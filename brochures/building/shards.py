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
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from brochures.files.output_folder import write_atomically
from brochures.plan.documents import BOOKLET, COMPARISON, LEAFLET, Document

MAX_SHARDS = 10_000


# Set to 0, 1, … N-1 in each pod of a Kubernetes Indexed Job.
INDEX_VARIABLE = "JOB_COMPLETION_INDEX"


MANIFEST = re.compile(r"^shard-(\d+)-of-(\d+)\.json$")


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


def write_manifest(out_dir: Path, shard: Shard, plan: list[list[str]], costs: dict[str, float], options: dict,
                   documents: list[dict], problems: list[str], warnings: int, seconds: float) -> Path:
    """out/shard-K-of-N.json: what this shard was to build, what it built, and what went wrong."""
    mine = plan[shard.number - 1]
    data = {
        "shard": shard.number, "shards": shard.count, "plan": fingerprint(plan, options), "options": options,
        "franchise": sorted(slug for shard_clinics in plan for slug in shard_clinics),
        "clinics": mine, "cost": sum(costs[slug] for slug in mine),
        "documents": documents, "failures": sum(1 for d in documents if d["status"] == "failed"),
        "warnings": warnings, "problems": problems, "seconds": round(seconds, 1),
    }
    path = out_dir / shard.manifest_name
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))
    return path
