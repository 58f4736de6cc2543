"""The layers import inward only (in the spirit of click's ``tests/test_imports.py``).

    domain  <-  db  <-  services  <-  runner  <-  dispatch  <-  server
    cli: the standard library, its own modules and the shared leaves only

Every ``import`` in ``src/crosswalk`` is read from the source (including the ones
inside functions), so a new import in the wrong direction fails here, with the file
and line, before it can tangle two packages.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "crosswalk"

# Standard-library-only modules anyone may import (the `cw` client path uses them).
LEAVES = {
    "crosswalk",
    "crosswalk.ids",
    "crosswalk.config",
    "crosswalk.agent_hooks",
    "crosswalk.agent_mcp",
    "crosswalk.fsmodes",
    "crosswalk.target_kinds",
    "crosswalk.visible",
    "crosswalk.refusals",
}

# Which crosswalk packages each layer may import, besides itself and the leaves.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "db": {"domain"},
    "services": {"domain", "db"},
    "runner": {"domain", "db", "services"},
    "dispatch": {"domain", "db", "services", "runner"},
    "server": {"domain", "db", "services", "runner", "dispatch"},
    "cli": set(),
}

# Layers that may import nothing outside the standard library.
STDLIB_ONLY = {"domain", "cli"}

# `cw serve` starts the server: the place the client reaches it, lazily, so no other
# command pays for (or depends on) its code.
EXCEPTIONS = {
    ("crosswalk.cli.serve", "crosswalk.server.main"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "crosswalk":
                # `from crosswalk import config` names a module, `__version__` does not.
                for alias in node.names:
                    sub = f"crosswalk.{alias.name}"
                    found.append((node.lineno, sub if sub in LEAVES else "crosswalk"))
            else:
                found.append((node.lineno, node.module))
    return found


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _violations(path: Path) -> list[str]:
    module = _module_name(path)
    layer = _layer(module)
    problems = []
    for line, imported in _imports(path):
        where = f"{path.relative_to(SRC)}:{line} imports {imported}"
        top = imported.split(".")[0]
        if top != "crosswalk":
            if layer in STDLIB_ONLY and top not in sys.stdlib_module_names:
                problems.append(f"{where}: {layer} uses the standard library only")
            continue
        if imported in LEAVES or (module, imported) in EXCEPTIONS:
            continue
        target = _layer(imported)
        if target is None:
            problems.append(f"{where}: not a known layer")
        elif layer is None:
            if module not in {"crosswalk.__main__"} or target != "cli":
                problems.append(f"{where}: a leaf module imports only the standard library")
        elif target != layer and target not in ALLOWED[layer]:
            problems.append(f"{where}: {layer} may not import {target}")
    return problems


def test_every_import_points_inward() -> None:
    problems = [problem for path in _sources() for problem in _violations(path)]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("domain/x.py", "from crosswalk.db.schema import tasks\n", "domain may not import db"),
        ("db/x.py", "from crosswalk.services.auth import hash_token\n", "db may not import"),
        ("services/x.py", "import crosswalk.server.app\n", "services may not import server"),
        ("cli/x.py", "from crosswalk.domain.errors import CrosswalkError\n", "cli may not"),
        ("cli/x.py", "import sqlalchemy\n", "standard library only"),
        ("domain/x.py", "def f():\n    import pydantic\n", "standard library only"),
    ],
)
def test_the_guard_catches_a_wrong_import(
    module: str, source: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same check on a made-up module, so the test above cannot pass by checking nothing.
    root = tmp_path / "src"
    path = root / "crosswalk" / module
    path.parent.mkdir(parents=True)
    path.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "SRC", root)
    problems = _violations(path)
    assert len(problems) == 1
    assert expected in problems[0]


def test_the_guard_reads_every_layer() -> None:
    layers = {_layer(_module_name(path)) for path in _sources()}
    assert set(ALLOWED) <= layers


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in _sources()}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for _, imported in _imports(path):
            # `from crosswalk.cli import x` names a module or something in a package
            while imported not in modules and "." in imported:
                imported = imported.rsplit(".", 1)[0]
            if imported in modules and imported != module:
                targets.add(imported)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others() -> None:
    """Any import counts, even one inside a function or under TYPE_CHECKING: two
    modules that need each other want their shared piece in a module of its own."""
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
