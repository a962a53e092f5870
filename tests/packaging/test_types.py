"""The package's annotations hold: mypy checks ``zmr/`` as configured in pyproject.toml
(third-party modules without stubs, pyarrow and cloudpickle, are ``Any``)."""

from __future__ import annotations

import os
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_mypy_finds_no_type_errors_in_the_package(tmp_path):

    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
