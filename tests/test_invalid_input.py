"""Bad input: each case ends with exit 2, a one-line reason naming file, line and field, and no PDF."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from pypdf import PdfReader

from conftest import ROSEWOOD, edit_config, line_of, pdf_text
from generate import main


def build(clinic_folder, out, *extra):
    return main(["--clinic", str(clinic_folder), "--out", str(out), *extra])


def assert_rejected(capsys, out, clinic_folder, field, *fragments, line_needle=None):
    """Exit 2 was returned by the caller; here: the message names file:line field, and no PDF exists."""
    err = capsys.readouterr().err
    config = clinic_folder / "clinic.yaml"
    if line_needle is not None:
        assert f"clinic.yaml:{line_of(config, line_needle)} {field}:" in err, err
    else:
        assert f" {field}:" in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert "Traceback" not in err
    assert not list(out.rglob("*.pdf")), "a PDF was written for invalid input"
    return err


CASES = [
    # (field, old text, new text, fragments of the message, needle for the line)
    ("colours", "colors:", "colours:", ['unknown field; did you mean "colors"?'], "colours:"),
    (
        "colors.primary",
        '"#0F6E6E"',
        '"tealish"',
        [
            'expected a colour like "#0F6E6E"',
            'or a CSS colour name like "teal"',
            'got "tealish" (did you mean "teal"?)',
        ],
        "primary:",
    ),
    ("colors.primary", '"#0F6E6E"', "#1A5276", ["got nothing", "# starts a comment"], "primary:"),
    ("colors.accent", '"#E8F4F4"', '"#E8F4F"', ['expected a colour like "#0F6E6E"', 'got "#E8F4F"'], "accent:"),
    (
        "logo",
        "logo: logo.svg",
        "logo: /etc/passwd",
        ["expected a file name inside the clinic folder", 'got "/etc/passwd"'],
        "logo:",
    ),
    ("logo", "logo: logo.svg", "logo: ../../x.svg", ["expected a file name inside the clinic folder"], "logo:"),
    ("logo", "logo: logo.svg", "logo: missing.svg", ["does not exist"], "logo:"),
    ("logo", "logo: logo.svg", "logo: clinic.yaml", ["expected an SVG, PNG or JPEG file"], "logo:"),
    (
        "logo",
        "logo: logo.svg",
        "logo: https://evil.test/logo.svg",
        ["expected a file name inside the clinic folder"],
        "logo:",
    ),
    (
        "contact.website",
        "website: https://example-clinic.test",
        "website: http://example-clinic.test",
        ['expected a web address starting with "https://"', 'got "http://example-clinic.test"'],
        "website:",
    ),
    (
        "booking_url",
        "booking_url: https://example-clinic.test/book",
        "booking_url: javascript:alert(1)",
        ['expected a web address starting with "https://"'],
        "booking_url:",
    ),
    (
        "contact.email",
        "email: hello@example-clinic.test",
        "email: hello at clinic",
        ["expected an email address"],
        "email:",
    ),
    ("contact.phone", 'phone: "020 7946 0000"', "phone: call us", ["expected a phone number"], "phone:"),
    (
        "page_size",
        "page_size: A4",
        "page_size: A3",
        ["expected one of 'A4', 'Letter' or 'A5'", 'got "A3"'],
        "page_size:",
    ),
    (
        "language",
        "language: en",
        "language: fr",
        ["expected a language with a strings file", "(ar, en, en-US, es)", 'got "fr"'],
        "language:",
    ),
    ("language", "language: en", "language: no", ['got "no"'], "language:"),
    (
        "treatments[1]",
        "treatments: [facial, hair, body]",
        "treatments: [facial, nose]",
        ["expected one of facial, hair, body", 'got "nose"'],
        "treatments:",
    ),
    (
        "treatments[0]",
        "treatments: [facial, hair, body]",
        'treatments: ["../x"]',
        ["unknown treatment; expected one of facial, hair, body", 'got "../x"'],
        "treatments:",
    ),
    ("logo", "logo: logo.svg", "logo: .", ["expected a regular file, got a folder"], "logo:"),
    (
        "font",
        "font: Atkinson Hyperlegible",
        "font: Comic Sans MS",
        ["expected an installed font family", "Atkinson Hyperlegible", 'got "Comic Sans MS"'],
        "font:",
    ),
    ("name", "name: Example Aesthetics Clinic\n", "", ["required, but missing"], None),
    (
        "contact.address",
        'address: ["1 High Street", "London N1 1AA"]',
        "address: 1 High Street",
        ["expected a list"],
        "address:",
    ),
    (
        "name",
        "name: Example Aesthetics Clinic",
        "name: " + "x" * 500,
        ["expected at most 120 characters", "got 500 characters"],
        "name:",
    ),
]


@pytest.mark.parametrize("field,old,new,fragments,needle", CASES, ids=[f"{c[0]}={c[2][:20]}" for c in CASES])
def test_invalid_config_is_rejected_with_file_line_and_field(
    clinic_copy, tmp_path, capsys, field, old, new, fragments, needle
):
    edit_config(clinic_copy, old, new)
    assert build(clinic_copy, tmp_path / "out") == 2
    assert_rejected(capsys, tmp_path / "out", clinic_copy, field, *fragments, line_needle=needle)


def test_every_problem_is_reported_at_once(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, '"#0F6E6E"', '"tealish"')
    edit_config(clinic_copy, "email: hello@example-clinic.test", "email: nope")
    edit_config(clinic_copy, "page_size: A4", "page_size: A3")
    assert build(clinic_copy, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "Invalid input (3 problems)" in err
    assert "colors.primary:" in err and "contact.email:" in err and "page_size:" in err


def test_logo_symlink_out_of_the_clinic_folder_is_refused(clinic_copy, tmp_path, capsys):
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>SECRET</text></svg>')
    os.symlink(secret, clinic_copy / "linked.svg")
    edit_config(clinic_copy, "logo: logo.svg", "logo: linked.svg")
    assert build(clinic_copy, tmp_path / "out") == 2
    assert_rejected(capsys, tmp_path / "out", clinic_copy, "logo", "leads outside it", line_needle="logo:")


def test_a_password_in_the_config_is_refused_and_never_printed(clinic_copy, tmp_path, capsys):
    config = clinic_copy / "clinic.yaml"
    config.write_text(
        config.read_text()
        + "email:\n  from_address: hello@example-clinic.test\n  smtp_host: smtp.example-clinic.test\n"
        "  password: hunter2-secret\n"
    )
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert f"clinic.yaml:{line_of(config, '  password:')} email.password: expected no password in the config" in err
    assert "got a password (not shown)" in err and "hunter2" not in out + err


def test_a_byte_that_is_not_utf8_names_its_line(clinic_copy, tmp_path, capsys):
    """A clinic.yaml saved as Latin-1 by an old editor: the line and column of the byte, not its offset in bytes."""
    config = clinic_copy / "clinic.yaml"
    config.write_bytes(config.read_bytes().replace(b"name: Example Aesthetics Clinic", b"name: Caf\xe9 Clinic"))
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path / "out")]) == 2
    line = next(number for number, text in enumerate(config.read_bytes().split(b"\n"), start=1) if b"Caf" in text)
    assert (f"clinic.yaml:{line}: expected UTF-8 text (save the file as UTF-8), got a byte that is not UTF-8 "
            "(0xE9, column 10; in Latin-1 it would be 'é')") in capsys.readouterr().err


def test_yaml_syntax_error_names_the_line(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, "  accent: \"#E8F4F4\"", "  accent: [unclosed")
    assert build(clinic_copy, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "clinic.yaml:" in err and "not valid YAML" in err and "Traceback" not in err
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_duplicate_key_names_both_lines(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, "page_size: A4", "page_size: A4\npage_size: A5")
    assert build(clinic_copy, tmp_path / "out") == 2
    config = clinic_copy / "clinic.yaml"
    first = line_of(config, "page_size: A4")
    assert_rejected(
        capsys, tmp_path / "out", clinic_copy, "page_size", f"(first on line {first})", line_needle="page_size: A5"
    )


def test_yaml_aliases_are_refused(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, 'primary: "#0F6E6E"', 'primary: &brand "#0F6E6E"')
    edit_config(clinic_copy, 'accent: "#E8F4F4"', "accent: *brand")
    assert build(clinic_copy, tmp_path / "out") == 2
    assert_rejected(
        capsys,
        tmp_path / "out",
        clinic_copy,
        "colors.accent",
        "anchors and aliases are not supported",
        line_needle="accent:",
    )


def test_unknown_clinic_and_treatment_are_usage_errors(tmp_path, capsys):
    assert main(["--clinic", "nowhere", "--out", str(tmp_path)]) == 2
    assert 'got "nowhere"' in capsys.readouterr().err
    assert main(["--treatment", "nose", "--out", str(tmp_path)]) == 2
    assert 'expected one of facial, hair, body, comparison, booklet, got "nose"' in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.pdf"))


def test_one_broken_clinic_does_not_stop_the_others(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, '"#0F6E6E"', '"tealish"')
    code = main(
        [
            "--clinic", "example", "--clinic", str(clinic_copy), "--clinic", str(ROSEWOOD), "--treatment", "facial",
            "--out", str(tmp_path)
        ]
    )
    assert code == 2
    assert (tmp_path / "example" / "facial.pdf").is_file() and (tmp_path / "rosewood" / "facial.pdf").is_file()
    assert not (tmp_path / "mine").exists()
    err = capsys.readouterr().err
    assert f"clinic.yaml:{line_of(clinic_copy / 'clinic.yaml', 'primary:')} colors.primary:" in err


def test_yaml_keeps_what_was_typed(clinic_copy, tmp_path):
    """YAML 1.1 would read 0207946000 as a number and drop the zero; the brochure prints what was typed."""
    edit_config(clinic_copy, 'phone: "020 7946 0000"', "phone: 0207946000")
    assert build(clinic_copy, tmp_path, "--treatment", "facial") == 0
    assert "Call us on 0207946000." in pdf_text(tmp_path / "mine" / "facial.pdf")


def test_html_and_template_syntax_in_data_print_literally(clinic_copy, tmp_path):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", 'name: "<b>Bold</b> & {{ 7*7 }} Clinic"')
    assert build(clinic_copy, tmp_path, "--treatment", "facial") == 0
    path = tmp_path / "mine" / "facial.pdf"
    text = pdf_text(path)
    assert "<b>Bold</b> & {{ 7*7 }} Clinic" in text and "49" not in text
    assert PdfReader(path).metadata.author == "<b>Bold</b> & {{ 7*7 }} Clinic"


def test_a_failed_document_keeps_the_previous_pdf_and_the_rest_are_built(clinic_copy, tmp_path, capsys):
    assert build(clinic_copy, tmp_path, "--treatment", "facial") == 0
    before = (tmp_path / "mine" / "facial.pdf").read_bytes()
    # A clinic's own template override that asks for a file it may not read breaks only the documents that use it.
    (clinic_copy / "templates" / "partials").mkdir(parents=True)
    (clinic_copy / "templates" / "partials" / "takeaway.html.j2").write_text('<img src="/etc/hostname" alt="">')
    assert build(clinic_copy, tmp_path) == 1
    err = capsys.readouterr().err
    assert "facial.pdf" in err and "refused to read /etc/hostname" in err and "Traceback" not in err
    assert (tmp_path / "mine" / "facial.pdf").read_bytes() == before
    assert (tmp_path / "mine" / "comparison.pdf").is_file()
    assert not list(tmp_path.rglob(".brochures-partial-*"))


def test_a_mistake_in_a_clinic_template_is_invalid_input_and_nothing_is_written(clinic_copy, tmp_path, capsys):
    (clinic_copy / "templates" / "partials").mkdir(parents=True)
    template = clinic_copy / "templates" / "partials" / "takeaway.html.j2"
    template.write_text("<p>Fine</p>\n{{ no_such_value }}")
    assert build(clinic_copy, tmp_path) == 2
    err = capsys.readouterr().err
    assert f"{template}:2 templates:" in err and "no_such_value" in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.pdf")) and not (tmp_path / "mine").exists()


def test_clinic_folder_names_become_safe_output_folders(tmp_path):
    folder = tmp_path / "clinics" / "Rosewood Clinic (Main)"
    shutil.copytree(ROSEWOOD, folder)
    assert main(["--clinic", str(folder), "--treatment", "comparison", "--out", str(tmp_path / "out")]) == 0
    # Not safe as it is: transliterated, plus a short hash of the name, so that "Rosewood Clinic Main" gets another
    # folder.
    [built] = (tmp_path / "out").glob("*/comparison.pdf")
    assert re.fullmatch(r"rosewood-clinic-main-[0-9a-f]{6}", built.parent.name), built


def test_two_clinics_that_would_share_an_output_folder_are_refused(tmp_path, capsys):
    first, second = tmp_path / "a" / "rose-wood", tmp_path / "b" / "rose-wood"
    shutil.copytree(ROSEWOOD, first)
    shutil.copytree(ROSEWOOD, second)
    code = main(
        ["--clinic", str(first), "--clinic", str(second), "--treatment", "comparison", "--out", str(tmp_path / "out")]
    )
    assert code == 2
    assert "same output folder rose-wood/ as" in capsys.readouterr().err
    # The first clinic is still built.
    assert len(list((tmp_path / "out").rglob("*.pdf"))) == 1
