"""Import rules, checked on the source: the layers only import downwards, no two modules
import each other (directly or round a longer circle), only zmr/transport/ imports zmq
(STYLE rule 2), and task and job code never know how they were dispatched (rule 5)."""

from __future__ import annotations

import ast
import pathlib

import zmr

ROOT = pathlib.Path(zmr.__file__).parent
DISPATCH = ("zmr.coordinator", "zmr.worker", "zmr.protocol", "zmr.transport", "zmr.shuffle",
            "zmr.client", "zmr.runners", "zmq")
#: Layers, top to bottom: ``cli > runners > client/coordinator/worker/shuffle >
#: protocol/transport > tasks > job > storage > core/settings``. A module imports its own
#: layer or lower ones only. The settings table (``settings``) is read by every layer, so it
#: sits at the bottom with ``core``; the config files (``config``) sit with the transport
#: whose keys they load; the dashboard is part of the coordinator's process.
LAYERS = [
    ("zmr", "zmr.__main__"),
    ("zmr.cli",),
    ("zmr.runners",),
    ("zmr.client", "zmr.coordinator", "zmr.worker", "zmr.shuffle", "zmr.dashboard"),
    ("zmr.protocol", "zmr.transport", "zmr.config"),
    ("zmr.tasks",),
    ("zmr.job",),
    ("zmr.storage",),
    ("zmr.core", "zmr.settings", "zmr._speedups"),
]


def _module_name(path: pathlib.Path) -> str:
    parts = ("zmr",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path, modules: frozenset[str] = frozenset()) -> set[str]:
    """What ``path`` imports; ``from a import b`` is ``a.b`` when that is one of
    ``modules``, else ``a``."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(_without_type_checking_blocks(tree)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(sub if sub in modules else node.module)
    return names


def _without_type_checking_blocks(tree: ast.Module) -> ast.Module:
    """Drop ``if TYPE_CHECKING:`` blocks: those imports never run, they only name types."""
    tree.body = [n for n in tree.body if not (isinstance(n, ast.If)
                                              and "TYPE_CHECKING" in ast.unparse(n.test))]
    return tree


def _modules(*packages: str) -> list[pathlib.Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def _graph() -> dict[str, set[str]]:
    """Module -> the zmr modules it imports (``from zmr.x import name`` counts as zmr.x,
    or as zmr.x.name when that is a module)."""
    paths = {_module_name(p): p for p in ROOT.rglob("*.py")}
    modules = frozenset(paths) | {"zmr._speedups"}
    return {name: {n for n in _imports(path, modules) if n in paths and n != name}
            for name, path in paths.items()}


def _layer(module: str) -> int:
    best = (-1, len(LAYERS))
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = (len(prefix), rank)
    return best[1]


def test_every_module_has_a_layer():
    assert [m for m in _graph() if _layer(m) == len(LAYERS)] == []


def test_layers_only_import_downwards():
    upwards = sorted(f"{m} -> {n}" for m, deps in _graph().items() for n in deps
                     if _layer(n) < _layer(m))
    assert upwards == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
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


def _package_init_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ runs before any of its modules, so ``zmr`` importing
    ``zmr.client`` is no circle; drop the edges from a module to its own parents."""
    return {m: {n for n in deps if not m.startswith(n + ".")} for m, deps in graph.items()}


def test_no_import_cycles():
    assert _cycles(_package_init_edges(_graph())) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_transport_package_imports_zmq():
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if "transport" not in p.relative_to(ROOT).parts
                 and any(n == "zmq" or n.startswith("zmq.") for n in _imports(p))]
    assert offenders == []


def test_task_and_job_code_do_not_know_how_they_are_dispatched():
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imports(p)
                                                   if n.startswith(DISPATCH))
                 for p in _modules("tasks", "job", "storage", "core")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_wire_protocol_needs_no_sockets_and_no_scheduler():
    for path in _modules("protocol"):
        assert not {n for n in _imports(path) if n.startswith(DISPATCH)
                    and not n.startswith("zmr.protocol")}, path
