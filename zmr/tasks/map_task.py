"""One map attempt: read a split, call the mapper, and produce a partitioned sorted file.

``run_map_task(spec, job)`` is the same call inline, in a local cluster and on a remote
worker. A map-only job (``num_reducers == 0``) writes the mapper's pairs, in the order they
were emitted, straight to a committed ``part-NNNNN`` of the job output.
"""

from __future__ import annotations

import gc
import glob
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from zmr.core.errors import JobContractError
from zmr.core.specs import MapManifest, MapTaskSpec, OutputIdentity, Split
from zmr.job import params
from zmr.job.api import JobSpec
from zmr.job.counters import Counters, counting_into
from zmr.job.quarantine import Quarantine
from zmr.job.runtime import RecordSkipper, call_final, checked_pairs
from zmr.storage import commit, layout
from zmr.storage.discovery import check_unchanged
from zmr.storage.fixed import record_size
from zmr.storage.formats import ARROW, FILES, PairWriter, open_pair_writer, part_suffix
from zmr.storage.input_formats import (
    LINE_FORMATS,
    RECORD_FORMATS,
    iter_record_batches,
    records,
    split_bytes,
)
from zmr.storage.ordering import KeyOrder
from zmr.storage.pairfile import iter_pair_batches
from zmr.storage.splits import iter_split_fixed, iter_split_fixed_columns, iter_split_lines
from zmr.tasks import accel, progress, reuse
from zmr.tasks.claims import Claims
from zmr.tasks.collector import MapOutputCollector

#: Input is read in pieces of at most this size (each costs ~4x in memory while decoded and
#: split into lines), and of at most 1/32 of the task memory budget.
MAX_READ_SIZE = 4 << 20
#: Lines handed to the mapper between two buffer-size checks.
LINES_PER_CHECK = 512


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: a map buffer holds millions of tuples, and every young-generation
    collection would rescan them (measured: 30-40% of a word count's time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_map_task(spec: MapTaskSpec, job: JobSpec) -> MapManifest:
    """Run one map attempt to completion and describe its output. A job with several
    inputs maps the split with the hooks of the input it reads."""
    job = job.for_input(spec.split.input)
    counters = Counters()
    skipped = Quarantine()          # the records --skip-bad-records dropped
    with counting_into(counters), _gc_paused(), params.using(spec.params):
        if spec.num_reducers == 0:
            read = _run_map_only(spec, job, counters, skipped)
            return MapManifest(spec.map_index, spec.attempt, "", (), counters.to_dict(),
                               _identity(spec, read), tuple(skipped.entries))
        key = reuse.task_key(spec)          # None unless --reuse
        kept = reuse.reused_output(spec, key) if key else None
        if kept is not None:
            _write_index(layout.map_index_path(kept.path), spec.job_id, kept)
            return kept
        path = layout.map_output_path(spec.work_dir, spec.map_index, spec.attempt)
        collector = MapOutputCollector(job, spec.num_reducers, spec.memory_budget,
                                       spec.work_dir, path, counters, spec.compression,
                                       KeyOrder.from_dict(spec.ordering))
        try:
            if job.map_batch is not None:
                read = _feed_batch_mapper(spec, job, collector.add_arrays, counters)
            else:
                read = _feed_mapper(spec, job, collector, counters, skipped)
            index = collector.finish()
            counters.add("MAP_OUTPUT_MATERIALIZED_BYTES", sum(e.length for e in index))
        except BaseException:
            _remove_partial(spec, path)        # a failed attempt leaves nothing on disk
            raise
    manifest = MapManifest(spec.map_index, spec.attempt, path, index, counters.to_dict(),
                           _identity(spec, read), tuple(skipped.entries))
    _write_index(layout.map_index_path(path), spec.job_id, manifest)
    if key:
        reuse.keep_output(spec, key, manifest, read)
    return manifest


def _identity(spec: MapTaskSpec, read: Split) -> OutputIdentity | None:
    """What the output says it was computed from: the split as it was read, which is the
    head of the planned one if the worker cut its remainder off while it ran."""
    if spec.identity is None or read is spec.split:
        return spec.identity
    return spec.identity._replace(split=read.fingerprint())


def _remove_partial(spec: MapTaskSpec, path: str) -> None:
    shutil.rmtree(layout.spill_dir(path), ignore_errors=True)
    for leftover in (path, path + ".tmp"):
        if os.path.exists(leftover):
            os.unlink(leftover)


def _write_index(path: str, job_id: str, manifest: MapManifest) -> None:
    """Persist the manifest so a worker that restarts can offer its finished outputs again
    instead of having them recomputed; written last, so its presence means complete."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"job_id": job_id, "manifest": manifest.to_dict()}, f)
    os.replace(path + ".tmp", path)


def read_indexes(work_root: str) -> list[tuple[str, MapManifest]]:
    """(job id, manifest) of every finished map output under a worker's data dir."""
    found = []
    for index in sorted(glob.glob(layout.map_index_glob(work_root))):
        try:
            with open(index, encoding="utf-8") as f:
                record = json.load(f)
            manifest = MapManifest.from_dict(record["manifest"])
            if os.path.exists(manifest.path):
                found.append((str(record["job_id"]), manifest))
        except (OSError, ValueError, KeyError, TypeError):
            continue          # a damaged index only costs a recomputation
    return found


def _read_size(spec: MapTaskSpec) -> int:
    return max(64 << 10, min(MAX_READ_SIZE, spec.memory_budget // 32))


class PairSink(Protocol):
    """Where a record mapper's pairs go: the map output collector, or a map-only writer."""

    def feed(self, mapper: Callable[[Any, str], Any], path: str,
             records: Iterable[tuple[int, str]]) -> None: ...

    def add(self, pairs: Iterable[Any]) -> None: ...

    def maybe_spill(self) -> None: ...


def _feed_mapper(spec: MapTaskSpec, job: JobSpec, sink: PairSink, counters: Counters,
                 skipped: Quarantine) -> Split:
    """The hot loop: every record of the split through the mapper, pairs into ``sink``;
    returns the split read (its head, if its remainder was cut off meanwhile)."""
    mapper: Callable[[Any, Any], Any] | None = job.mapper
    assert mapper is not None, "the loader refuses a job without mapper or map_batch"
    arrow_input = spec.split.format == ARROW
    if arrow_input:
        mapper = _PairMapper(mapper)
    if spec.skip_bad_records:
        mapper = RecordSkipper(mapper, spec.skip_bad_records, counters,
                               "key" if arrow_input else "byte", skipped)
    if job.mapper_init is not None:
        job.mapper_init()
    read = _ReadProgress(spec)
    claims = Claims(spec.split)
    for piece, offsets, lines in claims.records(input_records(spec), LINES_PER_CHECK):
        for start in range(0, len(lines), LINES_PER_CHECK):
            end = start + LINES_PER_CHECK
            sink.feed(mapper, piece.path, zip(offsets[start:end], lines[start:end]))
            sink.maybe_spill()
            progress.advance(min(LINES_PER_CHECK, len(lines) - start))
            read.at(piece, offsets[min(end, len(offsets)) - 1])
        counters.add("MAP_INPUT_RECORDS", len(lines))
    split = claims.finish()
    sink.add(call_final(job.mapper_final, "mapper_final"))
    counters.add("MAP_INPUT_BYTES", split_bytes(split))
    return split


class _ReadProgress:
    """Bytes of the split read so far, from the byte offset of the last line handed to the
    mapper, over the files of a packed split in turn, so the job's progress moves during a
    long map; formats keyed by row number (CSV and the table formats, pair files) report
    nothing but their end."""

    def __init__(self, spec: MapTaskSpec) -> None:
        self.on = spec.split.format not in RECORD_FORMATS and spec.split.format != ARROW
        self.total = split_bytes(spec.split) if self.on else 0
        self.before = 0                 # bytes of the pieces already read
        self.piece: Split | None = None

    def at(self, piece: Split, offset: Any) -> None:
        if not self.on or not isinstance(offset, int):
            return
        if piece is not self.piece:
            self.before += self.piece.length if self.piece is not None else 0
            self.piece = piece
        done = self.before + max(0, min(piece.length, offset - piece.start))
        progress.read(min(done, self.total), self.total)


def input_records(spec: MapTaskSpec) -> Iterator[tuple[Split, list[Any], list[Any]]]:
    """(piece, keys' second parts, values) batches of each file of the split in turn (a
    packed split holds several, see storage.packing), so keys name the real file."""
    for piece in checked_pieces(spec.split):
        for where, values in _piece_records(spec, piece):
            yield piece, where, values


def checked_pieces(split: Split) -> Iterator[Split]:
    """The pieces of ``split``, each file checked unchanged since planning before it is
    read and again once it was (``InputError`` if not): a map output is computed from the
    bytes the plan cut, or not at all."""
    for piece in split.pieces():
        check_unchanged(piece.path, piece.stamp)
        yield piece
        check_unchanged(piece.path, piece.stamp)


def _piece_records(spec: MapTaskSpec, piece: Split) -> Iterator[tuple[list[Any], list[Any]]]:
    """Batches of (offsets, lines) of a text split, (keys, values) of a pair file, or
    (offsets or row numbers, records) of a CSV, JSON lines, Parquet or Arrow IPC split."""
    if piece.format == ARROW:
        return iter_pair_batches(piece.path)
    if piece.format == FILES:       # mapper_raw: one record, the file itself
        return iter([([0], [piece.path])])
    if piece.format in RECORD_FORMATS:
        return ((where, records(batch, spec.format_options))
                for where, batch in _record_batches(spec, piece))
    if record_size(piece.format) is not None:
        return iter_split_fixed(piece)
    return iter_split_lines(piece, spec.on_bad_utf8, _read_size(spec), spec.max_line_length)


def _record_batches(spec: MapTaskSpec, piece: Split
                    ) -> Iterator[tuple[list[int], pa.RecordBatch]]:
    lines = (iter_split_lines(piece, spec.on_bad_utf8, _read_size(spec), spec.max_line_length)
             if piece.format in LINE_FORMATS else iter(()))
    return iter_record_batches(piece, lines, spec.format_options)


class _PairMapper:
    """The map loops call ``mapper((path, offset), line)``; a later step of a multi-step job
    reads pairs, so its mapper gets the previous step's key instead of the position."""

    __slots__ = ("mapper",)

    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def __call__(self, where: tuple[str, Any], value: Any) -> Any:
        return self.mapper(where[1], value)


def line_batch(path: str, offsets: Any, lines: Any, name: str = "line") -> pa.RecordBatch:
    """The batch a ``map_batch`` mapper receives: columns path, offset, line (or, for
    ``fixed:N`` input, ``record``: ``lines`` is then already a binary column)."""
    n = len(lines)
    paths = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)),
                                           pa.array([path]))
    column = lines if isinstance(lines, pa.Array) else pa.array(lines, pa.string())
    return pa.record_batch({"path": paths, "offset": pa.array(offsets, pa.int64()),
                            name: column})


def _feed_batch_mapper(spec: MapTaskSpec, job: JobSpec,
                       emit: Callable[[pa.Array, pa.Array], None], counters: Counters
                       ) -> Split:
    """Vectorised map: one call per batch of lines, Arrow columns out; returns the split
    read (see ``_feed_mapper``)."""
    map_batch = job.map_batch
    assert map_batch is not None
    if spec.split.format == ARROW:
        raise TypeError("map_batch reads text lines; a later step of a multi-step job "
                        "needs mapper(key, value)")
    if job.mapper_init is not None:
        job.mapper_init()
    claims = Claims(spec.split)
    batches: Iterator[pa.RecordBatch]
    if spec.split.format in RECORD_FORMATS:    # the format's own columns
        batches = (batch for piece in checked_pieces(spec.split)
                   for _, batch in _record_batches(spec, piece))
    else:
        batches = line_batches(spec, claims)
    for batch in batches:
        emit(*key_value_columns(map_batch(batch)))
        progress.advance(batch.num_rows)
        counters.add("MAP_INPUT_RECORDS", batch.num_rows)
    split = claims.finish()
    counters.add("MAP_INPUT_BYTES", split_bytes(split))
    return split


def line_batches(spec: MapTaskSpec, claims: Claims | None = None
                 ) -> Iterator[pa.RecordBatch]:
    """The split's lines as ``line_batch``es (a ``fixed:N`` split's records as batches
    with a ``record`` column); with ``claims``, each batch claimed first."""
    read = _ReadProgress(spec)
    fixed = record_size(spec.split.format) is not None
    records = _fixed_columns(spec) if fixed else input_records(spec)
    for piece, offsets, lines in claims.records(records, 0) if claims else records:
        yield line_batch(piece.path, offsets, lines, "record" if fixed else "line")
        if len(offsets):
            read.at(piece, int(offsets[-1]))


def _fixed_columns(spec: MapTaskSpec) -> Iterator[tuple[Split, Any, pa.BinaryArray]]:
    """(piece, byte offsets, records as a binary column) of a ``fixed:N`` split: records
    never become Python objects on the way to a batch mapper."""
    for piece in checked_pieces(spec.split):
        for offsets, column in iter_split_fixed_columns(piece, _read_size(spec)):
            yield piece, offsets, column


def key_value_columns(result: Any) -> tuple[pa.Array, pa.Array]:
    try:
        keys, values = result["key"], result["value"]
    except (KeyError, TypeError, IndexError):
        raise JobContractError("map_batch must return a table, batch or dict with 'key' and "
                               f"'value' columns, got {type(result).__name__}") from None
    return _as_array(keys), _as_array(values)


def _as_array(column: Any) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    return column if isinstance(column, pa.Array) else pa.array(column)


def _run_map_only(spec: MapTaskSpec, job: JobSpec, counters: Counters,
                  skipped: Quarantine) -> Split:
    """Map-only: stream pairs to a staged part file, then commit it; returns the split
    read (see ``_feed_mapper``)."""
    staging = commit.staging_dir(spec.output_dir, layout.map_task_name(spec.map_index),
                                 spec.attempt, spec.work_dir)
    os.makedirs(staging, exist_ok=True)
    staged = layout.staged_part_path(staging, spec.map_index)
    out = open_pair_writer(staged, spec.output_format, spec.compression,
                           spec.format_options.get("schema"))
    try:
        if job.map_batch is not None:
            read = _feed_batch_mapper(spec, job, lambda k, v: _write_pairs(
                out, list(zip(k.to_pylist(), v.to_pylist())), counters), counters)
        else:
            sink = _MapOnlyWriter(out, counters)
            read = _feed_mapper(spec, job, sink, counters, skipped)
            sink.flush()
    finally:
        out.close()
    commit.commit_file(staged, layout.part_path(spec.output_dir, spec.map_index)
                       + part_suffix(spec.output_format))
    return read


class _MapOnlyWriter:
    """A ``PairSink`` writing pairs, in emission order, to a part file in chunks."""

    def __init__(self, out: PairWriter, counters: Counters) -> None:
        self.out, self.counters = out, counters
        self.pending: list[Any] = []

    def feed(self, mapper: Callable[[Any, Any], Any], path: str,
             records: Iterable[tuple[Any, Any]]) -> None:
        accel.extend_records(self.pending.extend, mapper, path, records)

    def add(self, pairs: Iterable[Any]) -> None:
        self.pending.extend(pairs)

    def maybe_spill(self) -> None:
        if len(self.pending) >= 65536:
            self.flush()

    def flush(self) -> None:
        _write_pairs(self.out, self.pending, self.counters)
        self.pending.clear()


def _write_pairs(out: PairWriter, pairs: list[Any], counters: Counters) -> None:
    records, chars = out.write(checked_pairs(pairs, "mapper"))
    counters.add("MAP_OUTPUT_RECORDS", records)
    counters.add("BYTES_WRITTEN", chars)

