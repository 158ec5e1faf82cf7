"""The report package sits at the end of the flow: no import circle passes through it, counting imports
made inside functions."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import zimage_qa

PACKAGE = Path(zimage_qa.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> Iterator[str]:
    """The package's own modules that `path` imports anywhere (top level or inside a function). `from X
    import Y` imports X (its `__init__` runs, and Y may be a name defined there) and also X.Y when that
    is a module."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield from [base] if base in modules else []
            yield from (f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules)


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: set(_imports(path, set(files))) - {name} for name, path in files.items()}


def circles_through(graph: dict[str, set[str]], prefix: str) -> list[list[str]]:
    """Each strongly connected set of modules (Tarjan) with more than one member that holds a module
    whose name starts with `prefix`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1 and any(m.startswith(prefix) for m in members):
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_passes_through_the_report_package() -> None:
    assert circles_through(import_graph(), "zimage_qa.report") == []


def test_the_circle_finder_sees_a_circle_made_inside_a_function() -> None:
    graph = {"zimage_qa.report": {"zimage_qa.report.page"}, "zimage_qa.report.page": {"zimage_qa.report"}}
    assert circles_through(graph, "zimage_qa.report") == [["zimage_qa.report", "zimage_qa.report.page"]]
    assert "zimage_qa.report.page" in import_graph()["zimage_qa.report"]
