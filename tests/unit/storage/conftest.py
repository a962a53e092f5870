"""Fixtures of the storage tests: ``key_codec`` runs a test with the C key codec
(``zmr._speedups``, skipped when it was not built) and with its pure-Python reference."""

from __future__ import annotations

import importlib

import pytest

from tests.helpers import BUILT
from zmr.storage import codec


@pytest.fixture(params=["c", "python"], scope="module")
def key_codec(request):
    """Module-scoped (hypothesis refuses function-scoped fixtures): rebinds the codec's
    functions for the tests of one parameter, then restores the default choice."""
    if request.param == "c" and not BUILT:
        pytest.skip("zmr._speedups is not built (no C compiler at install?)")
    default = codec.COMPILED
    codec.select(importlib.import_module("zmr._speedups") if request.param == "c" else None)
    yield request.param
    codec.select(importlib.import_module("zmr._speedups") if default else None)
