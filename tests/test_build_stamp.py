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
    # Every document written: the build that wrote them leaves the stamp that answers the next one.
    assert (tmp_path / "out" / STAMP).is_file()
    return data, command


def test_the_build_that_writes_the_files_makes_the_first_rebuild_instant(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    command = ["--data", str(data), "--treatment", "facial", "--treatment", "comparison", "--jobs", "1",
               "--out", str(tmp_path / "out")]
    first = run(*command)
    assert first.returncode == 0 and first.stdout.count("wrote") == 2 and not replayed(first)
    # The very next run lays nothing out, and does not even load WeasyPrint.
    second = run(*command)
    assert replayed(second) and second.returncode == 0
    assert second.stdout.count("unchanged  ") == 2 and "(2 unchanged since the last build)" in second.stdout
    # It says exactly what a build that finds every document unchanged says.
    (tmp_path / "out" / STAMP).unlink()
    real = run(*command)
    assert not replayed(real) and real.returncode == 0 and "wrote" not in real.stdout
    assert report(second) == report(real)


def test_an_unchanged_rebuild_prints_the_same_report_without_loading_the_libraries(built):
    data, command = built
    second, third = run(*command), run(*command)
    assert replayed(second) and replayed(third) and third.returncode == second.returncode == 0
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
        # The approval, and the example's four contact details that reach no one.
        assert result.returncode == 1 and "--strict: 5 warnings count as failures." in result.stderr
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


def pdf_words(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def stamped_build(command: list[str]) -> None:
    """A build: it leaves a stamp, and the next run is replayed from it."""
    assert run(*command).returncode == 0
    again = run(*command)
    assert "unchanged" in again.stdout and replayed(again)


@pytest.mark.parametrize("reached", ["a linked data folder", "a linked clinic folder", "a moved data folder"])
def test_unchanged_means_every_file_read_is_unchanged_whatever_leads_to_it(tmp_path, reached):
    """A corrected emergency number in a new release is printed, whether the data folder is reached through a
    link (current -> releases/…), the clinic folder is a link, or the folder was swapped for another copy."""
    release = tmp_path / "releases" / "1"
    shutil.copytree(DATA, release)
    if reached == "a linked data folder":
        data = tmp_path / "current"
        data.symlink_to(release)
    elif reached == "a linked clinic folder":
        data = release
        shutil.move(release / "clinics" / "example", tmp_path / "example-clinic")
        (release / "clinics" / "example").symlink_to(tmp_path / "example-clinic")
    else:
        data = release
    out = tmp_path / "out"
    command = ["--data", str(data), "--treatment", "facial", "--out", str(out)]
    stamped_build(command)
    assert "Call 999" in pdf_words(out / "example" / "facial.pdf")
    if reached == "a linked data folder":
        # The new release: the same files, one corrected; the link is switched to it.
        corrected = tmp_path / "releases" / "2"
        shutil.copytree(release, corrected, copy_function=shutil.copy2)
        edit_config(corrected, 'emergency_number: "999"', 'emergency_number: "112"', name="countries.yaml")
        data.unlink()
        data.symlink_to(corrected)
    elif reached == "a linked clinic folder":
        edit_config(tmp_path / "example-clinic", 'country: GB', 'country: GB\nemergency_number: "112"')
    else:
        # Another copy put in the folder's place, with the files' times kept.
        swapped = tmp_path / "swapped"
        shutil.copytree(release, swapped, copy_function=shutil.copy2)
        edit_config(swapped, 'emergency_number: "999"', 'emergency_number: "112"', name="countries.yaml")
        shutil.rmtree(release)
        swapped.rename(release)
    result = run(*command)
    assert not replayed(result) and "wrote" in result.stdout, result.stdout
    assert "Call 112" in pdf_words(out / "example" / "facial.pdf")


def test_a_file_replaced_with_the_same_size_and_times_is_seen_by_its_content(built, tmp_path):
    """A copy that keeps size and times (rsync -t, cp -p) still changes what was read."""
    from brochures.building import stamp as build_stamp

    data, command = built
    countries = data / "countries.yaml"
    before = build_stamp.state(str(countries))
    text = countries.read_text()
    times = countries.stat()
    changed = text.replace('emergency_number: "999"', 'emergency_number: "998"')
    assert len(changed) == len(text)
    countries.write_text(changed)
    os.utime(countries, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert build_stamp.state(str(countries))[-1] != before[-1]
    assert not replayed(run(*command))
