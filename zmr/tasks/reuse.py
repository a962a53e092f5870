"""``--reuse`` in a map task: take a kept output instead of mapping, or keep a fresh one.

A map output is reused only when its task's fingerprint (:func:`task_key`) matches the one
it was kept under. The fingerprint covers the split (every file's path, size, mtime and
byte range, the input format), the job's map-side code (``JobPlan.reuse``, digested at
planning by :mod:`zmr.job.fingerprint`) and every setting that changes a map output. It
happens here, in the task, so that a reused output is an ordinary map output from then on:
in the task's own work directory with its index beside it, served, fetched, fenced, retried
and recovered after a restart like any other.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os

from zmr.core.specs import (
    FileStamp,
    MapManifest,
    MapTaskSpec,
    QuarantinedRecord,
    Split,
)
from zmr.job.counters import MAPS_REUSED
from zmr.settings.cluster import ClusterConfig
from zmr.storage import cutting, layout
from zmr.storage.discovery import check_unchanged
from zmr.storage.map_cache import Kept, MapCache, split_content
from zmr.tasks import progress

log = logging.getLogger(__name__)

#: Bumped when the layout of map outputs changes in a way zmr's version does not say.
FORMAT = 1


def task_key(spec: MapTaskSpec) -> str | None:
    """The fingerprint of ``spec``'s output, None when it cannot be reused: reuse is off
    (no code digest or no cache), a map-only job (its output is the job's), or a split
    planned without the stamps of its files."""
    if not spec.reuse or not spec.reuse_dir or spec.num_reducers == 0:
        return None
    stamps = [piece.stamp for piece in spec.split.pieces()]
    if any(s is None or not (s.mtime_ns or spec.reuse_content) for s in stamps):
        return None      # (an object store's listing gives no modification time)
    what = {
        "format": FORMAT, "zmr": _zmr_version(), "code": spec.reuse,
        **_input_identity(spec), "reducers": spec.num_reducers,
        "compression": spec.compression, "ordering": spec.ordering,
        "format_options": spec.format_options, "params": spec.params,
        "on_bad_utf8": spec.on_bad_utf8, "max_line_length": spec.max_line_length,
        "skip_bad_records": spec.skip_bad_records, "memory_budget": spec.memory_budget,
    }
    text = json.dumps(what, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def _input_identity(spec: MapTaskSpec) -> dict[str, str]:
    """What the split reads: its files' paths, sizes and mtimes, byte ranges and format;
    with --reuse-content, the digest of its bytes in place of the mtimes."""
    if not spec.reuse_content:
        return {"split": spec.split.fingerprint()}
    split = dataclasses.replace(spec.split, stamp=_size_only(spec.split.stamp),
                                more=tuple(p._replace(stamp=_size_only(p.stamp))
                                           for p in spec.split.more))
    return {"split": split.fingerprint(),
            "content": split_content(spec.split, spec.max_line_length)}


def _size_only(stamp: FileStamp | None) -> FileStamp | None:
    return None if stamp is None else FileStamp(stamp.size, 0)


@functools.lru_cache(maxsize=1)
def _zmr_version() -> str:
    from importlib.metadata import version
    return version("zmr")


def with_reuse_cache(spec: MapTaskSpec, config: ClusterConfig) -> MapTaskSpec:
    """``spec`` with the cache of kept outputs of where it runs (``[worker] reuse_dir``,
    with ``~`` expanded there: each host has its own)."""
    return dataclasses.replace(spec, reuse_dir=os.path.expanduser(config.worker.reuse_dir),
                               reuse_max_bytes=config.worker.reuse_max_bytes)


def cache_of(spec: MapTaskSpec) -> MapCache:
    return MapCache(spec.reuse_dir, spec.reuse_max_bytes)


def reused_output(spec: MapTaskSpec, key: str) -> MapManifest | None:
    """The manifest of the kept output under ``key``, linked into the task's own output
    path, with its index written beside it; None if there is none to use (then map)."""
    for piece in spec.split.pieces():    # as a map that ran would (InputError if not)
        check_unchanged(piece.path, piece.stamp)
    path = layout.map_output_path(spec.work_dir, spec.map_index, spec.attempt)
    kept = cache_of(spec).take(key, path)
    if kept is None:
        return None         # (a map that runs may still have its split cut: not claimed)
    if progress.claiming():     # claim the whole split, so that the worker cuts none
        end = progress.claim(progress.ALL)
        if 0 < end < cutting.split_length(spec.split):
            os.unlink(path)     # it cut one before this attempt started: map the head
            return None
    counters = {group: dict(named) for group, named in kept.counters.items()}
    zmr_counters = counters.setdefault("zmr", {})
    zmr_counters[MAPS_REUSED] = zmr_counters.get(MAPS_REUSED, 0) + 1
    log.info("map %d: reused kept output %s", spec.map_index, key)
    return MapManifest(spec.map_index, spec.attempt, path, kept.partitions, counters,
                       spec.identity, tuple(QuarantinedRecord.from_dict(q)
                                            for q in kept.quarantined))


def keep_output(spec: MapTaskSpec, key: str, manifest: MapManifest, read: Split) -> None:
    """Keep a fresh map output for later runs, if it is of the whole split (``read``: a
    split cut short while it ran is not the one a later plan cuts)."""
    if read != spec.split:
        return
    kept = Kept(tuple(manifest.partitions), manifest.counters,
                [q.to_dict() for q in manifest.quarantined])
    try:
        cache_of(spec).keep(key, manifest.path, kept)
    except OSError as exc:        # a full or unwritable cache costs reuse, not the task
        log.warning("map %d: could not keep its output in %s: %s", spec.map_index,
                    spec.reuse_dir, exc)
