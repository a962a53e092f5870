"""The hooks zmr calls for one step of an mrjob job, turning its records into the lines
Hadoop Streaming would carry and back, with the job's own protocols.

Every map output pair is written by the step's protocol (``pick_protocols``, so
``INTERNAL_PROTOCOL``, ``OUTPUT_PROTOCOL`` and a redefined ``pick_protocols`` all apply) and
cut at its first tab, as Hadoop Streaming does: the key bytes are zmr's key (so keys are
sorted and grouped by their encoding, in byte order, like Hadoop's and mrjob's sort), the
rest of the line, or None when it has no tab, is the value. A reducer or combiner gets the
lines put together again and read back by the protocol, so it sees what mrjob would give it
(a tuple written by JSONProtocol comes back as a list). A step's last task writes whole
lines (key None, value the line's bytes): the job's part files are its OUTPUT_PROTOCOL's
lines.

The job instance is made in each task (``mapper_init``/``reducer_init``, which zmr calls
once per task), like the fresh process Hadoop starts for each task; the combiner, which zmr
may call in any task at any time, uses one instance per process.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from zmr.core.errors import JobContractError
from zmr.job import counters, runtime

#: What a task of mrjob's sees in its environment (``jobconf_from_env``), and its old name.
INPUT_FILE_VARIABLES = ("mapreduce_map_input_file", "map_input_file")


def line(key: bytes, rest: bytes | None) -> bytes:
    """The line a (key, rest) pair was cut from."""
    return key if rest is None else key + b"\t" + rest


def cut(encoded: bytes) -> tuple[bytes, bytes | None]:
    """A line cut at its first tab (Hadoop Streaming's key and value)."""
    key, tab, rest = encoded.partition(b"\t")
    return key, (rest if tab else None)


class JobFactory:
    """Makes the job instance: the class (shipped with the job) and its arguments."""

    def __init__(self, job_class: type, args: list[str], code_module: str) -> None:
        self.job_class, self.args = job_class, list(args)
        self.code_module = code_module  # pickled by value (shipping.pickled_job)

    def make(self) -> Any:
        job = self.job_class(args=list(self.args))
        # mrjob writes counters and status to stderr for Hadoop to parse; zmr counts them
        job.increment_counter = _increment_counter
        job.set_status = _set_status
        return job


def _increment_counter(group: Any, counter: Any, amount: int = 1) -> None:
    """mrjob's ``increment_counter``: names made str, commas turned into semicolons."""
    if not isinstance(amount, int):
        raise TypeError(f"amount must be an integer, not {amount!r}")
    group, counter = str(group).replace(",", ";"), str(counter).replace(",", ";")
    counters.increment_counter(group, counter, amount)


def _set_status(msg: Any) -> None:
    """mrjob's ``set_status``: Hadoop shows it with the task; zmr writes it to the
    attempt's log (``zmr logs``). It is no sign of life: zmr's task timeout watches the
    records a task has read."""
    print(f"zmr: status: {msg}", file=sys.stderr, flush=True)


class StepTask:
    """The zmr hooks of step ``number`` (0-based) of an mrjob job."""

    def __init__(self, factory: JobFactory, number: int, *, last: bool, reduces: bool,
                 sort_values_here: bool = False) -> None:
        self.factory, self.number = factory, number
        self.code_module = factory.code_module
        self.last, self.reduces = last, reduces   # the last step; has a reduce phase
        self.sort_values_here = sort_values_here  # SORT_VALUES without the engine's own
        self._lines = False           # this task writes the job's output lines
        self._job: Any = None
        self._combining: Any = None
        self._pending: list[tuple[Any, Any]] = []
        self._path: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        # the job instance holds an argument parser and streams: each task makes its own
        return {**self.__dict__, "_job": None, "_combining": None, "_pending": [],
                "_path": None}

    # -- map side -------------------------------------------------------------------------
    def mapper_init(self) -> None:
        self._job = self.factory.make()
        self._step = self._job.steps()[self.number]
        self._read, self._write = self._job.pick_protocols(self.number, "mapper")
        self._raw = self._step["mapper_raw"]
        self._lines = self.last and not self.reduces
        self._pending = list(_pairs(self._step["mapper_init"]))

    def mapper(self, key: Any, value: Any) -> Iterator[Any]:
        if self.number == 0:
            yield from self._first_mapper(key, value)
            return
        k, v = self._read(line(key, value))
        yield from self._mapped(self._step["mapper"](k, v))

    def _first_mapper(self, where: tuple[str, int], value: Any) -> Iterator[Any]:
        if where[0] != self._path:
            self._path = where[0]
            for name in INPUT_FILE_VARIABLES:
                os.environ[name] = "file://" + os.path.abspath(where[0])
        if self._raw is not None:       # value is the path of a whole file
            yield from self._mapped(self._raw(value, value))
            return
        k, v = self._read(value.rstrip("\r").encode("utf-8"))
        yield from self._mapped(self._step["mapper"](k, v))

    def mapper_final(self) -> Iterator[Any]:
        yield from self._mapped(_pairs(self._step["mapper_final"]))
        for name in INPUT_FILE_VARIABLES:
            os.environ.pop(name, None)
        self._path = None

    def _mapped(self, pairs: Iterable[Any] | None) -> Iterator[Any]:
        if self._pending:
            pending, self._pending = self._pending, []
            yield from self._encode(pending, self._write)
        yield from self._encode(pairs or (), self._write)

    def _encode(self, pairs: Iterable[Any], write: Any) -> Iterator[Any]:
        for k, v in _two_item_pairs(pairs, "an mrjob task"):
            encoded = write(k, v)
            yield (None, encoded) if self._lines else cut(encoded)

    # -- combine side ---------------------------------------------------------------------
    def combiner(self, key: bytes, rests: Iterator[bytes | None]) -> Iterator[Any]:
        if self._combining is None:
            job = self.factory.make()
            self._combining = (job.steps()[self.number]["combiner"],
                               *job.pick_protocols(self.number, "combiner"))
        combine, read, write = self._combining
        k, values = _decoded(read, key, rests)
        for k2, v2 in _two_item_pairs(combine(k, values) or (), "combiner"):
            yield cut(write(k2, v2))

    # -- reduce side ----------------------------------------------------------------------
    def reducer_init(self) -> None:
        self._job = self.factory.make()
        self._step = self._job.steps()[self.number]
        self._read, self._write = self._job.pick_protocols(self.number, "reducer")
        self._lines = self.last
        self._pending = list(_pairs(self._step["reducer_init"]))

    def reducer(self, key: bytes, rests: Iterator[bytes | None]) -> Iterator[Any]:
        if self.sort_values_here:
            # mrjob sorts whole lines: the line without a tab (None) first, then by bytes
            rests = iter(sorted(rests, key=lambda r: (r is not None, r or b"")))
        k, values = _decoded(self._read, key, rests)
        yield from self._mapped(self._step["reducer"](k, values))

    def reducer_final(self) -> Iterator[Any]:
        yield from self._mapped(_pairs(self._step["reducer_final"]))


def _two_item_pairs(out: Iterable[Any], what: str) -> Iterator[tuple[Any, Any]]:
    """Pairs as mrjob takes them: any two-item list or tuple (it unpacks ``for k, v in``),
    so ``yield max(pairs)`` of a reducer whose JSON-decoded values are lists works as in
    mrjob; anything else is refused as zmr's own hooks' output is."""
    for item in out:
        if type(item) is list and len(item) == 2:
            item = (item[0], item[1])
        elif type(item) is not tuple or len(item) != 2:
            raise JobContractError(f"{what} must yield (key, value) pairs, got {item!r}")
        yield item


def _pairs(hook: Any) -> Iterable[Any]:
    """What an ``*_init``/``*_final`` hook yields (mrjob lets both yield pairs)."""
    return () if hook is None else (hook() or ())


def _decoded(read: Any, key: bytes, rests: Iterator[bytes | None]) -> tuple[Any, Iterator[Any]]:
    """The key and the values of one group, read back from their lines (lazily, as the
    values stream in)."""
    first = next(rests)
    k, v = read(line(key, first))

    def values() -> Iterator[Any]:
        yield v
        for rest in rests:
            yield read(line(key, rest))[1]
    return k, values()
