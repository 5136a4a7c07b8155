"""A clinic's own font files are untrusted input, like its images: their size, table directory and what they
unpack to are bounded before any font library reads them, and a file over a bound is refused by name."""

from __future__ import annotations

import functools
import json
import shutil
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import brotli
import pytest
from fontTools.ttLib import TTFont

from brochures import PROJECT_ROOT
from brochures.brand.fonts import MAX_FONT_BYTES, MAX_FONT_TABLES, find_font, refused_font_files
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.problems import InputError
from conftest import DATA, line_of
from generate import main

CONTENT = load_content(DATA)
GB = 2**30

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="address-space limits and ru_maxrss in KB: Linux")


def atkinson() -> Path:
    return next(face.path for face in find_font("Atkinson Hyperlegible", DATA).faces)


def base128(number: int) -> bytes:
    """A WOFF2 UIntBase128."""
    out = [number & 0x7F]
    number >>= 7
    while number:
        out.append(0x80 | (number & 0x7F))
        number >>= 7
    return bytes(reversed(out))


@functools.lru_cache
def brotli_zeros(size: int) -> bytes:
    """A Brotli stream of `size` zero bytes: 2 GB in under 400 KB."""
    packer, step, parts = brotli.Compressor(quality=1, lgwin=24), bytes(16 * 2**20), []
    while size > 0:
        parts.append(packer.process(step[: min(size, len(step))]))
        size -= len(step)
    return b"".join(parts) + packer.finish()


def woff2_bomb(says: int, unpacks: int) -> bytes:
    """A WOFF2 file with one table (name, untransformed) that says it is `says` bytes, whose Brotli stream
    unpacks to `unpacks` bytes."""
    stream = brotli_zeros(unpacks)
    directory = bytes([5]) + base128(says)
    header = struct.pack(
        ">4s4sLHHLLHHLLLLL", b"wOF2", b"\x00\x01\x00\x00", 48 + len(directory) + len(stream), 1, 0,
        min(says, 0xFFFFFFFF), len(stream), 1, 0, 0, 0, 0, 0, 0,
    )
    return header + directory + stream


def woff_bomb(says: int, unpacks: int) -> bytes:
    """A WOFF file with one zlib-compressed table (name) that says it is `says` bytes and unpacks to `unpacks`."""
    packer, step, parts, left = zlib.compressobj(1), bytes(16 * 2**20), [], unpacks
    while left > 0:
        parts.append(packer.compress(step[: min(left, len(step))]))
        left -= len(step)
    stream = b"".join(parts) + packer.flush()
    header = struct.pack(
        ">4s4sLHHLHHLLLLL", b"wOFF", b"\x00\x01\x00\x00", 64 + len(stream), 1, 0, 28 + says, 1, 0, 0, 0, 0, 0, 0
    )
    return header + struct.pack(">4sLLLL", b"name", 64, len(stream), says, 0) + stream


def measured(clinic: Path, code: str) -> dict:
    """Runs `code` (which sets `result`) in a fresh Python limited to 1.5 GB of address space, after the
    libraries are loaded: its result, how long it took and how much its peak memory grew."""
    limit = 3 * GB // 2
    script = textwrap.dedent(f"""
        import json, resource, sys, time
        from pathlib import Path
        resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
        sys.path[:0] = [{str(PROJECT_ROOT)!r}]
        import weasyprint, fontTools.ttLib.woff2, brochures.load.clinic
        from generate import main
        from brochures.pdf.glyph_fonts import _font_file_characters
        clinic = Path({str(clinic)!r})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
    """) + textwrap.dedent(code) + textwrap.dedent("""
        seconds = time.monotonic() - started
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
        print(json.dumps({"result": result, "seconds": seconds, "grew_mb": grew}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr}


BUILD = """
    result = main(["--clinic", str(clinic), "--out", str(clinic.parent / "out"), "--treatment", "facial"])
"""


@linux_only
def test_a_woff2_that_says_it_unpacks_to_2_gb_stops_the_build_by_name_quickly_and_in_little_memory(clinic_copy):
    # Not the clinic's font (it uses the packaged Atkinson Hyperlegible): never read past its header either.
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.woff2").write_bytes(woff2_bomb(2 * GB, 2 * GB))
    run = measured(clinic_copy, BUILD)
    line = line_of(clinic_copy / "clinic.yaml", "font:")
    assert run["result"] == 2
    assert (
        f'clinic.yaml:{line} font: expected a font file of at most 20 MB when unpacked, got "fonts/Brand.woff2", '
        "which says it unpacks to 2048 MB"
    ) in run["stderr"]
    assert "Traceback" not in run["stderr"]
    # Unchecked, fontTools unpacks all 2 GB, in about 13 s.
    assert run["seconds"] < 10 and run["grew_mb"] < 300, run
    started = time.monotonic()
    assert len(refused_font_files(clinic_copy)) == 1
    assert time.monotonic() - started < 1


@linux_only
def test_a_woff2_that_says_little_and_unpacks_to_gigabytes_is_stopped_after_what_it_says(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Small.woff2").write_bytes(woff2_bomb(1000, 2 * GB))
    run = measured(clinic_copy, BUILD)
    assert run["result"] == 2
    assert (
        'font: expected a font file of at most 20 MB when unpacked, got "fonts/Small.woff2", '
        "which unpacks to more than the 1 KB it says"
    ) in run["stderr"]
    assert run["seconds"] < 10 and run["grew_mb"] < 300, run


@linux_only
def test_a_woff_table_that_unpacks_past_its_size_is_refused_by_name(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.woff").write_bytes(woff_bomb(1000, GB // 2))
    run = measured(clinic_copy, BUILD)
    assert run["result"] == 2
    assert 'got "fonts/Brand.woff", which unpacks to more than the 1 KB it says' in run["stderr"]
    assert run["seconds"] < 10 and run["grew_mb"] < 300, run


@linux_only
def test_the_glyph_check_never_unpacks_a_font_file_over_its_bounds(clinic_copy):
    # A file the clinic's font was loaded from, replaced before the gate reads it.
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.woff2").write_bytes(woff2_bomb(2 * GB, 2 * GB))
    run = measured(clinic_copy, """
        result = len(_font_file_characters(str(clinic / "fonts" / "Brand.woff2")))
    """)
    assert run["result"] == 0
    assert run["seconds"] < 2 and run["grew_mb"] < 100, run


def with_table(tag: bytes, offset: int | None = None, length: int | None = None) -> bytes:
    """Atkinson Hyperlegible with the directory entry of table `tag` changed."""
    data = bytearray(atkinson().read_bytes())
    count = struct.unpack_from(">H", data, 4)[0]
    for i in range(count):
        at = 12 + 16 * i
        if data[at:at + 4] == tag:
            old_offset, old_length = struct.unpack_from(">LL", data, at + 8)
            struct.pack_into(">LL", data, at + 8, old_offset if offset is None else offset,
                             old_length if length is None else length)
            return bytes(data)
    raise AssertionError(tag)


def refusal(clinic: Path) -> str:
    with pytest.raises(InputError) as raised:
        load_clinic(clinic / "clinic.yaml", CONTENT)
    return "\n".join(str(problem) for problem in raised.value.problems)


def test_a_ttf_whose_table_lies_beyond_its_end_is_refused_by_name(clinic_copy, tmp_path, capsys):
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.ttf").write_bytes(with_table(b"glyf", offset=0x7FFF0000))
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out"), "--treatment", "facial"]) == 2
    err = capsys.readouterr().err
    assert 'font: expected a font file whose tables all lie inside it, got "fonts/Brand.ttf", whose table' in err
    assert "'glyf' ends at byte 2,147," in err
    assert "Traceback" not in err


def test_a_table_longer_than_the_file_is_refused_too(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.ttf").write_bytes(with_table(b"name", length=0xFFFFFFF0))
    assert 'got "fonts/Brand.ttf", whose table \'name\' ends at byte' in refusal(clinic_copy)


def test_a_font_file_that_lists_thousands_of_tables_is_refused_by_name(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    data = struct.pack(">4sHHHH", b"\x00\x01\x00\x00", 5000, 0, 0, 0) + bytes(16 * 5000)
    (clinic_copy / "fonts" / "Many.otf").write_bytes(data)
    assert (
        f'font: expected a font file of at most {MAX_FONT_TABLES} tables, got "fonts/Many.otf", which lists 5,000'
        in refusal(clinic_copy)
    )


def test_a_font_file_over_20_mb_on_disk_is_refused_by_name(clinic_copy):
    (clinic_copy / "fonts").mkdir()
    huge = clinic_copy / "fonts" / "Huge.ttf"
    shutil.copyfile(atkinson(), huge)
    with huge.open("r+b") as file:
        # Sparse: no disk used.
        file.truncate(MAX_FONT_BYTES + 1)
    assert 'font: expected a font file of at most 20 MB, got "fonts/Huge.ttf", which is 20.1 MB' in refusal(clinic_copy)


@pytest.mark.parametrize("flavor", ["woff", "woff2"])
def test_a_clinics_own_woff_and_woff2_files_are_still_used(clinic_copy, flavor):
    (clinic_copy / "fonts").mkdir()
    with TTFont(atkinson()) as font:
        font.flavor = flavor
        font.save(clinic_copy / "fonts" / f"Brand.{flavor}")
    assert refused_font_files(clinic_copy) == []
    clinic = load_clinic(clinic_copy / "clinic.yaml", CONTENT)
    assert clinic.font.files == {(clinic_copy / "fonts" / f"Brand.{flavor}").resolve()}


def test_list_fonts_names_a_refused_file_and_lists_the_rest(clinic_copy, capsys):
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / "Brand.woff2").write_bytes(woff2_bomb(2 * GB, 1000))
    assert main(["list", "fonts", "--clinic", str(clinic_copy)]) == 0
    out, err = capsys.readouterr()
    assert "Atkinson Hyperlegible" in out
    assert 'not used: expected a font file of at most 20 MB when unpacked, got "fonts/Brand.woff2"' in err
