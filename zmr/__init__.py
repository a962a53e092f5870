"""zmr: fault-tolerant MapReduce for plain Python mappers and reducers, on ZeroMQ and Arrow.

The public surface is what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

from importlib.metadata import version as _version

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

__version__ = _version("zmr")
__all__ = [
    "Client",
    "ClusterUnreachableError",
    "ConfigError",
    "DataCorruptionError",
    "FatalError",
    "Input",
    "InputError",
    "JobCancelledError",
    "JobDefinitionError",
    "JobFailedError",
    "JobHandle",
    "JobInputError",
    "JobResult",
    "LocalCluster",
    "OutputError",
    "REQUIRED",
    "Step",
    "TaskError",
    "ZmrError",
    "increment_counter",
    "param",
    "run",
    "run_inline",
]
