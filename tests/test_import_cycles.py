"""No provider package imports itself in a circle: its modules form a DAG, read from the AST."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROVIDERS = Path(__file__).resolve().parent.parent / "mockserver" / "providers"


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (top level or not)."""
    prefix = f"mockserver.providers.{package}"
    root = PROVIDERS / package
    graph: dict[str, set[str]] = {}
    for path in sorted(root.glob("*.py")):
        name = prefix if path.stem == "__init__" else f"{prefix}.{path.stem}"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == prefix:  # from pkg import a, b: submodules or the package
                    subs = {f"{prefix}.{a.name}" for a in node.names}
                    known = {f"{prefix}.{p.stem}" for p in root.glob("*.py")}
                    targets |= (subs & known) or {prefix}
                    if subs - known:
                        targets.add(prefix)
                elif node.module.startswith(prefix + "."):
                    targets.add(node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith(prefix + ".")}
        graph[name] = targets - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", ["a2e", "youcam", "relay"])
def test_a_provider_package_has_no_import_cycle(package):
    cycle = find_cycle(import_graph(package))
    assert cycle is None, " -> ".join(cycle or ())
