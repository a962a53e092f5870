"""The test tiers, and the fixtures shared by tests in more than one folder.

Tiers (docs/internals/testing.md): ``tests/unit/`` holds tests of pure code, run in the test's own
process; every test in any other folder of ``tests/`` starts processes (a local cluster,
``zmr`` as a command, executor processes, an S3 server) or a real server, and is marked
``cluster`` here by folder. A test file directly in ``tests/`` marks its cluster tests
itself. ``pytest -m "not cluster and not slow"`` is then the fast tier, and a test that is
not marked ``cluster`` but starts a process fails, so the fast tier stays free of them. A
run of fast tests only (neither ``cluster`` nor ``slow``) keeps its scratch files on tmpfs.

Plain helpers are in ``tests/helpers.py`` and ``tests/example_jobs.py``; a folder's own
fixtures are in its ``conftest.py``.
"""

from __future__ import annotations

import multiprocessing.process
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.example_jobs import write_corpus

TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)         # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(item.path).resolve().relative_to(TESTS).parts
        in_a_folder = len(parts) > 1
        if (in_a_folder and parts[0] != "unit") or item.get_closest_marker("chaos"):
            item.add_marker(pytest.mark.cluster)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Unit tests write thousands of tiny files (a map task's spill and partition files);
    on a disk shared with cluster tests each costs up to a millisecond, on tmpfs ~15 us. So
    when no selected test is ``cluster`` or ``slow`` (the fast tier), ``tmp_path`` and
    ``tempfile`` use /dev/shm, unless TMPDIR or --basetemp chose a place. The full run keeps
    the default, so every unit test also runs on a disk."""
    if (os.environ.get("TMPDIR") or session.config.option.basetemp or not session.items
            or any(item.get_closest_marker("cluster") or item.get_closest_marker("slow")
                   for item in session.items)):
        return
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        tempfile.tempdir = str(shm)


@pytest.fixture(autouse=True)
def _only_cluster_tests_start_processes(request: pytest.FixtureRequest,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the cluster tier, starting a process (or forking) fails the test, so a test
    that needs one is moved out of tests/unit/ rather than slowing the fast tier down.
    (Module-scoped fixtures are set up before this one and are not covered.)"""
    if request.node.get_closest_marker("cluster"):
        return
    nodeid = request.node.nodeid

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{nodeid} starts a process but is not a cluster test: move it "
                             "out of tests/unit/ (see tests/conftest.py)")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refuse)
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """The example jobs' corpus (tests/example_jobs.py): several text files, some nested,
    with multibyte UTF-8, CRLF endings, blank lines and a file without a final newline."""
    return write_corpus(tmp_path / "in")
