"""Nothing personal is left behind: what a killed run half-wrote in the private folder goes on the next run and with
--purge, and what was already recorded as sent is never lost."""

from __future__ import annotations

import os

from brochures.files.output_folder import TEMP_PREFIX
from pack_support import pack, write_appointments


def leftover(out, slug="harbour"):
    """A temporary file as write_atomically leaves it when the process is killed mid-write: a whole message,
    under a process id that may be anyone's now."""
    folder = out / ".private" / slug
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TEMP_PREFIX}{os.getppid()}-abc123.tmp"
    path.write_text("To: Sam <sam@example.test>\n\nDear Sam, your appointment…\n")
    return path


def test_purge_removes_what_a_killed_run_half_wrote(clinic, capsys):
    folder, out = clinic
    path = leftover(out)
    assert pack(folder, out, "--purge") == 0
    assert not path.exists()
    assert "Removed 1 personal file" in capsys.readouterr().out


def test_the_next_run_removes_what_a_killed_run_half_wrote(clinic, tmp_path):
    folder, out = clinic
    path = leftover(out)
    rows = write_appointments(tmp_path / "a.csv", ["Sam,sam@example.test,2030-12-03,14:30,facial,"])
    assert pack(folder, out, "--appointments", str(rows)) == 0
    assert not path.exists()
    private = out / ".private" / "harbour"
    assert [p.suffix for p in private.iterdir() if p.name.startswith(TEMP_PREFIX)] == []
    assert len(list(private.glob("*.eml"))) == 1


def test_the_dry_run_says_what_was_read_in_the_clinics_words_and_never_who(clinic, tmp_path, capsys):
    """A receptionist checks each appointment as understood (a European date read as it was meant) without
    opening the emails; the patient's name and address are never printed."""
    folder, out = clinic
    rows = write_appointments(tmp_path / "a.csv", ["Sam,sam@example.test,05/01/2031,09:30,facial hair,"])
    # 05/01/2031 alone could be either: the clinic's order is given.
    assert pack(folder, out, "--appointments", str(rows), "--date-order", "day_first") == 0
    said = capsys.readouterr().out
    line = next(line for line in said.splitlines() if line.lstrip().startswith("wrote"))
    assert line.endswith("a.csv:2): Sunday 5 January 2031, 9:30; Facial mesotherapy and Hair mesotherapy")
    assert "Sam" not in said and "sam@example.test" not in said


def test_the_ledgers_journal_keeps_every_change_a_killed_run_made(tmp_path):
    """Each change is on disk, in the journal, before the run goes on; a line cut short by a kill is the one change
    never made, and the next run folds the rest into ledger.json."""
    import json

    import pytest

    from brochures.files.output_folder import OutputFolderError
    from brochures.pack.ledger import Ledger

    secret = b"k" * 32
    ledger = Ledger(tmp_path, secret)
    ledger.save()
    ledger.record_end_sent("a" * 20, "2026-11-25T09:00:00+00:00")
    ledger.record_sent("b" * 20, "2026-11-25T09:00:01+00:00", "<b@example-clinic.test>")
    # Killed here: nothing folded into ledger.json yet, and half a line written.
    with (tmp_path / "ledger.journal").open("a") as journal:
        journal.write('{"id": "cccccccccccccccccccc", "set": {"sta')
    assert json.loads((tmp_path / "ledger.json").read_text())["appointments"] == {}
    again = Ledger(tmp_path, secret)
    assert again.state("a" * 20) == "unknown" and again.state("b" * 20) == "sent" and again.state("c" * 20) is None
    # Folded in, and the journal emptied.
    assert (tmp_path / "ledger.journal").read_text() == ""
    assert json.loads((tmp_path / "ledger.json").read_text())["appointments"]["a" * 20]["state"] == "unknown"
    # A damaged line before others is not a cut-short last line: refused, rather than forgetting what was sent.
    (tmp_path / "ledger.journal").write_text('not json\n{"id": "dddddddddddddddddddd", "set": {}}\n')
    with pytest.raises(OutputFolderError, match="ledger.journal"):
        Ledger(tmp_path, secret)
