"""Sharding a franchise: the split (whole, no overlap, the same on every machine, balanced by cost),
the --shard option, the shard manifests and their merge into one franchise report."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from brochures.building.franchise import MergeRefused, merge, read_manifests
from brochures.building.shards import (
    Shard,
    clinic_costs,
    manifest_checksum,
    shard_argument,
    split,
    write_manifest,
)
from brochures.load.clinic import load_clinic
from brochures.load.content import load_content
from brochures.plan.documents import LAYOUTS, VARIANTS, plan_documents
from conftest import DATA, EXAMPLE, ROOT, ROSEWOOD, edit_config
from generate import main

# -- The split, on a synthetic franchise of 200 clinics (planned, never printed) --


def synthetic_franchise(count: int = 200, seed: int = 12):
    """`count` clinics, each offering its own mix of 1 to 12 treatments, and the content they draw on."""
    content = load_content(DATA)
    facial = content.treatments["facial"]
    treatments = {f"t{i:02}": facial for i in range(12)}
    content = dataclasses.replace(content, treatments=treatments)
    example = load_clinic(EXAMPLE / "clinic.yaml", load_content(DATA))
    chooser = random.Random(seed)
    clinics = [dataclasses.replace(example, slug=f"clinic-{i:03}",
                                   treatments=tuple(sorted(chooser.sample(sorted(treatments), chooser.randint(1, 12)))))
               for i in range(count)]
    return clinics, content


def planned_costs(clinics, content, variants=VARIANTS[:1], layouts=LAYOUTS[:1]) -> dict[str, float]:
    return clinic_costs(plan_documents(clinics, content, Path("out"), None, variants, layouts))


@pytest.fixture(scope="module")
def franchise():
    return synthetic_franchise()


@pytest.mark.parametrize("count", [1, 2, 7, 16, 200, 250])
def test_the_shards_together_hold_every_clinic_once(franchise, count):
    costs = planned_costs(*franchise)
    shards = split(costs, count)
    assert len(shards) == count
    every = [slug for shard in shards for slug in shard]
    assert sorted(every) == sorted(costs) and len(every) == len(set(every)) == 200


@pytest.mark.parametrize("variants,layouts", [(VARIANTS[:1], LAYOUTS[:1]), (VARIANTS, LAYOUTS)])
@pytest.mark.parametrize("count", [2, 4, 8, 10])
def test_shards_are_balanced_by_cost_within_20_percent(franchise, count, variants, layouts):
    costs = planned_costs(*franchise, variants, layouts)
    loads = [sum(costs[slug] for slug in shard) for shard in split(costs, count)]
    assert max(loads) <= 1.2 * min(loads), loads


def test_the_cost_model_weighs_a_booklet_by_what_it_lays_out(franchise):
    clinics, content = franchise
    three = dataclasses.replace(clinics[0], treatments=("t00", "t01", "t02"))
    # 3 brochures + the comparison sheet + a booklet that binds their pages
    assert planned_costs([three], content) == {three.slug: 5}
    # press and tri-fold files are printed and checked on their own: each counts
    assert planned_costs([three], content, VARIANTS, LAYOUTS) == {three.slug: 2 * (6 + 1 + 1)}
    # a booklet built alone lays out its 3 leaflets and the comparison sheet itself
    alone = clinic_costs(plan_documents([three], content, Path("out"), {"booklet"}))
    assert alone == {three.slug: 5}


SPLIT_IN_ANOTHER_PROCESS = """
import json, sys
sys.path[:0] = ["tests", "."]
from test_sharding import planned_costs, synthetic_franchise
from brochures.building.shards import split
clinics, content = synthetic_franchise()
print(json.dumps(split(planned_costs(list(reversed(clinics)), content), 7)))
"""


def test_the_split_is_the_same_in_every_process_whatever_the_hash_seed_or_order(franchise):
    clinics, content = franchise
    here = split(planned_costs(clinics, content), 7)
    shuffled = clinics[:]
    random.Random(1).shuffle(shuffled)
    assert split(planned_costs(shuffled, content), 7) == here
    for seed in ("1", "4242"):
        result = subprocess.run(
            [sys.executable, "-c", SPLIT_IN_ANOTHER_PROCESS],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        assert json.loads(result.stdout) == here


# -- The --shard option --


@pytest.mark.parametrize(
    "text,shard", [("1/1", Shard(1, 1)), ("3/8", Shard(3, 8)), (" 10000/10000 ", Shard(10000, 10000))]
)
def test_shard_option_reads_k_of_n(text, shard):
    assert shard_argument(text, environ={}) == shard


@pytest.mark.parametrize(
    "text,said",
    [
        ("0/4", "expected a shard number K from 1 to 4 (K/N counts from 1), got '0/4'"),
        ("5/4", "expected a shard number K from 1 to 4"),
        ("1/0", "expected a number of shards N from 1 to 10,000, got '1/0'"),
        ("1/10001", "expected a number of shards N from 1 to 10,000"),
        ("2", "expected K/N, such as 2/8 (shard 2 of 8), or auto/N, got '2'"),
        ("x/4", "expected K/N"),
        ("1.5/4", "expected K/N"),
    ],
)
def test_a_shard_outside_its_range_is_a_usage_error(text, said, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["--shard", text, "--out", str(tmp_path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --shard: {said}" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_auto_takes_the_shard_from_a_kubernetes_indexed_job():
    assert shard_argument("auto/20", environ={"JOB_COMPLETION_INDEX": "0"}) == Shard(1, 20)
    assert shard_argument("auto/20", environ={"JOB_COMPLETION_INDEX": "19"}) == Shard(20, 20)


@pytest.mark.parametrize(
    "environ,said",
    [
        ({}, "it is not set"),
        ({"JOB_COMPLETION_INDEX": "20"}, "got '20'"),
        ({"JOB_COMPLETION_INDEX": "one"}, "got 'one'"),
    ],
)
def test_auto_without_a_valid_job_index_says_what_it_needs(environ, said):
    with pytest.raises(ValueError) as error:
        shard_argument("auto/20", environ=environ)
    assert str(error.value) == (
        "auto/20 takes the shard from JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job): "
        f"expected a whole number from 0 to 19, {said}"
    )


# -- Merging shard manifests (written as a shard writes them, without printing) --

PLAN = [["a", "c"], ["b"], ["d"]]
COSTS = {"a": 1, "b": 3, "c": 2, "d": 3}


def shard_folders(tmp_path: Path, plan=PLAN, numbers=(1, 2, 3), options=None) -> list[Path]:
    folders = []
    for number in numbers:
        folder = tmp_path / f"shard-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        documents = [{"clinic": slug, "language": "en", "file": "facial.pdf", "status": "wrote"}
                     for slug in plan[number - 1]]
        write_manifest(
            folder, Shard(number, len(plan)), plan, COSTS, options or {"variant": "standard"}, documents, [], 0, 1.0,
            data_dir=DATA,
        )
        folders.append(folder)
    return folders


def rewrite(manifest: Path, change) -> None:
    """Change a manifest as a buggy or other generator would write it: with a checksum that matches."""
    data = json.loads(manifest.read_text())
    change(data)
    data["checksum"] = manifest_checksum(data)
    manifest.write_text(json.dumps(data))


def test_merge_covers_every_clinic_once(tmp_path):
    report = merge(read_manifests(shard_folders(tmp_path)))
    assert [(c["slug"], c["shard"]) for c in report["clinics"]] == [("a", 1), ("b", 2), ("c", 1), ("d", 3)]
    assert report["totals"]["built"] == 4 and report["totals"]["failed"] == 0


def test_merge_refuses_a_missing_shard(tmp_path):
    folders = shard_folders(tmp_path, numbers=(1, 3))
    with pytest.raises(MergeRefused, match="expected all 3 shards, got none for shard 2"):
        merge(read_manifests(folders))


def test_merge_refuses_a_shard_given_twice(tmp_path):
    folders = shard_folders(tmp_path)
    copy = tmp_path / "again"
    shutil.copytree(folders[1], copy)
    with pytest.raises(MergeRefused, match="shard 2 of 3 is given twice"):
        merge(read_manifests([*folders, copy]))


def test_merge_refuses_shards_of_different_splits(tmp_path):
    folders = shard_folders(tmp_path / "one", numbers=(1, 2))
    other = shard_folders(tmp_path / "two", plan=[["a", "c"], ["d"], ["b"]], numbers=(3,))
    with pytest.raises(MergeRefused, match="expected shards of one split"):
        merge(read_manifests([*folders, *other]))


def test_merge_refuses_shards_built_with_other_options_or_another_generator_naming_both_files(tmp_path):
    folders = shard_folders(tmp_path / "one", numbers=(1, 2))
    other = shard_folders(tmp_path / "two", numbers=(3,), options={"variant": "press"})
    with pytest.raises(MergeRefused) as refusal:
        merge(read_manifests([*folders, *other]))
    said = str(refusal.value)
    assert "expected shards built from the same content, options and generator" in said
    assert "one/shard-1/shard-1-of-3.json and " in said and "two/shard-3/shard-3-of-3.json" in said
    assert "whose options (--treatment, --variant, --layout, --check) differ" in said and "content" not in said[-150:]

    other = shard_folders(tmp_path / "three", numbers=(3,))
    rewrite(other[0] / "shard-3-of-3.json", lambda data: data["fingerprint"].update(code="0" * 16))
    with pytest.raises(MergeRefused, match=r"whose generator \(its code, libraries, templates or styles\) differ"):
        merge(read_manifests([*folders, *other]))


def test_merge_refuses_a_clinic_in_two_shards(tmp_path):
    folders = shard_folders(tmp_path)
    rewrite(folders[2] / "shard-3-of-3.json", lambda data: data["clinics"].append("a"))
    with pytest.raises(MergeRefused, match="clinic 'a' is in shard 1 and shard 3"):
        merge(read_manifests(folders))


def test_merge_refuses_a_folder_without_a_manifest_or_with_a_broken_one(tmp_path, capsys):
    folders = shard_folders(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["merge-reports", *map(str, folders), str(tmp_path / "empty"), "--out", str(tmp_path / "report")]) == 2
    assert (
        "expected a shard manifest (shard-K-of-N.json, written by generate.py --shard K/N) in"
        in capsys.readouterr().err
    )
    (folders[0] / "shard-1-of-3.json").write_text('{"shard": 1')
    assert main(["merge-reports", *map(str, folders), "--out", str(tmp_path / "report")]) == 2
    assert "cannot be read as JSON" in capsys.readouterr().err
    shard_folders(tmp_path, numbers=(1,))
    rewrite(folders[0] / "shard-1-of-3.json", lambda data: data.update(shard="1"))
    assert main(["merge-reports", *map(str, folders), "--out", str(tmp_path / "report")]) == 2
    assert "expected a shard manifest with the field 'shard', got str" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


def test_merge_into_a_file_rather_than_a_folder_says_so(tmp_path, capsys):
    folders = shard_folders(tmp_path)
    taken = tmp_path / "report.txt"
    taken.write_text("a note")
    assert main(["merge-reports", *map(str, folders), "--out", str(taken)]) == 3
    assert "expected a folder for the franchise report, got a file; choose another --out" in capsys.readouterr().err
    assert taken.read_text() == "a note"


@pytest.mark.parametrize(
    "text,said",
    [
        ("[]", "expected a shard manifest (a JSON object), got a JSON list"),
        ('"shard"', "expected a shard manifest (a JSON object), got a JSON str"),
        # nested deeper than the JSON reader recurses
        ("[" * 100_000, "expected a shard manifest written by generate.py --shard, got a file that cannot be read "),
    ],
)
def test_merge_refuses_a_manifest_that_is_not_one_with_a_sentence(tmp_path, capsys, text, said):
    folders = shard_folders(tmp_path)
    (folders[1] / "shard-2-of-3.json").write_text(text)
    assert main(["merge-reports", *map(str, folders), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert f"shard-2/shard-2-of-3.json: {said}" in err and "Traceback" not in err
    assert not (tmp_path / "report").exists()


def test_merge_refuses_a_manifest_of_an_older_generator_saying_to_build_the_shard_again(tmp_path, capsys):
    folders = shard_folders(tmp_path)
    manifest = folders[0] / "shard-1-of-3.json"
    data = json.loads(manifest.read_text())
    for field in ("format", "fingerprint", "counts", "checksum"):
        del data[field]
    manifest.write_text(json.dumps(data))
    assert main(["merge-reports", *map(str, folders), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert "shard-1-of-3.json: expected a shard manifest of format 2, got one written by another version of " in err
    assert "build the shard again" in err and not (tmp_path / "report").exists()


@pytest.mark.parametrize(
    "change,said",
    [
        # a writer that miscounts: its counts do not add up to its documents
        (lambda data: data["counts"].update(documents=3), "expected counts that add up to its 2 documents"),
        (lambda data: data.update(failures=1), "expected counts that add up to its 2 documents"),
        # a document of a clinic another shard builds, or of no clinic at all
        (lambda data: data["documents"][0].update(clinic="b/es"), "expected documents of its own clinics, got b/es/"),
        (lambda data: data["documents"][0].update(clinic="../a"), "expected documents of its own clinics"),
        (lambda data: data["documents"][0].update(status="fine"), "expected a document's status to be one of"),
        (lambda data: data["documents"][0].pop("language"), "expected each document with its clinic, language"),
        (
            lambda data: (data["documents"].append(data["documents"][0]), data["counts"].update(documents=3, wrote=3)),
            "expected each document once, got a/facial.pdf twice",
        ),
        (lambda data: data.update(shard=2), "expected shard 1 of 3, as the file is named, got shard 2 of 3"),
    ],
)
def test_merge_refuses_a_manifest_whose_documents_do_not_add_up(tmp_path, capsys, change, said):
    folders = shard_folders(tmp_path)
    rewrite(folders[0] / "shard-1-of-3.json", change)
    assert main(["merge-reports", *map(str, folders), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert "shard-1/shard-1-of-3.json: " + said in err and "Traceback" not in err
    assert not (tmp_path / "report").exists()


# -- Two real shards of a 3-clinic franchise, merged, against one full build --


@pytest.fixture
def three_clinics(tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("clinics"))
    shutil.copytree(EXAMPLE, data / "clinics" / "example")
    shutil.copytree(ROSEWOOD, data / "clinics" / "rosewood")
    shutil.copytree(EXAMPLE, data / "clinics" / "oakfield")
    config = data / "clinics" / "oakfield" / "clinic.yaml"
    config.write_text(config.read_text().replace("Example Aesthetics Clinic", "Oakfield Skin Clinic"))
    return data


def test_two_shards_build_the_same_documents_as_one_full_build(three_clinics, tmp_path, capsys):
    common = ["--data", str(three_clinics), "--treatment", "facial"]
    shards = [tmp_path / "shard-1", tmp_path / "shard-2"]
    for number, out in enumerate(shards, start=1):
        assert main([*common, "--shard", f"{number}/2", "--out", str(out)]) == 0
    assert main([*common, "--out", str(tmp_path / "full")]) == 0
    full = {(pdf.parent.name, pdf.name) for pdf in (tmp_path / "full").rglob("*.pdf")}
    assert len(full) == 3

    built = [{(pdf.parent.name, pdf.name) for pdf in out.rglob("*.pdf")} for out in shards]
    assert built[0] and built[1] and not built[0] & built[1]
    assert built[0] | built[1] == full

    capsys.readouterr()
    assert main(["merge-reports", *map(str, shards), "--out", str(tmp_path / "franchise")]) == 0
    assert "Merged 2 shards: 3 clinics, 3 documents built, 0 failed" in capsys.readouterr().out
    report = json.loads((tmp_path / "franchise" / "franchise-report.json").read_text())
    assert {(d["clinic"], d["file"]) for c in report["clinics"] for d in c["documents"]} == full
    assert {c["name"] for c in report["clinics"]} == {
        "Example Aesthetics Clinic",
        "Rosewood Skin & Hair Clinic",
        "Oakfield Skin Clinic",
    }
    assert all(c["report"]["documents"][0]["document"] == "facial.pdf" for c in report["clinics"])
    html = (tmp_path / "franchise" / "franchise-report.html").read_text()
    assert '<html lang="en">' in html and "<h1>Franchise report</h1>" in html
    assert "Rosewood Skin &amp; Hair Clinic" in html and '<th scope="col">Shard</th>' in html


# -- A franchise whose clinics offer other languages: every document of every language is counted --

SPANISH = (
    "language: en\n",
    'languages: [en, es]\nin_language:\n  es:\n    disclaimer: "Este folleto da información general."\n',
)


def franchise_data(folder: Path) -> Path:
    """example and rosewood in English; oakfield in English and Spanish."""
    data = folder / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("clinics"))
    shutil.copytree(EXAMPLE, data / "clinics" / "example")
    shutil.copytree(ROSEWOOD, data / "clinics" / "rosewood")
    shutil.copytree(EXAMPLE, data / "clinics" / "oakfield")
    edit_config(data / "clinics" / "oakfield", "Example Aesthetics Clinic", "Oakfield Skin Clinic")
    edit_config(data / "clinics" / "oakfield", *SPANISH)
    return data


def build_shards(data: Path, outs: list[Path]) -> list[int]:
    """Each shard of len(outs), built into its own folder, as a CI job or a pod would: their exit codes."""
    return [
        main(["--data", str(data), "--treatment", "facial", "--shard", f"{number}/{len(outs)}", "--out", str(out)])
        for number, out in enumerate(outs, start=1)
    ]


def merge_into(folders: list[Path], out: Path, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["merge-reports", *map(str, folders), "--out", str(out)])
    said = capsys.readouterr()
    return code, said.out, said.err


@pytest.fixture(scope="module")
def spanish_shards(tmp_path_factory) -> list[Path]:
    """The three clinics built in three shards, once for the tests that read or damage their manifests."""
    folder = tmp_path_factory.mktemp("franchise")
    outs = [folder / f"out-{number}" for number in (1, 2, 3)]
    assert build_shards(franchise_data(folder), outs) == [0, 0, 0]
    return outs


def test_the_merge_counts_every_document_of_every_language(spanish_shards, tmp_path, capsys):
    code, out, _ = merge_into(spanish_shards, tmp_path / "franchise", capsys)
    assert code == 0
    assert "Merged 3 shards: 3 clinics in 2 languages, 4 documents built, 0 failed, 0 not attempted" in out
    report = json.loads((tmp_path / "franchise" / "franchise-report.json").read_text())
    assert report["totals"]["documents"] == report["totals"]["built"] == 4
    assert (report["totals"]["editions"], report["totals"]["languages"]) == (4, 2)
    assert {(d["clinic"], d["language"], d["file"]) for c in report["clinics"] for d in c["documents"]} == {
        ("example", "en", "facial.pdf"),
        ("oakfield", "en", "facial.pdf"),
        ("oakfield/es", "es", "facial.pdf"),
        ("rosewood", "en", "facial.pdf"),
    }
    oakfield = next(c for c in report["clinics"] if c["slug"] == "oakfield")
    assert (oakfield["name"], oakfield["languages"], oakfield["built"]) == ("Oakfield Skin Clinic", ["en", "es"], 2)
    assert [(e["slug"], e["language"], e["built"], e["failed"]) for e in oakfield["editions"]] == [
        ("oakfield", "en", 1, 0),
        ("oakfield/es", "es", 1, 0),
    ]
    # the sum of the shards' own counts
    manifests = [json.loads(next(out.glob("shard-*.json")).read_text()) for out in spanish_shards]
    assert sum(m["counts"]["documents"] for m in manifests) == report["totals"]["documents"]
    html = (tmp_path / "franchise" / "franchise-report.html").read_text()
    assert "Oakfield Skin Clinic <span class=\"note\">(oakfield/es/)</span>" in html


def test_a_failed_translated_document_reaches_head_office_and_fails_the_merge(tmp_path, capsys):
    data = franchise_data(tmp_path)
    # oakfield's own help section leaves out the emergency advice, in Spanish only
    partials = data / "clinics" / "oakfield" / "templates" / "partials"
    partials.mkdir(parents=True)
    original = (ROOT / "templates" / "partials" / "get_help.html.j2").read_text()
    emergency = original[original.index('  <div class="emergency">'):original.index("</section>")]
    assert emergency.rstrip().endswith("</div>")
    spanish_only = original.replace(emergency, '{% if clinic.locale[:2] != "es" %}' + emergency + "{% endif %}\n")
    (partials / "get_help.html.j2").write_text(spanish_only)
    outs = [tmp_path / "out-1", tmp_path / "out-2"]
    assert sorted(build_shards(data, outs)) == [0, 1]

    code, out, err = merge_into(outs, tmp_path / "franchise", capsys)
    assert code == 1
    assert "Merged 2 shards: 3 clinics in 2 languages, 3 documents built, 1 failed, 0 not attempted" in out
    failures = err.split("Failures:\n", 1)[1].splitlines()
    assert len(failures) == 1
    assert "/oakfield/es/facial.pdf (shard " in failures[0]
    assert "safety information is missing from the pages" in failures[0]
    report = json.loads((tmp_path / "franchise" / "franchise-report.json").read_text())
    assert report["totals"]["failed"] == 1 and report["totals"]["documents"] == 4
    assert [(d["clinic"], d["status"]) for d in report["unbuilt"]] == [("oakfield/es", "failed")]
    oakfield = next(c for c in report["clinics"] if c["slug"] == "oakfield")
    assert [(e["slug"], e["built"], e["failed"]) for e in oakfield["editions"]] == [
        ("oakfield", 1, 0),
        ("oakfield/es", 0, 1),
    ]
    html = (tmp_path / "franchise" / "franchise-report.html").read_text()
    assert "<h2>Failed (1)</h2>" in html and "oakfield/es/facial.pdf</strong>" in html


def test_shards_built_from_other_content_are_refused_naming_both_files(three_clinics, tmp_path, capsys):
    outs = [tmp_path / "out-1", tmp_path / "out-2"]
    common = ["--data", str(three_clinics), "--treatment", "facial"]
    assert main([*common, "--shard", "1/2", "--out", str(outs[0])]) == 0
    # the content is edited while the franchise is being built: the split is the same, the brochures are not
    treatment = three_clinics / "treatments" / "facial.yaml"
    treatment.write_text(treatment.read_text().replace("  - Dull skin\n", "  - Dull or tired skin\n"))
    assert main([*common, "--shard", "2/2", "--out", str(outs[1])]) == 0

    code, out, err = merge_into(outs, tmp_path / "franchise", capsys)
    assert code == 2 and not out and "Traceback" not in err
    assert "expected shards built from the same content, options and generator, got " in err
    assert f"{outs[0] / 'shard-1-of-2.json'} and {outs[1] / 'shard-2-of-2.json'}" in err
    assert "whose content (the data folder's treatments, translations, strings, claims" in err
    assert "build every shard again" in err
    assert not (tmp_path / "franchise").exists()


def hide_the_spanish_document(data: dict) -> None:
    """As someone tidying a shard file by hand would: every count made to agree."""
    data["documents"] = [d for d in data["documents"] if d["language"] != "es"]
    data["counts"]["documents"] -= 1
    data["counts"]["wrote"] -= 1


@pytest.mark.parametrize(
    "edit",
    [lambda data: data.update(warnings=data["warnings"] + 3), hide_the_spanish_document],
    ids=["a count", "a document and its counts"],
)
def test_a_shard_file_edited_since_its_shard_wrote_it_is_refused(spanish_shards, tmp_path, capsys, edit):
    outs = [shutil.copytree(out, tmp_path / out.name) for out in spanish_shards]
    manifest = next(path for out in outs for path in out.glob("shard-*.json") if "oakfield/es" in path.read_text())
    data = json.loads(manifest.read_text())
    edit(data)
    manifest.write_text(json.dumps(data, indent=2, ensure_ascii=False))

    code, out, err = merge_into(outs, tmp_path / "franchise", capsys)
    assert code == 2 and not out and "Traceback" not in err
    assert f"{manifest}: expected the shard manifest as its shard wrote it, got one changed or damaged since" in err
    assert "build the shard again" in err and not (tmp_path / "franchise").exists()


def test_a_truncated_shard_file_is_refused(spanish_shards, tmp_path, capsys):
    outs = [shutil.copytree(out, tmp_path / out.name) for out in spanish_shards]
    manifest = next(outs[1].glob("shard-*.json"))
    manifest.write_bytes(manifest.read_bytes()[: manifest.stat().st_size // 2])

    code, out, err = merge_into(outs, tmp_path / "franchise", capsys)
    assert code == 2 and not out and "Traceback" not in err
    assert f"{manifest}: expected a shard manifest written by generate.py --shard, got a file that cannot be " in err
    assert not (tmp_path / "franchise").exists()
