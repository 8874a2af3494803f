"""The layers hold, and no import cycle runs.

- ``locas_engine`` imports no ``app``, no Qt, no database; no cycle among its modules, counting
  every ``import`` statement, also those inside functions (a lazy import only hides a cycle until
  the function runs).
- ``app`` outside ``app/ui`` imports no Qt and no ``app.ui`` (lazily neither); no cycle among
  ``app``'s modules runs at import time (module-level imports; a function's own imports run later,
  when every module is loaded).

Only ``if TYPE_CHECKING:`` blocks are left out, since they never run. Importing a submodule also
runs its package's ``__init__``, so that is an edge too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import app
import locas_engine

PACKAGES = {"locas_engine": Path(locas_engine.__file__).parent, "app": Path(app.__file__).parent}
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, lazy: bool) -> list[ast.Import | ast.ImportFrom]:
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if not lazy and isinstance(child, FUNCTIONS):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _files(package: str) -> dict[str, Path]:
    root = PACKAGES[package]
    return {_module_name(package, root, p): p for p in root.rglob("*.py")}


def imported_names(package: str, lazy: bool = True) -> dict[str, set[str]]:
    """Module of ``package`` -> every module name it imports (any package, as written, with
    relative imports resolved; ``from m import x`` gives ``m.x`` when that is a module)."""
    files = {name: path for pkg in PACKAGES for name, path in _files(pkg).items()}
    names: dict[str, set[str]] = {}
    for name, path in _files(package).items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8")), lazy):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
                continue
            base = here.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            for alias in node.names:  # `from . import x` may name a submodule
                sub = f"{module}.{alias.name}"
                targets.add(sub if sub in files else module)
        names[name] = targets
    return names


def import_graph(package: str = "locas_engine", lazy: bool = True) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (and their packages)."""
    files = _files(package)
    graph: dict[str, set[str]] = {}
    for name, targets in imported_names(package, lazy).items():
        graph[name] = set()

        def own(target: str, name: str = name) -> bool:
            # At import time a module's own packages are already being initialized when it
            # runs, so importing them (a sibling, `from .. import units`) starts nothing new.
            return name.startswith(target + ".")

        for target in targets:
            while target.startswith(package):  # the module and every package above it
                if target in files and target != name and (lazy or not own(target)):
                    graph[name].add(target)
                target = target.rpartition(".")[0]
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _offending(package: str, forbidden: tuple[str, ...], skip: str | None = None) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, targets in imported_names(package).items()
        if not (skip and (name == skip or name.startswith(skip + ".")))
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in forbidden))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "locas_engine.backbone" in graph["locas_engine.memorizer"]
    assert "locas_engine.mlp.ffn" in graph["locas_engine.backbone"]
    assert "locas_engine.mlp" in graph["locas_engine.backbone"]  # the package's __init__ runs
    assert "locas_engine.memory" not in graph["locas_engine.backbone"]  # TYPE_CHECKING only
    app_graph = import_graph("app")
    assert "app.memorize.paths" in app_graph["app.library.memories"]  # `from ..memorize.paths`
    assert "app.memorize" in app_graph["app.library.memories"]
    at_import = import_graph("app", lazy=False)
    assert "app.memorize.job" in app_graph["app.commands.memory"]  # inside a function
    assert "app.memorize.job" not in at_import["app.commands.memory"]


def test_locas_engine_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_app_has_no_import_cycle_at_import_time():
    cycle = find_cycle(import_graph("app", lazy=False))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_engine_imports_no_app_no_qt_no_database():
    assert _offending("locas_engine", ("app", "PySide6", "sqlite3", "sqlite_utils")) == []


def test_only_app_ui_imports_qt():
    assert _offending("app", ("PySide6", "app.ui"), skip="app.ui") == []
