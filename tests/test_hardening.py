"""Hostile and broken input, budgets, interrupted builds, privacy and reproducibility: each guard proven."""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from brochures.files.output_folder import TEMP_PREFIX
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.problems import InputError
from conftest import DATA, EXAMPLE, ROOT, edit_config, line_of, pdf_text, png
from generate import main

CONTENT = load_content(DATA)


def rejected(capsys, clinic, field, *fragments):
    assert main(["--clinic", str(clinic), "--out", str(clinic.parent / "out")]) == 2
    err = capsys.readouterr().err
    assert f" {field}:" in err and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert not list((clinic.parent / "out").rglob("*.pdf"))
    return err


# --- YAML ---

def test_alias_bomb_is_refused_quickly(clinic_copy, capsys):
    bomb = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
    (clinic_copy / "clinic.yaml").write_text('l0: &l0 ["lol"]\n' + bomb)
    started = time.perf_counter()
    err = rejected(capsys, clinic_copy, "l1[0]", "anchors and aliases are not supported")
    assert time.perf_counter() - started < 5
    assert len((clinic_copy / "clinic.yaml").read_bytes()) < 600 and "clinic.yaml:2 " in err


def test_oversized_file_is_refused_before_parsing(clinic_copy, capsys):
    (clinic_copy / "clinic.yaml").write_text("name: " + "x" * 300_000 + "\n")
    assert main(["--clinic", str(clinic_copy), "--out", str(clinic_copy.parent / "out")]) == 2
    assert "expected a file of at most 256 KB, got 292 KB" in capsys.readouterr().err


def test_huge_name_and_huge_lists_are_errors_not_huge_pdfs(clinic_copy, capsys):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: " + "N" * 100_000)
    edit_config(
        clinic_copy, 'address: ["1 High Street", "London N1 1AA"]', "address: [" + ", ".join(["x"] * 10_000) + "]"
    )
    err = rejected(capsys, clinic_copy, "name", "expected at most 120 characters, got 100000 characters")
    assert "contact.address: expected at most 6 items, got 10000 items" in err


@pytest.mark.parametrize("typed,printed", [("0207946000", "0207946000"), ("01234 567890", "01234 567890")])
def test_phone_numbers_keep_their_leading_zero(clinic_copy, tmp_path, typed, printed):
    edit_config(clinic_copy, 'phone: "020 7946 0000"', f"phone: {typed}")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0
    assert f"Call us on {printed}." in pdf_text(tmp_path / "mine" / "facial.pdf")


def test_sexagesimal_number_is_text_and_a_clear_error(clinic_copy, capsys):
    edit_config(clinic_copy, 'phone: "020 7946 0000"', "phone: 12:30")
    rejected(capsys, clinic_copy, "contact.phone", 'expected a phone number', 'got "12:30"')


def test_yaml_tags_are_refused(clinic_copy, capsys):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: !!python/object/apply:os.system ['echo hacked']")
    rejected(capsys, clinic_copy, "name", "custom YAML tag")


# --- Property-based: whatever the loader is fed, it only ever raises InputError ---

FIELDS = [
    "name", "logo", "colors", "primary", "accent", "font", "contact", "phone", "email", "website", "address",
    "booking_url", "emergency_number", "page_size", "language", "treatments", "disclaimer"
]
HOSTILE = [
    "#0F6E6E",
    "logo.svg",
    "../logo.svg",
    "/etc/passwd",
    "https://x.test",
    "http://x.test",
    "{{ 7*7 }}",
    "<script>",
    "A4",
    "en",
    "no",
    "0207946000",
    "12:30",
    "facial",
    "",
    " ",
    "\u202e",
    "\x00",
    "~",
    "null",
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40), st.sampled_from(HOSTILE)
)
TREES = st.recursive(
    SCALARS,
    lambda kids: st.one_of(
        st.lists(kids, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), kids, max_size=5),
    ),
    max_leaves=25,
)
CONFIGS = st.dictionaries(st.sampled_from(FIELDS), TREES, max_size=12)


@pytest.fixture(scope="module")
def scratch_clinic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz") / "clinic"
    shutil.copytree(EXAMPLE, folder)
    return folder


def only_input_errors(config_file: Path) -> None:
    try:
        load_clinic(config_file, CONTENT)
    except InputError as error:
        assert error.problems and all(str(problem) for problem in error.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=CONFIGS)
def test_any_config_tree_gives_a_clean_error_or_a_clinic(scratch_clinic, tree):
    config = scratch_clinic / "clinic.yaml"
    config.write_text(yaml.safe_dump(tree, allow_unicode=True))
    only_input_errors(config)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "name: ",
                        "colors:\n",
                        "  primary: ",
                        "&a ",
                        "*a",
                        "- ",
                        "{",
                        "}",
                        "[",
                        "]",
                        ": ",
                        "#",
                        "'",
                        '"',
                        "\n",
                        "\t",
                        "!!",
                        "x",
                    ]
                ),
                max_size=40,
            ),
        ),
    )
)
def test_any_file_content_gives_a_clean_error_or_a_clinic(scratch_clinic, raw):
    config = scratch_clinic / "clinic.yaml"
    config.write_bytes(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass"))
    only_input_errors(config)


# --- Images ---


@pytest.mark.parametrize(
    "image,fragment",
    [
        # A real, fully compressed 121-megapixel image.
        (png(11000, 11000, rows=11000), "got 11000×11000"),
        # Header claims 900 megapixels.
        (png(30000, 30000), "decompression bomb"),
        # Cut short.
        (png(200, 80)[:-20], "damaged or unsupported"),
    ],
)
def test_oversized_or_broken_png_logo_is_an_error(clinic_copy, capsys, image, fragment):
    (clinic_copy / "big.png").write_bytes(image)
    edit_config(clinic_copy, "logo: logo.svg", "logo: big.png")
    err = rejected(capsys, clinic_copy, "logo", fragment)
    assert f"clinic.yaml:{line_of(clinic_copy / 'clinic.yaml', 'logo:')} logo:" in err


def test_a_reasonable_png_logo_is_printed(clinic_copy, tmp_path):
    (clinic_copy / "small.png").write_bytes(png(400, 120, rows=120))
    edit_config(clinic_copy, "logo: logo.svg", "logo: small.png")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0


def test_svg_logo_with_entities_is_an_error(clinic_copy, capsys):
    (clinic_copy / "lol.svg").write_text(
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY lol "lol">]><svg xmlns="http://www.w3.org/2000/svg">&lol;</svg>'
    )
    edit_config(clinic_copy, "logo: logo.svg", "logo: lol.svg")
    rejected(capsys, clinic_copy, "logo", "DOCTYPE or ENTITY")


def test_bomb_hidden_inside_an_svg_logo_fails_its_clinic(clinic_copy, tmp_path, capsys):
    import base64

    inner = base64.b64encode(png(30000, 30000)).decode()
    (clinic_copy / "wrapper.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40">'
        f'<image width="100" height="40" href="data:image/png;base64,{inner}"/></svg>'
    )
    edit_config(clinic_copy, "logo: logo.svg", "logo: wrapper.svg")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert " logo: " in err and "decompression bomb" in err and not (tmp_path / "mine").exists()


# --- Budgets and batches ---


def override_partial(clinic: Path, name: str, text: str) -> None:
    """A clinic's own template override: the way a clinic (or an attacker) could make a document misbehave."""
    folder = clinic / "templates" / "partials"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_a_document_over_its_time_budget_fails_and_the_rest_are_built(clinic_copy, tmp_path, capsys):
    # A brochure some 200 pages long: it renders at once, but takes far longer than 5 s to lay out.
    override_partial(
        clinic_copy,
        "takeaway.html.j2",
        '{% for i in range(600) %}{% include "partials/side_effects.html.j2" %}{% endfor %}',
    )
    started = time.perf_counter()
    code = main(
        [
            "--clinic", str(clinic_copy), "--treatment", "facial", "--treatment", "comparison", "--time-limit", "5",
            "--out", str(tmp_path)
        ]
    )
    # A hang guard: without the budget it runs for minutes.
    assert code == 1 and time.perf_counter() - started < 60
    err = capsys.readouterr().err
    assert "facial.pdf: took longer than its time budget of 5 s" in err
    assert (tmp_path / "mine" / "comparison.pdf").is_file() and not (tmp_path / "mine" / "facial.pdf").exists()


def test_a_document_over_its_memory_budget_fails_and_the_rest_are_built(clinic_copy, tmp_path):
    # A brochure some 110 pages long: far more than a 40 MB budget allows for laying it out. Built by a fresh
    # generate.py, as a user runs it: a worker forked from this test process would inherit the memory other tests
    # allocated and freed, and could lay it out in that without growing at all.
    override_partial(
        clinic_copy,
        "takeaway.html.j2",
        '{% for i in range(400) %}{% include "partials/side_effects.html.j2" %}{% endfor %}',
    )
    run = subprocess.run(
        [
            sys.executable, str(ROOT / "generate.py"), "--clinic", str(clinic_copy), "--treatment", "facial",
            "--treatment", "comparison", "--memory-limit", "40", "--time-limit", "900", "--out", str(tmp_path)
        ],
        # Memory stops it, even on a busy machine.
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    err = run.stderr
    assert "facial.pdf: it needed more memory than its budget allows" in err
    assert (tmp_path / "mine" / "comparison.pdf").is_file() and not (tmp_path / "mine" / "facial.pdf").exists()


# A partial that renders (the template itself is fine) but whose document cannot be printed:
# it asks for a file outside the clinic folder, which the URL fetcher refuses.
UNPRINTABLE = '<img src="/etc/hostname" alt="">'


def test_fail_fast_stops_at_the_first_failure(clinic_copy, tmp_path, capsys):
    override_partial(clinic_copy, "takeaway.html.j2", UNPRINTABLE)
    code = main(["--clinic", str(clinic_copy), "--fail-fast", "--jobs", "1", "--out", str(tmp_path)])
    assert code == 1
    out = capsys.readouterr()
    assert "not attempted (--fail-fast)" in out.out and "refused to read /etc/hostname" in out.err
    assert len(list((tmp_path / "mine").glob("*.pdf"))) < 5


def test_fail_fast_with_an_invalid_clinic_builds_nothing(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, '"#0F6E6E"', '"tealish"')
    assert main(["--clinic", str(clinic_copy), "--clinic", "example", "--fail-fast", "--out", str(tmp_path)]) == 2
    assert not list(tmp_path.rglob("*.pdf"))


def test_summary_lists_every_failure_with_its_reason(clinic_copy, tmp_path, capsys):
    override_partial(clinic_copy, "takeaway.html.j2", UNPRINTABLE)
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    failures = err[err.index("Failures:") :]
    for slug in ("facial", "hair", "body", "booklet"):
        assert f"{slug}.pdf: Failed to load image" in failures
    assert "comparison.pdf" not in failures


# --- Interrupted builds ---


def finished_process_id() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_sigkill_mid_batch_never_leaves_a_broken_pdf(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    shutil.copytree(data / "clinics" / "example", data / "clinics" / "copy")
    out = tmp_path / "out"
    command = [
        sys.executable, str(ROOT / "generate.py"), "--data", str(data), "--out", str(out), "--treatment", "facial",
        "--treatment", "hair", "--treatment", "body"
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    for line in process.stdout:
        if "wrote" in line:
            break
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    # Workers end with their parent.
    time.sleep(1)
    assert 1 <= len(list(out.rglob("*.pdf"))) < 6, "the kill did not land in the middle of the batch"
    for pdf in out.rglob("*.pdf"):
        data_bytes = pdf.read_bytes()
        assert data_bytes.rstrip().endswith(b"%%EOF"), pdf
        assert len(PdfReader(pdf).pages) >= 1
    # A leftover from a killed run is cleaned up by the next run; that run completes.
    dead = finished_process_id()
    for stale in (out / "example" / f"{TEMP_PREFIX}{dead}-abc123.tmp", out / f"{TEMP_PREFIX}{dead}-def456.tmp"):
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_bytes(b"half")
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert not list(out.rglob(f"{TEMP_PREFIX}*"))
    assert len(list(out.rglob("*.pdf"))) == 6


# --- Privacy and reproducibility ---


def every_object(path: Path) -> bytes:
    """Every object of a PDF, with every stream decompressed: what someone digging in the file could find."""
    reader = PdfReader(path)
    found = [bytes(str(reader.trailer), "utf-8")]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:
            continue
        if obj is None:
            continue
        found.append(repr(obj).encode("utf-8", "replace"))
        if hasattr(obj, "get_data"):
            found.append(obj.get_data())
    return b"\n".join(found)


def test_no_path_user_or_host_name_in_any_pdf(example_build, rosewood_build):
    needles = {str(ROOT), str(example_build.parent.parent), str(Path.home()), socket.gethostname(), "site-packages"}
    user = getpass.getuser()
    for pdf in [*example_build.glob("*.pdf"), *rosewood_build.glob("*.pdf")]:
        everything = every_object(pdf)
        for needle in needles:
            assert needle.encode() not in everything, f"{needle!r} found in {pdf.name}"
        assert f"/{user}".encode() not in everything and f"{user}@".encode() not in everything
        assert b"file:" not in everything
        assert "/EmbeddedFiles" not in str(PdfReader(pdf).trailer["/Root"].get("/Names", {}))


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.pdf"))}


def test_same_input_gives_byte_identical_pdfs(tmp_path, monkeypatch):
    # 2026-01-01.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    # Leaflet/trifold × standard/press.
    runs = [
        ["--variant", "all", "--layout", "all", "--treatment", "facial"],
        # The booklet, with PDF/X's document ID.
        ["--variant", "press", "--treatment", "booklet"],
    ]
    for folder, jobs in (("a", "2"), ("b", "1")):
        for run in runs:
            assert main(["--out", str(tmp_path / folder), "--jobs", jobs, *run]) == 0
    first, second = digests(tmp_path / "a" / "example"), digests(tmp_path / "b" / "example")
    assert len(first) == 5 and first == second
    assert PdfReader(tmp_path / "a" / "example" / "facial.pdf").metadata["/CreationDate"].startswith("D:20260101000000")


def test_without_source_date_epoch_the_date_comes_from_the_content(example_build):
    assert "SOURCE_DATE_EPOCH" not in os.environ
    for pdf in example_build.glob("*.pdf"):
        metadata = PdfReader(pdf).metadata
        # Reviewed_on in the treatment files.
        assert metadata["/CreationDate"].startswith("D:20261124000000")
        assert metadata["/ModDate"].startswith("D:20261124000000")


# Under the worker's address-space cap, native code that cannot allocate sometimes returns an error without
# setting one: Python then raises SystemError. That is the budget at work, not a bug to report.
SHORT_OF_MEMORY = """
import resource, sys
from brochures.building.tasks import PRINT, Task, do_task
from brochures.pdf.printer import Printer

class NativeCodeOutOfMemory(Printer):
    def build(self, document, html, saved=None, parts=(), share=False):
        raise SystemError("error return without exception set")

if sys.argv[1] == "capped":
    used = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (used + 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))
print(do_task(None, NativeCodeOutOfMemory(), Task(PRINT, document=None)).error)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory cap is Linux's RLIMIT_AS")
@pytest.mark.parametrize(
    "cap, said",
    [
        ("capped", "it needed more memory than its budget allows"),
        ("uncapped", "internal error (a bug, please report it): SystemError"),
    ],
)
def test_native_code_failing_to_allocate_under_the_cap_is_the_memory_budget(cap, said):
    run = subprocess.run(
        [sys.executable, "-c", SHORT_OF_MEMORY, cap], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(said), run.stdout
