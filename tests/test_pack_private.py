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
