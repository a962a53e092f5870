"""Fixtures of the task tests: ``map_loops`` runs a test with the C map loops
(``zmr._speedups``, skipped when it was not built) and with their pure-Python fallback."""

from __future__ import annotations

import importlib

import pytest

from tests.helpers import BUILT
from zmr.tasks import accel


@pytest.fixture(params=["c", "python"], scope="module")
def map_loops(request):
    """Module-scoped (hypothesis refuses function-scoped fixtures): rebinds accel's loops
    for the tests of one parameter, then restores the default choice."""
    if request.param == "c" and not BUILT:
        pytest.skip("zmr._speedups is not built (no C compiler at install?)")
    default = accel.COMPILED
    accel.select(importlib.import_module("zmr._speedups") if request.param == "c" else None)
    yield request.param
    accel.select(importlib.import_module("zmr._speedups") if default else None)
