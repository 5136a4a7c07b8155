"""The quality gate: each check passes good content and catches what it is for."""

from __future__ import annotations

import json
import shutil
from io import BytesIO

import pytest
import yaml
from pypdf import PdfWriter
from pypdf.generic import NameObject

from brochures.brand.colours import contrast
from brochures.load.approval import approval_request
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.pdf.accessibility import accessibility
from brochures.quality.claims import ClaimChecker
from brochures.quality.reading import GRADE_TARGET, grade, prose
from brochures.schema.reference import ClaimRules
from conftest import DATA, edit_config, line_of, own_contacts, walk_structure
from generate import main

UK = ClaimRules.model_validate(yaml.safe_load((DATA / "claims" / "uk.yaml").read_text()))


def report(out, clinic="example"):
    """A clinic's report.json; after a --check, which writes check-report.json beside it, that one."""
    folder = out / clinic
    return json.loads((folder / ("check-report.json" if (folder / "check-report.json").exists() else "report.json"))
                      .read_text())


# --- The shipped content passes every check at --strict, once a clinic has approved it ---

def test_shipped_content_passes_every_check_but_awaits_the_clinics_approval(example_build):
    data = report(example_build.parent)
    assert len(data["documents"]) == 5
    for card in data["documents"]:
        assert card["approval"] == "unapproved"
        # The approval, and the example's contact details, which reach no one (a drama number, .test addresses).
        assert card["verdict_reasons"] == ["approval", "contact"], card["document"]
        assert [w for w in card["warnings"] if " approval: " not in w and "reaches no one" not in w] == []
        assert sum("not yet approved by the clinic's medical lead" in w for w in card["warnings"]) == 1
        assert card["reading_grade"] <= GRADE_TARGET
        assert all(value <= GRADE_TARGET for value in card["reading_sections"].values())
        assert card["smallest_text_pt"] >= 9 and card["body_text_pt"] >= 12
        assert card["lowest_text_contrast"] >= 4.5 and card["text_contrast_failures"] == 0
        assert card["accessibility"] and all(card["accessibility"].values())


def approve(clinic_folder) -> None:
    """What a clinic's medical lead does: paste the approval block that --approval prints into clinic.yaml."""
    content = load_content(DATA)
    request = approval_request(load_clinic(clinic_folder / "clinic.yaml", content), content)
    block = request[request.index("\napproval:\n") + 1:].split("\n\n")[0]
    block = block.replace('name: ""', 'name: "Dr Jane Smith"').replace('role: ""', 'role: "Medical lead"')
    block = block.replace('date: ""', "date: 2026-11-20")
    config = clinic_folder / "clinic.yaml"
    config.write_text(config.read_text() + "\n" + block + "\n")


def test_check_strict_fails_until_the_clinic_approves_then_passes(clinic_copy, tmp_path, capsys):
    command = ["--clinic", str(clinic_copy), "--check", "--strict", "--treatment", "facial", "--out", str(tmp_path)]
    assert main(command) == 1
    assert "not yet approved" in capsys.readouterr().out
    approve(clinic_copy)
    own_contacts(clinic_copy)
    assert main(command) == 0
    assert not list(tmp_path.rglob("*.pdf"))
    assert (tmp_path / "mine" / "check-report.html").is_file() and report(tmp_path, "mine")["documents"][0][
        "approval"
    ] == "approved"
    assert "Scorecard for Example Aesthetics Clinic" in capsys.readouterr().out


# --- Claims ---


@pytest.mark.parametrize(
    "text",
    [
        "Results are not permanent.", "No treatment is risk-free.", "Results vary.", "It is not painless for everyone.",
        "We cannot guarantee results."
    ],
)
def test_honest_negations_are_not_claims(text):
    assert ClaimChecker(UK).find(text) == []


@pytest.mark.parametrize(
    "text,rule",
    [
        ("Permanent results!", "promise"),
        ("A risk-free treatment.", "trivialising-risk"),
        ("Risk free and quick.", "trivialising-risk"),
        ("Clinically proven.", "unsupported-evidence"),
        ("The best clinic in town.", "superlative"),
        ("Limited time offer.", "pressure"),
        ("100% satisfaction.", "promise"),
        ("There are no side effects.", "trivialising-risk"),
    ],
)
def test_claims_are_found_with_their_rule(text, rule):
    assert rule in [found_rule for _, found_rule, _ in ClaimChecker(UK).find(text)]


def test_clinic_disclaimer_with_claims_is_flagged_with_file_line_field_and_reason(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, "disclaimer: >-", 'disclaimer: "Guaranteed painless results."\nold_disclaimer: >-')
    config = clinic_copy / "clinic.yaml"
    config.write_text(config.read_text().replace("old_disclaimer: >-\n", "notes: >-\n", 1))
    text = config.read_text()
    # Drop the old disclaimer paragraph.
    config.write_text(text[: text.index("notes: >-")])
    assert (
        main(["--clinic", str(clinic_copy), "--check", "--strict", "--treatment", "facial", "--out", str(tmp_path)])
        == 1
    )
    out = capsys.readouterr().out
    line = line_of(config, "disclaimer:")
    assert f'clinic.yaml:{line} disclaimer: "Guaranteed": Promises a result.' in out
    assert f'clinic.yaml:{line} disclaimer: "painless": Trivialises the risks' in out
    warnings = report(tmp_path, "mine")["documents"][0]["warnings"]
    assert len([w for w in warnings if w.startswith("claim")]) == 2


def test_without_strict_claims_are_warnings_not_failures(clinic_copy, tmp_path):
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: The Best Clinic")
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0
    assert any('"The Best"' in w for w in report(tmp_path, "mine")["documents"][0]["warnings"])


def test_us_profile_and_clinic_terms(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, "language: en", "language: en\nclaims_profile: us\nclaims_terms: [glow-up]")
    edit_config(clinic_copy, "name: Example Aesthetics Clinic", "name: FDA approved glow-up clinic")
    assert (
        main(["--clinic", str(clinic_copy), "--check", "--strict", "--treatment", "facial", "--out", str(tmp_path)])
        == 1
    )
    out = capsys.readouterr().out
    assert '"FDA approved": Understates risk.' in out
    assert '"glow-up": Listed by the clinic in claims_terms' in out


def test_unknown_claims_profile_is_an_input_error(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, "language: en", "language: en\nclaims_profile: mars")
    assert main(["--clinic", str(clinic_copy), "--out", str(tmp_path)]) == 2
    assert (
        'claims_profile: expected a claims profile in data/claims/ (ar, es, uk, us), got "mars"'
        in capsys.readouterr().err
    )


# --- Safety content ---


@pytest.mark.parametrize(
    "section", ["aftercare", "not_suitable", "emergency", "contact_clinic", "results", "side_effects"]
)
def test_a_treatment_missing_safety_content_is_an_error(tmp_path, capsys, section):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = data / "treatments" / "hair.yaml"
    tree = yaml.safe_load(path.read_text())
    del tree[section]
    path.write_text(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True))
    assert main(["--data", str(data), "--out", str(tmp_path / "out")]) == 2
    assert f"hair.yaml:1 {section}: required, but missing" in capsys.readouterr().err


# --- Reading level ---


def test_bullet_items_are_measured_as_sentences():
    items = ["Redness", "Swelling", "Tenderness", "Small bruises at the injection points", "A mild headache"]
    assert prose(items) == "Redness. Swelling. Tenderness. Small bruises at the injection points. A mild headache."
    assert grade(prose(items), []) < grade(" ".join(items), [])


def test_a_long_sentence_raises_the_grade_over_target(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = data / "treatments" / "facial.yaml"
    long_sentence = (
        "Notwithstanding considerable interindividual variability in dermatological responsiveness, "
        "practitioners administering intradermal microinjections of biorevitalising formulations "
        "frequently characterise the subsequent physiological consequences as progressively "
        "cumulative, necessitating conscientious longitudinal evaluation throughout the therapeutic programme."
    )
    path.write_text(
        path.read_text().replace(
            "  - Facial mesotherapy is one of the most popular cosmetic uses of mesotherapy.", f"  - {long_sentence}"
        )
    )
    assert (
        main(["--data", str(data), "--check", "--strict", "--treatment", "facial", "--out", str(tmp_path / "out")]) == 1
    )
    card = report(tmp_path / "out")["documents"][0]
    assert card["reading_sections"]["summary"] > GRADE_TARGET
    assert any("the summary section reads at grade" in warning for warning in card["warnings"])
    assert "Hyaluronic acid" in card["excluded_from_reading"]


# --- Contrast ---


def test_a_clinic_colour_too_light_for_text_gets_an_accessible_shade(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, 'primary: "#0F6E6E"', 'primary: "#FFD700"')
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0
    card = report(tmp_path, "mine")["documents"][0]
    [adjustment] = card["contrast_adjustments"]
    line = line_of(clinic_copy / "clinic.yaml", "primary:")
    assert f"clinic.yaml:{line} colors.primary: #FFD700 as text gives 1.4:1 on white" in adjustment
    shade = adjustment.split(" uses ")[1].split(" ")[0]
    # Readable on every background brand text sits on: the page, the accent, and the emergency box (its markers).
    assert contrast(shade, "#FFFFFF") >= 4.5 and contrast(shade, "#E8F4F4") >= 4.5 and contrast(shade, "#FDF1F1") >= 4.5
    # Measured on the PDF: every glyph's fill colour against what lies behind it.
    assert card["lowest_text_contrast"] >= 4.5 and card["text_contrast_failures"] == 0
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--strict", "--out", str(tmp_path)]) == 1


def test_a_dark_accent_behind_text_is_lightened(clinic_copy, tmp_path):
    edit_config(clinic_copy, 'accent: "#E8F4F4"', 'accent: "#333333"')
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 0
    card = report(tmp_path, "mine")["documents"][0]
    assert any("colors.accent: #333333 behind text" in a for a in card["contrast_adjustments"])
    assert card["text_contrast_failures"] == 0


def override(clinic, name, text):
    folder = clinic / "templates" / "partials"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


@pytest.mark.parametrize(
    "partial,text,reason",
    [
        (
            "takeaway.html.j2",
            '<p style="color: #BBBBBB">Pale text is hard to read.</p>',
            "below WCAG AA contrast (#BBBBBB on #FFFFFF",
        ),
        ("takeaway.html.j2", '<p style="font-size: 7pt">Tiny text.</p>', "some text is 7.0 pt, below the 9 pt minimum"),
    ],
)
def test_text_patients_cannot_read_fails_the_document(clinic_copy, tmp_path, capsys, partial, text, reason):
    override(clinic_copy, partial, text)
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "facial" in err and "not fit to give to patients as it is:" in err and reason in err
    assert not list((tmp_path / "mine").glob("facial*.pdf"))


@pytest.mark.parametrize(
    "damage,check",
    [
        (lambda root, figure: figure.__delitem__(NameObject("/Alt")), "every figure has alternative text"),
        (lambda root, figure: root.__delitem__(NameObject("/Lang")), "document language"),
        (lambda root, figure: root.__delitem__(NameObject("/MarkInfo")), "tagged"),
        (lambda root, figure: root.__delitem__(NameObject("/ViewerPreferences")), "title shown in title bar"),
    ],
)
def test_accessibility_checks_catch_a_damaged_pdf(example_build, damage, check):
    """WeasyPrint never writes these faults, so the checks are proven on a real PDF damaged on purpose."""
    path = example_build / "facial.pdf"
    assert all(accessibility(path.read_bytes(), pdf_ua=True).values())
    writer = PdfWriter(clone_from=path)
    root = writer._root_object
    figure = next(node for node in walk_structure(root["/StructTreeRoot"]) if node["/S"] == "/Figure")
    damage(root, figure)
    damaged = BytesIO()
    writer.write(damaged)
    checks = accessibility(damaged.getvalue(), pdf_ua=True)
    assert checks[check] is False
    assert sum(not ok for ok in checks.values()) == 1


def test_missing_alt_text_is_refused_by_weasyprint_first(clinic_copy, tmp_path, capsys):
    override(clinic_copy, "title.html.j2", '<h1>{{ treatment.title }}</h1><img src="{{ icon_src }}">')
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(tmp_path)]) == 1
    assert "has no required alt description" in capsys.readouterr().err


# --- Review dates ---


def test_content_past_its_review_date_is_a_warning(tmp_path, monkeypatch, capsys):
    # 2028-01-01.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1830297600")
    assert main(["--check", "--treatment", "hair", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hair.yaml:" in out and "review.next_review: Hair mesotherapy was due for review on 2027-11-24" in out
    assert main(["--check", "--strict", "--treatment", "hair", "--out", str(tmp_path)]) == 1


# --- The report a clinic reads ---


def test_report_html_is_readable_without_code(example_build):
    html = (example_build / "report.html").read_text()
    for needed in (
        "Quality report: Example Aesthetics Clinic", "Reading grade (target 8 or lower)", "facial.pdf", "booklet.pdf",
        "Reading grade by section", "when to get help", "Hyaluronic acid", "7/7 passed"
    ):
        assert needed in html


def test_reports_name_files_as_the_user_gave_them_never_absolute(clinic_copy, tmp_path, monkeypatch):
    # Run from elsewhere, with a clinic given by a relative path: warnings name the clinic's file as
    # given and the project's own files from the project folder, never a home or temporary folder.
    edit_config(clinic_copy, "disclaimer: >-\n", "disclaimer: >-\n  Guaranteed results.\n")
    # 2028-01-01: reviews are overdue, so data/ files are named.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1830297600")
    monkeypatch.chdir(clinic_copy.parent)
    out = tmp_path / "out"
    assert main(["--clinic", "mine", "--treatment", "hair", "--out", str(out)]) == 0
    # Staff read it in words.
    for name, where in (("report.json", "{}:"), ("report.html", "In {}, line ")):
        text = (out / "mine" / name).read_text()
        assert where.format("mine/clinic.yaml") in text and where.format("data/treatments/hair.yaml") in text, name
        assert str(tmp_path) not in text and str(DATA.parent) not in text, name


# --- Reading grades are remembered between builds ---


def test_an_unchanged_text_is_not_measured_again_and_the_memo_holds_no_text(tmp_path, monkeypatch):
    from brochures.load.content import load_content
    from brochures.quality import grade_memo
    from brochures.quality import reading as quality

    facial = load_content(DATA).treatments["facial"]
    monkeypatch.setenv("BROCHURES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(quality, "_GRADES", None)
    first = quality.treatment_reading(facial)
    quality.save_grades()
    saved = (tmp_path / "cache" / grade_memo.MEMO_FILE).read_text()
    # Hashes and numbers only.
    assert "Hyaluronic" not in saved and "mesotherapy" not in saved

    def no_measuring(text):
        raise AssertionError("measured again")

    monkeypatch.setattr(quality.textstat, "flesch_kincaid_grade", no_measuring)
    # A new build: the memo is read from its file.
    monkeypatch.setattr(quality, "_GRADES", None)
    assert quality.treatment_reading(facial) == first
    # A changed text is measured.
    with pytest.raises(AssertionError, match="measured again"):
        quality.grade("A sentence no build has seen before, about a brand new leaflet.", [])


@pytest.mark.parametrize("damage", ["not json", "folder"])
def test_a_damaged_or_unwritable_grade_memo_is_ignored(tmp_path, monkeypatch, damage):
    from brochures.quality import grade_memo
    from brochures.quality import reading as quality

    cache = tmp_path / "cache"
    cache.mkdir()
    if damage == "folder":
        # Neither readable as a file nor replaceable.
        (cache / grade_memo.MEMO_FILE).mkdir()
    else:
        (cache / grade_memo.MEMO_FILE).write_text("{not json")
    monkeypatch.setenv("BROCHURES_CACHE_DIR", str(cache))
    monkeypatch.setattr(quality, "_GRADES", None)
    assert quality.grade("Mesotherapy uses tiny injections.", []) > 0
    # No error.
    quality.save_grades()


@pytest.mark.parametrize("argv, said", [
    (["--check", "--approval"], "expected --approval (print each clinic's fingerprint, build nothing) or --check"),
    (["--out", ""], "argument --out: expected a file or folder, got an empty name"),
    (["--data", " "], "argument --data: expected a file or folder, got an empty name"),
])
def test_options_that_contradict_or_name_nothing_are_refused(argv, said, capsys, tmp_path, monkeypatch):
    """--check --approval did one and dropped the other; --out '' wrote a build into the current folder."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2 and said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []

