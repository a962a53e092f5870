"""Event log records as people read them: one line of text per event, for ``zmr history
JOB --events`` and the dashboard's job page (which shows :func:`timeline`)."""

from __future__ import annotations

from typing import Any

from zmr.storage import events as ev
from zmr.storage.event_log import read_events


def describe(record: ev.Event) -> str:
    """What a table line says of one event, after its time and kind."""
    if isinstance(record, ev.JobSubmitted):
        return (f"{record.job_id} {record.name}: {record.splits} splits, {record.reducers} "
                f"reducers{_steps(record.steps)} -> {record.output}")
    if isinstance(record, ev.StepPlanned | ev.StepStarted):
        error = f": {record.error}" if isinstance(record, ev.StepPlanned) and \
            record.error else ""
        return f"step {record.step}: {record.splits} splits, {record.reducers} reducers{error}"
    if isinstance(record, ev.StepEnded):
        error = f": {_first_line(record.error)}" if record.error else ""
        return (f"step {record.step} {record.state} in {record.elapsed_s:.2f}s, "
                f"{record.maps} maps, {record.reduces} reduces{error}")[:300]
    if isinstance(record, ev.TaskAssigned):
        why = " (retry)" if record.retry else " (backup)" if record.backup else ""
        return f"{_attempt(record)} -> {record.worker}{why}"
    if isinstance(record, ev.TaskStarted | ev.TaskKilled):
        return f"{_attempt(record)} on {record.worker}"
    if isinstance(record, ev.TaskFinished):
        return _finished(record)
    if isinstance(record, ev.TaskFailed):
        return f"{_attempt(record)} on {record.worker}: {_first_line(record.error)}"[:300]
    if isinstance(record, ev.WorkerLost):
        return (f"{record.worker} {record.reason}: attempts {', '.join(record.attempts) or '-'}"
                f", {record.map_outputs} map outputs to redo")
    if isinstance(record, ev.RecordsQuarantined):
        return f"{record.records} records -> {record.directory}"
    if isinstance(record, ev.JobEnded):
        error = f": {_first_line(record.error)}" if record.error else ""
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


def timeline(path: str, limit: int = 0) -> dict[str, Any]:
    """A log as the dashboard shows it: its events (the last ``limit``; 0: all), each with
    its time from the first, kind, job and one line of text, and how many there are."""
    records = read_events(path)
    start = records[0].time_s if records else 0.0
    shown = records[-limit:] if limit else records
    return {"total": len(records), "events": [
        {"t_s": round(r.time_s - start, 6), "event": r.KIND, "job_id": r.job_id,
         "text": describe(r)} for r in shown]}


def _first_line(text: str) -> str:
    return (text.splitlines() or [""])[0]
