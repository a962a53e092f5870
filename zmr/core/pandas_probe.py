"""pyarrow imports pandas (when installed) the first time it builds any array, only to ask
whether its input is a pandas object: 0.25 s of CPU, in every executor's first task. zmr's
own arrays never come from pandas, so a process of zmr's own (a worker, before its fork
server starts, so every executor inherits it; ``zmr run --inline``) answers that question
once, with pandas hidden (:func:`skip`). pyarrow still imports pandas whenever pandas is
really asked for (``to_pandas``, ``from_pandas``), and a job that imports pandas itself
gets pyarrow's pandas support back when it is loaded (:func:`notice`), so pandas objects
it hands to Arrow convert as before.
"""

from __future__ import annotations

import sys


class _NoPandas:
    """An import hook under which ``import pandas`` fails at once."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas hidden while pyarrow probes for it")


def skip() -> None:
    """Make pyarrow's "is pandas installed?" probe answer no, without importing pandas."""
    if "pandas" in sys.modules:
        return                          # imported already: the probe costs nothing
    import pyarrow as pa

    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NoPandas)


def notice() -> None:
    """After a job's code is loaded: if it imported pandas, let pyarrow see it again (its
    pandas shim imports pandas when a pandas feature is asked for, and remembers it)."""
    if sys.modules.get("pandas") is None or "pyarrow" not in sys.modules:
        return
    import pyarrow as pa

    shim = getattr(pa.lib, "_pandas_api", None)
    try:
        if shim is not None:
            shim.compat             # noqa: B018 - the property import is the point
    except ImportError:
        pass
