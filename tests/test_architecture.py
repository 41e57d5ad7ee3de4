"""The package's folders are its architecture; these tests keep them honest.

Layers, lowest first (a module may import from its own layer and the layers below it only)::

    core -> data -> sources -> analytics -> reports -> runs -> cli

* ``core``: errors, configuration, shared frame helpers, version and the headline protocol;
* ``data``: snapshots, schema, contracts, the warehouse and its SQL, the analytics store;
* ``sources``: the demo generator and the importers (they write snapshots);
* ``analytics``: pure computations per topic, and the build that fills the analytics store;
* ``reports``: one module (or package) per report notebook, plus charts and narrative;
* ``runs``: runner, jobs, executors, schedule, records, publishing and rendering;
* ``cli``: the ``salesops`` command on top of everything.

Every import counts, including imports inside functions and under ``TYPE_CHECKING``: a lazy
import is still a dependency. The graph of modules has no cycles, and no module is longer than
:data:`MAX_LINES`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "salesops_lib"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / PACKAGE
LAYERS: tuple[str, ...] = ("core", "data", "sources", "analytics", "reports", "runs", "cli")
MAX_LINES = 500


def module_name(path: Path) -> str:
    """Dotted module name of a file in the package."""
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package modules one file imports (anywhere in the file), resolved to known modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in known
                else node.module
                for alias in node.names
            ]
        for target in targets:
            if target.split(".")[0] != PACKAGE:
                continue
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != PACKAGE:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports (a package's ``__init__`` counts as the package)."""
    modules = package_modules()
    known = set(modules)
    return {name: imported_modules(path, known) - {name} for name, path in modules.items()}


def layer_of(module: str) -> str | None:
    """The layer a module belongs to (``None`` for the package root).

    A ``__main__`` module is an entry point (``python -m …``), on top like ``cli``.
    """
    parts = module.split(".")
    if len(parts) < 2:
        return None
    if parts[-1] == "__main__":
        return "cli"
    return parts[1] if parts[1] in LAYERS else None


def test_every_module_is_in_a_layer() -> None:
    stray = [m for m in package_modules() if m != PACKAGE and layer_of(m) is None]
    assert stray == [], f"modules outside the layers {LAYERS}: {stray}"


def test_layers_import_downwards_only() -> None:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    violations = []
    for module, imports in import_graph().items():
        own = layer_of(module)
        if own is None:
            continue
        for target in imports:
            other = layer_of(target)
            if other is not None and rank[other] > rank[own]:
                violations.append(f"{module} ({own}) imports {target} ({other})")
    assert violations == [], "imports pointing up the layers:\n" + "\n".join(sorted(violations))


def test_package_root_imports_nothing_of_its_own() -> None:
    assert import_graph()[PACKAGE] == set()


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_find_cycles_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    # A submodule importing its own package's __init__ counts: when that __init__ imports the
    # submodule back, the two form a cycle like any other.
    assert find_cycles(import_graph()) == []


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=module_name)
def test_module_is_readable_in_one_sitting(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE_DIR)} has {lines} lines"


def test_layer_rule_detector_catches_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from salesops_lib.runs import runner\n")
    found = imported_modules(source, set(package_modules()))
    assert found == {"salesops_lib.runs.runner"}
