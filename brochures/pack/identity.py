"""Which record of sent emails (out/.private/<name>/) is a clinic's: found by the clinic, not by its folder's name.

Each record keeps, in clinic.json, the clinic's id and every folder it was reached by: the path as named (links kept),
the folder it leads to, and that folder's device and inode. A clinic folder finds its record by its `clinic_id:` in
clinic.yaml when it has one (so a move to another disk, a copy made for a new release, or a rename all keep it), else
by being the same folder (reached through a link of another name), the same folder renamed or moved on its disk
(the same inode), or a folder in the same place (a release link switched to a new copy). Two folders that both say
the same `clinic_id` are refused: one of them is a copy, and with one ledger they would not be one clinic.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from brochures.files.output_folder import OutputFolderError
from brochures.files.safe_read import read_regular_file
from brochures.files.yaml_reader import read_yaml
from brochures.load.loaded import Clinic
from brochures.pack.private_files import PRIVATE_FOLDER, private_folder, write_private
from brochures.problems import InputError, Problem, display_path

IDENTITY_FILE = "clinic.json"
REGISTRY_LOCK = ".clinics.lock"
# Seconds to wait for another pack choosing its record (it holds the registry for a moment only).
REGISTRY_WAIT = 30.0
MAX_IDENTITY_BYTES = 1024 * 1024


@dataclass
class Record:
    """One clinic's record: its folder in out/.private/, its id, and the clinic folders it was reached by."""

    folder: Path
    clinic_id: str
    # Whether the id came from a clinic.yaml (clinic_id:), rather than being made by the pack.
    declared: bool = False
    # By the path as named: {"real": the folder it leads to, "device": …, "inode": …}
    folders: dict[str, dict] = field(default_factory=dict)

    def save(self) -> None:
        payload = {"format": 1, "clinic_id": self.clinic_id, "declared": self.declared, "folders": self.folders}
        write_private(self.folder / IDENTITY_FILE, json.dumps(payload, indent=1, sort_keys=True).encode("utf-8"))


@dataclass(frozen=True)
class Place:
    """Where a clinic folder is: as named, where it leads, and which folder it is on its disk."""

    named: str
    real: str
    device: int
    inode: int

    @staticmethod
    def of(folder: Path) -> Place:
        info = os.stat(folder)
        return Place(os.path.abspath(folder), os.path.realpath(folder), info.st_dev, info.st_ino)

    def recorded(self) -> dict:
        return {"real": self.real, "device": self.device, "inode": self.inode}


@contextlib.contextmanager
def registry_lock(out_dir: Path):
    """Held while a pack finds (or makes) its clinic's record, so two first runs through two names make one."""
    root = private_folder(out_dir, None)
    descriptor = os.open(root / REGISTRY_LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        deadline = time.monotonic() + REGISTRY_WAIT
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise OutputFolderError(
                        f"another pack has been choosing its clinic's record in {display_path(root)}/ for "
                        f"{REGISTRY_WAIT:.0f} s; wait for it to finish, then run the same command again"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)


def _records(root: Path) -> list[Record]:
    found = []
    for candidate in sorted(root.iterdir()) if root.is_dir() else []:
        if candidate.is_symlink() or not candidate.is_dir():
            continue
        try:
            data = json.loads(read_regular_file(candidate / IDENTITY_FILE, MAX_IDENTITY_BYTES))
            found.append(Record(candidate, str(data["clinic_id"]), bool(data.get("declared")), dict(data["folders"])))
        except FileNotFoundError:
            continue
        except (OSError, ValueError, KeyError, TypeError) as error:
            why = getattr(error, "strerror", None) or "it is not one this generator wrote"
            raise OutputFolderError(
                f"could not read {display_path(candidate / IDENTITY_FILE)} ({why}); "
                "it says which clinic the record of sent emails beside it belongs to, so nothing is prepared until "
                "it is restored"
            ) from None
    return found


def _same_folder(record: Record, place: Place) -> int:
    """How surely `place` is one of the record's folders: 3 the same folder, 2 the same folder renamed or moved on
    its disk, 1 another folder in the same place (a switched release link); 0 not at all."""
    best = 0
    for named, seen in record.folders.items():
        if seen.get("real") == place.real:
            best = max(best, 3)
        elif (seen.get("device"), seen.get("inode")) == (place.device, place.inode):
            best = max(best, 2)
        elif named == place.named:
            best = max(best, 1)
    return best


def _declared_id(folder: str) -> str | None:
    """The clinic_id another clinic folder's clinic.yaml declares, if it has one."""
    with contextlib.suppress(InputError, OSError, AttributeError):
        value = read_yaml(Path(folder) / "clinic.yaml").data.get("clinic_id")
        return str(value).strip() if value is not None else None
    return None


def _problem(clinic: Clinic, message: str) -> InputError:
    return InputError([Problem(clinic.config_file, clinic.doc.line_of(("clinic_id",)), "clinic_id", message)])


def clinic_record(out_dir: Path, clinic: Clinic, create: bool = True) -> Record | None:
    """The clinic's record of sent emails, found as the module says; made when there is none (unless `create` is
    false: then None, and nothing is written). Refused (InputError) when another folder declares the same clinic_id,
    or when the clinic_id this folder declares is not the one its record has. Call it under `registry_lock`."""
    root = out_dir / PRIVATE_FOLDER
    # The folder as named, links kept (the clinic's folder itself is resolved when it is loaded).
    place = Place.of(Path(os.path.abspath(clinic.config_file)).parent)
    declared = clinic.config.clinic_id
    records = _records(root)
    record = next((found for found in records if found.clinic_id == declared), None) if declared else None
    if record is None:
        ranked = sorted(((_same_folder(found, place), found) for found in records), key=lambda pair: -pair[0])
        if ranked and ranked[0][0]:
            record = ranked[0][1]
            if declared and record.declared:
                raise _problem(
                    clinic,
                    f'expected the id this clinic\'s record of sent emails has ("{record.clinic_id}", in '
                    f'{display_path(record.folder)}/), got "{declared}"; put back clinic_id: {record.clinic_id}, or, '
                    "if this folder is now another clinic, copy it to a new folder first",
                )
    if declared and record is not None:
        _refuse_a_second_folder(clinic, record, place, declared)
    if record is None:
        # A folder named after this clinic, from before records had ids: this clinic's, as the pack found it then.
        home = root / clinic.home
        earlier = home.is_dir() and not home.is_symlink() and not (home / IDENTITY_FILE).exists()
        if not create:
            return Record(home, "", False, {}) if earlier else None
        made_id = declared or f"{clinic.home[:40]}-{secrets.token_hex(4)}"
        name = clinic.home
        if not earlier and os.path.lexists(home) and not home.is_symlink():
            # Another clinic's record has the name.
            name = f"{clinic.home}-{made_id[-8:]}"
        record = Record(private_folder(out_dir, name), made_id, bool(declared), {})
    if not create:
        return record
    if declared and not record.declared:
        # The clinic now says its id: the record takes it.
        record.clinic_id, record.declared = declared, True
    record.folders = {**_still_elsewhere(record, place), place.named: place.recorded()}
    private_folder(out_dir, record.folder.name)
    record.save()
    return record


def _still_elsewhere(record: Record, place: Place) -> dict[str, dict]:
    """The record's other folders that are still there and still other ways to this clinic: not a name this folder
    had before it was renamed (gone, or another folder's now)."""
    kept = {}
    for named, seen in record.folders.items():
        if named == place.named or not os.path.isdir(named):
            continue
        if os.path.realpath(named) != place.real and (seen.get("device"), seen.get("inode")) == (
            place.device,
            place.inode,
        ):
            continue
        kept[named] = seen
    return kept


def _refuse_a_second_folder(clinic: Clinic, record: Record, place: Place, declared: str) -> None:
    for named in record.folders:
        if named == place.named or not os.path.isdir(named):
            continue
        with contextlib.suppress(OSError):
            if os.path.samefile(named, place.real):
                continue
        if _declared_id(named) == declared:
            raise _problem(
                clinic,
                f'expected an id no other clinic folder has, got "{declared}", which {display_path(Path(named))} '
                f"also has (its record of sent emails is {display_path(record.folder)}/): two folders with one "
                "record would not know what the other sent. If this folder is another clinic, give it its own "
                "clinic_id; if it replaces that folder, remove the other folder or its clinic_id",
            )
