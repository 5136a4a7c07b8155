"""The package's layout: folders by stage, imports pointing down only, no circles, no module over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "brochures"
# Each stage of the build, bottom first. A module may import from its own folder or from a stage below its own.
LAYERS = [
    {"__init__"},
    {"exits", "problems"},
    {"files"},
    {"brand", "schema"},
    {"load"},
    {"plan"},
    {"render"},
    {"pdf"},
    {"quality"},
    {"building"},
    {"pack", "preview"},
    {"cli"},
]
RANK = {stage: rank for rank, stage in enumerate(LAYERS) for stage in stage}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    """Every module of the package this file imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: a relative import; the package imports by full name")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "brochures":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                known = (ROOT / Path(*submodule.split(".")).with_suffix(".py")).is_file() or (
                    ROOT / Path(*submodule.split("."))).is_dir()
                found.add(submodule if known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "brochures"}
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_every_stage_is_known_and_imports_only_its_own_folder_or_a_stage_below():
    upward = []
    for module, imported in graph().items():
        assert stage_of(module) in RANK, f"{module}: a folder the layout does not know: add it to LAYERS and the README"
        for other in imported:
            if stage_of(other) != stage_of(module) and RANK[stage_of(other)] >= RANK[stage_of(module)]:
                upward.append(f"{module} imports {other}")
    assert not upward, "imports that run up or across the stages:\n" + "\n".join(sorted(upward))


def test_no_module_imports_itself_round_a_circle():
    modules = graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("an import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        for other in sorted(modules.get(module, ())):
            visit(other, path + [module])
        done.add(module)

    for module in sorted(modules):
        visit(module, [])


def test_no_module_is_a_bundle():
    long = {module_name(path): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def test_the_front_door_is_thin_and_nothing_in_the_package_drives_it():
    front = ROOT / "generate.py"
    assert len(front.read_text(encoding="utf-8").splitlines()) < 120
    assert imports_of(front) <= {"brochures.building.stamp", "brochures.cli.main"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        named |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert "generate" not in named, f"{path} imports the command-line script"


def test_the_layout_checks_would_see_an_import_running_up(tmp_path):
    """The checks above read real imports: an upward one, written the way the package writes imports, is found."""
    module = tmp_path / "brochures" / "files" / "example.py"
    module.parent.mkdir(parents=True)
    module.write_text("from brochures.building.pipeline import build\n\ndef f():\n    from brochures.cli import main\n")
    found = {other for other in imports_of(module)}
    assert {stage_of(other) for other in found} == {"building", "cli"}
    assert all(RANK[stage_of(other)] > RANK["files"] for other in found)
