"""The house keeps its shape: packages import each other in one direction only (no
loops, but for db/models.py gathering every model for Alembic); only screens/ knows the
hub; routes and services take time from the injected clock."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import controlroom

PACKAGE = Path(controlroom.__file__).parent
# Gathers every model for Alembic, so it imports every domain by design.
GATHERER = "controlroom.db.models"


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(), filename=str(path))
    return found


def _runtime_imports(tree: ast.Module) -> set[str]:
    """Modules imported when the code runs: `if TYPE_CHECKING:` blocks are for type
    checkers only."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("controlroom.")}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, tree in modules.items():
        if name == GATHERER or name == "controlroom":
            continue
        source = _package(name)
        targets = {_package(m) for m in _runtime_imports(tree) if m in modules or m.rsplit(".", 1)[0] in modules}
        graph.setdefault(source, set()).update(t for t in targets if t != source)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_packages_import_each_other_in_one_direction_only():
    assert cycles(package_graph()) == []


def test_the_checker_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_screens_know_the_hub():
    outside = [name for name, tree in _modules().items()
               if not name.startswith("controlroom.screens") and "controlroom.screens.hub" in _runtime_imports(tree)]
    assert outside == []


WALL_CLOCK = re.compile(r"\butcnow\(\)|datetime\.now\(|datetime\.utcnow\(|time\.time\(")


def test_routes_and_services_take_time_from_the_injected_clock():
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("routes.py", "script_routes.py", "hooks.py", "api.py", "pages.py", "sockets.py",
                         "service.py", "changes.py", "schedule.py"):
            readers += [f"{path.relative_to(PACKAGE)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                        if WALL_CLOCK.search(line)]
    assert readers == []
