"""The optional C extension ``zmr._speedups``, for the modules with a compiled twin (the map
loops in ``zmr.tasks.accel``, the key codec in ``zmr.storage.codec``): None when it was not
built (no compiler at install), or when ``ZMR_PURE_PYTHON=1`` asks for the Python
references, which the tests run too."""

from __future__ import annotations

import os
from typing import Any


def compiled(needs: str = "") -> Any:
    """``zmr._speedups``, or None; None too if it lacks ``needs`` (an older build)."""
    if os.environ.get("ZMR_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from zmr import _speedups
    except ImportError:
        return None
    return _speedups if not needs or hasattr(_speedups, needs) else None
