"""The coordinator's state in Prometheus's text exposition format (version 0.0.4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from zmr.dashboard.snapshot import Snapshot

JOB_STATES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")


def prometheus_text(state: Snapshot) -> str:
    lines: list[str] = []
    jobs, workers = state["jobs"], state["workers"]
    by_state = Counter(j["state"] for j in jobs)
    _family(lines, "zmr_jobs", "gauge", "Jobs known to the coordinator, by state.",
            ((({"state": s},), by_state.get(s, 0)) for s in JOB_STATES))
    _family(lines, "zmr_workers", "gauge", "Live workers.", [((), len(workers))])
    for name, key, kind, text in (
            ("zmr_worker_slots", "slots", "gauge", "Task slots of a worker."),
            ("zmr_worker_free_slots", "free_slots", "gauge", "Idle slots of a worker."),
            ("zmr_worker_queued", "queued", "gauge",
             "Attempts queued on a worker behind its busy slots (prefetched)."),
            ("zmr_worker_heartbeat_age_seconds", "heartbeat_age_s", "gauge",
             "Seconds since the worker was last heard from."),
            ("zmr_worker_tasks_done_total", "tasks_done", "counter", "Attempts it finished."),
            ("zmr_worker_tasks_failed_total", "tasks_failed", "counter", "Attempts it failed.")):
        _family(lines, name, kind, text,
                ((({"worker": w["worker_id"]},), w.get(key, 0)) for w in workers))
    _family(lines, "zmr_job_tasks", "gauge", "Tasks of a job, by kind and state.",
            _task_samples(jobs))
    _family(lines, "zmr_job_elapsed_seconds", "gauge", "Seconds since the job was submitted.",
            ((({"job": j["job_id"]},), j["elapsed_s"]) for j in jobs))
    _family(lines, "zmr_job_slot_utilisation", "gauge",
            "Busy task time over slot time of a job (0..1), where known.",
            ((({"job": j["job_id"]},), j["utilisation"]) for j in jobs
             if j.get("utilisation") is not None))
    _family(lines, "zmr_job_splits", "gauge", "Map tasks a job's plan cut.",
            ((({"job": j["job_id"]},), j.get("splits", 0)) for j in jobs))
    _family(lines, "zmr_job_rebalanced", "gauge", "Splits of a job cut again while it ran.",
            ((({"job": j["job_id"]},), j.get("rebalanced", 0)) for j in jobs))
    _family(lines, "zmr_job_counter", "gauge",
            "A job's counters (Hadoop names; committed attempts only).",
            ((({"job": j["job_id"], "group": g, "name": n},), v)
             for j in jobs for g, names in sorted(j["counters"].items())
             for n, v in sorted(names.items())))
    return "\n".join(lines) + "\n"


def _task_samples(jobs: list[dict[str, Any]]) -> Iterable[tuple[tuple[dict[str, str]], int]]:
    for job in jobs:
        counts = Counter((t["task"], t["state"]) for t in job["tasks"])
        for (kind, task_state), n in sorted(counts.items()):
            yield ({"job": job["job_id"], "kind": kind, "state": task_state},), n


def _family(lines: list[str], name: str, kind: str, text: str,
            samples: Iterable[tuple[tuple[dict[str, str], ...] | tuple[()], Any]]) -> None:
    lines.append(f"# HELP {name} {text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        label_text = ",".join(f'{k}="{_escape(str(v))}"' for d in labels for k, v in d.items())
        lines.append(f"{name}{{{label_text}}} {_number(value)}" if label_text
                     else f"{name} {_number(value)}")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))
