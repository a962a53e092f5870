"""``zmr history JOB --events``: a job's event log, read from disk (no cluster needed).

The log is looked for in the configured cluster's history (``[coordinator] state_dir``)
and among ``zmr run``'s runs (``.zmr/runs`` here); ``--json`` prints its lines as they
are, else a table: one line per event, time from the job's submission.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from zmr.config import load_config
from zmr.core.errors import ConfigError
from zmr.storage import events as ev
from zmr.storage import layout

#: What a job or run name may look like (it becomes a file name).
JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def event_log(job_id: str, config_path: str | None) -> str:
    """The path of ``job_id``'s log; ConfigError naming where it was looked for."""
    if not JOB_NAME.fullmatch(job_id):
        raise ConfigError(f"{job_id[:100]!r} is not a job id (job-0007) nor a run name "
                          "(run-20260101-120000-ab12)")
    state_dir = load_config(config_path).coordinator.state_dir
    places = [state_dir, os.path.abspath(layout.LOCAL_RUNS)]
    paths = [layout.event_log_path(place, job_id) for place in places]
    for path in paths:
        if os.path.isfile(path):
            return path
    raise ConfigError(f"no event log for {job_id}: looked for {' and '.join(paths)} (a "
                      "job's log goes with its history, [retention] history_*)")


def cmd_history_events(args: argparse.Namespace) -> int:
    path = event_log(args.job_id, args.config or os.environ.get("ZMR_CONFIG"))
    if args.json:
        for line in ev.raw_lines(path):
            print(line)
        return 0
    try:
        records = ev.read_events(path)
    except ValueError as exc:
        raise ConfigError(f"{path}: not an event log: {exc}") from None
    if not records:
        print(f"zmr: {path} holds no events yet", file=sys.stderr)
    start = records[0].time_s if records else 0.0
    for record in records:
        print(f"{record.time_s - start:>9.3f}s  {record.KIND:<19} {describe(record)}")
    return 0


def describe(record: ev.Event) -> str:
    """What a table line says of one event, after its time and kind."""
    if isinstance(record, ev.JobSubmitted):
        return (f"{record.job_id} {record.name}: {record.splits} splits, {record.reducers} "
                f"reducers{_steps(record.steps)} -> {record.output}")
    if isinstance(record, ev.StepPlanned | ev.StepStarted):
        error = f": {record.error}" if isinstance(record, ev.StepPlanned) and \
            record.error else ""
        return f"step {record.step}: {record.splits} splits, {record.reducers} reducers{error}"
    if isinstance(record, ev.TaskAssigned):
        why = " (retry)" if record.retry else " (backup)" if record.backup else ""
        return f"{_attempt(record)} -> {record.worker}{why}"
    if isinstance(record, ev.TaskStarted | ev.TaskKilled):
        return f"{_attempt(record)} on {record.worker}"
    if isinstance(record, ev.TaskFinished):
        return _finished(record)
    if isinstance(record, ev.TaskFailed):
        return f"{_attempt(record)} on {record.worker}: {record.error.splitlines()[0]}"[:300]
    if isinstance(record, ev.WorkerLost):
        return (f"{record.worker} {record.reason}: attempts {', '.join(record.attempts) or '-'}"
                f", {record.map_outputs} map outputs to redo")
    if isinstance(record, ev.RecordsQuarantined):
        return f"{record.records} records -> {record.directory}"
    if isinstance(record, ev.JobEnded):
        error = f": {record.error.splitlines()[0]}" if record.error else ""
        return (f"{record.state} in {record.elapsed_s:.2f}s, {record.maps} maps, "
                f"{record.reduces} reduces, {record.failed_attempts} failed attempts"
                f"{error}")[:300]
    return ""


def _attempt(record: ev.TaskAssigned | ev.TaskStarted | ev.TaskKilled | ev.TaskFinished
             | ev.TaskFailed) -> str:
    return f"{record.task} a{record.attempt}"


def _finished(r: ev.TaskFinished) -> str:
    reused = " reused" if r.reused else ""
    return (f"{_attempt(r)} on {r.worker} in {r.duration_s:.3f}s{reused}: in "
            f"{r.records_in:,} records/{r.bytes_in:,} B, out {r.records_out:,} records"
            f"{f'/{r.bytes_out:,} B' if r.bytes_out else ''}"
            f"{f', spilled {r.spilled_records:,}' if r.spilled_records else ''}"
            f"{f', skipped {r.skipped_records:,}' if r.skipped_records else ''}")


def _steps(steps: int) -> str:
    return f", {steps} steps" if steps > 1 else ""
