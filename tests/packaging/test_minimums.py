"""The declared dependency floors work: tests/packaging/minimums.py installs zmr with every
``>=X`` of pyproject pinned to ``==X`` into a fresh venv and runs the core cluster tests
there. Several minutes (a venv and an install): behind the ``minimums`` marker, which the
default run (and so .ci/run) includes; ``-m "not minimums"`` leaves it out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.packaging.minimums import ROOT, constraints

pytestmark = [pytest.mark.minimums, pytest.mark.slow]


def test_constraints_pin_every_floor_of_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["a>=1.2", "b[x] >= 3 ,<4", "c"]\n')
    with pytest.raises(SystemExit, match="'c' has no '>=' floor"):
        constraints(pyproject)
    pyproject.write_text('[project]\ndependencies = ["a>=1.2", "b[x] >= 3 ,<4"]\n')
    assert constraints(pyproject) == ["a==1.2", "b==3"]


def test_core_tests_pass_on_the_declared_minimums():
    run = subprocess.run([sys.executable, "-m", "tests.packaging.minimums", "-q", "-x"],
                         cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
