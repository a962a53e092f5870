"""Check that zmr works with the lowest versions its dependency ranges allow.

    python3 -m tests.packaging.minimums [--venv DIR] [--keep] [PYTEST_ARGS...]

Writes a pip constraints file pinning every ``name>=X`` of pyproject's
``[project] dependencies`` to ``name==X``, installs zmr from this checkout with those
constraints into a fresh venv (with the test tools, at their newest), and runs the core of
the cluster tests there (CORE; further arguments go to pytest) from a copy of ``tests/``
outside the checkout, so the installed zmr is the one tested. Exits with pytest's status.
A range that cannot be pinned (no ``>=``) is an error: every dependency needs a floor.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The tests run against the minimums: every job kind (lines, map_batch, combiners,
#: multi-step) through a real local cluster and through the ``zmr`` command.
CORE = ["tests/cluster/test_cluster_runs.py", "tests/e2e/test_cli.py",
        "tests/e2e/test_steps.py", "tests/unit/tasks", "tests/unit/storage/test_codec.py",
        "tests/unit/storage/test_partition.py", "tests/unit/storage/test_splits.py",
        "tests/unit/protocol"]
#: What the core tests import beyond zmr's own dependencies (unpinned: the newest).
TEST_TOOLS = ["pytest", "hypothesis"]
FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*>=\s*([^,;\s]+)")


def constraints(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """``name==floor`` for every runtime dependency, in pyproject's order."""
    with open(pyproject, "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    pins = []
    for dep in deps:
        match = FLOOR.match(dep)
        if match is None:
            raise SystemExit(f"{pyproject}: dependency {dep!r} has no '>=' floor to pin")
        pins.append(f"{match.group(1)}=={match.group(3)}")
    return pins


def install(venv: Path, constraints_file: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # PIP_CONSTRAINT would add the machine's own constraints file; ours must be the only one
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_CONSTRAINT")}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(constraints_file),
                    str(ROOT), *TEST_TOOLS], check=True, env=env)
    return python


def installed_versions(python: Path, names: list[str]) -> str:
    code = ("import importlib.metadata as m, sys\n"
            "print(', '.join(f'{n} {m.version(n)}' for n in sys.argv[1:]))")
    return subprocess.run([str(python), "-c", code, *names], check=True, text=True,
                          capture_output=True).stdout.strip()


def run_tests(python: Path, work: Path, pytest_args: list[str]) -> int:
    """Run from a copy of tests/ in ``work``: the checkout's zmr/ must not shadow the
    installed one (``python -m pytest`` puts the current folder on sys.path)."""
    shutil.copytree(ROOT / "tests", work / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    for name in ("jobs", "data", "bench", "pyproject.toml"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *CORE, *pytest_args], cwd=work, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=None, help="where to make the venv (default: a "
                        "temporary folder, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args, pytest_args = parser.parse_known_args(argv)
    work = Path(tempfile.mkdtemp(prefix="zmr-minimums-"))
    try:
        pins = constraints()
        constraints_file = work / "constraints.txt"
        constraints_file.write_text("\n".join(pins) + "\n", encoding="utf-8")
        print(f"constraints: {', '.join(pins)}", flush=True)
        python = install(Path(args.venv) if args.venv else work / "venv", constraints_file)
        names = [pin.split("==")[0] for pin in pins]
        print(f"installed: {installed_versions(python, names)}", flush=True)
        return run_tests(python, work / "checkout", pytest_args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
