"""What a build prints while it runs: a live progress line on a terminal, plain lines in a pipe, and --quiet."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from conftest import ROOT
from generate import main

# A partial that renders but cannot be printed (the URL fetcher refuses a file outside the clinic folder):
# the facial brochure fails, the comparison sheet (which does not use it) is built.
UNPRINTABLE = '<img src="/etc/hostname" alt="">'


@pytest.fixture
def failing_facial(clinic_copy) -> Path:
    folder = clinic_copy / "templates" / "partials"
    folder.mkdir(parents=True)
    (folder / "takeaway.html.j2").write_text(UNPRINTABLE)
    return clinic_copy


def run_on_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run generate.py with a pseudo-terminal as its standard output and error, as a person at a terminal would."""
    main_fd, terminal_fd = os.openpty()
    fcntl.ioctl(terminal_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    process = subprocess.Popen([sys.executable, "generate.py", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=terminal_fd, stderr=terminal_fd, env={**os.environ, "TERM": "xterm-256color"})
    os.close(terminal_fd)
    chunks = []
    while True:
        ready, _, _ = select.select([main_fd], [], [], 120)
        if not ready:
            process.kill()
            raise AssertionError("generate.py wrote nothing for 120 s: " + b"".join(chunks).decode(errors="replace"))
        try:
            chunk = os.read(main_fd, 65536)
        # EIO: the build ended and the terminal closed.
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_fd)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", errors="replace")


def test_a_terminal_shows_one_live_progress_line(failing_facial, tmp_path):
    code, shown = run_on_a_terminal(
        [
            "--clinic", str(failing_facial), "--treatment", "facial", "--treatment", "comparison", "--out",
            str(tmp_path / "out")
        ]
    )
    assert code == 1
    # The line is redrawn in place.
    assert "\r\x1b[2K" in shown
    # Colours and cursor moves.
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    # The live line: documents done of all, failures so far, time left.
    assert "Building" in shown and "0/2 documents" in shown and "time left" in shown
    assert "2/2 documents" in shown and "1 failed" in shown
    # Failures still print in full above it; a document built well has no line of its own.
    assert "FAILED     " in shown and "facial.pdf" in shown
    assert "wrote      " not in shown
    assert "Built 1 document for 1 clinic" in shown
    assert (tmp_path / "out" / "mine" / "comparison.pdf").is_file()


def test_a_pipe_gets_plain_lines_as_before(tmp_path):
    result = subprocess.run(
        [sys.executable, "generate.py", "--treatment", "comparison", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0
    assert "\x1b" not in result.stdout + result.stderr and "documents" not in result.stdout.splitlines()[0]
    assert result.stdout.startswith(f"  wrote      {tmp_path}/example/comparison.pdf  (")


def test_quiet_prints_only_failures_and_the_summary(failing_facial, tmp_path, capsys):
    assert (
        main(
            [
                "--quiet", "--clinic", str(failing_facial), "--treatment", "facial", "--treatment", "comparison",
                "--out", str(tmp_path)
            ]
        )
        == 1
    )
    out, err = capsys.readouterr()
    assert out.startswith("Built 1 document for 1 clinic in ") and out.endswith("; 1 failed.\n")
    # No "wrote" lines, no scorecard.
    assert len(out.splitlines()) == 1
    assert "FAILED     " in err and "refused to read /etc/hostname" in err and "Failures:" in err
    assert (tmp_path / "mine" / "comparison.pdf").is_file() and (tmp_path / "mine" / "report.json").is_file()


def test_quiet_still_shows_invalid_input(clinic_copy, tmp_path, capsys):
    config = clinic_copy / "clinic.yaml"
    # "teal" is a colour now.
    config.write_text(config.read_text().replace('"#0F6E6E"', '"tealish"', 1))
    assert main(["--quiet", "--clinic", str(clinic_copy), "--out", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "colors.primary" in err
    assert re.fullmatch(
        r"Built 0 documents for 0 clinics in \d+\.\d s; skipped invalid input \(1 problem\)\.\n", out
    ), out
