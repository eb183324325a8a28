"""The import graph: packages depend one way, and no module imports another that imports it back.

Imports are read from the source (every `import`, including those inside functions, since a
function-level import that closes a circle is the same circle, only hidden until run time).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from conf.settings import REPO_ROOT

PACKAGES = (
    "chaxin", "conf", "mappings", "appdb", "ingest", "search", "web", "reports", "casework", "citeindex",
    "exportjobs",
)  # fmt: skip

# Which project packages each package may import (web → search → mappings ← ingest; appdb and conf
# below all; casework and reports beside web, the CLI on top).
ALLOWED: dict[str, set[str]] = {
    "conf": set(),
    "appdb": {"conf"},
    "mappings": {"conf"},
    "reports": {"conf", "mappings"},
    "ingest": {"conf", "appdb", "mappings"},
    "search": {"conf", "appdb", "mappings"},
    # casework reads a client's RIS/EndNote/WoS file with ingest's parsers (issue 16), never its tasks
    "casework": {"conf", "appdb", "mappings", "search", "reports", "ingest"},
    # the citation index links what ingest wrote; ingest queues its tasks by name, never importing it
    "citeindex": {"conf", "appdb", "mappings", "search", "ingest"},
    # export jobs walk a search as their user and run on ingest's Celery app
    "exportjobs": {"conf", "appdb", "mappings", "search", "ingest"},
    "web": {"conf", "appdb", "mappings", "search", "reports", "casework", "ingest", "citeindex", "exportjobs"},
    "chaxin": set(PACKAGES) - {"chaxin"},
}
WEB_FRAMEWORKS = {"fastapi", "starlette"}

# Circles that predate this test, each with the issue that removes it. Nothing may join the list.
KNOWN_CYCLES: list[set[str]] = []


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pkg import mod` imports the submodule (pkg's own body is only the way in);
            # `from pkg import name` imports pkg.
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            found |= submodules or {target}
    return found


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    known = set(modules)
    return {m: {i for i in _imports(m, p, known) if i in known and i != m} for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for root, targets in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(targets)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_new_import_cycle() -> None:
    unexpected = [sorted(c) for c in _cycles(_graph()) if c not in KNOWN_CYCLES]
    assert unexpected == []


def test_packages_import_one_way() -> None:
    wrong = []
    modules = dict(_modules())
    for module, path in modules.items():
        package = module.split(".")[0]
        for target in _imports(module, path, set(modules)):
            top = target.split(".")[0]
            if top in PACKAGES and top != package and top not in ALLOWED[package]:
                wrong.append(f"{module} imports {target}")
            if top in WEB_FRAMEWORKS and package not in ("web", "chaxin"):
                wrong.append(f"{module} imports {target}")
    assert sorted(set(wrong)) == []


def test_the_checker_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
