"""zmr: fault-tolerant MapReduce for plain Python mappers and reducers, on ZeroMQ and Arrow.

The public surface is what ``__all__`` lists; everything else is internal.

Each name is imported when first used (PEP 562): ``import zmr`` costs almost nothing, and
a process that imports one of zmr's modules (a coordinator, a worker, ``zmr status``) does
not pay for pyarrow, numpy and the job machinery it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:     # what type checkers and IDEs see: the same names, imported eagerly
    from zmr.client import Client, JobHandle
    from zmr.core.errors import (
        ClusterUnreachableError,
        ConfigError,
        DataCorruptionError,
        FatalError,
        InputError,
        JobCancelledError,
        JobDefinitionError,
        JobFailedError,
        JobInputError,
        OutputError,
        TaskError,
        ZmrError,
    )
    from zmr.job.api import Input, Step
    from zmr.job.counters import increment_counter
    from zmr.job.params import REQUIRED, param
    from zmr.job.result import JobResult
    from zmr.runners.api import run
    from zmr.runners.inline import run_inline
    from zmr.runners.local import LocalCluster

#: Where each public name is defined.
_HOMES = {
    "Client": "zmr.client", "JobHandle": "zmr.client",
    **dict.fromkeys(("ClusterUnreachableError", "ConfigError", "DataCorruptionError",
                     "FatalError", "InputError", "JobCancelledError", "JobDefinitionError",
                     "JobFailedError", "JobInputError", "OutputError", "TaskError",
                     "ZmrError"), "zmr.core.errors"),
    "Input": "zmr.job.api", "Step": "zmr.job.api",
    "increment_counter": "zmr.job.counters",
    "REQUIRED": "zmr.job.params", "param": "zmr.job.params",
    "JobResult": "zmr.job.result",
    "run": "zmr.runners.api",
    "run_inline": "zmr.runners.inline",
    "LocalCluster": "zmr.runners.local",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version
        value: Any = version("zmr")
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'zmr' has no attribute {name!r}")
    globals()[name] = value        # looked up once
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__, "__version__"]
