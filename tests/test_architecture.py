"""The layers of docs/architecture.md hold: no module imports itself back through others,
and only the command line parses arguments.

The layer contracts themselves are import-linter's (pyproject.toml, `lint-imports` in
make test); these tests hold what a contract cannot say, over every import, including
those made inside functions.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGES = ("rules", "engine")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, include_external_packages=True,
                             exclude_type_checking_imports=True)


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m.split(".")[0] in PACKAGES)
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m)
                       if i.split(".")[0] in PACKAGES) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_back(graph):
    assert _cycles(graph) == []


def test_a_cycle_would_be_found(graph):
    graph.add_import(importer="engine.evaluation", imported="engine.api")
    try:
        cycles = _cycles(graph)
    finally:
        graph.remove_import(importer="engine.evaluation", imported="engine.api")
    assert any({"engine.evaluation", "engine.api"} <= set(c) for c in cycles)


def test_only_the_command_line_parses_arguments(graph):
    parsers = {m for m in graph.find_modules_that_directly_import("argparse")}
    assert parsers and all(m.startswith("engine.cli") for m in parsers), sorted(parsers)


CORE = ("engine.api", "engine.evaluation", "engine.probability", "engine.explanation",
        "engine.decision", "engine.evidence", "engine.documents", "engine.render",
        "engine.extraction", "engine.batch")
ABOVE = ("engine.cli", "engine.service", "engine.authoring", "engine.audit")


def _reaching_above(graph) -> list[tuple[str, ...]]:
    return [chain for module in CORE for above in ABOVE
            for chain in graph.find_shortest_chains(importer=module, imported=above,
                                                    as_packages=True)]


def test_the_core_imports_no_face_and_no_tool(graph):
    assert _reaching_above(graph) == []
    graph.add_import(importer="engine.render", imported="engine.cli.common")
    try:
        assert _reaching_above(graph) == [("engine.render", "engine.cli.common")]
    finally:
        graph.remove_import(importer="engine.render", imported="engine.cli.common")
