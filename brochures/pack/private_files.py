"""Where patients' files live: a folder only its owner can open, opaque names, a ledger of what was sent, and purging.

    out/.private/                      mode 0700
    ├── secret                         0600: the key of opaque ids, message hashes and the send log's address hashes,
    │                                    made once per output folder
    ├── .clinics.lock                  0600: held for a moment while a pack finds its clinic's record (identity.py)
    └── <clinic>/                      0700
        ├── <opaque id>.eml            0600: one message per appointment, until the appointment has passed or --purge
        ├── <opaque id>.pdf            0600: the personal PDF (--pack pdf), likewise
        ├── clinic.json                0600: which clinic this is (its id) and the folders it was reached by
        ├── ledger.json                0600: per opaque id, the appointment's day, time and row, the message's keyed
        │                                    hash and its state (prepared, sent, refused, unknown); and an HMAC of a
        │                                    fixed label with the key, so another key is refused
        ├── ledger.journal             0600: the ledger's changes since it was last written whole, each on disk
        │                                    before the run goes on
        ├── .build.lock                0600: held while a pack runs; the process id only
        └── send-log.jsonl             0600: per attempt, time, opaque id, message id, result and an HMAC-SHA256 of
                                             the address (keyed with secret)

No file name, ledger entry or log line holds a name or an address.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import secrets
import stat
from datetime import date
from pathlib import Path

from brochures.files.output_folder import LOCK_FILE, TEMP_PREFIX, OutputFolderError, write_atomically
from brochures.problems import display_path

# A dot name: no clinic's output folder can take it (clinic slugs start with a letter or digit)
PRIVATE_FOLDER = ".private"
SECRET_FILE = "secret"
LEDGER_FILE = "ledger.json"
SEND_LOG = "send-log.jsonl"
# Written by ledger.py; a record of emails made with the key, like the ledger itself.
JOURNAL_FILE = "ledger.journal"
PERSONAL_SUFFIXES = (".eml", ".pdf")


def private_folder(out_dir: Path, clinic_slug: str | None) -> Path:
    """out/.private/<clinic>/ (or out/.private/ itself, without a clinic), made if needed, each level readable by its
    owner only; a link in its place is refused."""
    folder = out_dir / PRIVATE_FOLDER
    for level in (folder, folder / clinic_slug) if clinic_slug else (folder,):
        try:
            level.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise OutputFolderError(
                f"could not make the private folder {display_path(level)}/ ({error.strerror}); "
                "check the folder's permissions"
            ) from None
        info = os.lstat(level)
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise OutputFolderError(
                f"expected {display_path(level)}/ to be a folder this generator makes, got a link or "
                "a file; put back the folder it replaced (its ledger records what was sent), or "
                "remove it if there never was one"
            )
        if info.st_mode & 0o077:
            # Made by an older run, or under a looser umask.
            os.chmod(level, 0o700)
    return folder / clinic_slug if clinic_slug else folder


def install_secret(out_dir: Path) -> bytes:
    """The random key opaque ids are made with: the same for every run into this output folder."""
    path = out_dir / PRIVATE_FOLDER / SECRET_FILE
    # Without the key every appointment gets a new id, so the ledger would no longer know who was sent their email.
    without_it = (
        "every appointment would get a new id, and patients already sent their email would be sent it again; "
        "restore it from a backup (nothing is prepared or sent until it is back)"
    )
    try:
        key = _read_key(path)
        if len(key) == 32:
            return key
        raise OutputFolderError(
            f"{display_path(path)} is not the key this generator made ({len(key)} bytes, expected 32): {without_it}"
        )
    except FileNotFoundError:
        names = (LEDGER_FILE, JOURNAL_FILE, SEND_LOG)
        if records := sorted(found for name in names for found in path.parent.glob(f"*/{name}")):
            raise OutputFolderError(
                f"{display_path(path)} is missing, but {display_path(records[0])} records emails made "
                f"with it: without it {without_it}"
            ) from None
    # A link, a named pipe or a folder in its place, or unreadable.
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OutputFolderError(
                f"{display_path(path)} is a link, not the key this generator made: put the key file "
                "itself back (from a backup), so nothing can swap it from elsewhere"
            ) from None
        raise OutputFolderError(
            f"could not read {display_path(path)} ({error.strerror or error}); check the file and "
            "its folder's permissions"
        ) from None
    key = secrets.token_bytes(32)
    write_atomically(path, key, mode=0o600)
    return key


def _read_key(path: Path) -> bytes:
    """At most 64 bytes of the key file, never through a link (O_NOFOLLOW), and only from a regular file."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return os.read(descriptor, 64)
    finally:
        os.close(descriptor)


KEY_CHECK_LABEL = b"brochure pack ledger key check v1"


def key_check(secret: bytes) -> str:
    """What the ledger keeps to know its key again: an HMAC of a fixed label, which tells nothing about the key."""
    return hmac.new(secret, KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def private_lock(folder: Path) -> None:
    """Make (or tighten) the private folder's .build.lock as 0600, like every other file in it, before it is locked."""
    try:
        descriptor = os.open(
            folder / LOCK_FILE,
            os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0),
            0o600,
        )
    except OSError:
        # A link or something odd in its place: the lock itself refuses it, with its own message.
        return
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def opaque_id(secret: bytes, appointment_key: str) -> str:
    """A name for an appointment's files that says nothing about the patient, and is the same on every run."""
    return hmac.new(secret, appointment_key.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def patient_hash(secret: bytes, email: str, first_name: str) -> str:
    """Who an appointment is for, as the ledger keeps it: a keyed hash of the address and first name, so that a
    patient's other invitations can be found, and nothing names them."""
    key = f"patient|{email.strip().casefold()}|{first_name.strip().casefold()}"
    return hmac.new(secret, key.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def address_hash(secret: bytes, address: str) -> str:
    """What the send log keeps of an address: an HMAC-SHA256 of it (in lower case) with the install's secret key, never
    the address. Keyed, so it cannot be matched against a list of addresses without the key in out/.private/secret."""
    return hmac.new(secret, address.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def write_private(path: Path, data: bytes) -> None:
    write_atomically(path, data, mode=0o600)


def append_send_log(folder: Path, record: dict) -> None:
    """One line per delivery attempt. Opened for appending with mode 0600, flushed to disk at once."""
    descriptor = os.open(
        folder / SEND_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600
    )
    with os.fdopen(descriptor, "a", encoding="utf-8") as log:
        log.write(json.dumps(record, sort_keys=True) + "\n")
        log.flush()
        os.fsync(log.fileno())


def personal_files(folder: Path) -> list[Path]:
    return (
        sorted(path for path in folder.iterdir() if path.suffix in PERSONAL_SUFFIXES and path.is_file())
        if folder.is_dir()
        else []
    )


def leftover_temporaries(folder: Path) -> list[Path]:
    """The temporary files of writes that never finished (a run killed while writing a message, a PDF or the
    ledger): each may hold a whole message, a name and an address. Only called under the clinic's pack lock, so
    no other pack is writing them, whatever process ids they carry."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.name.startswith(TEMP_PREFIX) and path.suffix == ".tmp" and path.is_file())


def remove_leftovers(folder: Path) -> int:
    """Delete the temporary files killed runs left behind; how many there were."""
    removed = 0
    for path in leftover_temporaries(folder):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def purge(folder: Path) -> int:
    """Delete every patient's message and personal PDF, and what killed runs left half-written. The ledger, its
    journal and the send log stay: they hold no name or address, and without them an appointment could be sent twice."""
    removed = 0
    for path in personal_files(folder) + leftover_temporaries(folder):
        try:
            path.unlink()
        except OSError as error:
            raise OutputFolderError(
                f"could not delete {display_path(path)} ({error.strerror}); {removed} deleted so far, "
                "check the folder's permissions and run --purge again"
            ) from None
        removed += 1
    return removed


def remove_past(folder: Path, entries: dict[str, dict], today: date) -> int:
    """Delete the messages of appointments whose day has passed: they are kept no longer than they are useful."""
    removed = 0
    for opaque, entry in entries.items():
        if entry.get("day") and entry["day"] < today.isoformat():
            for suffix in PERSONAL_SUFFIXES:
                with contextlib.suppress(FileNotFoundError):
                    (folder / f"{opaque}{suffix}").unlink()
                    removed += 1
    return removed
