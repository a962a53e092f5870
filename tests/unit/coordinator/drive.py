"""Building blocks for the state-machine tests: plans, results, and the events the tests
feed ``CoordinatorState.handle`` most often (submitting, a worker joining and asking)."""

from __future__ import annotations

from zmr.coordinator import views
from zmr.coordinator.commands import Send
from zmr.coordinator.stimuli import JobSubmitted, TaskRequested, WorkerRegistered
from zmr.core.ids import AttemptId
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest, PartitionIndexEntry, ReduceResult, Split
from zmr.protocol.messages import AssignTask, Register, RequestTask, TaskDone


def plan(maps=2, reducers=1, **options):
    return JobPlan([Split(f"/in/{i}", 0, 10) for i in range(maps)], reducers, 1 << 20,
                   "strict", "/out", **options)


def manifest(index, attempt, partitions=1, **fields):
    return MapManifest(**{"map_index": index, "attempt": attempt, "path": f"/w/m{index}.arrow",
                          "partitions": (PartitionIndexEntry(0, 10, 1, 123),) * partitions,
                          "counters": {"zmr": {"MAP_INPUT_RECORDS": 5}}, **fields})


def reduce_result(partition, attempt, **fields):
    return ReduceResult(**{"partition": partition, "attempt": attempt,
                           "output_path": "/out/part-00000", "committed": True,
                           "counters": {"zmr": {"REDUCE_OUTPUT_RECORDS": 2}}, **fields})


def submit(state, job_plan, now=0.0, code=b"c", name="wc"):
    """Submit a job as the server does: (its id, the commands)."""
    job_id = views.next_job_id(state)
    return job_id, state.handle(JobSubmitted(now, job_id, name, job_plan, code))


def join(state, worker, slots=1, now=0.0, host="h", cpus=1, memory_mb=100, **fields):
    return state.handle(WorkerRegistered(now, Register(worker, host, f"tcp://{worker}:1",
                                                       slots, cpus, memory_mb, **fields)))


def ask(state, worker, slots=1, now=0.0):
    return state.handle(TaskRequested(now, RequestTask(worker, slots)))


def register(state, worker, slots=1, now=0.0, **fields):
    """A worker joins and asks for ``slots`` attempts: the commands of the request."""
    join(state, worker, slots, now, **fields)
    return ask(state, worker, slots, now)


def assigned(commands):
    return [(c.peer, *c.msg.attempt[1:]) for c in commands
            if isinstance(c, Send) and isinstance(c.msg, AssignTask)]


def done(worker, kind, index, attempt, result=None, job_id="job-0001", **fields):
    if result is None:
        result = manifest(index, attempt) if kind == "map" else reduce_result(index, attempt)
    return TaskDone(worker, AttemptId(job_id, kind, index, attempt), result, 0.0, 1.0,
                    **fields)
