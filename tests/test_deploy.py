"""The ways to run shards (a container image, a Kubernetes Indexed Job, a GitHub Actions matrix) use the
README's own setup and exactly the options the command line accepts, and behave as operators expect: a production
image run by a user other than root, a Job that acts on each exit code, and a wait that ends when the Job fails."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from brochures import __version__, exits
from brochures.building.shards import Shard
from brochures.cli.build import build_parser
from brochures.cli.merge_reports import merge_parser
from conftest import ROOT

DEPLOY = ROOT / "deploy"
SETUP = ROOT / "scripts" / "setup.sh"


def containerfile() -> list[str]:
    """deploy/Containerfile's instructions, one string each: comments dropped, continued lines joined."""
    instructions, current = [], ""
    for line in (DEPLOY / "Containerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.strip()
        if current.endswith("\\"):
            current = current[:-1] + " "
        else:
            instructions.append(current)
            current = ""
    return instructions


def dockerignored(path: str) -> bool:
    """Whether a build leaves `path` (relative to the repository) out, as Docker reads .dockerignore: each pattern
    is matched from the root of the build context, `**/` at any depth."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    parts = path.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts):
                return True
            continue
        wanted = pattern.split("/")
        # A pattern that matches a folder leaves out everything in it.
        if len(parts) >= len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted)):
            return True
    return False


def test_the_container_image_installs_with_the_readme_setup_script():
    lines = containerfile()
    setups = [line for line in lines if "setup.sh" in line]
    assert len(setups) == 1 and setups[0].startswith("RUN sh scripts/setup.sh --runtime &&")
    assert lines.index("COPY . .") < lines.index(setups[0])
    assert "sh scripts/setup.sh && .venv/bin/python generate.py" in (ROOT / "README.md").read_text()
    assert SETUP.is_file()
    assert lines[-1] == 'ENTRYPOINT ["/app/.venv/bin/python", "/app/generate.py"]'
    # The image holds what generate.py runs from and what `pip install .` reads, and no local venv or tests.
    needed = ["generate.py", "brochures/__init__.py", "templates", "styles", "data/strings/en.yaml", "scripts/setup.sh",
              "pyproject.toml", "README.md", "LICENSE"]
    assert [path for path in needed if dockerignored(path)] == []
    assert all(dockerignored(path) for path in (".venv", ".git", "out", "tests", "brochures/__pycache__"))


def test_the_container_image_is_a_production_image():
    lines = containerfile()
    # Runtime only: no test tools, no browser, no editable install.
    text = " ".join(lines)
    assert "[test]" not in text and "chromium" not in text and "playwright" not in text
    assert not re.search(r"pip3? install[^&;]*(\s-e\b|--editable)", text)
    # A user other than root, given by number (Kubernetes' runAsNonRoot can check only a number), runs it.
    users = [index for index, line in enumerate(lines) if line.startswith("USER ")]
    assert users, "no USER: the image would run as root"
    uid, _, gid = lines[users[-1]].split()[1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or int(gid) != 0)
    # Set after the install (which needs root), for the command the image runs; and the user is made in the image.
    assert max(i for i, line in enumerate(lines) if line.startswith("RUN ")) < users[-1] < len(lines) - 1
    assert f"--uid {uid}" in text
    # OCI labels, with the licence of LICENSE and the version generate.py --version prints.
    labels = dict(word.split("=", 1) for line in lines if line.startswith("LABEL ") for word in shlex.split(line)[1:])
    oci = "org.opencontainers.image."
    assert labels.get(oci + "title") and labels.get(oci + "description")
    assert labels.get(oci + "licenses") == "MIT" and (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert labels.get(oci + "version") == __version__


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


def run_setup(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    """Run scripts/setup.sh on a copy of it, with stand-ins for dpkg (nothing installed yet), apt-get, sudo and
    Python that only record how they were called. Returns the run and the calls, each as [command, *arguments]."""
    folder, fakes, log = tmp_path / "project", tmp_path / "fakes", tmp_path / "calls.log"
    (folder / "scripts").mkdir(parents=True)
    fakes.mkdir()
    shutil.copy(SETUP, folder / "scripts" / "setup.sh")
    # Each call as one line: the command's name, then its arguments, separated by tabs.
    record = """{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf '\\t%s' "$a"; done; echo; }"""
    record += ' >> "$SETUP_LOG"\n'
    scripts = {
        "dpkg": record + "exit 1\n",
        "apt-get": record,
        "sudo": 'exec "$@"\n',
        # `python3 -m venv DIR` makes DIR/bin/python, another stand-in.
        "python3": record + 'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi\n',
    }
    for name, body in scripts.items():
        (fakes / name).write_text("#!/bin/sh\n" + body)
        (fakes / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}", "PYTHON": str(fakes / "python3"),
           "SETUP_LOG": str(log)}
    run = subprocess.run(["sh", str(folder / "scripts" / "setup.sh"), *args], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    calls = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
    return run, calls


def installed(calls: list[list[str]]) -> tuple[set[str], list[list[str]]]:
    """The Debian packages apt-get was asked to install, and the arguments of each `pip install`."""
    packages = {arg for call in calls if call[:2] == ["apt-get", "install"] for arg in call[2:] if arg[0] != "-"}
    pips = [call[4:] for call in calls if call[0] == "python" and call[1:4] == ["-m", "pip", "install"]]
    return packages, pips


def test_setup_sh_has_a_runtime_mode_without_test_tools_or_browser(tmp_path):
    run, calls = run_setup(tmp_path, "--runtime")
    assert run.returncode == 0, run.stderr
    packages, pips = installed(calls)
    # What WeasyPrint prints with, and nothing only people or the tests use.
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fontconfig"} <= packages
    assert not packages & {"chromium", "poppler-utils"}
    # The dependencies in pyproject.toml through a normal install of the project, with no extras and not editable.
    assert ["--quiet", "--disable-pip-version-check", "--no-cache-dir", "."] in pips
    assert not any(arg in ("-e", "--editable") or "[" in arg for pip in pips for arg in pip)
    # Then the installed copy of the package is removed: it would look for templates/ and styles/ in site-packages.
    project = re.search(r'^name = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert any(call[:4] == ["python", "-m", "pip", "uninstall"] and project in call for call in calls)


def test_setup_sh_without_arguments_installs_what_it_always_did(tmp_path):
    # The README's two commands and .ci/run rely on it: everything, the test tools and the browser too.
    run, calls = run_setup(tmp_path)
    assert run.returncode == 0, run.stderr
    packages, pips = installed(calls)
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fontconfig", "poppler-utils",
            "chromium"} <= packages
    assert pips[-1][-2:] == ["-e", ".[test]"]
    assert run.stdout.rstrip().endswith("Ready: .venv/bin/python generate.py")

    unknown, calls = run_setup(tmp_path / "unknown", "--runtme")
    assert unknown.returncode == 2 and "usage" in unknown.stderr and calls == []


def pod_failure_action(rules: list[dict], container: str, exit_code: int, conditions: set[str] = frozenset()):
    """What Kubernetes does with a failed pod of this Job (batch/v1 podFailurePolicy): the action of the first rule
    that matches, or None if none does (counted towards the backoff limit, like Count)."""
    for rule in rules:
        codes = rule.get("onExitCodes")
        if codes is not None and codes.get("containerName", container) == container:
            if (exit_code in codes["values"]) == (codes["operator"] == "In"):
                return rule["action"]
        for pattern in rule.get("onPodConditions", []):
            if pattern["type"] in conditions and pattern.get("status", "True") == "True":
                return rule["action"]
    return None


def test_the_kubernetes_job_acts_on_each_exit_code():
    shards, merge = yaml.safe_load_all((DEPLOY / "kubernetes-indexed-job.yaml").read_text())
    spec, pod = shards["spec"], shards["spec"]["template"]["spec"]
    rules = spec["podFailurePolicy"]["rules"]
    # A pod failure policy requires pods that are not restarted in place.
    assert pod["restartPolicy"] == "Never"
    container = pod["containers"][0]["name"]
    for rule in rules:
        assert rule["action"] in {"FailJob", "FailIndex", "Ignore", "Count"}
        assert ("onExitCodes" in rule) != ("onPodConditions" in rule)
        codes = rule.get("onExitCodes", {})
        # A rule naming another container would never match; 0 is refused with In.
        assert codes.get("containerName", container) == container and 0 not in codes.get("values", [])

    def action(exit_code, conditions=frozenset()):
        return pod_failure_action(rules, container, exit_code, conditions)

    # Invalid input: every shard would fail the same way, so the whole Job fails at once.
    assert action(exits.INVALID) == "FailJob"
    # Failed documents: that shard is not retried, and the others go on. FailIndex needs a backoff limit per index.
    assert action(exits.FAILED) == "FailIndex"
    assert spec["completionMode"] == "Indexed" and isinstance(spec["backoffLimitPerIndex"], int)
    # Evicted, preempted or drained: retried, whatever it exited with, without counting as a failure.
    for code in (exits.TERMINATED, 137, exits.FAILED, exits.INVALID, exits.OUTPUT):
        assert action(code, {"DisruptionTarget"}) == "Ignore"
    # An unusable output folder, an interruption or a crash: retried, a bounded number of times.
    for code in (exits.OUTPUT, exits.INTERRUPTED, exits.TERMINATED, 137):
        assert action(code) in ("Count", None)
    # Each exit code generate.py declares has a rule of its own, so a new one needs a decision here.
    declared = {value for name, value in vars(exits).items() if name.isupper() and isinstance(value, int)}
    decided = {code for rule in rules for code in rule.get("onExitCodes", {}).get("values", [])}
    assert declared - {exits.OK} <= decided

    # Both Jobs' pods run as the image's user, and may write to the shared volume.
    uid = next(line.split()[1] for line in reversed(containerfile()) if line.startswith("USER ")).partition(":")[0]
    for job in (shards, merge):
        security = job["spec"]["template"]["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == int(uid) == security["fsGroup"]


def readme_kubernetes_commands() -> str:
    section = (ROOT / "README.md").read_text().split("**500 clinics on Kubernetes.**", 1)[1]
    return re.search(r"```(?:sh|bash)\n(.*?)```", section, re.S).group(1)


# kubectl against a Job that ends, after a moment, with the condition $JOB_ENDS: `kubectl wait` for that condition
# returns, one for any other waits on (until it is stopped, which it records).
FAKE_KUBECTL = """#!/bin/sh
echo "$*" >> "$KUBECTL_LOG"
[ "$1" = wait ] || exit 0
for arg in "$@"; do
    case "$arg" in --for=condition=*) condition=$(echo "${arg#--for=condition=}" | tr '[:upper:]' '[:lower:]') ;; esac
done
if [ "$condition" = "$JOB_ENDS" ]; then sleep 0.3; exit 0; fi
sleep 60 &
trap 'echo "stopped waiting for $condition" >> "$KUBECTL_LOG"; kill $!; exit 143' TERM
wait $!
"""


@pytest.mark.skipif(not shutil.which("bash"), reason="the README's commands are for bash")
@pytest.mark.parametrize("ends", ["failed", "complete"])
def test_the_readme_wait_returns_as_soon_as_the_shards_job_ends(tmp_path, ends):
    commands = readme_kubernetes_commands()
    assert "--for=condition=complete" in commands and "--for=condition=failed" in commands
    fakes, log = tmp_path / "bin", tmp_path / "kubectl.log"
    fakes.mkdir()
    (fakes / "kubectl").write_text(FAKE_KUBECTL)
    (fakes / "kubectl").chmod(0o755)
    env = {**os.environ, "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}", "KUBECTL_LOG": str(log),
           "JOB_ENDS": ends}
    started = time.monotonic()
    process = subprocess.Popen([shutil.which("bash"), "-c", commands], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the README's commands are still waiting on a Job that is {ends}")
    finally:
        time.sleep(0.3)
        if sys.platform != "win32":
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert time.monotonic() - started < 10
    calls = log.read_text().splitlines()
    # The merge is started once the shards' Job has ended, either way, and the other wait is stopped.
    merge = next(i for i, call in enumerate(calls) if "app.kubernetes.io/component=merge" in call)
    assert merge > max(i for i, call in enumerate(calls) if call.startswith("wait "))
    other = "complete" if ends == "failed" else "failed"
    assert f"stopped waiting for {other}" in calls
