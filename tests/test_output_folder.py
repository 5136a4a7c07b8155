"""The output folder: one build at a time, faults of the machine, interruptions, and removing only our own files."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from brochures.exits import INTERRUPTED as EXIT_INTERRUPTED
from brochures.exits import OUTPUT as EXIT_OUTPUT
from brochures.files.output_folder import LOCK_FILE, TEMP_PREFIX
from conftest import DATA, ROOT, edit_config
from generate import main

FACIAL = ["--treatment", "facial"]


@pytest.fixture
def data(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    return copy


@pytest.fixture
def small_disk(tmp_path):
    """A real file system of a fixed size (tmpfs), so a full disk and a read-only disk are real faults."""
    mount = tmp_path / "disk"
    mount.mkdir()

    def make(size: str, read_only: bool = False) -> Path:
        options = f"size={size}" + (",ro" if read_only else "")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a small file system here (needs root): {result.stderr.decode().strip()}")
        return mount

    yield make
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_out_that_is_a_file_is_one_clear_line(tmp_path, capsys):
    target = tmp_path / "brochures.pdf"
    target.write_bytes(b"not a folder")
    assert main(["--out", str(target), *FACIAL]) == EXIT_OUTPUT
    err = capsys.readouterr().err.strip()
    assert "expected a folder for the brochures, got a file" in err and len(err.splitlines()) == 1
    assert target.read_bytes() == b"not a folder"


def test_read_only_output_folder_is_one_clear_line(small_disk, capsys):
    disk = small_disk("2m", read_only=True)
    assert main(["--out", str(disk / "out"), *FACIAL]) == EXIT_OUTPUT
    err = capsys.readouterr().err.strip()
    assert "read-only" in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_full_disk_stops_the_build_cleanly_and_keeps_what_was_written(small_disk, capsys):
    # Room for the first PDF or two, not for five.
    out = small_disk("120k")
    code = main(["--out", str(out), "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == EXIT_OUTPUT
    assert "the disk is full; free some space and run again" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not [p for p in out.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    # Whatever made it to disk is whole.
    for pdf in out.rglob("*.pdf"):
        assert len(PdfReader(pdf).pages) >= 1


def test_a_second_build_into_the_same_folder_is_told_who_holds_it(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / LOCK_FILE, "w") as held:
        # As a running build holds it.
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242")
        held.flush()
        assert main(["--out", str(out), *FACIAL]) == EXIT_OUTPUT
        assert f"another build is writing to {out}/ (pid 4242)" in capsys.readouterr().err
        assert not (out / "example").exists()
    # Once the other build has finished, the folder is free again.
    assert main(["--out", str(out), *FACIAL]) == 0


# Ctrl-C.
@pytest.mark.parametrize("stop,code,said", [(signal.SIGINT, EXIT_INTERRUPTED, "Interrupted"),
                                             # Kill, a service manager.
                                             (signal.SIGTERM, 143, "Stopped (SIGTERM)")])
def test_a_stopped_build_exits_cleanly_leaves_no_temporary_file_and_keeps_finished_pdfs(
    data, tmp_path, stop, code, said
):
    shutil.copytree(data / "clinics" / "example", data / "clinics" / "second")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "generate.py"), "--data", str(data), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:
        if "wrote" in line:
            process.send_signal(stop)
            break
    _, err = process.communicate(timeout=60)
    assert process.returncode == code
    assert said in err and "Traceback" not in err
    pdfs = list(out.rglob("*.pdf"))
    assert 1 <= len(pdfs) < 10, "the signal did not land in the middle of the batch"
    for pdf in pdfs:
        assert len(PdfReader(pdf).pages) >= 1
    assert not [p for p in out.rglob("*") if p.name.startswith(TEMP_PREFIX) or p.suffix == ".tmp"]


def test_a_killed_build_resumes_where_it_stopped(data, tmp_path):
    shutil.copytree(data / "clinics" / "example", data / "clinics" / "second")
    out = tmp_path / "out"
    command = [
        sys.executable, str(ROOT / "generate.py"), "--data", str(data), "--out", str(out), "--jobs", "1", "--treatment",
        "facial", "--treatment", "hair", "--treatment", "body"
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    written = []
    for line in process.stdout:
        if "wrote" in line:
            written.append(line.split()[1])
            if len(written) == 2:
                process.send_signal(signal.SIGKILL)
                break
    process.wait()
    recorded = json.loads((out / ".build-cache.json").read_text())["documents"]
    if len(recorded) == 6:
        pytest.skip("the machine was too slow to stop the build in the middle; nothing was left to resume")
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0
    said = {
        line.split()[1]: line.split()[0]
        for line in done.stdout.splitlines()
        if line.split()[:1] in (["wrote"], ["unchanged"])
    }
    for path in written:
        assert said[path] == "unchanged", f"{path} was printed again after the kill"
    assert "wrote" in said.values()


def test_cleanup_removes_only_files_the_generator_made(tmp_path):
    out = tmp_path / "out"
    clinic = out / "example"
    clinic.mkdir(parents=True)
    theirs = [
        out / ".notes.tmp", clinic / ".draft.pdf.tmp", clinic / ".brochures-partial-notes.tmp",
        out / "elsewhere" / f"{TEMP_PREFIX}1-abcdefgh.tmp"
    ]
    for path in theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("someone else's")
    ours = clinic / f"{TEMP_PREFIX}{finished_process_id()}-abcdefgh.tmp"
    ours.write_bytes(b"half a PDF")
    assert main(["--out", str(out), *FACIAL]) == 0
    assert not ours.exists()
    for path in theirs:
        assert path.read_text() == "someone else's", path


def test_weasyprint_leaves_nothing_in_tmpdir(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    # Let Python read TMPDIR again.
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["--out", str(tmp_path / "out"), "--treatment", "facial", "--treatment", "comparison", "--force"]) == 0
    assert main(["--out", str(tmp_path / "out"), "--check", *FACIAL]) == 0
    assert list(scratch.iterdir()) == []


def test_outputs_no_longer_built_are_removed_and_said(data, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out), "--variant", "all"]) == 0
    assert (out / "example" / "body.pdf").is_file() and (out / "example" / "body.press.pdf").is_file()
    mine = out / "example" / "notes.pdf"
    mine.write_bytes(b"%PDF- the clinic's own file")
    edit_config(data / "clinics" / "example", "treatments: [facial, hair, body]", "treatments: [facial, hair]")
    capsys.readouterr()
    # Even a build of one treatment knows that body is no longer offered.
    assert main(["--data", str(data), "--out", str(out), *FACIAL]) == 0
    said = capsys.readouterr().out
    assert not (out / "example" / "body.pdf").exists() and not (out / "example" / "body.press.pdf").exists()
    assert "removed" in said and "example/body.pdf" in said
    assert (out / "example" / "hair.pdf").is_file() and (out / "example" / "hair.press.pdf").is_file()
    assert mine.read_bytes() == b"%PDF- the clinic's own file"
    recorded = json.loads((out / ".build-cache.json").read_text())["documents"]
    assert "example/body.pdf" not in recorded and "example/facial.pdf" in recorded


def test_a_changed_output_no_longer_built_is_kept(data, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out), "--treatment", "body", *FACIAL]) == 0
    (out / "example" / "body.pdf").write_bytes(b"%PDF- edited by hand")
    edit_config(data / "clinics" / "example", "treatments: [facial, hair, body]", "treatments: [facial, hair]")
    capsys.readouterr()
    assert main(["--data", str(data), "--out", str(out), *FACIAL]) == 0
    assert (out / "example" / "body.pdf").read_bytes() == b"%PDF- edited by hand"
    assert "kept" in capsys.readouterr().out


@pytest.mark.parametrize(
    "option,value,expected",
    [
        ("--time-limit", "inf", "expected a number above 0 and at most 3600"),
        ("--time-limit", "nan", "expected a number above 0 and at most 3600"),
        ("--time-limit", "1e308", "expected a number above 0 and at most 3600"),
        ("--time-limit", "-1", "expected a number above 0 and at most 3600"),
        ("--time-limit", "soon", "expected a number above 0 and at most 3600"),
        ("--memory-limit", "1", "expected a whole number from 32 to 1048576"),
        ("--memory-limit", "99999999999999", "expected a whole number from 32 to 1048576"),
        ("--jobs", "0", "expected a whole number from 1 to"),
        ("--jobs", "100000", "expected a whole number from 1 to"),
    ],
)
def test_budgets_and_jobs_must_be_sensible_numbers(option, value, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([option, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"{option}: {expected}" in err and "Traceback" not in err


# --- Found by trying it as an attacker ---


def test_the_lock_file_is_never_followed_if_it_is_a_link(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (out / LOCK_FILE).symlink_to(victim)
    assert main(["--out", str(out), *FACIAL]) == EXIT_OUTPUT
    assert "it is a link" in capsys.readouterr().err
    assert victim.read_text() == "precious"


def test_a_named_pipe_as_the_build_record_does_not_hang_the_build(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / ".build-cache.json")
    done = subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), "--out", str(out), *FACIAL],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "example" / "facial.pdf").is_file()


@pytest.mark.parametrize("where", ["clinic", "parent", "data"])
def test_out_may_not_write_into_what_it_reads(data, tmp_path, capsys, where):
    clinic = data / "clinics" / "example"
    out = {"clinic": clinic / "out", "parent": clinic.parent, "data": data / "out"}[where]
    before = sorted(p.name for p in clinic.iterdir())
    assert main(["--data", str(data), "--out", str(out), *FACIAL]) == EXIT_OUTPUT
    assert "expected a folder apart from the input" in capsys.readouterr().err
    assert sorted(p.name for p in clinic.iterdir()) == before


@pytest.fixture
def two_data_folders(tmp_path):
    """Two copies of the data, each with a clinic folder called example: both would build into out/example/."""
    first, second = tmp_path / "a" / "data", tmp_path / "b" / "data"
    for data in (first, second):
        shutil.copytree(DATA, data)
    return first, second


def test_a_clinic_never_takes_over_another_clinics_output_folder(tmp_path, capsys, two_data_folders):
    out = tmp_path / "out"
    first, second = two_data_folders
    assert main(["--data", str(first), "--out", str(out), *FACIAL]) == 0
    written = (out / "example" / "facial.pdf").read_bytes()
    edit_config(second / "clinics" / "example", "name: Example Aesthetics Clinic", "name: Another Clinic")
    capsys.readouterr()
    assert main(["--data", str(second), "--out", str(out), *FACIAL]) == 2
    err = capsys.readouterr().err
    assert "holds the brochures of another clinic folder" in err
    assert (out / "example" / "facial.pdf").read_bytes() == written


def test_a_safe_name_never_takes_the_hashed_folder_of_another(tmp_path):
    from brochures.load.clinic import safe_name

    hashed = safe_name("東京")
    assert hashed.startswith("clinic-") and safe_name(hashed) != hashed
    assert safe_name("rosewood") == "rosewood"


def test_a_closed_pipe_does_not_stop_the_build(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        f'"{sys.executable}" "{ROOT / "generate.py"}" --out "{out}" '
        "--treatment facial --treatment comparison | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert (out / "example" / "comparison.pdf").is_file() and (out / "example" / "report.json").is_file()


def test_a_killed_runs_temporary_folder_is_removed_by_the_next_run(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    left = scratch / f"brochures-run-{finished_process_id()}-abc123" / "check"
    left.mkdir(parents=True)
    (left / "facial.pdf").write_bytes(b"%PDF- a killed --check")
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["--out", str(tmp_path / "out"), "--check", *FACIAL]) == 0
    assert list(scratch.iterdir()) == []


def finished_process_id() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_clinic_output_folder_that_is_a_link_is_refused(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "facial.pdf").write_bytes(b"someone else's")
    (out / "example").symlink_to(elsewhere)
    assert main(["--out", str(out), *FACIAL]) == EXIT_OUTPUT
    assert "got a link to somewhere else" in capsys.readouterr().err
    assert (elsewhere / "facial.pdf").read_bytes() == b"someone else's" and not (elsewhere / "report.json").exists()


def test_an_output_folder_is_free_again_once_its_brochures_are_deleted(tmp_path, two_data_folders):
    out = tmp_path / "out"
    first, second = two_data_folders
    assert main(["--data", str(first), "--out", str(out), *FACIAL]) == 0
    assert main(["--data", str(second), "--out", str(out), *FACIAL]) == 2
    # What the message advises when the old clinic is gone.
    shutil.rmtree(out / "example")
    assert main(["--data", str(second), "--out", str(out), *FACIAL]) == 0
