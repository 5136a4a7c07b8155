"""The ledger: what was made and sent for each appointment, by opaque id. Every change is appended to a journal and
flushed to disk before the run goes on, so a run killed at any point loses nothing it recorded; the journal is folded
into ledger.json (written whole, atomically) when a run ends.

    ledger.json       {"format": 1, "key_check": …, "appointments": {<opaque id>: entry}}
    ledger.journal    one line per change since: {"id": <opaque id>, "set": {field: value, …}}

An entry: {"day": "2031-06-03", "when": "2031-06-03T10:30", "row": "appointments.csv:7",
           "patient": <HMAC of the address and first name, keyed with the secret: their other invitations>,
           "content": <HMAC-SHA256 of the message, keyed with the secret>, "size": bytes,
           "state": "prepared" | "sent" | "refused" | "unknown", "sent": {"at": <time>, "message_id": <id>} or null,
           "end_sent_at": <time the end of the message went out>, "reason": <why it is refused or unknown>}

No entry holds a name or an address.
"""

from __future__ import annotations

import hmac
import json
import os
from datetime import datetime
from pathlib import Path

from brochures.files.output_folder import OutputFolderError, WriteError
from brochures.files.safe_read import read_regular_file
from brochures.pack.private_files import JOURNAL_FILE, LEDGER_FILE, SECRET_FILE, key_check, write_private
from brochures.problems import display_path

MAX_LEDGER_BYTES = 32 * 1024 * 1024

# The states a receptionist sees (pack --status).
PREPARED, SENT, REFUSED, UNKNOWN = "prepared", "sent", "refused", "unknown"


class Ledger:
    """What was made and sent for each appointment, by opaque id; each change on disk before the run goes on."""

    def __init__(self, folder: Path, secret: bytes | None = None):
        """With `secret`, the ledger must have been written with that key (its `key_check`), or it is refused: with
        another key every appointment gets a new id, and each would be sent again. A ledger from before the check
        gets it on its next save."""
        self.path = folder / LEDGER_FILE
        self.journal = folder / JOURNAL_FILE
        self.entries: dict[str, dict] = {}
        self.key_check = key_check(secret) if secret is not None else None
        recorded = None
        try:
            data = json.loads(read_regular_file(self.path, MAX_LEDGER_BYTES))
            self.entries = {str(opaque): dict(entry) for opaque, entry in dict(data["appointments"]).items()}
            recorded = data.get("key_check")
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise self._damaged(self.path, error) from None
        replayed = self._replay()
        if self.key_check is None:
            self.key_check = recorded
        elif recorded is not None and not hmac.compare_digest(str(recorded), self.key_check):
            secret_path = display_path(folder.parent / SECRET_FILE)
            raise OutputFolderError(
                f"{secret_path} is not the key this generator made for {display_path(self.path)} "
                "(the ledger was written with another key): every appointment would get a new id, "
                "and patients already sent their email would be sent it again; restore the key "
                "from a backup (nothing is prepared or sent until it is back)"
            )
        elif (recorded is None and self.entries) or replayed:
            # An older ledger learns its key now, so a swapped key is caught from the next run on; and what a killed
            # run left in the journal is folded in.
            self.save()

    @staticmethod
    def _damaged(path: Path, error: Exception) -> OutputFolderError:
        reason = "it is not a ledger this generator wrote"
        if isinstance(error, OSError) and error.strerror:
            reason = error.strerror
        return OutputFolderError(
            f"could not read {display_path(path)} ({reason}); it records which patients "
            "were sent their email, so nothing is prepared until it is restored"
        )

    def _replay(self) -> int:
        """Apply the journal's changes, in order; a last line cut short by a kill is what was never recorded."""
        try:
            text = read_regular_file(self.journal, MAX_LEDGER_BYTES).decode("utf-8")
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as error:
            raise self._damaged(self.journal, error) from None
        lines = text.split("\n")
        # Complete lines end with a newline: what follows the last one was cut short.
        complete = lines[:-1]
        for line in complete:
            if not line.strip():
                continue
            try:
                change = json.loads(line)
                opaque, values = str(change["id"]), dict(change["set"])
            except (ValueError, KeyError, TypeError) as error:
                raise self._damaged(self.journal, error) from None
            self.entries.setdefault(opaque, {"sent": None}).update(values)
        return len(complete) + (1 if lines[-1] else 0)

    def _record(self, opaque: str, values: dict) -> None:
        """One change, appended to the journal and flushed to disk, then applied."""
        line = json.dumps({"id": opaque, "set": values}, sort_keys=True) + "\n"
        try:
            descriptor = os.open(
                self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600
            )
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise WriteError(self.journal, error) from error
        self.entries.setdefault(opaque, {"sent": None}).update(values)

    def save(self) -> None:
        """Fold the journal into ledger.json: the whole ledger written atomically, then the journal emptied. A kill
        between the two leaves a journal whose changes are already in the ledger: applied again, they change nothing."""
        payload = {"format": 1, "appointments": self.entries}
        if self.key_check is not None:
            payload["key_check"] = self.key_check
        write_private(self.path, json.dumps(payload, indent=1, sort_keys=True).encode("utf-8"))
        try:
            os.truncate(self.journal, 0)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise WriteError(self.journal, error) from error

    def entry(self, opaque: str) -> dict:
        return self.entries.get(opaque) or {}

    def sent(self, opaque: str) -> dict | None:
        return self.entry(opaque).get("sent")

    def state(self, opaque: str) -> str | None:
        """prepared, sent, refused or unknown (its end went out and no answer was read); None if never made."""
        entry = self.entries.get(opaque)
        if entry is None:
            return None
        return SENT if entry.get("sent") else entry.get("state") or PREPARED

    def record_made(self, opaque: str, when: datetime, row: str, content: str, size: int, patient: str = "") -> None:
        values = {"day": when.date().isoformat(), "when": when.isoformat(timespec="minutes"), "row": row,
                  "content": content, "size": size}
        if patient:
            values["patient"] = patient
        if self.state(opaque) is None:
            values["state"] = PREPARED
        self._record(opaque, values)

    def invited(self, patient: str, after: datetime, but: str) -> list[datetime]:
        """The times of the appointments still to come (after `after`) that `patient` (`patient_hash`) was sent an
        invitation for, or may have been (unknown), other than the appointment `but` (an opaque id), in order."""
        return sorted(
            datetime.fromisoformat(entry["when"]) for opaque, entry in self.entries.items()
            if opaque != but and entry.get("patient") == patient and self.state(opaque) in (SENT, UNKNOWN)
            and datetime.fromisoformat(entry["when"]) > after
        )

    def record_end_sent(self, opaque: str, at: str) -> None:
        """Before the end of the message goes out: from here on, a lost answer, a kill or a timeout leaves it unknown,
        and no run sends it again by itself."""
        self._record(opaque, {"state": UNKNOWN, "end_sent_at": at, "reason": "no answer was read"})

    def record_unknown(self, opaque: str, reason: str) -> None:
        self._record(opaque, {"state": UNKNOWN, "reason": reason})

    def record_sent(self, opaque: str, at: str, message_id: str, by_hand: bool = False) -> None:
        sent = {"at": at, "message_id": message_id}
        if by_hand:
            sent["marked_by_hand"] = True
        self._record(opaque, {"state": SENT, "sent": sent, "reason": None})

    def record_refused(self, opaque: str, reason: str) -> None:
        """The server answered the message with a refusal: it was not delivered, and a re-run tries it again."""
        self._record(opaque, {"state": REFUSED, "reason": reason})

    def record_not_delivered(self, opaque: str, reason: str) -> None:
        """The server answered the end of the message with a temporary refusal: not taken, so it may go again."""
        self._record(opaque, {"state": PREPARED, "reason": reason})

    def record_resend_chosen(self, opaque: str, at: str) -> None:
        """A person checked with the patient and chose to send it again."""
        self._record(opaque, {"state": PREPARED, "resend_chosen_at": at, "reason": None})
