"""Plain value types that describe tasks and their results.

They cross process and network boundaries as JSON (``to_dict`` / ``from_dict``), never as
pickles, so the same spec drives an inline run, a local cluster and a remote worker.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple


class Piece(NamedTuple):
    """One byte range of one file inside a packed split (see :attr:`Split.more`)."""

    path: str
    start: int
    length: int
    whole: bool = False


@dataclass(frozen=True, slots=True)
class Split:
    """A byte range of one input file; a line belongs to the split in which it starts.

    ``whole`` marks compressed files (gzip/bz2), which are read entirely as one split.
    ``hosts`` are the machines whose disks hold it (empty: anywhere, e.g. a shared mount).
    ``format`` is ``"text"`` (lines), ``"csv"`` or ``"jsonl"`` (lines too), ``"parquet"``
    or ``"ipc"`` (then ``start``/``length`` count row groups or record batches, not bytes;
    see :mod:`zmr.storage.input_formats`) or ``"arrow"``: a whole pair file written by the
    previous step of a multi-step job (:mod:`zmr.storage.pairfile`).

    A packed split (Hadoop's CombineFileSplit, see :mod:`zmr.storage.packing`) holds
    several small files or file tails: ``path``/``start``/``length``/``whole`` describe the
    first, ``more`` the ones read after it, in order, all with the same hosts and format.
    Readers take one piece at a time (:meth:`pieces`), so keys stay the real file's.
    """

    path: str
    start: int
    length: int
    whole: bool = False
    hosts: tuple[str, ...] = ()
    format: str = "text"
    more: tuple[Piece, ...] = ()

    @property
    def end(self) -> int:
        return self.start + self.length

    def pieces(self) -> tuple[Split, ...]:
        """The single-file splits this one reads, in order (just itself if not packed)."""
        if not self.more:
            return (self,)
        first = Split(self.path, self.start, self.length, self.whole, self.hosts, self.format)
        return (first, *(Split(p.path, p.start, p.length, p.whole, self.hosts, self.format)
                         for p in self.more))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "start": self.start, "length": self.length,
                             "whole": self.whole, "hosts": list(self.hosts),
                             "format": self.format}
        if self.more:
            # lists, not dicts: a packed split may hold tens of thousands of small files,
            # and the whole plan has to fit in one message (wire.MAX_PAYLOAD)
            d["more"] = [list(p) for p in self.more]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Split:
        more = tuple(Piece(str(p[0]), int(p[1]), int(p[2]), bool(p[3]))
                     for p in d.get("more", ()))
        return cls(str(d["path"]), int(d["start"]), int(d["length"]), bool(d.get("whole", False)),
                   tuple(str(h) for h in d.get("hosts", ())), str(d.get("format", "text")),
                   more)


@dataclass(frozen=True, slots=True)
class Segment:
    """Where the bytes of one reduce partition of one map output live.

    A map output file is a concatenation of Arrow IPC streams, one per reduce partition;
    ``offset``/``length`` locate partition ``partition`` and ``crc32`` guards it.
    ``endpoint`` is the shuffle address of the worker holding the file ("" when local),
    ``endpoint_key`` its CURVE public key (z85; "" when curve is off).
    """

    map_index: int
    attempt: int
    path: str
    partition: int
    offset: int
    length: int
    rows: int
    crc32: int
    endpoint: str = ""
    endpoint_key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True, slots=True)
class PartitionIndexEntry:
    """One reduce partition inside a map output file."""

    offset: int
    length: int
    rows: int
    crc32: int


@dataclass(frozen=True, slots=True)
class MapManifest:
    """What a successful map attempt produced: the file, its per-partition index, counters."""

    map_index: int
    attempt: int
    path: str
    partitions: tuple[PartitionIndexEntry, ...]
    counters: dict[str, dict[str, int]] = field(default_factory=dict)

    def segment(self, partition: int, endpoint: str = "", endpoint_key: str = "") -> Segment:
        e = self.partitions[partition]
        return Segment(self.map_index, self.attempt, self.path, partition,
                       e.offset, e.length, e.rows, e.crc32, endpoint, endpoint_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "map_index": self.map_index,
            "attempt": self.attempt,
            "path": self.path,
            "partitions": [list(asdict(p).values()) for p in self.partitions],
            "counters": self.counters,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MapManifest:
        parts = tuple(PartitionIndexEntry(*map(int, p)) for p in d["partitions"])
        return cls(int(d["map_index"]), int(d["attempt"]), str(d["path"]), parts,
                   dict(d.get("counters", {})))


@dataclass(frozen=True, slots=True)
class MapTaskSpec:
    """Everything a worker needs to run one map attempt (besides the job code)."""

    job_id: str
    map_index: int
    attempt: int
    split: Split
    num_reducers: int
    work_dir: str          # where this attempt may write (spills, final map output)
    output_dir: str        # job output; used directly by map-only jobs
    memory_budget: int     # bytes of buffered map output before a sorted run is spilled
    on_bad_utf8: str = "strict"   # or "replace"
    compression: str = "none"     # Arrow IPC buffer codec of what it writes: none, lz4, zstd
    skip_bad_records: int = 0     # records whose mapper call raises that may be skipped
    task_memory: int = 0          # RSS in bytes at which the worker kills the attempt; 0 = none
    output_format: str = "text"   # of a map-only job's part files (see storage.formats)
    format_options: dict[str, Any] = field(default_factory=dict)  # columns, records, types

    def to_dict(self) -> dict[str, Any]:
        # not asdict(self): that would deep-copy a packed split's pieces only to redo them
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}
        d["split"] = self.split.to_dict()
        d["format_options"] = dict(self.format_options)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MapTaskSpec:
        d = dict(d)
        d["split"] = Split.from_dict(d["split"])
        return cls(**d)


@dataclass(frozen=True, slots=True)
class ReduceTaskSpec:
    """Everything a worker needs to run one reduce attempt: the segments to merge."""

    job_id: str
    partition: int
    attempt: int
    segments: tuple[Segment, ...]
    work_dir: str
    output_dir: str
    memory_budget: int
    compression: str = "none"
    task_memory: int = 0
    output_format: str = "text"   # part file: "text" lines or "arrow" pairs (a step's output)
    format_options: dict[str, Any] = field(default_factory=dict)  # e.g. the parquet schema

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["segments"] = [s.to_dict() for s in self.segments]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReduceTaskSpec:
        d = dict(d)
        d["segments"] = tuple(Segment.from_dict(s) for s in d["segments"])
        return cls(**d)


@dataclass(frozen=True, slots=True)
class ReduceResult:
    """What a successful reduce attempt committed, with its counters."""

    partition: int
    attempt: int
    output_path: str
    committed: bool        # False when another attempt had already committed this partition
    counters: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReduceResult:
        return cls(int(d["partition"]), int(d["attempt"]), str(d["output_path"]),
                   bool(d["committed"]), dict(d.get("counters", {})))
