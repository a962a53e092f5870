"""Plain value types that describe tasks and their results.

They cross process and network boundaries as JSON (``to_dict`` / ``from_dict``, shaped by
their annotations in :mod:`zmr.core.jsonable`), never as pickles, so the same spec drives
an inline run, a local cluster and a remote worker.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from zmr.core.jsonable import JsonValue, omitted_when_default, to_json


class FileStamp(NamedTuple):
    """What an input file looked like when the job was planned: its size and modification
    time (ns). A map refuses a file that no longer matches (``discovery.check_unchanged``):
    its splits were cut from the old contents, and outputs computed from either version
    must not be mixed. Size and mtime are the quick check rsync and make trust; inode and
    ctime are left out, as FUSE mounts number inodes per client and a chmod moves ctime."""

    size: int
    mtime_ns: int


class Piece(NamedTuple):
    """One byte range of one file inside a packed split (see :attr:`Split.more`)."""

    path: str
    start: int
    length: int
    whole: bool = False
    stamp: FileStamp | None = None     # None: planned without one (an older plan)


@dataclass(frozen=True, slots=True)
class Split(JsonValue):
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

    ``input`` is the position in ``INPUTS`` of the input the split reads, for a job with
    several (``zmr.Input``): its format options and mapper are that input's.
    """

    path: str
    start: int
    length: int
    whole: bool = False
    hosts: tuple[str, ...] = ()
    format: str = "text"
    more: tuple[Piece, ...] = ()
    input: int = field(default=0, metadata=omitted_when_default())
    stamp: FileStamp | None = field(default=None, metadata=omitted_when_default())

    @property
    def end(self) -> int:
        return self.start + self.length

    def pieces(self) -> tuple[Split, ...]:
        """The single-file splits this one reads, in order (just itself if not packed)."""
        if not self.more:
            return (self,)
        first = Split(self.path, self.start, self.length, self.whole, self.hosts, self.format,
                      input=self.input, stamp=self.stamp)
        return (first, *(Split(p.path, p.start, p.length, p.whole, self.hosts, self.format,
                               input=self.input, stamp=p.stamp) for p in self.more))

    def fingerprint(self) -> str:
        """A digest of what this split reads: its files' ranges, formats and stamps (not
        its hosts, which only place it). Two splits with the same fingerprint read the same
        bytes, so a map output carries it (:class:`OutputIdentity`)."""
        return _fingerprint(self)


#: Splits whose fingerprint is kept: the coordinator asks for each map's twice (when it
#: assigns the map, when it checks the result), at ~10 us of JSON and hashing each time
FINGERPRINTS_KEPT = 1 << 16


@functools.lru_cache(maxsize=FINGERPRINTS_KEPT)
def _fingerprint(split: Split) -> str:
    what = {k: v for k, v in to_json(split).items() if k != "hosts"}
    text = json.dumps(what, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class OutputIdentity(NamedTuple):
    """Which map a map output was computed for, so that no other can adopt it: the
    coordinator's ``incarnation`` (the random id of its journal, kept with its state dir),
    the job, the map and the fingerprint of its split (:meth:`Split.fingerprint`). A
    coordinator started on another state dir reuses job ids, never incarnations."""

    incarnation: str
    job_id: str
    map_index: int
    split: str




@dataclass(frozen=True, slots=True)
class Segment(JsonValue):
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




class PartitionIndexEntry(NamedTuple):
    """One reduce partition inside a map output file."""

    offset: int
    length: int
    rows: int
    crc32: int


@dataclass(frozen=True, slots=True)
class QuarantinedRecord(JsonValue):
    """A record a map attempt skipped (``--skip-bad-records``): where it is, what it held and
    how the mapper failed on it, for ``<output>/_quarantine/`` and ``zmr replay``.
    ``offset`` is the record's byte offset (a row number for CSV and table formats), None
    when the record is a previous step's pair (``where`` names its key). ``record`` is the
    text of a line, base64 of bytes, else the record's repr (``encoding`` says which); it
    and ``traceback`` are left empty (``omitted``) once an attempt's entries pass their
    size budget: the file and offset still find the record."""

    path: str
    offset: int | None
    where: str
    error: str
    traceback: str = ""
    record: str = ""
    encoding: str = "text"
    omitted: bool = False


@dataclass(frozen=True, slots=True)
class MapManifest(JsonValue):
    """What a successful map attempt produced: the file, its per-partition index, counters."""

    map_index: int
    attempt: int
    path: str
    partitions: tuple[PartitionIndexEntry, ...]
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    # copied from the spec: which job incarnation and split it was computed for (None for
    # an inline run, which adopts nothing)
    identity: OutputIdentity | None = field(default=None, metadata=omitted_when_default())
    # the records it skipped (``--skip-bad-records``), committed under _quarantine/
    quarantined: tuple[QuarantinedRecord, ...] = ()

    def segment(self, partition: int, endpoint: str = "", endpoint_key: str = "") -> Segment:
        e = self.partitions[partition]
        return Segment(self.map_index, self.attempt, self.path, partition,
                       e.offset, e.length, e.rows, e.crc32, endpoint, endpoint_key)


@dataclass(frozen=True, slots=True)
class MapTaskSpec(JsonValue):
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
    params: dict[str, Any] = field(default_factory=dict)   # what zmr.param() reads
    ordering: dict[str, Any] = field(default_factory=dict)  # storage.ordering.KeyOrder
    max_line_length: int = 128 << 20   # longest input line read (MAX_LINE_LENGTH), bytes
    # what the output must say it was computed for (cluster runs; see OutputIdentity)
    identity: OutputIdentity | None = field(default=None, metadata=omitted_when_default())
    # --reuse: the digest of the job's map-side code ("" = off, see zmr.tasks.reuse), and
    # the cache of kept outputs, filled in where the task runs (the worker's reuse_dir)
    reuse: str = field(default="", metadata=omitted_when_default())
    reuse_dir: str = field(default="", metadata=omitted_when_default())
    reuse_max_bytes: int = field(default=0, metadata=omitted_when_default())
    reuse_content: bool = field(default=False, metadata=omitted_when_default())




@dataclass(frozen=True, slots=True)
class ReduceTaskSpec(JsonValue):
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
    params: dict[str, Any] = field(default_factory=dict)   # what zmr.param() reads
    ordering: dict[str, Any] = field(default_factory=dict)  # storage.ordering.KeyOrder




@dataclass(frozen=True, slots=True)
class ReduceResult(JsonValue):
    """What a successful reduce attempt committed, with its counters."""

    partition: int
    attempt: int
    output_path: str
    committed: bool        # False when another attempt had already committed this partition
    counters: dict[str, dict[str, int]] = field(default_factory=dict)


