"""``zmr replay``: run a job's mapper on exactly one input record, in this process.

The record is named by its file and byte offset (a row number for CSV and the table formats),
as ``--skip-bad-records`` reports it and ``<output>/_quarantine/`` keeps it. It is read the
way a map task reads it: the job is planned over that one file with the same settings, and
the split holding the offset is read with the task's own reader, so a CSV row, a JSON line
or a ``fixed:N`` record arrives exactly as it did in the job. The mapper then runs with the
job's parameters and side files (and its ``mapper_init``), its pairs are returned, and what
it raises is raised here, from the user's own frame, for a debugger to open.
"""

from __future__ import annotations

import bisect
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from zmr.core.errors import InputError
from zmr.core.plan import JobPlan
from zmr.job import params
from zmr.job.api import JobSpec, Pipeline
from zmr.job.loader import runnable
from zmr.job.planning import plan_job
from zmr.job.runtime import checked_pairs
from zmr.job.shipping import working_directory
from zmr.settings.job import JobOptions
from zmr.storage import quarantine
from zmr.tasks.map_task import input_records


@dataclass(frozen=True)
class Record:
    """One input record, found: where it is and the value the mapper receives."""

    path: str
    offset: int
    value: Any


def entry_record(entry: str) -> tuple[str, int]:
    """``QUARANTINE_FILE[:N]`` (N-th entry, from 1; default 1) -> (file, offset)."""
    path, _, number = entry.rpartition(":")
    if not path or not number.isdigit():
        path, number = entry, "1"
    entries = quarantine.read(path)
    if not 1 <= int(number) <= len(entries):
        raise InputError(f"{path} holds {len(entries)} quarantined records; there is no "
                         f"entry {number}")
    found = entries[int(number) - 1]
    if found.offset is None:
        raise InputError(f"{path} entry {number} is a pair of a previous step "
                         f"({found.where}): replay takes records of the job's input files")
    return found.path, found.offset


def parse_record(given: str) -> tuple[str, int]:
    """``FILE:OFFSET`` -> (file, offset)."""
    path, _, offset = given.rpartition(":")
    if not path or not offset.isdigit():
        raise InputError(f"--record {given!r}: expected FILE:OFFSET, e.g. data/in.txt:1234")
    return path, int(offset)


@dataclass(frozen=True)
class Located:
    """A record found, and how its job maps it."""

    record: Record
    job: JobSpec              # the hooks of the input the record belongs to
    plan: JobPlan


def locate(job: str | JobSpec | Pipeline, path: str, offset: int,
           options: JobOptions | None = None) -> Located:
    """Load the job and find the record at ``offset`` of ``path`` (``InputError`` if no
    record starts there)."""
    options = options or JobOptions()
    spec = _first_step(runnable(job, options))
    if spec.mapper is None:
        raise InputError(f"{spec.source}: replay runs a mapper; this job has map_batch")
    with tempfile.TemporaryDirectory(prefix="zmr-replay-") as scratch:
        plan = plan_job(spec, [os.path.abspath(path)], os.path.join(scratch, "out"),
                        options, parallelism=1)
        record, input_index = _find(plan, scratch, os.path.abspath(path), offset)
    return Located(record, spec.for_input(input_index), plan)


def run_mapper(found: Located) -> list[tuple[Any, Any]]:
    """The job's mapper on the record, with the job's parameters and side files: the pairs
    it yields, or what it raises."""
    job, record = found.job, found.record
    with working_directory(found.plan.files), params.using(found.plan.params):
        if job.mapper_init is not None:
            job.mapper_init()
        assert job.mapper is not None, "locate refuses a job without a mapper"
        out = job.mapper((record.path, record.offset), record.value)
        return list(checked_pairs(() if out is None else out, "mapper"))


def _first_step(spec: JobSpec | Pipeline) -> JobSpec:
    """A multi-step job's mapper that reads input files is its first step's."""
    return spec.steps[0] if isinstance(spec, Pipeline) else spec


def _find(plan: Any, scratch: str, path: str, offset: int) -> tuple[Record, int]:
    """The record starting at ``offset`` (and the input it belongs to), read by the map
    task's reader; InputError if no record starts there, naming the nearest that does."""
    nearest: int | None = None
    for index in range(plan.num_maps):
        spec = plan.map_spec("replay", index, 1, scratch)
        for piece, offsets, values in input_records(spec):
            at = bisect.bisect_left(offsets, offset)
            if at < len(offsets) and offsets[at] == offset:
                return Record(piece.path, offset, values[at]), spec.split.input
            for near in offsets[max(0, at - 1):at + 1]:
                if nearest is None or abs(near - offset) < abs(nearest - offset):
                    nearest = near
    hint = f"; the nearest record starts at {nearest}" if nearest is not None else ""
    raise InputError(f"no record of {path} starts at offset {offset}{hint}")
