"""Every import statement of a checkout, and the graphs they make: the scanner behind tests/test_layers.py.

An import counts wherever it is written (module level, inside a function, under `if TYPE_CHECKING:`): a lazy
or type-only import still ties two modules together, and hiding a cycle behind one only defers the problem.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

PACKAGES = ("features", "pipelines", "monitoring")

Edges = dict[tuple[str, str], list[tuple[str, int]]]  # (importer, imported) -> (file, line) of each import


def module_name(rel: str) -> str:
    """`features/spec.py` -> `features.spec`; a package's `__init__.py` is the package itself."""
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str = "") -> list[tuple[int, str]]:
    """(line, name) of every import in a file: `import X` yields X, `from X import Y` yields X.Y (the name it
    binds: a module or one of X's attributes), `from X import *` yields X. Relative imports are resolved
    against `module`, the file's dotted name."""
    found = []
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            found += [(node.lineno, origin if a.name == "*" else f"{origin}.{a.name}".lstrip(".")) for a in node.names]
    return found


def sources(root: Path) -> list[tuple[str, Path]]:
    """(relative path, path) of every Python file of creditflow's packages under `root`, sorted."""
    return [(p.relative_to(root).as_posix(), p) for package in PACKAGES for p in sorted((root / package).rglob("*.py"))]


def module_edges(root: Path) -> Edges:
    """Which creditflow module imports which: a name resolves to the longest module it starts with, so
    `from pkg import mod` imports `pkg.mod` and `from pkg import Class` imports `pkg` (its `__init__.py`)."""
    files = sources(root)
    modules = {module_name(rel) for rel, _ in files}
    edges: Edges = {}
    for rel, path in files:
        importer = module_name(rel)
        for line, name in imports_of(path, importer):
            imported = _longest_module(name, modules)
            if imported and imported != importer:
                edges.setdefault((importer, imported), []).append((rel, line))
    return edges


def package_edges(edges: Edges) -> Edges:
    """The module graph folded into pipelines/' packages: `pipelines.<x>` for a subpackage, a top-level
    module (`pipelines.cli`) its own node; imports outside pipelines/ and within one package drop out."""
    folded: Edges = {}
    for (importer, imported), where in edges.items():
        a, b = _package(importer), _package(imported)
        if a and b and a != b:
            folded.setdefault((a, b), []).extend(where)
    return folded


def cycles(edges: Edges) -> list[list[str]]:
    """Every strongly connected component of more than one node, each sorted, in sorted order."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    reach = {node: _reachable(graph, node) for node in graph}
    found, seen = [], set()
    for node in sorted(graph):
        component = sorted({other for other in reach[node] if node in reach[other]} | {node})
        if node not in seen and len(component) > 1:
            found.append(component)
        seen.update(component)
    return found


def describe(component: Iterable[str], edges: Edges) -> tuple[str, str]:
    """(where the cycle's first import is, its arrows with their sites): what a reader needs to cut it."""
    members = set(component)
    arrows = sorted((pair, sorted(set(where))) for pair, where in edges.items() if set(pair) <= members)
    text = "; ".join(f"{a} -> {b} at {_sites(where)}" for (a, b), where in arrows)
    first_file, first_line = arrows[0][1][0]
    return f"{first_file}:{first_line}", text


def _sites(where: list[tuple[str, int]]) -> str:
    shown = ", ".join(f"{file}:{line}" for file, line in where[:2])
    return f"{shown} and {len(where) - 2} more" if len(where) > 2 else shown


def _longest_module(name: str, modules: set[str]) -> str | None:
    parts = name.split(".")
    return next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in modules), None)


def _package(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "pipelines" else None


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen
