"""An unchanged rebuild is answered from the stamp without loading the libraries, and only when nothing it
depended on or wrote has changed. Run as a user runs it: `python generate.py` in its own process."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DATA, ROOT, edit_config

STAMP = ".build-stamp.json"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "generate.py"), *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def replayed(result: subprocess.CompletedProcess) -> bool:
    """True when the answer came from the stamp: WeasyPrint was never imported."""
    return not re.search(r"import time:.*\bweasyprint\b", result.stderr)


def report(result: subprocess.CompletedProcess) -> tuple[str, str]:
    """What the user reads, without the build's time and the interpreter's import timings."""
    out = re.sub(r" in \d+\.\d s", " in … s", result.stdout)
    return out, "".join(line for line in result.stderr.splitlines(True) if not line.startswith("import time:"))


@pytest.fixture
def built(tmp_path) -> tuple[Path, list[str]]:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    command = ["--data", str(data), "--treatment", "facial", "--out", str(tmp_path / "out")]
    first = run(*command)
    assert first.returncode == 0 and "wrote" in first.stdout and not replayed(first)
    # Every document unchanged: this build leaves a stamp.
    second = run(*command)
    assert second.returncode == 0 and "unchanged" in second.stdout and not replayed(second)
    assert (tmp_path / "out" / STAMP).is_file()
    return data, command


def test_an_unchanged_rebuild_prints_the_same_report_without_loading_the_libraries(built):
    data, command = built
    second, third = run(*command), run(*command)
    assert replayed(third) and third.returncode == second.returncode == 0
    assert report(third) == report(second)
    # The approval warning, again.
    assert "1 unchanged since the last build" in third.stdout and "warning:" in third.stdout


@pytest.mark.parametrize("change", ["edit data", "add a file", "touch a pdf", "delete a pdf", "another option"])
def test_any_change_runs_the_build(built, tmp_path, change):
    data, command = built
    pdf = tmp_path / "out" / "example" / "facial.pdf"
    if change == "edit data":
        edit_config(data / "clinics" / "example", 'primary: "#0F6E6E"', 'primary: "#0F6E6F"')
    elif change == "add a file":
        (data / "clinics" / "example" / "notes.txt").write_text("a new file in the clinic folder")
    elif change == "touch a pdf":
        os.utime(pdf, ns=(pdf.stat().st_atime_ns, pdf.stat().st_mtime_ns + 1))
    elif change == "delete a pdf":
        pdf.unlink()
    else:
        command = [*command, "--strict"]
    result = run(*command)
    assert not replayed(result)
    if change == "another option":
        assert result.returncode == 1 and "--strict: 1 warning counts as a failure." in result.stderr
        again = run(*command)
        # Its own stamp, its own exit code.
        assert replayed(again) and again.returncode == 1 and report(again) == report(result)
    if change in ("edit data", "delete a pdf"):
        assert "wrote" in result.stdout and pdf.is_file()


def test_no_replay_while_another_build_holds_the_folder(built, tmp_path):
    data, command = built
    with open(tmp_path / "out" / ".build.lock", "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run(*command)
    assert result.returncode == 3 and "another build is writing" in result.stderr


@pytest.mark.parametrize("extra", [["--force"], ["--check"], ["--approval"]])
def test_options_that_ask_for_something_else_are_never_replayed(built, extra):
    data, command = built
    assert not replayed(run(*command, *extra))


def test_a_damaged_stamp_is_ignored(built, tmp_path):
    data, command = built
    (tmp_path / "out" / STAMP).write_text('{"key": [], "files": 3')
    result = run(*command)
    assert result.returncode == 0 and not replayed(result) and "unchanged" in result.stdout


def test_a_file_saved_while_the_build_ran_leaves_no_stamp(tmp_path):
    """The inputs are noted before the build reads them; one saved meanwhile may not be in the PDFs, so the
    build is not remembered, and the next run builds again."""
    from brochures.building import stamp as build_stamp
    data = tmp_path / "data"
    (data / "clinics").mkdir(parents=True)
    config = data / "clinics" / "clinic.yaml"
    config.write_text('primary: "#0F6E6E"\n')
    argv = ["--data", str(data), "--out", str(tmp_path / "out")]
    (tmp_path / "out").mkdir()
    before = build_stamp.snapshot([data])
    # Same size, saved while the build ran.
    config.write_text('primary: "#6A1B9A"\n')
    build_stamp.record(argv, before, [data], [], "report", "", 0)
    assert not (tmp_path / "out" / STAMP).exists()
    build_stamp.record(argv, build_stamp.snapshot([data]), [data], [], "report", "", 0)
    assert (tmp_path / "out" / STAMP).exists()


def test_a_modification_time_set_back_by_hand_is_still_a_change(tmp_path):
    from brochures.building import stamp as build_stamp
    path = tmp_path / "clinic.yaml"
    path.write_text('primary: "#0F6E6E"\n')
    was = build_stamp.state(str(path))
    mtime = path.stat().st_mtime_ns
    path.write_text('primary: "#6A1B9A"\n')
    os.utime(path, ns=(mtime, mtime))
    assert build_stamp.state(str(path)) != was


def test_the_environment_a_build_depends_on_is_part_of_its_key(built):
    data, command = built
    result = run(*command, env={"SOURCE_DATE_EPOCH": "0"})
    assert not replayed(result)
