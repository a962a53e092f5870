"""``zmr replay JOB --key KEY``: run a job's reducer on exactly one key's values, in this
process.

The values are those the job's reduce task handed the reducer: merged, in order, from
every map output's partition that holds the key (after the combiner, under the job's
secondary sort and grouping). They come from kept map outputs when there are some
(``--map-outputs DIR``: a failed job's worker directories, holding ``map-*.index.json``
manifests beside their Arrow files, whose CRCs are checked as a reduce task checks them);
otherwise the job's map tasks run again here over ``--input``, into a scratch directory,
exactly as an inline run runs them (deterministic and correct, but as slow as the map
phase). A key is named as the job's text output writes it (a string as it is, anything
else as JSON), which is also how a reduce failure names the key it failed on. The reducer
then runs with the job's parameters and side files (after ``reducer_init``), its pairs are
returned, and what it raises is raised here, from the user's own frame.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zmr.core.errors import InputError
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest
from zmr.job import params
from zmr.job.api import JobSpec, Pipeline
from zmr.job.loader import runnable
from zmr.job.planning import plan_job, plan_settings
from zmr.job.runtime import checked_pairs, iter_groups
from zmr.job.shipping import working_directory
from zmr.settings.job import JobOptions
from zmr.storage import layout
from zmr.storage.formats import format_field
from zmr.storage.ipc import read_segment
from zmr.storage.ordering import KeyOrder
from zmr.storage.sorting import merge_sorted
from zmr.tasks.map_task import run_map_task

REPLAY_JOB_ID = "replay"


@dataclass(frozen=True)
class KeyReplay:
    """What a reducer replay needs: the job, its plan (parameters, side files, key order)
    and the map outputs the key's values are read from."""

    job: JobSpec
    plan: JobPlan
    manifests: tuple[MapManifest, ...]


def prepare(job: str | JobSpec | Pipeline, inputs: list[str], map_outputs: list[str],
            scratch: str, options: JobOptions | None = None, of_job: str = "") -> KeyReplay:
    """Load the job and find (``map_outputs``) or make (maps run over ``inputs`` into
    ``scratch``) its map outputs."""
    options = options or JobOptions()
    spec = runnable(job, options)
    if isinstance(spec, Pipeline):
        raise InputError(f"{spec.name}: replaying a reducer takes a one-step job; a "
                         "multi-step job's steps can be run one by one as jobs of their own")
    if spec.reducer is None:
        raise InputError(f"{spec.source}: this job has no reducer function to replay "
                         "(none, or a built-in REDUCE)")
    output = os.path.join(scratch, "out")
    if map_outputs:
        plan = plan_settings(spec, output, options).plan
        return KeyReplay(spec, plan, tuple(kept_manifests(map_outputs, of_job)))
    if not inputs:
        raise InputError("zmr replay --key: give the job's --input (its maps run again "
                         "here), or --map-outputs DIR of kept map outputs")
    plan = plan_job(spec, inputs, output, options, parallelism=1)
    if plan.num_reducers < 1:
        raise InputError(f"{spec.source}: a map-only job (no reduce partitions) has no "
                         "reducer to replay")
    return KeyReplay(spec, plan, tuple(_run_maps(spec, plan, scratch)))


def _run_maps(job: JobSpec, plan: JobPlan, scratch: str) -> Iterator[MapManifest]:
    """The job's map tasks, one after the other, here (as ``--inline`` runs them)."""
    work_dir = os.path.join(scratch, "work")
    os.makedirs(work_dir, exist_ok=True)
    with working_directory(plan.files):
        for index in range(plan.num_maps):
            yield run_map_task(plan.map_spec(REPLAY_JOB_ID, index, 1, work_dir), job)


def kept_manifests(directories: list[str], of_job: str = "") -> list[MapManifest]:
    """The finished map outputs under ``directories`` (searched in depth; a worker's data
    directory holds one directory per job), the last attempt of each map; ``of_job``
    picks one job's where several jobs' are found."""
    found: dict[str, dict[int, MapManifest]] = {}
    for directory in directories:
        pattern = os.path.join(directory, "**", layout.MAP_INDEX_PATTERN)
        for path in sorted(glob.glob(pattern, recursive=True)):
            job_id, manifest = _read_index(path)
            if of_job and job_id != of_job:
                continue
            held = found.setdefault(job_id, {})
            if manifest.map_index not in held or held[manifest.map_index].attempt < \
                    manifest.attempt:
                held[manifest.map_index] = manifest
    if not found:
        raise InputError(f"no map outputs ({layout.MAP_INDEX_PATTERN}) of "
                         f"{of_job or 'any job'} under {', '.join(directories)}")
    if len(found) > 1:
        raise InputError(f"map outputs of several jobs under {', '.join(directories)} "
                         f"({', '.join(sorted(found))}): say which with --of-job")
    (held,) = found.values()
    return [held[index] for index in sorted(held)]


def _read_index(path: str) -> tuple[str, MapManifest]:
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        manifest = MapManifest.from_dict(record["manifest"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a map output manifest: {exc}") from None
    if not os.path.exists(manifest.path):
        raise InputError(f"{path}: its map output {manifest.path} is gone")
    return str(record["job_id"]), manifest


def run_reducer(replay: KeyReplay, key_text: str, partition: int | None = None
                ) -> tuple[Any, list[tuple[Any, Any]]]:
    """The job's reducer on the values of the key written ``key_text`` (looked for in
    ``partition``, or in every one): (the key, the pairs it yields), or what it raises."""
    plan, job = replay.plan, replay.job
    with working_directory(plan.files), params.using(plan.params):
        for key, values in _key_groups(replay, key_text, partition):
            if job.reducer_init is not None:
                job.reducer_init()
            assert job.reducer is not None, "prepare refuses a job without a reducer"
            out = job.reducer(key, values)
            return key, list(checked_pairs(() if out is None else out, "reducer"))
    where = f"partition {partition}" if partition is not None else "any partition"
    raise InputError(f"no key {key_text!r} in {where} of the job's map outputs (a key is "
                     "given as the output writes it: a string as it is, else as JSON)")


def _key_groups(replay: KeyReplay, key_text: str,
                partition: int | None) -> Iterator[tuple[Any, Iterator[Any]]]:
    """(key, values) of each reduce group whose key is written ``key_text``."""
    manifests = replay.manifests
    partitions = len(manifests[0].partitions) if manifests else 0
    if partition is not None and not 0 <= partition < partitions:
        raise InputError(f"--partition {partition}: the job's map outputs have "
                         f"{partitions} partitions (0 to {partitions - 1})")
    order = KeyOrder.from_dict(replay.plan.ordering)
    for p in [partition] if partition is not None else range(partitions):
        sources = [read_segment(m.path, e.offset, e.length, e.crc32,
                                f"map output of task {m.map_index} ({m.path})")
                   for m in manifests for e in [m.partitions[p]] if e.length]
        batches = merge_sorted(sources)
        groups = order.groups(batches) if order.regroups else iter_groups(batches)
        for _, key, values in groups:
            if format_field(key) == key_text:
                yield key, values
                return


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="zmr-replay-")
