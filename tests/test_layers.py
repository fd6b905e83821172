"""The import direction of BRIEF.md, read from the source with ast.

1 leaves → 2 spec, plan, catalog → 3 stages → 4 targets, smoke → 5 driver → 6 cli/commands.
A module may import its own layer or lower ones. Targets see only the Plan: never the Spec,
the solver or the front end. A new top-level module needs a line in LAYERS.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"compiler": "llmc", "targets": "llmc.targets"}

LAYERS = {
    "llmc": 1, "llmc.diagnostics": 1, "llmc.source": 1, "llmc.suggest": 1, "llmc.units": 1, "llmc.artifacts": 1,
    "llmc.grammar": 1, "llmc.names": 1, "llmc.text": 1, "llmc.files": 1, "llmc.machine": 1,
    "llmc.spec": 2, "llmc.plan": 2, "llmc.catalog": 2, "llmc.runtimes": 2,
    "llmc.parse": 3, "llmc.lower": 3, "llmc.checks": 3, "llmc.estimate": 3, "llmc.solve": 3, "llmc.explain": 3,
    "llmc.render": 3, "llmc.format": 3, "llmc.drift": 3, "llmc.values": 3, "llmc.pins": 3,
    "llmc.importers": 3, "llmc.lint": 3,
    "llmc.targets": 4, "llmc.smoke": 4,
    "llmc.driver": 5,
    "llmc.cli": 6, "llmc.commands": 6,
}
TARGETS_MAY_NOT_SEE = ("llmc.spec", "llmc.solve", "llmc.parse", "llmc.lower", "llmc.checks", "llmc.driver")


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in ROOTS.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> int | None:
    best = max((name for name in LAYERS if module == name or module.startswith(name + ".")), key=len, default=None)
    return LAYERS.get(best) if best else None


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported llmc module, line) for every project import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "llmc"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "llmc":
                continue
            names = [f"{target}.{a.name}" for a in node.names]
            found += [(n if n in MODULES else target, node.lineno) for n in names]
    return found


def test_every_module_has_a_layer():
    assert [m for m in MODULES if layer_of(m) is None] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    mine = layer_of(module)
    wrong = []
    for target, line in imports(module, MODULES[module]):
        theirs = layer_of(target)
        if theirs is not None and theirs > mine:
            wrong.append(f"line {line}: {module} (layer {mine}) imports {target} (layer {theirs})")
        if module.startswith("llmc.targets") and target.startswith(TARGETS_MAY_NOT_SEE):
            wrong.append(f"line {line}: target module {module} imports {target}; targets see only the Plan")
    assert wrong == []


def test_package_root_stays_a_leaf():
    # Layers 1-5 import `__version__` from the package root, so it must not import the stages back.
    assert imports("llmc", REPO / "compiler" / "__init__.py") == []


def test_the_checker_catches_an_upward_import(tmp_path):
    bad = tmp_path / "parse.py"
    bad.write_text("from .driver import load\nfrom . import cli\nimport llmc.targets.vllm\n")
    found = [t for t, _ in imports("llmc.parse", bad)]
    assert sorted(found) == ["llmc.cli", "llmc.driver", "llmc.targets.vllm"]
    assert all(layer_of(t) > layer_of("llmc.parse") for t in found)
