"""What one build is asked to do: the options below the command line, with the same defaults it shows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from brochures import DATA_DIR, PROJECT_ROOT
from brochures.building.shards import Shard
from brochures.building.tasks import Budget
from brochures.plan.documents import LAYOUTS, VARIANTS

# Each worker holds a WeasyPrint of its own: more than this only costs memory.
MAX_JOBS = 4 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class BuildOptions:
    """Every option of a build. `generate.py`, `serve` and `pack` fill it in; `build()` reads nothing else."""

    out: Path = PROJECT_ROOT / "out"
    data: Path = DATA_DIR
    # Clinic slugs, folders or clinic.yaml files; none means every clinic in data/clinics/.
    clinics: tuple[str, ...] = ()
    # Treatment slugs, "comparison" or "booklet"; none means every document.
    treatments: tuple[str, ...] = ()
    variant: str = VARIANTS[0]
    layout: str = LAYOUTS[0]
    force: bool = False
    check: bool = False
    strict: bool = False
    fail_fast: bool = False
    jobs: int = os.cpu_count() or 1
    time_limit: float = Budget.seconds
    memory_limit: int = Budget.memory_mb
    shard: Shard | None = None
    quiet: bool = False

    @property
    def variants(self) -> tuple[str, ...]:
        return VARIANTS if self.variant == "all" else (self.variant,)

    @property
    def layouts(self) -> tuple[str, ...]:
        return LAYOUTS if self.layout == "all" else (self.layout,)

    @property
    def only(self) -> set[str] | None:
        return set(self.treatments) if self.treatments else None

    def manifest(self) -> dict:
        """The options a shard's manifest records: shards built with other options cannot be merged."""
        return {"treatment": sorted(self.treatments), "variant": self.variant, "layout": self.layout,
                "check": self.check}
