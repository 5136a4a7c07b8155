"""Each language a clinic offers has its own output folder, and one it stops offering is cleared away."""

from __future__ import annotations

from conftest import edit_config
from generate import main

SPANISH = (
    'language: en\n',
    'languages: [en, es]\nin_language:\n  es:\n    disclaimer: "Este folleto da información general."\n',
)


def test_a_language_the_clinic_no_longer_offers_is_removed_with_its_report(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, *SPANISH)
    out = tmp_path / "out"
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(out)]) == 0
    spanish = out / "mine" / "es"
    assert (spanish / "facial.pdf").is_file() and (spanish / "report.json").is_file()
    assert "Built 2 documents for 1 clinic in 2 languages" in capsys.readouterr().out

    # The clinic stops handing out Spanish brochures.
    edit_config(clinic_copy, SPANISH[1], SPANISH[0])
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"removed    {spanish / 'facial.pdf'}" in said
    # No stale Spanish brochure left to hand out.
    assert not spanish.exists()
    assert (out / "mine" / "facial.pdf").is_file()


def test_a_changed_brochure_in_a_dropped_language_is_kept_and_said(clinic_copy, tmp_path, capsys):
    edit_config(clinic_copy, *SPANISH)
    out = tmp_path / "out"
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(out)]) == 0
    edited = out / "mine" / "es" / "facial.pdf"
    edited.write_bytes(edited.read_bytes() + b"\n% annotated by the clinic\n")
    edit_config(clinic_copy, SPANISH[1], SPANISH[0])
    assert main(["--clinic", str(clinic_copy), "--treatment", "facial", "--out", str(out)]) == 0
    assert "kept" in capsys.readouterr().out and edited.is_file()
