"""The output folder: one build at a time, faults of the machine, interruptions, and removing only our own files."""

from __future__ import annotations

import fcntl
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from brochures.output_folder import LOCK_FILE, TEMP_PREFIX
from conftest import DATA, ROOT, edit_config
from generate import EXIT_INTERRUPTED, EXIT_OUTPUT, main

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
    out = small_disk("120k")  # room for the first PDF or two, not for five
    code = main(["--out", str(out), "--jobs", "1"])
    captured = capsys.readouterr()
    assert code == EXIT_OUTPUT
    assert "the disk is full; free some space and run again" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not [p for p in out.rglob("*") if p.name.startswith(TEMP_PREFIX)]
    for pdf in out.rglob("*.pdf"):  # whatever made it to disk is whole
        assert len(PdfReader(pdf).pages) >= 1


def test_a_second_build_into_the_same_folder_is_told_who_holds_it(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / LOCK_FILE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running build holds it
        held.write("4242")
        held.flush()
        assert main(["--out", str(out), *FACIAL]) == EXIT_OUTPUT
        assert f"another build is writing to {out}/ (pid 4242)" in capsys.readouterr().err
        assert not (out / "example").exists()
    # Once the other build has finished, the folder is free again.
    assert main(["--out", str(out), *FACIAL]) == 0


def test_ctrl_c_exits_130_leaves_no_temporary_file_and_keeps_finished_pdfs(data, tmp_path):
    shutil.copytree(data / "clinics" / "example", data / "clinics" / "second")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, str(ROOT / "generate.py"), "--data", str(data), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if "wrote" in line:
            process.send_signal(signal.SIGINT)
            break
    _, err = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED
    assert "Interrupted" in err and "Traceback" not in err
    pdfs = list(out.rglob("*.pdf"))
    assert 1 <= len(pdfs) < 10, "the interruption did not land in the middle of the batch"
    for pdf in pdfs:
        assert len(PdfReader(pdf).pages) >= 1
    assert not [p for p in out.rglob("*") if p.name.startswith(TEMP_PREFIX) or p.suffix == ".tmp"]


def test_a_killed_build_resumes_where_it_stopped(data, tmp_path):
    shutil.copytree(data / "clinics" / "example", data / "clinics" / "second")
    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "generate.py"), "--data", str(data), "--out", str(out), "--jobs", "1",
               "--treatment", "facial", "--treatment", "hair", "--treatment", "body"]
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
    said = {line.split()[1]: line.split()[0] for line in done.stdout.splitlines() if line.split()[:1] in (["wrote"], ["unchanged"])}
    for path in written:
        assert said[path] == "unchanged", f"{path} was printed again after the kill"
    assert "wrote" in said.values()


def test_cleanup_removes_only_files_the_generator_made(tmp_path):
    out = tmp_path / "out"
    clinic = out / "example"
    clinic.mkdir(parents=True)
    theirs = [out / ".notes.tmp", clinic / ".draft.pdf.tmp", clinic / ".brochures-partial-notes.tmp",
              out / "elsewhere" / f"{TEMP_PREFIX}1-abcdefgh.tmp"]
    for path in theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("someone else's")
    dead = subprocess.Popen(["true"])
    dead.wait()
    ours = clinic / f"{TEMP_PREFIX}{dead.pid}-abcdefgh.tmp"
    ours.write_bytes(b"half a PDF")
    assert main(["--out", str(out), *FACIAL]) == 0
    assert not ours.exists()
    for path in theirs:
        assert path.read_text() == "someone else's", path


def test_weasyprint_leaves_nothing_in_tmpdir(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # let Python read TMPDIR again
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


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "soon"])
def test_time_limit_must_be_a_finite_number(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--time-limit", value])
    assert exit_.value.code == 2
    assert "--time-limit: expected a number above 0" in capsys.readouterr().err


def test_jobs_are_capped(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--jobs", "100000"])
    assert exit_.value.code == 2 and "--jobs: expected a number above 0 and at most" in capsys.readouterr().err
