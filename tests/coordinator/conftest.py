"""Every state-machine test also checks, after every event, that the machine's indexes agree
with a recount of every task (``CoordinatorState.validate``) and that every task whose
journaled record changed was marked dirty (else the journal would not write it again)."""

from __future__ import annotations

import functools
import json

import pytest

from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.records import task_record

EVENTS = ("submit", "cancel", "register", "restore", "request_task", "worker_lost",
          "task_done", "task_failed", "progress", "tick", "output_sealed")


def records(state: CoordinatorState) -> dict[tuple[str, str, int], str]:
    return {(job.job_id, t.kind, t.index): json.dumps(task_record(t), sort_keys=True)
            for job in state.jobs.values() for t in job.tasks()}


def checked(event):
    @functools.wraps(event)
    def run(self, *args, **kwargs):
        if getattr(self, "_in_event", False):      # an event handled as part of another
            return event(self, *args, **kwargs)
        before = records(self)
        self._in_event = True
        try:
            result = event(self, *args, **kwargs)
        finally:
            self._in_event = False
        assert self.validate() == [], f"after {event.__name__}"
        dirty = {(job.job_id, *key) for job in self.jobs.values() if job.tally is not None
                 for key in job.tally.dirty}
        changed = {key for key, record in records(self).items() if before.get(key) != record}
        assert changed <= dirty, f"{event.__name__} changed {sorted(changed - dirty)} unmarked"
        for job in self.jobs.values():
            if job.tally is not None:
                job.tally.take_dirty()       # as the journal does when it writes them
        return result
    return run


@pytest.fixture(autouse=True)
def validate_after_every_event(monkeypatch):
    for name in EVENTS:
        monkeypatch.setattr(CoordinatorState, name, checked(getattr(CoordinatorState, name)))
