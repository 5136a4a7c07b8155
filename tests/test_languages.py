"""Brochures in other languages: a clinic offering English, Spanish and Arabic, built for real and read from its PDFs.

The example clinic is given `languages: [en, es, ar]` (with its disclaimer in each language) in a copy of data/,
and its facial brochure and comparison sheet are built once for the module with the real command. The other
tests break one thing in their own copy of data/ and check the command's answer.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from brochures.brand.fonts import find_font
from brochures.cli import translations
from brochures.files.yaml_reader import read_yaml
from brochures.problems import display_path
from brochures.quality.claims import ClaimChecker
from brochures.quality.reading import inflesz, spanish_syllables
from brochures.schema.errors import validate
from brochures.schema.reference import ClaimRules
from conftest import DATA, EXAMPLE, edit_config, pdf_text
from conftest import pdf_chars as chars
from conftest import pdf_words as words
from generate import main

# The example clinic's phone number, 020 7946 0000.
PHONE_GROUPS = ("020", "7946", "0000")
ES_DISCLAIMER = "Este folleto da información general. No sustituye el consejo de su profesional."
AR_DISCLAIMER = "تقدم هذه النشرة معلومات عامة. وهي لا تغني عن نصيحة الممارس الذي يعالجك."
LANGUAGES = (
    "languages: [en, es, ar]\n"
    "in_language:\n"
    f'  es: {{disclaimer: "{ES_DISCLAIMER}"}}\n'
    f'  ar: {{disclaimer: "{AR_DISCLAIMER}"}}\n'
)
ONLY = ["--treatment", "facial", "--treatment", "comparison"]


def three_languages(root: Path) -> Path:
    """A copy of data/ whose example clinic offers English, Spanish and Arabic."""
    data = root / "data"
    shutil.copytree(DATA, data)
    edit_config(data / "clinics" / "example", "language: en\n", LANGUAGES)
    return data


def run(argv: list[str], command=main) -> tuple[int, str, str]:
    """The command's exit code, its output and its errors."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = command(argv)
    return code, out.getvalue(), err.getvalue()


def key_line(path: Path, key: str) -> int:
    """The 1-based line where a top-level field starts (not the translation record that names it too)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    raise AssertionError(f"no {key}: line in {path}")


def yaml_of(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The facial brochure and comparison sheet of the 3-language clinic, built once with the real command."""
    root = tmp_path_factory.mktemp("languages")
    data = three_languages(root)
    code, out, err = run(["--data", str(data), "--out", str(root / "out"), "--jobs", "2", *ONLY])
    return {"code": code, "out": out, "err": err, "data": data, "home": root / "out" / "example"}


@pytest.fixture
def data(tmp_path) -> Path:
    """A writable copy of data/ with the 3-language clinic, to break in one place per test."""
    return three_languages(tmp_path)


# --- 1. Every document in every language passes the gate ---

def test_every_language_builds_through_the_gate(built):
    assert built["code"] == 0, built["err"]
    home = built["home"]
    for folder in (home, home / "es", home / "ar"):
        assert sorted(p.name for p in folder.glob("*.pdf")) == ["comparison.pdf", "facial.pdf"], folder
        assert (folder / "report.json").is_file() and (folder / "report.html").is_file()
    assert "Built 6 documents for 1 clinic in 3 languages" in built["out"]
    assert "Traceback" not in built["err"]


# --- 2. Metadata and content of the Spanish documents ---

@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_pdf_says_its_language_and_translated_title(built, language):
    translated = yaml_of(built["data"] / "translations" / language / "treatments" / "facial.yaml")
    shared = yaml_of(built["data"] / "translations" / language / "shared.yaml")
    facial = PdfReader(built["home"] / language / "facial.pdf")
    assert facial.trailer["/Root"]["/Lang"] == language
    assert facial.metadata.title == translated["title"]
    comparison = PdfReader(built["home"] / language / "comparison.pdf")
    assert comparison.trailer["/Root"]["/Lang"] == language
    assert comparison.metadata.title == shared["title"]
    english = PdfReader(built["home"] / "facial.pdf")
    assert english.trailer["/Root"]["/Lang"] == "en" and english.metadata.title != translated["title"]


def test_the_spanish_brochure_prints_the_spanish_safety_content(built):
    translated = yaml_of(built["data"] / "translations" / "es" / "treatments" / "facial.yaml")
    strings = yaml_of(built["data"] / "strings" / "es.yaml")
    text = pdf_text(built["home"] / "es" / "facial.pdf")
    for item in translated["not_suitable"] + translated["emergency"] + translated["aftercare"]:
        assert " ".join(item.split()) in text, item
    # "Llame al 999 de inmediato si".
    assert strings["emergency_heading"].format(number="999") in text
    # "Llámenos al 020 7946 0000.".
    assert strings["contact_phone_line"].format(phone="020 7946 0000") in text
    assert ES_DISCLAIMER in text
    # Not the English: its safety heading and items are not printed in the Spanish brochure.
    assert "Call 999 straight away if" not in text
    assert yaml_of(DATA / "treatments" / "facial.yaml")["aftercare"][0] not in text
    # Sources: the project's own are described in Spanish; the article keeps its title as cited.
    english_sources = {source["id"]: source for source in yaml_of(DATA / "treatments" / "facial.yaml")["sources"]}
    assert translated["source_notes"]["patient-safety"]["title"] in text
    assert english_sources["patient-safety"]["title"] not in text and english_sources["article"]["title"] in text


# --- 3. Arabic, mirrored on the page ---

def test_the_arabic_comparison_tables_first_column_is_on_the_right(built):
    strings = yaml_of(built["data"] / "strings" / "ar.yaml")
    title = yaml_of(built["data"] / "translations" / "ar" / "treatments" / "facial.yaml")["title"]
    found = words(built["home"] / "ar" / "comparison.pdf")
    # "نوع" of "نوع العلاج", the first column's header.
    label = strings["treatment_column"].split()[0]
    heads = [w for w in found if w[1] == label]
    assert heads, f"{label!r} is not drawn"
    # The header row: the label, and the facial treatment's title (the second column's header) on its line.
    page, _, label_left, _, bottom = next(
        w for w in heads if any(o[0] == w[0] and abs(o[4] - w[4]) < 2 and o[1] in title.split() for o in found))
    facial = [w for w in found if w[0] == page and abs(w[4] - bottom) < 2 and w[1] in title.split()]
    assert facial, "the facial column's header is on the label's row"
    assert label_left > max(w[3] for w in facial), "the first column lies to the right of the second"


def test_the_arabic_ingredients_tables_first_column_is_on_the_right(built):
    strings = yaml_of(built["data"] / "strings" / "ar.yaml")
    found = words(built["home"] / "ar" / "facial.pdf")
    # "المكون".
    first_head = next(w for w in found if w[1] == strings["ingredient"])
    second = [w for w in found if w[0] == first_head[0] and abs(w[4] - first_head[4]) < 2
              and w[1] in strings["why_it_is_used"].split()]
    assert second, "the two headings are on one row"
    assert first_head[2] > max(w[3] for w in second)


@pytest.mark.parametrize("document", ["facial", "comparison"])
def test_arabic_list_bullets_are_on_the_right_of_their_text(built, document):
    glyphs = chars(built["home"] / "ar" / f"{document}.pdf")
    bullets = [g for g in glyphs if g[1] == "•"]
    assert len(bullets) >= 5, "the lists have bullets"
    for page, _, left, right, bottom in bullets:
        # The glyphs of the bullet's own line nearest to it (the bullet's baseline is a little below or above
        # the text's, so a few points either way).
        line = [g for g in glyphs if g[0] == page and g[1] != "•" and abs(g[4] - bottom) < 4]
        assert line, "a bullet has text on its line"
        nearest = min(line, key=lambda g: min(abs(g[2] - right), abs(g[3] - left)))
        assert nearest[3] <= left + 1, (
            "the text nearest a bullet is on its left: the bullet is at the line's start, on the right"
        )


def assert_phone_reads_left_to_right(path: Path) -> None:
    """Every line holding the phone number draws its groups 020, 7946, 0000 from left to right."""
    groups = [
        (page, word.strip(".:،()"), left, bottom)
        for page, word, left, _, bottom in words(path)
        if word.strip(".:،()") in PHONE_GROUPS
    ]
    starts = [g for g in groups if g[1] == "020"]
    assert starts, f"the phone number is not printed in {path.name}"
    for page, _, left, bottom in starts:
        line = [g for g in groups if g[0] == page and abs(g[3] - bottom) < 2]
        # The other two groups of this number: the nearest of each on the line.
        middle = min((g for g in line if g[1] == "7946"), key=lambda g: abs(g[2] - left), default=None)
        end = min((g for g in line if g[1] == "0000"), key=lambda g: abs(g[2] - left), default=None)
        assert middle and end, f"the phone number is split across lines in {path.name}"
        assert left < middle[2] < end[2], (
            f"digit groups out of order in {path.name}: 020 at {left:.0f}, "
            f"7946 at {middle[2]:.0f}, 0000 at {end[2]:.0f}"
        )


def test_the_arabic_phone_numbers_digit_groups_read_left_to_right(built):
    for document in ("facial", "comparison"):
        assert_phone_reads_left_to_right(built["home"] / "ar" / f"{document}.pdf")


def without_full_stops(text: str) -> str:
    """Arabic text as pypdf extracts it, compared word for word. pypdf keeps each line's words in logical order,
    but a full stop at the end of a right-to-left line is drawn on its left, and pypdf gives it before the line
    (so an item that wraps reads "first line .last line"): full stops are left out of the comparison."""
    return " ".join(text.replace(".", " ").split())


def test_the_arabic_text_holds_the_arabic_safety_items(built):
    translated = yaml_of(built["data"] / "translations" / "ar" / "treatments" / "facial.yaml")
    plain = pdf_text(built["home"] / "ar" / "facial.pdf")
    text = without_full_stops(plain)
    # Every item of these lists, and the aftercare items without digits: pypdf gives a number inside an Arabic
    # line where it is drawn (after the word before it), so those are checked by position in another test.
    items = translated["not_suitable"] + translated["emergency"] + translated["contact_clinic"]
    items += [item for item in translated["aftercare"] if not re.search(r"\d", item)]
    assert len(items) >= 14
    for item in items:
        assert without_full_stops(item) in text, item
    # An item on one line is there exactly, as written but for its full stop.
    assert translated["emergency"][0].rstrip(".") in plain
    # The disclaimer's two sentences share a line, which pypdf gives in the order they are drawn: each is there.
    for sentence in AR_DISCLAIMER.split(".")[:2]:
        assert without_full_stops(sentence) in text, sentence


def font_families(path: Path) -> set[str]:
    """The font families a PDF draws its text in, as WeasyPrint names them (brand-<digest>), without subset tags."""
    families = set()
    for page in PdfReader(path).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            name = str(font.get_object()["/BaseFont"]).lstrip("/").split("+", 1)[-1]
            families.add(re.sub(r"-(Bold|Italic|Oblique|BoldItalic|BoldOblique)$", "", name))
    return families


def clinic_font_and_tajawal() -> set[str]:
    return {find_font("Atkinson Hyperlegible", EXAMPLE).css_name, find_font("Tajawal", EXAMPLE).css_name}


def test_every_arabic_glyph_is_in_the_clinics_font_or_tajawal(built):
    expected = clinic_font_and_tajawal()
    assert len(expected) == 2
    for document in ("facial", "comparison"):
        path = built["home"] / "ar" / f"{document}.pdf"
        families = font_families(path)
        assert families == expected, f"ar/{document}.pdf draws in {families}, not only the clinic's font and Tajawal"
    # The English documents need no Tajawal: the font is there for the Arabic script only.
    assert font_families(built["home"] / "facial.pdf") == {find_font("Atkinson Hyperlegible", EXAMPLE).css_name}
    # The gate measured the same: every document in the Arabic report passed its page checks.
    report = json.loads((built["home"] / "ar" / "report.json").read_text(encoding="utf-8"))
    assert all(card["error"] is None for card in report["documents"])


# --- 4. One report for every language ---


def test_the_clinics_report_lists_every_languages_documents(built):
    report = json.loads((built["home"] / "report.json").read_text(encoding="utf-8"))
    cards = {card["document"]: card for card in report["documents"]}
    assert set(cards) == {
        "facial.pdf",
        "comparison.pdf",
        "es/facial.pdf",
        "es/comparison.pdf",
        "ar/facial.pdf",
        "ar/comparison.pdf",
    }
    assert cards["es/facial.pdf"]["language"] == "es" and cards["ar/facial.pdf"]["language"] == "ar"
    assert cards["facial.pdf"]["reading_measure"] == "Flesch–Kincaid grade"
    html = (built["home"] / "report.html").read_text(encoding="utf-8")
    # A link that opens it, beside its picture.
    for document in ("es/facial.pdf", "ar/comparison.pdf"):
        assert f'href="{document}"' in html and (built["home"] / document).is_file()


def test_spanish_reads_by_inflesz_and_reaches_its_target(built):
    report = json.loads((built["home"] / "es" / "report.json").read_text(encoding="utf-8"))
    assert len(report["documents"]) == 2
    for card in report["documents"]:
        assert card["reading_measure"] == "INFLESZ"
        assert card["reading_grade"] >= 65, f"{card['document']} measures INFLESZ {card['reading_grade']}"
        assert "reading" not in card["verdict_reasons"]


def test_arabic_reads_by_osman_as_information_only(built):
    report = json.loads((built["home"] / "ar" / "report.json").read_text(encoding="utf-8"))
    assert len(report["documents"]) == 2
    for card in report["documents"]:
        assert card["reading_measure"] == "OSMAN"
        assert "reading" not in card["verdict_reasons"]
        assert not any("OSMAN" in warning or "reading" in warning.lower() for warning in card["warnings"])


# --- 5. An incomplete translation stops that language, naming the file, line and field ---

ES_FACIAL = Path("translations") / "es" / "treatments" / "facial.yaml"


def assert_refused(data: Path, tmp_path: Path, *needles: str) -> str:
    """The build exits 2 with every needle in its errors, no traceback, and no Spanish document; the clinic's other
    languages are built all the same."""
    out = tmp_path / "out"
    code, _, err = run(["--data", str(data), "--out", str(out), "--treatment", "comparison"])
    assert code == 2, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in:\n{err}"
    assert "Traceback" not in err
    assert not list(out.rglob("es/*.pdf")), "the Spanish documents were built from an incomplete translation"
    assert (out / "example" / "comparison.pdf").is_file() and (out / "example" / "ar" / "comparison.pdf").is_file()
    return err


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_list_with_one_item_fewer_than_the_english(data, tmp_path):
    path = data / ES_FACIAL
    last = yaml_of(path)["not_suitable"][-1]
    replace_in(path, f"  - {last}\n", "")
    english = len(yaml_of(data / "treatments" / "facial.yaml")["not_suitable"])
    assert_refused(
        data, tmp_path, f"{display_path(path)}:{key_line(path, 'not_suitable')} not_suitable:",
        f"expected {english} items", f"got {english - 1} items"
    )


def test_a_missing_field(data, tmp_path):
    path = data / ES_FACIAL
    in_summary = yaml_of(path)["in_summary"]
    replace_in(path, f"in_summary: {in_summary}\n", "")
    english = data / "treatments" / "facial.yaml"
    err = assert_refused(
        data, tmp_path, f"{display_path(path)}:", " in_summary: required, but missing",
        f"({display_path(english)}:{key_line(english, 'in_summary')})"
    )
    assert re.search(re.escape(display_path(path)) + r":\d+ in_summary:", err), "the line is named"


def test_a_fact_field_in_a_translation(data, tmp_path):
    path = data / ES_FACIAL
    replace_in(path, "\ntitle: ", "\norder: 3\ntitle: ")
    assert_refused(
        data, tmp_path, f"{display_path(path)}:{key_line(path, 'order')} order:", "a fact shared by every language"
    )


def test_a_missing_translation_file(data, tmp_path):
    path = data / ES_FACIAL
    path.unlink()
    assert_refused(
        data, tmp_path, display_path(path),
        f"expected the Spanish translation of {display_path(data / 'treatments' / 'facial.yaml')}, found no such file"
    )


def test_an_unknown_field(data, tmp_path):
    path = data / ES_FACIAL
    replace_in(path, "\ntitle: ", "\ncolour_note: hola\ntitle: ")
    assert_refused(data, tmp_path, f"{display_path(path)}:{key_line(path, 'colour_note')} colour_note: unknown field")


def test_the_translations_command_says_an_incomplete_translation(data):
    path = data / ES_FACIAL
    last = yaml_of(path)["not_suitable"][-1]
    replace_in(path, f"  - {last}\n", "")
    code, out, err = run(["--data", str(data)], translations.command)
    assert code == 2
    assert "es (Spanish): incomplete" in out
    assert f"{display_path(path)}:{key_line(path, 'not_suitable')} not_suitable:" in out
    assert "ar (Arabic): complete" in out
    code, _, err = run(["--data", str(data), "--stamp", "es"], translations.command)
    assert code == 2 and "Not stamped" in err and "not_suitable" in err


# --- 6. A translation older than the English it translates ---


def test_a_change_in_the_english_marks_each_translation_older_until_stamped(data, tmp_path):
    english = data / "treatments" / "facial.yaml"
    first = yaml_of(english)["aftercare"][0]
    replace_in(english, f"  - {first}\n", f"  - {first} Then wash your face gently.\n")
    code, out, err = run(["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "facial", "--jobs", "2"])
    assert code == 0, err
    home = tmp_path / "out" / "example"
    for language in ("es", "ar"):
        card = json.loads((home / language / "report.json").read_text(encoding="utf-8"))["documents"][0]
        where = f"translations/{language}/treatments/facial.yaml"
        stale = [w for w in card["warnings"] if "older than the English" in w]
        assert stale and all(where in w and " aftercare: " in w for w in stale), card["warnings"]
        line = key_line(data / "translations" / language / "treatments" / "facial.yaml", "aftercare")
        assert f"{where}:{line} aftercare:" in stale[0]
    english_card = json.loads((home / "report.json").read_text(encoding="utf-8"))["documents"][0]
    assert english_card["document"] == "facial.pdf"
    assert not any("older than the English" in w for w in english_card["warnings"])

    code, out, _ = run(["--data", str(data)], translations.command)
    assert code == 0 and "es (Spanish): complete; 1 field older than the English" in out
    assert "ar (Arabic): complete; 1 field older than the English" in out

    code, out, err = run(["--data", str(data), "--stamp", "es"], translations.command)
    assert code == 0, err
    assert f"stamped  {display_path(data / ES_FACIAL)}" in out
    code, out, _ = run(["--data", str(data)], translations.command)
    # Ar first: the languages are listed in order.
    arabic, spanish = out.split("es (Spanish)")
    assert spanish.startswith(": complete") and "older than the English" not in spanish
    assert "older than the English" in arabic and "translations/ar/treatments/facial.yaml" in arabic


# --- 7. Claims rules in each language ---


def checker(language: str) -> ClaimChecker:
    return ClaimChecker(validate(ClaimRules, read_yaml(DATA / "claims" / f"{language}.yaml")))


@pytest.mark.parametrize(
    "text", ["Resultados garantizados en pocas semanas.", "Un tratamiento sin dolor.", "Resultados permanentes."]
)
def test_spanish_claims_are_flagged(text):
    assert checker("es").find(text), text


@pytest.mark.parametrize(
    "text",
    ["No son permanentes.", "Ningún tratamiento puede garantizar un resultado.", "Los resultados no son permanentes."],
)
def test_spanish_honest_negations_pass(text):
    assert checker("es").find(text) == [], text


@pytest.mark.parametrize("text", ["نتائج مضمونة", "نتائج مَضمونة", "ونتائج مضمونة", "نتائج دائمة"])
def test_arabic_claims_are_flagged_with_diacritics_and_prefixes(text):
    assert [rule for _, rule, _ in checker("ar").find(text)] == ["promise"], text


@pytest.mark.parametrize(
    "text, rule",
    [("كمعجزة", "trivialising-procedure"), ("فالأفضل", "superlative"), ("وبمعجزة", "trivialising-procedure")],
)
def test_an_arabic_claim_is_found_written_joined_to_a_prefix(text, rule):
    # Neither word is in the rules as written: only the prefixes (ك "like", ف "so", و "and", ب "with") find it.
    assert [found for _, found, _ in checker("ar").find(text)] == [rule], text
    assert checker("ar").find(f"هذا ليس {text}") == [], "a negation before it still excuses it"


@pytest.mark.parametrize(
    "language, text",
    [
        # Spanish typesets a space before %.
        ("es", "Eficacia del 100 %"),
        # The accent typed as a separate mark.
        ("es", "Cli\u0301nicamente probado"),
        ("es", "Sin ningún dolor"),
        ("es", "Se lo garantizo"),
        ("es", "Resultados definitivos"),
        # Arabic-Indic digits and the Arabic percent sign.
        ("ar", "نتائج ١٠٠ ٪"),
        # Persian digits.
        ("ar", "آمن ۱۰۰٪"),
        # Presentation forms, as pasted from a PDF.
        ("ar", "\ufed7\ufe98\ufe8e\ufe8b\ufe9e \ufee3\ufebf\ufee4\ufeee\ufee7\ufe94"),
        ("ar", "بدون أي ألم"),
        ("ar", "مئة بالمئة"),
        ("uk", "It\u2019s 100 % safe"),
    ],
)
def test_a_claim_is_found_however_it_is_typed(language, text):
    assert checker(language).find(text), text


def test_arabic_honest_negation_passes():
    assert checker("ar").find("النتائج ليست دائمة") == []


def test_the_shipped_translations_make_no_claims():
    for language in ("es", "ar"):
        check = checker(language)
        for path in sorted((DATA / "translations" / language).rglob("*.yaml")):
            assert check.check(read_yaml(path), frozenset({"translation", "source_notes"})) == [], path


# --- 8. The Spanish reading measure ---


@pytest.mark.parametrize(
    "word, count",
    [
        ("día", 2),
        ("ciudad", 2),
        ("leer", 2),
        ("poeta", 3),
        ("buey", 1),
        ("país", 2),
        ("que", 1),
        ("guitarra", 3),
        ("pingüino", 3),
        ("hoy", 1),
        ("mesoterapia", 5),
        ("Día", 2),
    ],
)
def test_spanish_syllables(word, count):
    assert spanish_syllables(word) == count


def test_inflesz_of_simple_and_hard_text():
    simple = inflesz("El sol sale. La casa es bonita. Me gusta leer.")
    assert 85 <= simple <= 120
    hard = inflesz(
        "La administración intradérmica de formulaciones farmacológicas individualizadas "
        "proporciona resultados considerablemente heterogéneos dependiendo de características "
        "constitucionales particulares."
    )
    assert hard < 40 < simple


# --- 9. A clinic's languages, checked ---


def test_a_disclaimer_with_no_spanish_version(data, tmp_path):
    config = data / "clinics" / "example" / "clinic.yaml"
    replace_in(config, f'  es: {{disclaimer: "{ES_DISCLAIMER}"}}\n', "")
    code, _, err = run(["--data", str(data), "--out", str(tmp_path / "out"), *ONLY])
    assert code == 2
    assert (
        f"{display_path(config)}:{key_line(config, 'in_language')} in_language: expected the disclaimer in Spanish"
        in err
    )
    assert "Traceback" not in err
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_a_language_with_no_strings_or_translations(data, tmp_path):
    config = data / "clinics" / "example" / "clinic.yaml"
    replace_in(config, "languages: [en, es, ar]", "languages: [en, fr]")
    replace_in(config, f'  es: {{disclaimer: "{ES_DISCLAIMER}"}}\n', '  fr: {disclaimer: "Ce dépliant informe."}\n')
    replace_in(config, f'  ar: {{disclaimer: "{AR_DISCLAIMER}"}}\n', "")
    code, _, err = run(["--data", str(data), "--out", str(tmp_path / "out"), *ONLY])
    assert code == 2
    assert (
        f"{display_path(config)}:{key_line(config, 'languages')} languages[1]: expected a language with a strings file"
        in err
    )
    assert '"fr"' in err
    assert "Traceback" not in err
    assert not list((tmp_path / "out").rglob("*.pdf"))


# --- 10. Each language approved on its own ---


def test_approving_spanish_removes_its_draft_mark_only(data, tmp_path):
    code, out, err = run(["--data", str(data), "--approval"])
    assert code == 0, err
    assert "language_approvals:\n  es:\n" in out and "language_approvals:\n  ar:\n" in out
    spanish = out.split("language_approvals:\n  es:\n", 1)[1]
    fingerprint = re.search(r"fingerprint: ([0-9a-f]{12})", spanish).group(1)
    config = data / "clinics" / "example" / "clinic.yaml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + (
            "language_approvals:\n  es:\n    name: Dra. Ana Ruiz\n    role: Responsable médica\n"
            f"    date: 2026-11-25\n    fingerprint: {fingerprint}\n"
        ),
        encoding="utf-8",
    )
    code, _, err = run(["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "facial", "--jobs", "2"])
    assert code == 0, err
    home = tmp_path / "out" / "example"
    draft = {
        language: yaml_of(data / "strings" / f"{language}.yaml")["draft_mark"].split(":")[0]
        # "Borrador", "مسودة"; "Draft — not yet approved by {clinic}'s…".
        for language in ("en", "es", "ar")
    }
    assert draft["es"] == "Borrador"
    assert draft["es"] not in pdf_text(home / "es" / "facial.pdf")
    assert "Dra. Ana Ruiz" in pdf_text(home / "es" / "facial.pdf")
    assert draft["ar"] in pdf_text(home / "ar" / "facial.pdf")
    assert "Draft" in pdf_text(home / "facial.pdf")
    cards = {c["document"]: c for c in json.loads((home / "report.json").read_text(encoding="utf-8"))["documents"]}
    assert cards["es/facial.pdf"]["approval"] != "unapproved"
    assert cards["ar/facial.pdf"]["approval"] == "unapproved" and cards["facial.pdf"]["approval"] == "unapproved"


def test_approved_spanish_and_arabic_leaflets_fit_one_folded_sheet(data, tmp_path):
    # Approval replaces the draft mark with an approval line: the leaflets patients get must still fit 4 pages.
    _, out, _ = run(["--data", str(data), "--approval"])
    blocks = "".join(
        f"  {language}:\n    name: {name}\n    role: {role}\n    date: 2026-11-25\n    fingerprint: "
        + re.search(r"fingerprint: ([0-9a-f]{12})", out.split(f"language_approvals:\n  {language}:\n", 1)[1]).group(1)
        + "\n"
        for language, name, role in (("es", "Dra. Ana Ruiz", "Responsable médica"), ("ar", "د. سارة", "المديرة الطبية"))
    )
    config = data / "clinics" / "example" / "clinic.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "language_approvals:\n" + blocks, encoding="utf-8")
    treatments = [option for slug in ("facial", "hair", "body") for option in ("--treatment", slug)]
    code, _, err = run(["--data", str(data), "--out", str(tmp_path / "out"), *treatments, "--jobs", "2"])
    assert code == 0, err
    for language in ("es", "ar"):
        for slug in ("facial", "hair", "body"):
            pdf = tmp_path / "out" / "example" / language / f"{slug}.pdf"
            assert len(PdfReader(pdf).pages) == 4, pdf
    cards = json.loads((tmp_path / "out" / "example" / "report.json").read_text(encoding="utf-8"))["documents"]
    assert {card["approval"] for card in cards if card["document"].startswith(("es/", "ar/"))} == {"approved"}


# --- The booklet and the tri-fold, in every language ---


@pytest.fixture(scope="module")
def built_more(tmp_path_factory) -> dict:
    """The 3-language clinic's booklet and its facial brochure as a tri-fold, built once with the real command."""
    root = tmp_path_factory.mktemp("languages-more")
    data = three_languages(root)
    code, out, err = run(
        [
            "--data", str(data), "--out", str(root / "out"), "--jobs", "2", "--treatment", "facial", "--treatment",
            "booklet", "--layout", "trifold"
        ]
    )
    return {"code": code, "out": out, "err": err, "data": data, "home": root / "out" / "example"}


def test_the_booklet_and_trifold_build_in_every_language(built_more):
    assert built_more["code"] == 0, built_more["err"]
    for folder in (built_more["home"], built_more["home"] / "es", built_more["home"] / "ar"):
        assert sorted(p.name for p in folder.glob("*.pdf")) == ["booklet.pdf", "facial.trifold.pdf"], folder
    assert "Built 6 documents for 1 clinic in 3 languages" in built_more["out"]


def test_a_latin_name_with_digits_in_it_is_found_in_the_arabic_draft_mark(data, tmp_path):
    """The draft mark names the clinic: "… في Skin24 Clinic". pdfium gives the name's digits apart from its letters
    inside Arabic text ("24Skin"): the mark is still found whole on every page, and the Arabic brochure is built."""
    config = data / "clinics" / "example" / "clinic.yaml"
    config.write_text(re.sub(r"^name: .*$", 'name: "Skin24 Clinic"', config.read_text(encoding="utf-8"), count=1,
                             flags=re.M), encoding="utf-8")
    code, out, err = run(["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "facial"])
    assert code == 0, err
    assert (tmp_path / "out" / "example" / "ar" / "facial.pdf").is_file()


def test_no_language_prints_a_claim_its_content_does_not_hold(built, built_more):
    """Each page's words are checked for claims too (a clinic's template or stylesheet could add some): the
    content's own, honest negations and all, as English, Spanish and Arabic pages print them, find nothing more."""
    for home in (built["home"], built_more["home"]):
        for folder in (home, home / "es", home / "ar"):
            for card in json.loads((folder / "report.json").read_text(encoding="utf-8"))["documents"]:
                printed = [p for p in card["problems"] if p["reason"] == "claims" and p["file"].endswith(".pdf")]
                assert not printed, (folder, card["document"], printed)


@pytest.mark.parametrize("document", ["booklet", "facial.trifold"])
def test_the_arabic_booklet_and_trifold(built_more, document):
    path = built_more["home"] / "ar" / f"{document}.pdf"
    assert PdfReader(path).trailer["/Root"]["/Lang"] == "ar"
    assert font_families(path) == clinic_font_and_tajawal()
    assert_phone_reads_left_to_right(path)
    text = without_full_stops(pdf_text(path))
    slugs = ["facial"] if document == "facial.trifold" else ["facial", "hair", "body"]
    for slug in slugs:
        translated = yaml_of(built_more["data"] / "translations" / "ar" / "treatments" / f"{slug}.yaml")
        for item in translated["not_suitable"] + translated["emergency"]:
            assert without_full_stops(item) in text, (slug, item)


def test_the_spanish_booklet_holds_every_treatments_safety_items(built_more):
    text = pdf_text(built_more["home"] / "es" / "booklet.pdf")
    for slug in ("facial", "hair", "body"):
        translated = yaml_of(built_more["data"] / "translations" / "es" / "treatments" / f"{slug}.yaml")
        for item in translated["not_suitable"] + translated["aftercare"] + translated["emergency"]:
            assert " ".join(item.split()) in text, (slug, item)


def test_a_broken_translation_does_not_stop_a_clinic_that_does_not_offer_the_language(tmp_path):
    data = tmp_path / "data"
    # The example clinic as shipped: English only.
    shutil.copytree(DATA, data)
    path = data / ES_FACIAL
    last = yaml_of(path)["not_suitable"][-1]
    replace_in(path, f"  - {last}\n", "")
    code, out, err = run(
        ["--data", str(data), "--out", str(tmp_path / "out"), "--treatment", "comparison", "--jobs", "2"]
    )
    assert code == 0, err
    assert (tmp_path / "out" / "example" / "comparison.pdf").is_file()
    assert not (tmp_path / "out" / "example" / "es").exists()


def test_an_arabic_claim_is_quoted_as_written():
    text = "نتائج مَضمونة"
    assert [phrase for phrase, _, _ in checker("ar").find(text)] == [text]


def test_a_treatments_translation_warnings_concern_only_the_documents_that_print_it(built):
    cards = {
        card["document"]: card for card in json.loads((built["home"] / "es" / "report.json").read_text())["documents"]
    }
    facial, comparison = cards["facial.pdf"]["translation_warnings"], cards["comparison.pdf"]["translation_warnings"]
    assert any("es/treatments/facial.yaml" in w for w in facial) and not any(
        "es/treatments/hair.yaml" in w for w in facial
    )
    # The comparison sheet prints every treatment.
    assert any("es/treatments/hair.yaml" in w for w in comparison)
    assert any("strings/es.yaml" in w for w in facial) and any("es/shared.yaml" in w for w in comparison)


def test_text_left_as_the_english_is_flagged(data):
    path = data / ES_FACIAL
    spanish = yaml_of(path)["aftercare"][2]
    english = yaml_of(data / "treatments" / "facial.yaml")["aftercare"][2]
    replace_in(path, spanish, english)
    code, out, _ = run(["--data", str(data)], translations.command)
    assert code == 0 and "es (Spanish): complete" in out and "1 text the same as the English" in out
    assert f"{display_path(path)}:{key_line(path, 'aftercare') + 3} aftercare[2]: the same as the English" in out
