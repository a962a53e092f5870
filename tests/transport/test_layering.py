"""Import rules, checked on the source: only zmr/transport/ imports zmq (STYLE rule 2), and
task and job code never know how they were dispatched (rule 5)."""

from __future__ import annotations

import ast
import pathlib

import zmr

ROOT = pathlib.Path(zmr.__file__).parent
DISPATCH = ("zmr.coordinator", "zmr.worker", "zmr.protocol", "zmr.transport", "zmr.shuffle",
            "zmr.client", "zmr.local", "zmq")


def _imports(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(*packages: str) -> list[pathlib.Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def test_only_the_transport_package_imports_zmq():
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                 if "transport" not in p.relative_to(ROOT).parts
                 and any(n == "zmq" or n.startswith("zmq.") for n in _imports(p))]
    assert offenders == []


def test_task_and_job_code_do_not_know_how_they_are_dispatched():
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in _imports(p)
                                                   if n.startswith(DISPATCH))
                 for p in _modules("tasks", "job", "storage")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_wire_protocol_needs_no_sockets_and_no_scheduler():
    for path in _modules("protocol"):
        assert not {n for n in _imports(path) if n.startswith(DISPATCH)
                    and not n.startswith("zmr.protocol")}, path
