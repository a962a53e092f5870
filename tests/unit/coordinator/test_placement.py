"""Resource-aware placement and data locality in the coordinator's state machine (no
sockets): declared RESOURCES only go where they fit, and a worker gets maps whose input its
host holds before others."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.coordinator import drive
from zmr.coordinator import views
from zmr.coordinator.commands import Send
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.stimuli import AttemptSucceeded, WorkerExpired
from zmr.core.plan import JobPlan
from zmr.core.specs import Split
from zmr.protocol.messages import AssignTask


def plan(hosts: list[tuple[str, ...]], resources=None) -> JobPlan:
    return JobPlan([Split(f"/in/{i}", 0, 10, hosts=h) for i, h in enumerate(hosts)], 1,
                   1 << 20, "strict", "/out", speculative=False, resources=resources or {})


def join(state, worker, host="h", slots=1, cpus=1, memory_mb=1000, now=0.0):
    drive.join(state, worker, slots, now, host=host, cpus=cpus, memory_mb=memory_mb)
    return assigned(drive.ask(state, worker, slots, now))


def assigned(commands):
    return [(c.peer, c.msg.attempt.kind, c.msg.attempt.index) for c in commands
            if isinstance(c, Send) and isinstance(c.msg, AssignTask)]


def finish(state, worker, index, now=1.0):
    return assigned(state.handle(AttemptSucceeded(now, drive.done(worker, "map", index, 1))))


def test_workers_get_maps_whose_input_their_host_holds():
    s = CoordinatorState(speculative=False)
    drive.submit(s, plan([("a",), ("b",), ("a",), ("b",)]))
    assert join(s, "wb", host="b", slots=2) == [("wb", "map", 1), ("wb", "map", 3)]
    assert join(s, "wa", host="a", slots=2) == [("wa", "map", 0), ("wa", "map", 2)]
    counters = s.jobs["job-0001"].counters.to_dict()["zmr.job"]
    assert counters["DATA_LOCAL_MAPS"] == 4 and "OTHER_LOCAL_MAPS" not in counters


def test_a_worker_with_no_local_input_still_gets_work():
    s = CoordinatorState(speculative=False)
    drive.submit(s, plan([("a",), ("a",), ()]))
    assert join(s, "wc", host="c", slots=3) == [("wc", "map", 0), ("wc", "map", 1),
                                               ("wc", "map", 2)]
    assert s.jobs["job-0001"].counters.to_dict()["zmr.job"]["OTHER_LOCAL_MAPS"] == 2


def test_a_map_that_fails_back_to_pending_is_local_again():
    s = CoordinatorState(speculative=False)
    drive.submit(s, plan([("a",), ("a",)]))
    assert join(s, "wa", host="a") == [("wa", "map", 0)]
    s.handle(WorkerExpired(1.0, "wa"))                              # map 0 is pending again
    assert join(s, "wa2", host="a", slots=2) == [("wa2", "map", 0), ("wa2", "map", 1)]


def test_declared_resources_limit_what_runs_at_once_on_a_worker():
    s = CoordinatorState(speculative=False)
    drive.submit(s, plan([()] * 4, {"cpus": 2, "memory_mb": 300}))
    # 4 slots, but 4 CPUs and 1000 MB fit only 2 tasks of 2 CPUs / 300 MB
    assert join(s, "w", slots=4, cpus=4, memory_mb=1000) == [("w", "map", 0), ("w", "map", 1)]
    # the two slots left free get a task as soon as a running one frees its CPUs
    assert finish(s, "w", 0) == [("w", "map", 2)]


def test_memory_is_the_limit_when_cpus_are_plenty():
    s = CoordinatorState(speculative=False)
    drive.submit(s, plan([()] * 3, {"memory_mb": 600}))
    assert join(s, "w", slots=3, cpus=8, memory_mb=1000) == [("w", "map", 0)]


def test_a_task_no_worker_could_ever_run_is_refused_with_a_reason():
    s = CoordinatorState(speculative=False)
    join(s, "w", cpus=2, memory_mb=1000)
    big = plan([()], {"cpus": 4})
    assert "no worker can run a task needing {'cpus': 4}" in views.unplaceable(s, big)
    assert "largest has 2 CPUs" in views.unplaceable(s, big)
    assert views.unplaceable(s, replace(big, resources={"cpus": 2})) == ""
    assert views.unplaceable(CoordinatorState(), big) == ""          # no workers yet: wait


def test_assigned_map_specs_are_what_the_plan_says():
    """The specs assigned are exactly the plan's own ``map_spec(...)``, hosts and format
    options included."""
    s = CoordinatorState()
    p = replace(plan([("a", "b"), ()]), format_options={"columns": ["x"]},
                compression="zstd")
    job_id, _ = drive.submit(s, p)
    drive.join(s, "w1", 2, host="a", memory_mb=1000)
    sent = [c.msg for c in drive.ask(s, "w1", 2) if isinstance(c, Send)]
    assert [m.attempt.index for m in sent] == [0, 1]
    for msg in sent:
        assert msg.spec == p.map_spec(job_id, msg.attempt.index, 1, "")
