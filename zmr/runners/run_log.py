"""The event logs of ``zmr run``'s runs: under :data:`~zmr.storage.layout.LOCAL_RUNS`
(``.zmr/runs/events/run-...jsonl``) in the directory it runs from, kept by the default
``[retention]`` history policy.

An inline run writes its log as it runs (:class:`InlineEvents`, the records of
:mod:`zmr.storage.events`, in this process); a run on the embedded cluster, whose state
directory goes when the run ends, keeps a copy of the log its coordinator wrote
(:func:`keep_cluster_log`). Each run is named ``run-<date>-<time>-<random>``: the name
``zmr history RUN --events`` takes.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zmr.core.plan import JobPlan
from zmr.settings.cluster import ClusterConfig
from zmr.storage import event_log, layout
from zmr.storage import events as ev
from zmr.storage.quarantine import quarantine_dir

log = logging.getLogger("zmr")
INLINE_WORKER = "inline"


def new_run_id() -> str:
    return time.strftime("run-%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def local_history_dir() -> str:
    return os.path.abspath(layout.LOCAL_RUNS)


def prune_local_runs(keep: str) -> None:
    """Forget old runs' logs (the default history retention), never ``keep``."""
    event_log.prune(local_history_dir(), ClusterConfig().history_retention(), time.time(),
             frozenset([keep]))


def keep_cluster_log(state_dir: str, job_id: str) -> str:
    """Copy the embedded cluster's log of ``job_id`` among the local runs: the run id
    ("" if the coordinator wrote none)."""
    source = layout.event_log_path(state_dir, job_id)
    run_id = new_run_id()
    target = layout.event_log_path(local_history_dir(), run_id)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)
    except OSError as exc:
        log.warning("job=%s: event log not kept: %s", job_id, exc)
        return ""
    prune_local_runs(run_id)
    return run_id


class InlineEvents:
    """The event log of one inline run, written when a phase or the run ends."""

    def __init__(self, keep: bool = True) -> None:
        self.run_id = new_run_id() if keep else ""
        self.log = event_log.EventLog(local_history_dir())
        self.started_s = time.time()
        self.failed = 0

    def _add(self, record: ev.Event) -> None:
        if self.run_id:                 # else a run that keeps no log (``keep=False``)
            self.log.add(self.run_id, record)

    def submitted(self, name: str, plan: JobPlan, steps: int = 1, output: str = "") -> None:
        self._add(ev.submitted(time.time(), self.run_id, name, plan, steps, output))

    def step_started(self, number: int, plan: JobPlan) -> None:
        self._add(ev.StepStarted(time.time(), self.run_id, number, plan.num_maps,
                                 plan.num_reducers))

    def step_ended(self, number: int, maps: int, reduces: int, started_s: float) -> None:
        now = time.time()
        self._add(ev.StepEnded(now, self.run_id, number, "SUCCEEDED",
                               round(now - started_s, 6), maps, reduces))

    @contextmanager
    def task(self, kind: str, index: int) -> Iterator[dict[str, Any]]:
        """Around one task: assigned and started, then finished (the caller puts the
        result's ``counters`` in the dict it is given) or failed."""
        name, now = ev.task_name(kind, index), time.time()
        self._add(ev.TaskAssigned(now, self.run_id, name, 1, INLINE_WORKER))
        self._add(ev.TaskStarted(now, self.run_id, name, 1, INLINE_WORKER))
        outcome: dict[str, Any] = {}
        try:
            yield outcome
        except BaseException as exc:
            self.failed += 1
            self._add(ev.TaskFailed(time.time(), self.run_id, name, 1, INLINE_WORKER,
                                    ev.error_summary(f"{type(exc).__name__}: {exc}")))
            raise
        self._add(ev.finished(time.time(), self.run_id, name, 1, INLINE_WORKER,
                              time.time() - now, outcome.get("counters", {})))

    def phase_ended(self) -> None:
        self.log.flush(self.run_id)

    def quarantined(self, output: str, records: int) -> None:
        if records:
            self._add(ev.RecordsQuarantined(time.time(), self.run_id, records,
                                            quarantine_dir(output)))

    def ended(self, state: str, maps: int, reduces: int, counters: dict[str, Any],
              error: str = "") -> None:
        now, zmr = time.time(), counters.get("zmr", {})
        self._add(ev.JobEnded(now, self.run_id, state, round(now - self.started_s, 6),
                              maps, reduces, self.failed, ev.error_summary(error),
                              {k: int(zmr[k]) for k in ev.ENDED_COUNTERS if k in zmr}))
        self.log.flush(self.run_id)
        if self.run_id:
            prune_local_runs(self.run_id)
