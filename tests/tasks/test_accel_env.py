"""``ZMR_PURE_PYTHON=1`` selects the pure-Python map loops in a fresh interpreter (the loops
themselves: tests/unit/tasks/test_accel.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import BUILT, ROOT


@pytest.mark.skipif(not BUILT, reason="zmr._speedups is not built")
def test_the_environment_variable_forces_python():
    code = "from zmr.tasks import accel; print(accel.COMPILED)"
    env = {**os.environ, "PYTHONPATH": os.path.abspath(ROOT)}
    for value, expected in (("1", "False"), ("", "True")):
        env["ZMR_PURE_PYTHON"] = value
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == expected
