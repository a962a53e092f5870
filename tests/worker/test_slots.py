"""A worker's slots with real executor processes: attempts queue behind busy slots, one
process serves the attempts of a job (loaded once), and a process is replaced when it dies,
is killed, runs an attempt that fails, has run its share of attempts or its job ends."""

from __future__ import annotations

import contextlib
import os
import time

import pytest

from zmr.core.ids import AttemptId
from zmr.core.specs import MapTaskSpec
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.job.shipping import pack_job
from zmr.protocol.messages import AttemptProgress
from zmr.settings.job import JobOptions
from zmr.settings.cluster import WorkerSettings
from zmr.worker.pipe import ExecutorConfig
from zmr.worker.slots import Slots

ENDPOINT = "tcp://127.0.0.1:1"
#: a mapper that reports its process id and how often this process loaded the job module
PID_JOB = """import os
LOADS = [0]
LOADS[0] += 1

def mapper(key, line):
    yield f"{os.getpid()}:{LOADS[0]}", 1
"""


@pytest.fixture()
def job(tmp_path):
    source = tmp_path / "pidjob.py"
    source.write_text(PID_JOB)
    (tmp_path / "in.txt").write_text("a\nb\n")
    loaded = load_job(str(source))
    return loaded, pack_job(loaded)


def _spec(tmp_path, job, job_id: str, index: int) -> MapTaskSpec:
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"), JobOptions(reducers=0))
    return plan.map_spec(job_id, 0, 1, str(tmp_path / "work" / job_id / str(index)))


def _config(tmp_path) -> ExecutorConfig:
    return ExecutorConfig(WorkerSettings(), str(tmp_path), own_endpoint=ENDPOINT)


@contextlib.contextmanager
def _started(tmp_path, slots: int, prefetch: int, max_tasks: int, warm: bool = True):
    """Real slots with (``warm``) their executors started; every process stopped after."""
    held = Slots(slots, prefetch, max_tasks, _config(tmp_path))
    if warm:
        held.start_executors()
    try:
        yield held
    finally:
        held.close()


def _run_all(slots: Slots, timeout_s: float = 60.0) -> list:
    finished, deadline = list(slots.fill()), time.monotonic() + timeout_s
    while slots.queue or slots.busy():
        assert time.monotonic() < deadline, "attempts did not end"
        finished += slots.collect([e for e in slots.busy() if e.conn.poll()])
        finished += slots.fill()
        time.sleep(0.01)
    return finished


def _add(slots: Slots, tmp_path, job, job_id: str, index: int, code: bytes | None) -> None:
    key = AttemptId(job_id, "map", index, 1)
    slots.add(key, _spec(tmp_path, job[0], job_id, index),
              str(tmp_path / "logs" / f"{job_id}-{index}.log"), code)


def _pids(slots: Slots) -> set[int]:
    return {e.process.pid for e in slots.executors}


def test_attempts_of_one_job_share_a_process_that_loaded_the_job_once(tmp_path, job):
    with _started(tmp_path, 1, 1, 100) as slots:
        first = _pids(slots)
        for index in range(5):
            _add(slots, tmp_path, job, "job-a", index, job[1] if index == 0 else None)
        assert slots.free() == 0                     # 1 slot + 1 prefetch, and 3 more queued
        finished = _run_all(slots)
        assert [f.outcome.ok for f in finished] == [True] * 5
        assert _pids(slots) == first and slots.executors[0].tasks_run == 5


def test_another_job_gets_a_fresh_process_and_an_ended_job_recycles_its_own(tmp_path, job):
    with _started(tmp_path, 1, 0, 100) as slots:
        _add(slots, tmp_path, job, "job-a", 0, job[1])
        assert _run_all(slots)[0].outcome.ok
        ran_a = _pids(slots)
        _add(slots, tmp_path, job, "job-b", 0, job[1])
        assert _run_all(slots)[0].outcome.ok
        ran_b = _pids(slots)
        assert ran_b != ran_a                        # module state never crosses jobs
        assert slots.job_ended("job-b") == [] and _pids(slots) != ran_b
        assert slots.executors[0].job_id is None and len(slots.executors) == 1


def test_a_process_is_replaced_after_max_tasks(tmp_path, job):
    with _started(tmp_path, 1, 0, 2) as slots:
        seen = set()
        for index in range(4):
            _add(slots, tmp_path, job, "job-a", index, job[1])
            assert _run_all(slots)[0].outcome.ok
            seen |= _pids(slots)
        assert len(seen) == 3                        # 2 attempts each, then a new process


def test_a_process_that_dies_fails_only_its_attempt_and_is_replaced(tmp_path, job):
    with _started(tmp_path, 1, 0, 100) as slots:
        _add(slots, tmp_path, job, "job-a", 0, job[1])
        slots.fill()
        victim = slots.executors[0]
        os.kill(victim.process.pid, 9)
        finished = _run_all(slots)                    # its pipe's end reads as ready
        assert not finished[0].outcome.ok
        assert "task process died (killed by signal 9)" in finished[0].outcome.error
        assert slots.executors[0] is not victim and slots.executors[0].alive()
        _add(slots, tmp_path, job, "job-a", 1, None)  # the job's code is still here
        assert _run_all(slots)[0].outcome.ok


def test_killing_a_queued_attempt_never_starts_it(tmp_path, job):
    with _started(tmp_path, 1, 1, 100, warm=False) as slots:
        _add(slots, tmp_path, job, "job-a", 0, job[1])
        _add(slots, tmp_path, job, "job-a", 1, None)
        queued = AttemptId("job-a", "map", 1, 1)
        assert slots.progress() == [AttemptProgress(AttemptId("job-a", "map", 0, 1), 0, 0, 0),
                                    AttemptProgress(queued, 0, 0, 0)]
        assert slots.kill(queued) and not slots.kill(AttemptId("job-a", "map", 9, 1))
        assert [f.key for f in _run_all(slots)] == [AttemptId("job-a", "map", 0, 1)]


def test_an_attempt_of_a_job_without_code_fails_clearly(tmp_path, job):
    with _started(tmp_path, 1, 0, 100, warm=False) as slots:
        _add(slots, tmp_path, job, "job-x", 0, None)
        finished = slots.fill()
        assert finished[0].outcome.error == "worker has no code for this job"


def test_prefetch_credit_is_offered_only_while_attempts_are_short(tmp_path):
    slots = Slots(2, 1, 100, _config(tmp_path))
    assert slots.free() == 3                       # nothing known yet: short, as most are
    for _ in range(10):
        slots._timed(5.0)                          # long attempts: no queueing behind them
    assert slots.free() == 2
    for _ in range(20):
        slots._timed(0.01)
    assert slots.free() == 3


#: a mapper that fails the first time a process runs it, and succeeds in that process after
FIRST_IN_PROCESS_FAILS = """import os
CALLS = [0]

def mapper(key, line):
    CALLS[0] += 1
    if CALLS[0] == 1:
        raise RuntimeError(f"first call in process {os.getpid()}")
    yield os.getpid(), 1
"""


def test_a_failed_attempts_process_is_replaced_before_the_retry(tmp_path):
    source = tmp_path / "once.py"
    source.write_text(FIRST_IN_PROCESS_FAILS)
    (tmp_path / "in.txt").write_text("a\nb\n")
    loaded = load_job(str(source))
    with _started(tmp_path, 1, 0, 100) as slots:
        errors = []
        for attempt in (1, 2, 3):
            first = slots.executors[0]
            key = AttemptId("job-a", "map", 0, attempt)
            spec = plan_job(loaded, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                            JobOptions(reducers=0)).map_spec(
                "job-a", 0, attempt, str(tmp_path / "work" / str(attempt)))
            slots.add(key, spec, str(tmp_path / "logs" / f"{attempt}.log"),
                      pack_job(loaded) if attempt == 1 else None)
            (finished,) = _run_all(slots)
            assert not finished.outcome.ok
            errors.append(finished.outcome.error)
            # the failed process is gone: the retry never sees its module globals
            assert slots.executors[0] is not first and len(slots.executors) == 1
            assert not first.alive()
        assert all(e.startswith("RuntimeError: first call in process") for e in errors), errors
        assert len(set(errors)) == 3                  # three processes, one per attempt


def test_a_killed_attempts_process_is_replaced_at_once(tmp_path):
    """A task timeout, a cancelled job or a lost backup race: the coordinator's KillTask."""
    source = tmp_path / "sleepy.py"
    source.write_text("import time\n\ndef mapper(key, line):\n    time.sleep(600)\n"
                      "    yield line, 1\n")
    (tmp_path / "in.txt").write_text("a\n")
    loaded = load_job(str(source))
    with _started(tmp_path, 1, 0, 100) as slots:
        key = AttemptId("job-a", "map", 0, 1)
        spec = plan_job(loaded, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                        JobOptions(reducers=0)).map_spec("job-a", 0, 1, str(tmp_path / "w"))
        slots.add(key, spec, str(tmp_path / "logs" / "a.log"), pack_job(loaded))
        slots.fill()
        victim = slots.executors[0]
        assert victim.busy and slots.kill(key)
        assert not victim.alive() and slots.executors[0] is not victim
        assert slots.executors[0].alive() and not slots.executors[0].busy
