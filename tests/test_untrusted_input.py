"""Untrusted input: images judged by their bytes, special files, invisible characters, look-alike names,
deep nesting, safe names, unknown treatments and floods of errors. Each guard proven with real files."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from brochures.files.images import MAX_SVG_ELEMENTS, check_image, image_problem
from brochures.files.yaml_reader import MAX_DEPTH, read_yaml
from brochures.load.clinic import find_clinic_file, load_clinic, safe_name
from brochures.load.content import load_content
from brochures.load.loaded import Clinic
from brochures.problems import InputError, Problem, describe, report_lines
from brochures.schema.fields import SLUG
from conftest import DATA, ROSEWOOD, edit_config, line_of, png
from generate import main

CONTENT = load_content(DATA)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="10"><rect width="40" height="10"/></svg>'


def use_bomb(layers: int, width: int = 10) -> bytes:
    """Each layer <use>s the one below `width` times: width**layers elements drawn from a file of a few KB."""
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
        '<defs><rect id="l0" width="1" height="1"/>'
    ]
    for layer in range(1, layers + 1):
        # Both spellings count.
        href = "xlink:href" if layer % 2 else "href"
        parts.append(f'<g id="l{layer}">' + f'<use {href}="#l{layer - 1}"/>' * width + "</g>")
    parts.append(f'</defs><use href="#l{layers}"/></svg>')
    return "".join(parts).encode()


def problems_of(config_file: Path) -> list[Problem]:
    with pytest.raises(InputError) as raised:
        load_clinic(config_file, CONTENT)
    return raised.value.problems


def only_problem(config_file: Path, field: str, *fragments: str, needle: str | None = None) -> str:
    """The clinic is refused with exactly one problem, on `field` (and the line of `needle`), saying `fragments`."""
    problems = problems_of(config_file)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.field == field, problem
    if needle is not None:
        assert problem.line == line_of(config_file, needle), problem
    for fragment in fragments:
        assert fragment in problem.message, problem
    return problem.message


def with_logo(clinic: Path, name: str, data: bytes) -> Path:
    (clinic / name).write_bytes(data)
    return edit_config(clinic, "logo: logo.svg", f"logo: {name}")


# --- 1. Images are judged by their bytes, not their names ---


@pytest.mark.parametrize(
    "name,data,fragment",
    [
        ("empty.png", b"", "expected an SVG, PNG or JPEG image, got an empty file (0 bytes)"),
        ("empty.svg", b"", "expected an SVG, PNG or JPEG image, got an empty file (0 bytes)"),
        ("notes.png", b"This is not a picture.\n", "expected an SVG, PNG or JPEG image, got a text file"),
        # A PNG named .svg still gets the PNG checks.
        ("big.svg", png(12000, 12000), "got 12000×12000"),
        ("bomb.svg", png(30000, 30000), "decompression bomb"),
        ("cut.svg", SVG[:-20], "cannot be read as XML"),
        (
            "page.svg",
            b"<html><body>hi</body></html>",
            "expected an SVG, PNG or JPEG image, got an XML file whose root element is <html>",
        ),
        ("odd.png", bytes(range(256)) * 4, "expected an SVG, PNG or JPEG image, got a file in an unknown format"),
        # JPEG bytes: checked as JPEG.
        ("photo.png", b"\xff\xd8\xff\xe0" + bytes(100), "got a damaged or unsupported file"),
        ("doc.svg", b"%PDF-1.7\n", "got a PDF document"),
    ],
)
def test_a_logo_is_checked_by_what_it_holds(clinic_copy, name, data, fragment):
    config = with_logo(clinic_copy, name, data)
    only_problem(config, "logo", fragment, f"({name})", needle="logo:")


def test_a_png_named_svg_is_refused_with_the_name_to_give_it(clinic_copy):
    config = with_logo(clinic_copy, "logo-file.svg", png(400, 120, rows=120))
    only_problem(config, "logo", 'got a PNG image named "logo-file.svg"', "name it logo-file.png")


def test_an_svg_named_png_is_refused_with_the_name_to_give_it(clinic_copy):
    config = with_logo(clinic_copy, "vector.png", SVG)
    only_problem(config, "logo", 'got an SVG image named "vector.png"', "name it vector.svg")


@pytest.mark.parametrize("layers", [5, 12])
def test_an_svg_use_bomb_logo_is_refused_at_validation(clinic_copy, layers):
    config = with_logo(clinic_copy, "bomb.svg", use_bomb(layers))
    assert len(use_bomb(layers)) < 3000
    started = time.perf_counter()
    only_problem(config, "logo", f"at most {MAX_SVG_ELEMENTS:,} elements", needle="logo:")
    # A hang guard, not a speed test: expanding it would take hours.
    assert time.perf_counter() - started < 10


def test_an_svg_that_uses_itself_is_refused(clinic_copy):
    looped = b'<svg xmlns="http://www.w3.org/2000/svg"><g id="a"><g id="b"><use href="#a"/></g></g></svg>'
    config = with_logo(clinic_copy, "loop.svg", looped)
    only_problem(config, "logo", "circular reference")


def test_an_svg_with_a_few_reused_parts_is_accepted(clinic_copy):
    # 1,111 elements drawn: a detailed logo.
    config = with_logo(clinic_copy, "reuse.svg", use_bomb(3))
    assert isinstance(load_clinic(config, CONTENT), Clinic)


def test_an_svg_logo_with_an_entity_in_another_encoding_is_refused(clinic_copy):
    text = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE svg [<!ENTITY a "b">]>'
        '<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    )
    config = with_logo(clinic_copy, "wide.svg", text.encode("utf-16"))
    only_problem(config, "logo", "DOCTYPE or ENTITY")


def test_an_empty_logo_stops_the_clinic_with_exit_2(clinic_copy, tmp_path, capsys):
    (clinic_copy / "logo.svg").write_bytes(b"")
    config = clinic_copy / "clinic.yaml"
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert (
        f"clinic.yaml:{line_of(config, 'logo:')} logo: expected an SVG, PNG or JPEG image, got an empty file" in err
    ), err
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_image_problem_decides_the_type_from_the_bytes():
    assert "12000×12000" in image_problem(png(12000, 12000))
    assert image_problem(png(40, 10, rows=10)) is None
    # Not an image: fine for the fetcher.
    assert image_problem(b"body { color: red }") is None
    assert image_problem(b"body { color: red }", require_image=True) == "expected an image, got a text file"
    assert "elements" in image_problem(use_bomb(6))
    assert check_image(SVG).mime_type == "image/svg+xml" and check_image(png(4, 4, 4)).mime_type == "image/png"


# --- 2. Named pipes, devices and folders are never opened ---


def run_with_timeout(function, seconds: float = 10):
    """Run `function` in a thread; fail (instead of hanging the suite) if it blocks."""
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return thread.is_alive(), outcome


def release(fifo: Path) -> None:
    """Unblock a reader stuck on opening `fifo`, by opening its other end."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_a_named_pipe_as_logo_is_refused_without_opening_it(clinic_copy):
    fifo = clinic_copy / "pipe.svg"
    os.mkfifo(fifo)
    config = edit_config(clinic_copy, "logo: logo.svg", "logo: pipe.svg")
    stuck, outcome = run_with_timeout(lambda: load_clinic(config, CONTENT), seconds=5)
    if stuck:
        release(fifo)
    assert not stuck, "loading the clinic blocked on the named pipe"
    problems = outcome["error"].problems
    assert [p.field for p in problems] == ["logo"]
    assert problems[0].message == "expected a regular file, got a named pipe (FIFO) (pipe.svg)"


def test_a_folder_as_logo_says_it_is_a_folder(clinic_copy):
    (clinic_copy / "images.svg").mkdir()
    config = edit_config(clinic_copy, "logo: logo.svg", "logo: images.svg")
    only_problem(config, "logo", "expected a regular file, got a folder")


@pytest.mark.parametrize(
    "kind,make",
    [
        ("a named pipe (FIFO)", os.mkfifo),
        ("a folder", os.mkdir),
    ],
)
def test_a_clinic_yaml_that_is_not_a_file_is_named_for_what_it_is(tmp_path, capsys, kind, make):
    folder = tmp_path / "clinic"
    shutil.copytree(ROSEWOOD, folder)
    (folder / "clinic.yaml").unlink()
    make(folder / "clinic.yaml")
    stuck, outcome = run_with_timeout(
        lambda: main(["--clinic", str(folder), "--out", str(tmp_path / "out")]), seconds=10
    )
    if stuck:
        release(folder / "clinic.yaml")
    assert not stuck, "reading clinic.yaml blocked"
    assert outcome.get("value") == 2, outcome
    err = capsys.readouterr().err
    assert f"clinic.yaml: expected a regular file, got {kind}" in err, err
    assert find_clinic_file(str(folder), DATA) == folder / "clinic.yaml"


def test_read_yaml_never_blocks_on_a_named_pipe(tmp_path):
    fifo = tmp_path / "strings.yaml"
    os.mkfifo(fifo)
    stuck, outcome = run_with_timeout(lambda: read_yaml(fifo), seconds=5)
    if stuck:
        release(fifo)
    assert not stuck
    assert str(outcome["error"]).endswith("strings.yaml: expected a regular file, got a named pipe (FIFO)")


# --- 3. Text that spoofs or corrupts ---

INVISIBLE = [
    # An ANSI escape.
    ('"Rose \\e[31mClinic"', "the control character U+001B ESCAPE at character 6"),
    # Typed raw.
    ("Rose \x1b[2JClinic", "the control character U+001B ESCAPE at character 6"),
    ("Rose\x00Clinic", "the control character U+0000 NULL at character 5"),
    ('"Rose\\rClinic"', "the control character U+000D CARRIAGE RETURN at character 5"),
    ("Rose\x7fClinic", "the control character U+007F DELETE at character 5"),
    ("Rose\x9bClinic", "the control character U+009B CONTROL SEQUENCE INTRODUCER at character 5"),
    ("Exam\u202eple", "the invisible character U+202E RIGHT-TO-LEFT OVERRIDE at character 5"),
    ("Rose \u2066Clinic\u2069", "the invisible character U+2066 LEFT-TO-RIGHT ISOLATE at character 6"),
    ("Rose \u061cClinic", "the invisible character U+061C ARABIC LETTER MARK at character 6"),
    ("Rose\u200eClinic", "the invisible character U+200E LEFT-TO-RIGHT MARK at character 5"),
    ("Rose\u200fClinic", "the invisible character U+200F RIGHT-TO-LEFT MARK at character 5"),
    ("Rose\u200bClinic", "the invisible character U+200B ZERO WIDTH SPACE at character 5"),
    ("Rose\u200dClinic", "the invisible character U+200D ZERO WIDTH JOINER at character 5"),
    ("Rose\u2060Clinic", "the invisible character U+2060 WORD JOINER at character 5"),
    ("Rose\ufeffClinic", "the invisible character U+FEFF ZERO WIDTH NO-BREAK SPACE at character 5"),
    ("Rose\u2028Clinic", "the invisible character U+2028 LINE SEPARATOR at character 5"),
    ("Rose\u2029Clinic", "the invisible character U+2029 PARAGRAPH SEPARATOR at character 5"),
    # Default-ignorable code points and blanks that print as nothing (or as a box in the wrong font).
    ("Rose\u3164Clinic", "the invisible character U+3164 HANGUL FILLER at character 5"),
    ("Rose\u115fClinic", "the invisible character U+115F HANGUL CHOSEONG FILLER at character 5"),
    ("Rose\u2800Clinic", "the invisible character U+2800 BRAILLE PATTERN BLANK at character 5"),
    ("Rose\ufe0fClinic", "the invisible character U+FE0F VARIATION SELECTOR-16 at character 5"),
    ("Rose\u034fClinic", "the invisible character U+034F COMBINING GRAPHEME JOINER at character 5"),
    ("Rose\U000e0100Clinic", "the invisible character U+E0100 VARIATION SELECTOR-17 at character 5"),
    ("Rose\u17b4Clinic", "the invisible character U+17B4 KHMER VOWEL INHERENT AQ at character 5"),
    ("Rose\u180bClinic", "the invisible character U+180B MONGOLIAN FREE VARIATION SELECTOR ONE at character 5"),
]


@pytest.mark.parametrize("typed,said", INVISIBLE, ids=[s.split(" at ")[0].split()[-1] for _, s in INVISIBLE])
def test_invisible_and_control_characters_are_refused_naming_field_and_character(clinic_copy, typed, said):
    config = edit_config(clinic_copy, "name: Example Aesthetics Clinic", f"name: {typed}")
    only_problem(config, "name", f"expected plain text, got {said}", needle="name:")


def test_a_later_field_keeps_its_line_after_a_line_separator(clinic_copy):
    """YAML counts U+2028 as a line break; an editor does not. Lines must match the editor."""
    config = edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: Rose\u2028Clinic")
    edit_config(clinic_copy, '"#0F6E6E"', '"tealish"')
    problems = problems_of(config)
    # As an editor counts them (str.splitlines would split at U+2028 too)
    lines = config.read_text().split("\n")
    primary = next(number for number, line in enumerate(lines, start=1) if "primary:" in line)
    name = next(number for number, line in enumerate(lines, start=1) if line.startswith("name:"))
    assert {p.field: p.line for p in problems} == {"name": name, "colors.primary": primary}
    assert primary == name + 3


def test_an_invisible_character_in_a_field_name_is_refused(clinic_copy):
    config = edit_config(clinic_copy, "page_size: A4", "page\u200b_size: A4")
    problems = problems_of(config)
    assert len(problems) == 1 and problems[0].line == line_of(config, "_size: A4")
    assert (
        "expected a plain field name, got the invisible character U+200B ZERO WIDTH SPACE at character 5"
        in problems[0].message
    )
    assert "\u200b" not in str(problems[0]) and "page\\u200b_size" in str(problems[0])


def test_a_soft_hyphen_is_allowed(clinic_copy):
    config = edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: Example Aesthe\u00adtics Clinic")
    assert load_clinic(config, CONTENT).config.name == "Example Aesthe\u00adtics Clinic"


def test_invisible_characters_in_treatment_content_are_refused(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    treatment = data / "treatments" / "facial.yaml"
    treatment.write_text(treatment.read_text().replace("title: Facial mesotherapy", "title: Facial \u202emesotherapy"))
    with pytest.raises(InputError) as raised:
        load_content(data)
    assert [(p.file.name, p.field, p.line) for p in raised.value.problems] == [
        ("facial.yaml", "title", line_of(treatment, "title:"))
    ]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE at character 8" in raised.value.problems[0].message


def test_error_messages_never_print_raw_control_or_direction_characters(tmp_path, capsys):
    # A folder name reaches the message as it is; so can a value quoted back.
    folder = tmp_path / "evil\x1b[31m\u202eclinic"
    shutil.copytree(ROSEWOOD, folder)
    edit_config(folder, "page_size: Letter", "page_size: \"A4\\e[2J\u202e\"")
    assert main(["--clinic", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err, repr(err)
    assert "evil\\x1b[31m\\u202eclinic" in err
    assert describe("\x1b[31mred\u202e\n") == '"\\x1b[31mred\\u202e\\n"'
    assert describe(["\u2066"]) == "['\\u2066']"


@pytest.mark.parametrize(
    "field,old,new,shown",
    [
        (
            "contact.website", "website: https://example-clinic.test", "website: https://ex\u0430mple-clinic.test",
            "xn--exmple-clinic-x1k.test"
        ),
        (
            "booking_url", "booking_url: https://example-clinic.test/book",
            "booking_url: https://ex\u0430mple.test/book", "xn--exmple-4nf.test"
        ),
        ("contact.email", "email: hello@example-clinic.test", "email: hello@\u0440aypal.test", "xn--aypal-uye.test"),
    ],
)
def test_web_and_email_names_mixing_alphabets_are_refused(clinic_copy, field, old, new, shown):
    config = edit_config(clinic_copy, old, new)
    message = only_problem(
        config,
        field,
        "whose",
        "name uses one alphabet",
        "mixes Latin and Cyrillic letters" if "\u0430" in new else "mixes Cyrillic and Latin letters",
        shown,
    )
    assert (
        message.startswith("expected a web address whose name uses one alphabet, got \"https://ex")
        or field == "contact.email"
    )


@pytest.mark.parametrize(
    "website",
    ["https://пример.test", "https://例え.jp/予約", "https://münchen-klinik.test", "https://東京クリニック.jp"],
)
def test_names_in_one_script_are_accepted(clinic_copy, website):
    config = edit_config(clinic_copy, "website: https://example-clinic.test", f"website: {website}")
    try:
        assert load_clinic(config, CONTENT).config.contact.website == website
    except InputError as error:
        # The address itself is fine; only a Latin font cannot print Cyrillic or Japanese (a clinic there picks
        # another).
        assert [p.message.split(",")[0] for p in error.problems] == [
            "expected text the font Atkinson Hyperlegible can draw"
        ]


# --- 4. Deep nesting ---


def test_deep_nesting_is_refused_for_that_file_only(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    deep = data / "treatments" / "deep.yaml"
    deep.write_text("title: " + "[" * 1000 + "]" * 1000 + "\n" + "x: " + "{a: " * 100 + "1" + "}" * 100 + "\n")
    assert deep.stat().st_size < 3000
    with pytest.raises(InputError) as raised:
        load_content(data)
    assert [(p.file.name, p.line, p.message) for p in raised.value.problems] == [
        (
            "deep.yaml",
            1,
            f"expected at most {MAX_DEPTH} levels of nesting (lists and groups inside each other), got more",
        )
    ]


def test_deep_block_nesting_names_its_line(clinic_copy):
    config = clinic_copy / "clinic.yaml"
    config.write_text("".join("  " * level + f"level{level}:\n" for level in range(40)))
    problems = problems_of(config)
    assert [(p.line, p.field) for p in problems] == [(MAX_DEPTH + 1, "")]
    assert "levels of nesting" in problems[0].message


def test_nesting_up_to_the_cap_is_read(tmp_path):
    path = tmp_path / "nested.yaml"
    path.write_text("a: " + "[" * (MAX_DEPTH - 1) + "x" + "]" * (MAX_DEPTH - 1) + "\n")
    value = read_yaml(path).data["a"]
    for _ in range(MAX_DEPTH - 2):
        value = value[0]
    assert value == ["x"]


# --- 5. Safe and distinct names ---


@pytest.mark.parametrize(
    "name",
    [
        "facial.press.yaml", "Facial.yaml", "face lift.yaml", "-face.yaml", ".face.yaml", "gesicht-ü.yaml",
        "a" * 41 + ".yaml"
    ],
)
def test_a_treatment_file_name_outside_the_safe_set_is_refused(tmp_path, name):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    shutil.copy(data / "treatments" / "facial.yaml", data / "treatments" / name)
    with pytest.raises(InputError) as raised:
        load_content(data)
    [problem] = raised.value.problems
    assert problem.file.name == name
    assert "expected a treatment file name of up to 40 lowercase letters a–z, digits and dashes" in problem.message
    assert f'got "{name}"' in problem.message


@pytest.mark.parametrize("name", ["comparison", "booklet", "report", "index"])
def test_a_treatment_may_not_take_a_name_the_generator_uses(tmp_path, name):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    shutil.copy(data / "treatments" / "facial.yaml", data / "treatments" / f"{name}.yaml")
    with pytest.raises(InputError) as raised:
        load_content(data)
    [problem] = raised.value.problems
    assert problem.file.name == f"{name}.yaml"
    assert "expected a treatment file name other than booklet, comparison, index, report" in problem.message


def test_a_safe_treatment_file_name_is_accepted(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    shutil.copy(data / "treatments" / "facial.yaml", data / "treatments" / "facial-2.yaml")
    assert "facial-2" in load_content(data).treatments


def test_clinic_output_folders_are_safe_distinct_and_stable():
    assert safe_name("rosewood") == "rosewood" and safe_name("rose-wood-2") == "rose-wood-2"
    tokyo, osaka = safe_name("東京"), safe_name("大阪")
    assert tokyo != osaka
    assert re.fullmatch(r"clinic-[0-9a-f]{6}", tokyo) and re.fullmatch(r"clinic-[0-9a-f]{6}", osaka)
    assert safe_name("Rose Wood") != safe_name("rose wood") != safe_name("rose-wood")
    assert safe_name("Clínica Rosa") == "clinica-rosa-" + safe_name("Clínica Rosa")[-6:]
    # The same name gives the same folder on every machine, every run.
    assert safe_name("東京") == "clinic-130016"
    for name in ["東京", "Rose Wood", "x" * 300, "../..", "", "a.b", "Ünïcödé Clinic (Main) — Branch #2"]:
        assert SLUG.fullmatch(safe_name(name)), name


def test_two_clinics_with_non_latin_names_get_their_own_folders(tmp_path):
    slugs = []
    for name in ("東京", "大阪"):
        shutil.copytree(ROSEWOOD, tmp_path / name)
        slugs.append(load_clinic(tmp_path / name / "clinic.yaml", CONTENT).slug)
    assert slugs[0] != slugs[1]


def test_a_symlinked_clinic_folder_keeps_the_name_it_was_given(tmp_path):
    target = tmp_path / "storage" / "abc123"
    shutil.copytree(ROSEWOOD, target)
    os.symlink(target, tmp_path / "harbour")
    clinic = load_clinic(find_clinic_file(str(tmp_path / "harbour"), DATA), CONTENT)
    assert clinic.slug == "harbour"
    assert clinic.folder == target.resolve()


# --- 6. Unknown treatments and plain words instead of patterns ---


def test_every_unknown_treatment_is_named_with_a_suggestion(clinic_copy):
    config = edit_config(clinic_copy, "treatments: [facial, hair, body]", 'treatments: ["../x", nosuch, hiar, body]')
    problems = problems_of(config)
    assert [p.field for p in problems] == ["treatments[0]", "treatments[1]", "treatments[2]"]
    assert problems[0].message == 'unknown treatment; expected one of facial, hair, body, got "../x"'
    assert problems[1].message == 'unknown treatment; expected one of facial, hair, body, got "nosuch"'
    assert (
        problems[2].message == 'unknown treatment; did you mean "hair"? expected one of facial, hair, body, got "hiar"'
    )


PATTERN_TEXT = re.compile(r"\^|\$'|\[a-z|\{0,|\\[dsw]|pattern")


@pytest.mark.parametrize(
    "old,new,field,said",
    [
        ("language: en", "language: EN", "language", 'expected a language code like "en" or "en-US", got "EN"'),
        ("language: en", "language: english", "language", 'expected a language code like "en" or "en-US"'),
        (
            "language: en",
            "language: en\nclaims_profile: U K",
            "claims_profile",
            "expected a name of up to 40 lowercase letters a–z, digits and dashes, starting with a letter or digit, "
            'like "uk", got "U K"',
        ),
    ],
)
def test_pattern_errors_are_plain_words(clinic_copy, old, new, field, said):
    config = edit_config(clinic_copy, old, new)
    message = only_problem(config, field, said)
    assert not PATTERN_TEXT.search(message), message


def test_a_bad_source_id_in_content_is_plain_words(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    treatment = data / "treatments" / "hair.yaml"
    text = treatment.read_text()
    first_id = re.search(r"- id: (\S+)", text).group(1)
    treatment.write_text(text.replace(f"- id: {first_id}", "- id: Not A Slug!", 1))
    with pytest.raises(InputError) as raised:
        load_content(data)
    messages = [p.message for p in raised.value.problems]
    assert any(m.startswith("expected a name of up to 40 lowercase letters") for m in messages), messages
    assert not any(PATTERN_TEXT.search(m) for m in messages), messages


# --- 7. A flood of errors ---


def test_report_lines_caps_each_file():
    first, second = Path("a/clinic.yaml"), Path("b/clinic.yaml")
    problems = [Problem(first, n, f"k{n}", "unknown field") for n in range(1, 27_150)] + [
        Problem(second, n, f"k{n}", "unknown field") for n in range(1, 4)
    ]
    lines = report_lines(problems)
    assert lines[:20] == [str(p) for p in problems[:20]]
    assert lines[20] == "a/clinic.yaml: … and 27,129 more problems in this file"
    assert lines[21:] == [str(p) for p in problems[-3:]]
    assert report_lines(problems, per_file=2)[2] == "a/clinic.yaml: … and 27,147 more problems in this file"
    assert report_lines(problems[:21], per_file=20)[-1] == "a/clinic.yaml: … and 1 more problem in this file"
    assert report_lines(problems[:20]) == [str(p) for p in problems[:20]]
    # Repeats once.
    assert report_lines(problems[:3] + problems[:3]) == [str(p) for p in problems[:3]]


def test_a_file_of_unknown_fields_gives_a_capped_report(clinic_copy, capsys, tmp_path):
    config = clinic_copy / "clinic.yaml"
    text = config.read_text() + "".join(f"k{n}: 1\n" for n in range(40_000))
    config.write_text(text[: text.rindex("\n", 0, 255 * 1024) + 1])
    problems = problems_of(config)
    assert len(problems) > 27_000
    assert len(report_lines(problems)) == 21
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 22 and err[-1].endswith(f"… and {len(problems) - 20:,} more problems in this file")


# --- A clinic whose logo or templates misbehave is refused once, as a clinic ---


def marker_bomb(vertices: int = 20000, rects: int = 400) -> bytes:
    """A small SVG that draws a marker of `rects` rectangles at each of `vertices` points: slow to draw, quick to
    read."""
    marker = "".join(f'<rect x="{i % 20}" y="{i // 20}" width="1" height="1"/>' for i in range(rects))
    path = "M0 0 " + " ".join(f"L{i % 100} {i // 100}" for i in range(vertices))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40"><defs><marker id="m" markerWidth="20" '
        f'markerHeight="20">{marker}</marker></defs><path d="{path}" marker-mid="url(#m)" fill="none" '
        'stroke="black"/></svg>'
    ).encode()


@pytest.mark.parametrize(
    "name,data,fragment",
    [
        ("bomb.svg", marker_bomb(), "took longer than its time budget"),
        (
            "peek.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image width="10" height="10" '
            b'href="file:///etc/passwd"/></svg>',
            "expected a logo that can be drawn",
        ),
    ],
)
def test_a_logo_that_cannot_be_drawn_fails_its_clinic_once(clinic_copy, tmp_path, capsys, name, data, fragment):
    with_logo(clinic_copy, name, data)
    started = time.monotonic()
    code = main(
        [
            "--clinic", str(clinic_copy), "--clinic", "example", "--time-limit", "10", "--jobs", "1", "--treatment",
            "facial", "--treatment", "comparison", "--out", str(tmp_path)
        ]
    )
    # Once for the clinic, not once per document.
    assert code == 2 and time.monotonic() - started < 90
    err = capsys.readouterr().err
    assert "clinic.yaml" in err and " logo: " in err and fragment in err
    assert not (tmp_path / "mine").exists() and (tmp_path / "example" / "facial.pdf").is_file()


def test_a_clinic_template_that_never_finishes_is_invalid_input(clinic_copy, tmp_path, capsys):
    folder = clinic_copy / "templates" / "partials"
    folder.mkdir(parents=True)
    (folder / "takeaway.html.j2").write_text(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    code = main(["--clinic", str(clinic_copy), "--jobs", "1", "--time-limit", "2", "--out", str(tmp_path)])
    # The clinic's other documents are not tried one by one.
    assert code == 2 and time.monotonic() - started < 60
    err = capsys.readouterr().err
    assert "mine/templates templates: expected templates that render" in err
    # Not even the comparison sheet, which does not use that template.
    assert not (tmp_path / "mine").exists()


def test_a_clinic_yaml_that_links_outside_its_folder_is_refused_unread(clinic_copy, tmp_path, capsys):
    secret = tmp_path / "secret.env"
    secret.write_text("API_KEY=sk-live-SECRET")
    (clinic_copy / "clinic.yaml").unlink()
    (clinic_copy / "clinic.yaml").symlink_to(secret)
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "expected a clinic.yaml inside its clinic folder, got a link to a file outside it" in err
    assert "SECRET" not in err


def test_a_linked_alias_of_a_clinic_is_built_once_and_said(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    (data / "clinics" / "zz-alias").symlink_to(data / "clinics" / "example")
    assert main(["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "comparison"]) == 0
    assert "is the same clinic as" in capsys.readouterr().err


def test_a_file_the_build_record_names_cannot_hang_the_next_build(tmp_path, capsys):
    from PIL import Image

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    clinic = data / "clinics" / "example"
    Image.new("RGB", (60, 24), "#0F6E6E").save(clinic / "inner.png")
    (clinic / "wrapper.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="150" height="60">'
        '<image width="150" height="60" href="inner.png"/></svg>'
    )
    edit_config(clinic, "logo: logo.svg", "logo: wrapper.svg")
    command = ["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "facial", "--time-limit", "20"]
    assert main(command) == 0
    (clinic / "inner.png").unlink()
    # What the record says the logo read is now a named pipe.
    os.mkfifo(clinic / "inner.png")
    started = time.monotonic()
    assert main(command) == 2
    assert time.monotonic() - started < 30
    assert "expected a logo that can be drawn" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name,data",
    [
        # Brotli cannot unpack it.
        ("broken.woff2", b"wOF2" + bytes(60)),
        # Nor zlib this one.
        ("broken.woff", b"wOFF" + bytes(60)),
        ("broken.ttf", b"\x00\x01\x00\x00" + bytes(60)),
    ],
)
def test_a_damaged_font_file_is_skipped_and_the_batch_goes_on(clinic_copy, tmp_path, capsys, name, data):
    (clinic_copy / "fonts").mkdir()
    (clinic_copy / "fonts" / name).write_bytes(data)
    assert (
        main(["--clinic", str(clinic_copy), "--clinic", "example", "--treatment", "comparison", "--out", str(tmp_path)])
        == 0
    )
    assert "Traceback" not in capsys.readouterr().err
    assert (tmp_path / "mine" / "comparison.pdf").is_file() and (tmp_path / "example" / "comparison.pdf").is_file()


def test_a_huge_font_file_is_not_used(clinic_copy):
    from brochures.brand.fonts import MAX_FONT_BYTES, find_font

    packaged = find_font("Atkinson Hyperlegible", clinic_copy)
    (clinic_copy / "fonts").mkdir()
    huge = clinic_copy / "fonts" / "Huge.ttf"
    shutil.copyfile(packaged.faces[0].path, huge)
    with huge.open("r+b") as file:
        # A real font, padded (sparse: no disk used)
        file.truncate(MAX_FONT_BYTES + 1)
    chosen = find_font("Atkinson Hyperlegible", clinic_copy)
    assert chosen is not None and all(not face.path.is_relative_to(clinic_copy.resolve()) for face in chosen.faces)


@pytest.mark.parametrize(
    "markup,said",
    [
        ('<a href="prices.html">Our prices</a>', "links to file address 'mine/prices.html'"),
        ('<a rel="attachment" href="logo.svg">The logo</a>', "file attached; brochures carry none"),
    ],
)
def test_a_clinic_template_cannot_link_to_or_attach_its_files(clinic_copy, tmp_path, capsys, monkeypatch, markup, said):
    folder = clinic_copy / "templates" / "partials"
    folder.mkdir(parents=True)
    (folder / "takeaway.html.j2").write_text(f"<p>{markup}</p>")
    monkeypatch.chdir(clinic_copy.parent)
    assert main(["--clinic", "mine", "--treatment", "facial", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert said in err and str(clinic_copy) not in err
    assert not (tmp_path / "out" / "mine" / "facial.pdf").exists()


def test_messages_name_files_as_given_not_as_file_urls(clinic_copy, tmp_path, capsys, monkeypatch):
    folder = clinic_copy / "templates" / "partials"
    folder.mkdir(parents=True)
    (folder / "takeaway.html.j2").write_text('<img src="missing.png" alt="">')
    monkeypatch.chdir(clinic_copy.parent)
    assert main(["--clinic", "mine", "--treatment", "facial", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "mine/missing.png" in err and "file://" not in err and str(clinic_copy) not in err


@pytest.mark.parametrize("name,shown", [("東京 Aesthetics", "東京"), ("عيادة الجمال", "عيادةلجم")])
def test_text_the_clinics_font_cannot_draw_is_refused_at_validation(clinic_copy, name, shown):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", f"name: {name}")
    only_problem(
        clinic_copy / "clinic.yaml",
        "name",
        f'expected text the font Atkinson Hyperlegible can draw, got "{shown}"',
        needle="name:",
    )


def test_accented_latin_text_is_drawn_by_the_shipped_font(clinic_copy):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: Clinique Élan – São Paulo, Zürich, Łódź")
    assert load_clinic(clinic_copy / "clinic.yaml", CONTENT).config.name.startswith("Clinique Élan")


def test_accents_stacked_on_one_letter_are_refused(clinic_copy):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: Example Cli\u0301\u0301\u0301\u0301nic")
    only_problem(clinic_copy / "clinic.yaml", "name", "4 accents stacked on one letter at character 12")
    # One accent is fine.
    edit_config(clinic_copy, "name: Example Cli\u0301\u0301\u0301\u0301nic", "name: Clínica Jose\u0301")
    assert load_clinic(clinic_copy / "clinic.yaml", CONTENT)


def test_a_web_address_that_hides_its_host_behind_an_at_sign_is_refused_saying_why(clinic_copy):
    edit_config(
        clinic_copy,
        "booking_url: https://example-clinic.test/book",
        "booking_url: https://example-clinic.test@elsewhere.test/book",
    )
    only_problem(clinic_copy / "clinic.yaml", "booking_url", 'without a name and "@" before its host')
