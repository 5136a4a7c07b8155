"""The ways to run shards (a container image, a Kubernetes Indexed Job, a GitHub Actions matrix) use the
README's own setup and exactly the options the command line accepts."""

from __future__ import annotations

import re
import shlex

import yaml

from brochures.building.shards import Shard
from brochures.cli.build import build_parser
from brochures.cli.merge_reports import merge_parser
from conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_the_container_image_installs_with_the_readme_setup_script():
    lines = [line.strip() for line in (DEPLOY / "Containerfile").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    runs = [line for line in lines if line.startswith("RUN ")]
    assert len(runs) == 1 and runs[0].startswith("RUN sh scripts/setup.sh &&")
    assert lines.index("COPY . .") < lines.index(runs[0])
    assert "sh scripts/setup.sh && .venv/bin/python generate.py" in (ROOT / "README.md").read_text()
    assert (ROOT / "scripts" / "setup.sh").is_file()
    assert 'ENTRYPOINT ["/app/.venv/bin/python", "/app/generate.py"]' in lines
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "scripts" not in ignored


def test_the_kubernetes_indexed_job_gives_each_pod_its_own_shard(monkeypatch):
    shards, merge = yaml.safe_load_all((DEPLOY / "kubernetes-indexed-job.yaml").read_text())
    spec = shards["spec"]
    assert (
        shards["kind"] == "Job"
        and spec["completionMode"] == "Indexed"
        and 1 <= spec["parallelism"] <= spec["completions"]
    )
    container = spec["template"]["spec"]["containers"][0]
    outs = []
    for index in range(spec["completions"]):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(index))
        # Kubernetes expands $(JOB_COMPLETION_INDEX) in args; generate.py reads it for --shard auto/N.
        args = build_parser().parse_args(
            [arg.replace("$(JOB_COMPLETION_INDEX)", str(index)) for arg in container["args"]]
        )
        assert args.shard == Shard(index + 1, spec["completions"])
        outs.append(str(args.out))
    # One output folder per shard: a build locks its own.
    assert len(set(outs)) == spec["completions"]

    command = merge["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["sh", "-c"]
    words = shlex.split(command[2])
    assert words[:3] == ["/app/.venv/bin/python", "/app/generate.py", "merge-reports"]
    pattern = next(word for word in words if "*" in word)
    assert all(re.fullmatch(pattern.replace("*", ".*"), out) for out in outs)
    merged = merge_parser().parse_args([*(w for w in words[3:] if w != pattern), *outs])
    assert str(merged.out) not in outs and len(merged.folders) == spec["completions"]


def test_the_github_actions_matrix_builds_every_shard_then_merges():
    workflow = yaml.safe_load((DEPLOY / "github-actions-matrix.yml").read_text())
    shard_job, merge_job = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    numbers = shard_job["strategy"]["matrix"]["shard"]
    assert shard_job["strategy"]["fail-fast"] is False
    build = next(step["run"] for step in shard_job["steps"] if "generate.py" in step.get("run", ""))
    assert all(any(step.get("run") == "sh scripts/setup.sh" for step in job["steps"]) for job in (shard_job, merge_job))
    for number in numbers:
        args = build_parser().parse_args(shlex.split(build.replace("${{ matrix.shard }}", str(number)))[2:])
        assert args.shard == Shard(number, len(numbers))
    assert numbers == list(range(1, len(numbers) + 1))

    assert merge_job["needs"] == "shard" and merge_job["if"] == "always()"
    merge = next(step["run"] for step in merge_job["steps"] if "merge-reports" in step.get("run", ""))
    words = shlex.split(merge)
    assert words[:3] == [".venv/bin/python", "generate.py", "merge-reports"]
    merged = merge_parser().parse_args(words[3:])
    download = next(step for step in merge_job["steps"] if step.get("uses", "").startswith("actions/download-artifact"))
    assert [str(folder) for folder in merged.folders] == [download["with"]["path"] + "/*"]
