"""Every state-machine test also checks, after every event through ``handle``, that the
machine's invariants hold (``CoordinatorState.validate``: indexes agree with a recount,
running attempts run on known workers, ...) and that every task whose journaled record
changed was marked dirty (else the journal would not write it again)."""

from __future__ import annotations

import functools
import json

import pytest

from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.records import task_record


def records(state: CoordinatorState) -> dict[tuple[str, str, int], str]:
    return {(job.job_id, t.kind, t.index): json.dumps(task_record(t), sort_keys=True)
            for job in state.jobs.values() for t in job.tasks()}


def checked(handle):
    @functools.wraps(handle)
    def run(self, event):
        before = records(self)
        result = handle(self, event)
        problems = self.validate()
        assert problems == [], f"after {event.name}: {problems}"
        dirty = {(job.job_id, *key) for job in self.jobs.values() if job.tally is not None
                 for key in job.tally.dirty}
        changed = {key for key, record in records(self).items() if before.get(key) != record}
        assert changed <= dirty, f"{event.name} changed {sorted(changed - dirty)} unmarked"
        for job in self.jobs.values():
            if job.tally is not None:
                job.tally.take_dirty()       # as the journal does when it writes them
        return result
    return run


@pytest.fixture(autouse=True)
def validate_after_every_event(monkeypatch):
    monkeypatch.setattr(CoordinatorState, "handle", checked(CoordinatorState.handle))
