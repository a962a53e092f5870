"""``ZMR_PURE_PYTHON=1`` selects the pure-Python map loops and key codec in a fresh
interpreter (the loops themselves: tests/unit/tasks/test_accel.py; the codec:
tests/unit/storage/test_codec_compiled.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import BUILT, ROOT


@pytest.mark.skipif(not BUILT, reason="zmr._speedups is not built")
def test_the_environment_variable_forces_python():
    code = ("from zmr.tasks import accel; from zmr.storage import codec; "
            "print(accel.COMPILED, codec.COMPILED, codec.encode_key is codec.encode_key_py)")
    env = {**os.environ, "PYTHONPATH": os.path.abspath(ROOT)}
    for value, expected in (("1", "False False True"), ("", "True True False")):
        env["ZMR_PURE_PYTHON"] = value
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == expected
