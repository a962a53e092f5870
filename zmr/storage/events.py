"""A job's event log: what happened to it, one JSON object per line (Spark's event log).

Every job, on a cluster or inline, writes ``<history>/events/<job>.jsonl`` (the history
directory is the coordinator's ``state_dir``; ``zmr run`` keeps its runs under
:data:`~zmr.storage.layout.LOCAL_RUNS`), read back by ``zmr history JOB --events`` and the
dashboard's job page after the cluster is gone. Each line is one of the record types
below, its ``event`` field naming which: the types are the one definition of the format
(decoded through :mod:`zmr.core.jsonable`, so a reader checks every field; encoded by
one line encoder per type, as the coordinator writes a few lines per task).

Writing is cheap by design: :class:`zmr.storage.event_log.EventLog` keeps lines in memory
and appends them at a phase's end, at the job's end, every few seconds, or every
``FLUSH_EVERY`` lines (no fsync: a crash loses the tail of a log, never a job). Old logs
go with the job's history (``event_log.prune``, the ``[retention]`` history policy).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, ClassVar

from zmr.core.jsonable import JsonValue, ShapeError, from_json
from zmr.core.plan import JobPlan

#: What a job id or run name may look like (it names a file).
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Buffered lines of one log written at once when no phase ended meanwhile.
FLUSH_EVERY = 2000
#: Longest error text an event keeps (the full traceback is in ``zmr logs``).
ERROR_MAX = 2000


@dataclass(frozen=True, slots=True)
class Event(JsonValue):
    """Base of every record: when (wall clock, seconds) and which job (a step's own id for
    a step of a multi-step job, whose events go to the job's log)."""

    KIND: ClassVar[str] = ""
    time_s: float
    job_id: str


@dataclass(frozen=True, slots=True)
class JobSubmitted(Event):
    """The job was accepted: its name, inputs, output, splits and settings summary."""

    KIND: ClassVar[str] = "job_submitted"
    name: str
    inputs: tuple[str, ...]
    output: str
    splits: int
    reducers: int
    steps: int = 1
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepPlanned(Event):
    """A step of a multi-step job was planned from the step before's output (or could
    not be: ``error``)."""

    KIND: ClassVar[str] = "step_planned"
    step: int
    splits: int
    reducers: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class StepStarted(Event):
    """A step of a multi-step job started (``job_id``: the step's own job)."""

    KIND: ClassVar[str] = "step_started"
    step: int
    splits: int
    reducers: int


@dataclass(frozen=True, slots=True)
class StepEnded(Event):
    """A step of a multi-step job ended (``job_id``: the step's own job); the job goes on
    to the next step, or ends with it."""

    KIND: ClassVar[str] = "step_ended"
    step: int
    state: str
    elapsed_s: float
    maps: int
    reduces: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class TaskAssigned(Event):
    """An attempt was handed to a worker: a ``retry`` of a failed or lost one, or a
    ``backup`` (speculative) attempt beside a running one."""

    KIND: ClassVar[str] = "task_assigned"
    task: str
    attempt: int
    worker: str
    retry: bool = False
    backup: bool = False


@dataclass(frozen=True, slots=True)
class TaskStarted(Event):
    """An attempt began running (the worker's clock, reported with the attempt's end)."""

    KIND: ClassVar[str] = "task_started"
    task: str
    attempt: int
    worker: str


@dataclass(frozen=True, slots=True)
class TaskFinished(Event):
    """An attempt succeeded: how long it ran, what it read and wrote, what it spilled and
    skipped; ``reused``: a kept map output was taken instead of running it."""

    KIND: ClassVar[str] = "task_finished"
    task: str
    attempt: int
    worker: str
    duration_s: float
    bytes_in: int = 0
    records_in: int = 0
    bytes_out: int = 0
    records_out: int = 0
    spilled_records: int = 0
    skipped_records: int = 0
    reused: bool = False


@dataclass(frozen=True, slots=True)
class TaskFailed(Event):
    """An attempt failed: the error's summary (``lost_map`` >= 0: a reduce could not fetch
    that map's output, which runs again)."""

    KIND: ClassVar[str] = "task_failed"
    task: str
    attempt: int
    worker: str
    error: str
    lost_map: int = -1
    fatal: bool = False


@dataclass(frozen=True, slots=True)
class TaskKilled(Event):
    """An attempt was stopped: another attempt of the task won, or the job ended."""

    KIND: ClassVar[str] = "task_killed"
    task: str
    attempt: int
    worker: str


@dataclass(frozen=True, slots=True)
class WorkerLost(Event):
    """A worker died or became unreachable: the attempts it ran and the map outputs it held
    for this job run again."""

    KIND: ClassVar[str] = "worker_lost"
    worker: str
    reason: str
    attempts: tuple[str, ...] = ()
    map_outputs: int = 0


@dataclass(frozen=True, slots=True)
class RecordsQuarantined(Event):
    """Records the mappers skipped (``--skip-bad-records``), written under ``directory``."""

    KIND: ClassVar[str] = "records_quarantined"
    records: int
    directory: str


@dataclass(frozen=True, slots=True)
class JobEnded(Event):
    """The job succeeded, failed or was cancelled, with its totals."""

    KIND: ClassVar[str] = "job_ended"
    state: str
    elapsed_s: float
    maps: int
    reduces: int
    failed_attempts: int = 0
    error: str = ""
    counters: dict[str, int] = field(default_factory=dict)   # the "zmr" group


#: Every record type by its ``event`` name.
EVENT_TYPES: dict[str, type[Event]] = {t.KIND: t for t in (
    JobSubmitted, StepPlanned, StepStarted, StepEnded, TaskAssigned, TaskStarted, TaskFinished,
    TaskFailed, TaskKilled, WorkerLost, RecordsQuarantined, JobEnded)}


#: A map's counters -> (bytes in, records in, bytes out, records out, spilled, skipped).
MAP_METRICS = ("MAP_INPUT_BYTES", "MAP_INPUT_RECORDS", "MAP_OUTPUT_MATERIALIZED_BYTES",
               "MAP_OUTPUT_RECORDS", "SPILLED_RECORDS", "MAP_SKIPPED_RECORDS")
REDUCE_METRICS = ("REDUCE_SHUFFLE_BYTES", "REDUCE_INPUT_RECORDS", "", "REDUCE_OUTPUT_RECORDS",
                  "REDUCE_SPILLED_RECORDS", "")
#: Job counters a job's end reports (the "zmr" group).
ENDED_COUNTERS = ("MAP_INPUT_RECORDS", "MAP_OUTPUT_RECORDS", "MAP_SKIPPED_RECORDS",
                  "REDUCE_INPUT_GROUPS", "REDUCE_OUTPUT_RECORDS", "SPILLED_RECORDS",
                  "FAILED_ATTEMPTS", "KILLED_ATTEMPTS", "LOST_ATTEMPTS", "RERUN_MAPS")


def finished(now: float, job_id: str, task: str, attempt: int, worker: str,
             duration_s: float, counters: dict[str, dict[str, int]]) -> TaskFinished:
    """A ``task_finished`` record; what the attempt read, wrote, spilled and skipped from
    its counters (a map whose kept output was taken says so in them: ``MAPS_REUSED``)."""
    zmr = counters.get("zmr", {})
    reused = bool(zmr.get("MAPS_REUSED"))     # zmr.job.counters.MAPS_REUSED
    names = MAP_METRICS if task.startswith("map") else REDUCE_METRICS
    bytes_in, records_in, bytes_out, records_out, spilled, skipped = (
        int(zmr.get(n, 0)) if n else 0 for n in names)
    return TaskFinished(now, job_id, task, attempt, worker, round(max(0.0, duration_s), 6),
                        bytes_in, records_in, bytes_out, records_out, spilled, skipped,
                        reused)


def submitted(now: float, job_id: str, name: str, plan: JobPlan, steps: int = 1,
              output: str = "") -> JobSubmitted:
    """A job's ``job_submitted`` record, from its (first step's) plan; ``output``: a
    multi-step job's (its last step's)."""
    return JobSubmitted(now, job_id, name, tuple(plan.input_paths()), output or plan.output,
                        plan.num_maps, plan.num_reducers, steps, settings_summary(plan))


def settings_summary(plan: JobPlan) -> dict[str, Any]:
    """The settings a reader of the log wants to see, not the whole plan."""
    summary: dict[str, Any] = {
        "compression": plan.compression, "output_format": plan.output_format,
        "skip_bad_records": plan.skip_bad_records, "speculative": plan.speculative,
        "memory_budget": plan.memory_budget, "coalesce": plan.coalesce}
    if plan.params:
        summary["params"] = plan.params
    if plan.files:
        summary["files"] = sorted(plan.files)
    return summary


def encode(event: Event) -> str:
    """One line of a log (without its newline). The coordinator writes one per event of a
    task on its loop, so each record type has its own encoder, made once from its field
    types (:func:`_line_encoder`): a line costs a few microseconds, not a generic dump."""
    kind = type(event)
    line = _ENCODERS.get(kind) or _line_encoder(kind)
    return line(event)


_ENCODER = json.JSONEncoder(separators=(",", ":"))
_ENCODERS: dict[type[Event], Callable[[Event], str]] = {}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _int(value: int) -> str:
    return str(int(value))


def _float(value: float) -> str:
    return repr(float(value))          # an int given for a float is written as one


_SCALARS: dict[str, Callable[[Any], str]] = {
    "str": encode_basestring_ascii, "int": _int, "float": _float, "bool": _bool}


def _field_encoder(tp: Any) -> Callable[[Any], str]:
    """How one field's value becomes JSON text: the common scalar types directly (the
    same text ``json`` writes), anything else through ``json``."""
    return _SCALARS.get(tp if isinstance(tp, str) else "", _ENCODER.encode)


def _line_encoder(kind: type[Event]) -> Callable[[Event], str]:
    parts = [(f.name, _field_encoder(f.type)) for f in dataclasses.fields(kind)]
    head = '{"event":' + encode_basestring_ascii(kind.KIND)

    def line(event: Event) -> str:
        return head + "".join([f',"{name}":{to_text(getattr(event, name))}'
                               for name, to_text in parts]) + "}"

    _ENCODERS[kind] = line
    return line


def decode(line: str) -> Event:
    """A line back into its record; ShapeError (a ValueError) if it is not one."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ShapeError(f"not JSON: {exc}") from None
    kind = data.pop("event", None) if isinstance(data, dict) else None
    if kind not in EVENT_TYPES:
        raise ShapeError(f"unknown event {kind!r}")
    return from_json(EVENT_TYPES[kind], data)


def error_summary(error: str) -> str:
    """What an event keeps of an error: its text, capped."""
    return error if len(error) <= ERROR_MAX else error[:ERROR_MAX] + " [...]"


def task_name(kind: str, index: int) -> str:
    """``map-00003``, ``reduce-00000``: a task as logs and ``zmr logs --task`` name it."""
    return f"{kind}-{index:05d}"
