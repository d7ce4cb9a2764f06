"""The engine's layers import downward only (ARCHITECTURE.md draws them): settings and paths → data → model →
training → runs → classroom / experiments / insight / export → cli. Every import of every core module is
read (with ``ast``, including imports inside functions), so a lazy import cannot hide an upward one, and
no two modules import each other, however far round."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"

SETTINGS, DATA, MODEL, TRAINING, RUNS, USES, CLI = range(7)
LAYER_NAMES = ["settings/paths", "data", "model", "training", "runs", "classroom/experiments/insight/export", "cli"]
BY_MODULE = {
    # core.identity: the form of a user's id and recovery code (the run store's drafts check ids too)
    **dict.fromkeys(
        ["core", "core.config", "core.text", "core.disk", "core.numbers", "core.messages", "core.paths"]
        + ["core.timing", "core.identity"],
        SETTINGS,
    ),
    **dict.fromkeys(["core.share", "core.export", "core.notebook", "core.work"], USES),
    **dict.fromkeys(["core.cli", "core.__main__"], CLI),
}
BY_PACKAGE = {
    "core.data": DATA,
    "core.model": MODEL,
    "core.training": TRAINING,
    "core.runs": RUNS,
    "core.runs.ray": RUNS,  # the Ray runner's package: the cluster's health, the actor, the runner
    "core.classroom": USES,
    "core.experiments": USES,
    "core.insight": USES,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(CORE.rglob("*.py"))}


def layer(module: str) -> int | None:
    if module in BY_MODULE:
        return BY_MODULE[module]
    package = module.rsplit(".", 1)[0] if module.count(".") > 1 else module
    return BY_PACKAGE.get(package)


def imported(module: str) -> set[str]:
    """The core modules ``module`` imports anywhere in its code (``from core.model import tflite`` is
    core.model.tflite; ``from core.model.spec import analyze`` is core.model.spec)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imported(module) for module in MODULES}


def test_every_core_module_has_a_layer():
    assert [m for m in MODULES if layer(m) is None] == []


def test_no_core_module_imports_a_higher_layer():
    upward = [
        f"{m} ({LAYER_NAMES[layer(m)]}) imports {target} ({LAYER_NAMES[layer(target)]})"
        for m, targets in GRAPH.items()
        for target in sorted(targets)
        if layer(target) > layer(m)
    ]
    assert upward == []


def test_no_core_modules_import_each_other_round_a_cycle():
    done, path, cycles = set(), [], []

    def visit(module):
        if module in path:
            cycles.append(" → ".join(path[path.index(module) :] + [module]))
            return
        if module in done:
            return
        path.append(module)
        for target in sorted(GRAPH[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in MODULES:
        visit(module)
    assert cycles == []


def test_the_layer_test_sees_imports_inside_functions():
    assert "core.insight.inspection" in GRAPH["core.insight.tflite_files"]  # imported inside make_files


def test_the_zip_importer_loads_only_the_settings_and_the_data_layer():
    code = "import sys, core.data.image_import; print(' '.join(sorted(m for m in sys.modules if m.startswith('core'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    modules = loaded.stdout.split()
    assert modules == [
        "core",
        "core.config",
        "core.data",
        "core.data.dataset",
        "core.data.datasets",
        "core.data.image_import",
        "core.data.names",
        "core.data.pixels",
        "core.data.user_datasets",
        "core.paths",
        "core.text",
    ]  # 11 modules (23 before the layers were put in order)
