"""What a finished job produced, whichever way it ran (inline, an embedded local cluster, a
standalone cluster), and readers of its output for drivers and notebooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zmr.job.counters import MAPS_REUSED, CounterDict
from zmr.storage import output_reader

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow


@dataclass
class JobResult:
    """A finished job: where its output is, its task counts, how long it took and its
    counters (``result.counters["zmr"]["MAP_INPUT_RECORDS"]``, user counters by group).

    How busy it kept the slots: ``utilisation`` (busy task time / slot time, 0..1; None
    if unknown), ``splits`` (map tasks its plan cut), ``rebalanced`` (splits cut again
    while it ran), ``busy_s``, ``slot_s``, ``slots`` (on average over its wall time) and
    busy seconds per worker (``worker_busy_s``); see "Slot utilisation" in the docs.

    ``read_pairs()``, ``read_arrow()``, ``read_pandas()`` and ``read_polars()`` read the
    output back, whatever format wrote it (text, jsonl, csv, parquet). An output written
    before, by any run, is read the same way: ``zmr.JobResult("out/wc").read_pairs()``
    (the next round of an iteration reads the last one's pairs; an output without
    ``_SUCCESS`` is refused)."""

    output: str
    num_maps: int = 0
    num_reducers: int = 0
    elapsed_s: float = 0.0
    counters: CounterDict = field(default_factory=dict)
    steps: list[JobResult] = field(default_factory=list)    # a multi-step job's, in order
    job_id: str = "inline"      # the cluster's id for it
    workers: int = 0            # worker processes it ran on (0: in this process)
    num_steps: int = 1
    utilisation: float | None = None
    splits: int = 0
    rebalanced: int = 0
    busy_s: float | None = None
    slot_s: float | None = None
    slots: float | None = None
    worker_busy_s: dict[str, float] = field(default_factory=dict)
    partitions: int = 0         # reduce partitions, when coalesced into fewer reduce tasks
    events: str = ""            # its event log's name: zmr history EVENTS --events

    @classmethod
    def from_status(cls, status: dict[str, Any], job_id: str, workers: int,
                    elapsed_s: float) -> JobResult:
        """The result of a job a cluster ran, from its final status reply."""
        return cls(status["output"], status["maps_total"], status["reduces_total"], elapsed_s,
                   status["counters"], [], job_id, workers, int(status.get("steps", 1)),
                   partitions=int(status.get("partitions", 0)), **usage_of(status))

    @property
    def maps_reused(self) -> int:
        """Map tasks that took a kept output instead of running (``reuse=True``)."""
        return self.counter("zmr", MAPS_REUSED)

    def counter(self, group: str, name: str, default: int = 0) -> int:
        """One counter's value, ``default`` if no task incremented it."""
        return int(self.counters.get(group, {}).get(name, default))

    def read_pairs(self) -> Iterator[tuple[Any, Any]]:
        """Every (key, value) pair of the output, part file by part file, decoded (text
        and CSV fields that parse as JSON come back as those values)."""
        return output_reader.read_pairs(self.output)

    def read_arrow(self) -> pyarrow.Table:
        """The output as one Arrow table with columns ``key`` and ``value``."""
        return output_reader.read_table(self.output)

    def read_pandas(self) -> pandas.DataFrame:
        """The output as a pandas DataFrame (needs pandas: ``pip install 'zmr[dataframes]'``)."""
        _require("pandas", "read_pandas")
        return self.read_arrow().to_pandas()

    def read_polars(self) -> polars.DataFrame:
        """The output as a polars DataFrame (needs polars: ``pip install 'zmr[dataframes]'``)."""
        polars = _require("polars", "read_polars")
        return polars.from_arrow(self.read_arrow())


#: The usage keys of a status reply that a JobResult keeps (a coordinator older than
#: them answers without: "unknown").
USAGE_KEYS = ("utilisation", "splits", "rebalanced", "busy_s", "slot_s", "slots",
              "worker_busy_s")


def usage_of(status: dict[str, Any]) -> dict[str, Any]:
    return {key: status[key] for key in USAGE_KEYS if status.get(key) is not None}


def _require(module: str, method: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"JobResult.{method}() needs {module}: pip install {module} "
                          "(or 'zmr[dataframes]')") from None
