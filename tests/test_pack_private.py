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
    assert pack(folder, out, "--appointments", str(rows)) == 0
    said = capsys.readouterr().out
    line = next(line for line in said.splitlines() if line.lstrip().startswith("wrote"))
    assert line.endswith("a.csv:2): Sunday 5 January 2031, 9:30; Facial mesotherapy and Hair mesotherapy")
    assert "Sam" not in said and "sam@example.test" not in said
