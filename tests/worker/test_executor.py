"""Attempts in executor processes (real forkserver children, real files): results come back
as data, whatever user code does to its own process fails only that attempt, and one process
serves many attempts of a job."""

from __future__ import annotations

import os
import time

import pytest

from tests.helpers import PATIENT_S, output_bytes
from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest, ReduceResult
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.job.shipping import pack_job
from zmr.runners.inline import run_inline
from zmr.settings.job import JobOptions
from zmr.storage import commit, cutting
from zmr.settings.cluster import WorkerSettings
from zmr.worker.executor import Executor
from zmr.worker.pipe import ExecutorConfig

WORDCOUNT = os.path.join(os.path.dirname(__file__), "..", "..", "jobs", "wordcount.py")
ENDPOINT = "tcp://127.0.0.1:1"     # this "worker's" shuffle address: its own segments are local


@pytest.fixture()
def inputs(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("".join(f"w{i % 7} x{i % 3} line\n" for i in range(200)))
    return str(path)


def _config(tmp_path) -> ExecutorConfig:
    return ExecutorConfig(WorkerSettings(), str(tmp_path), own_endpoint=ENDPOINT)


def _job_file(tmp_path, source: str) -> str:
    path = tmp_path / "userjob.py"
    path.write_text(source)
    return str(path)


def _wait(executor: Executor, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while (outcome := executor.collect()) is None:
        assert time.monotonic() < deadline, "attempt did not end"
        executor.check_memory()
        time.sleep(0.02)
    return outcome


def run_in(executor: Executor, kind: str, spec, code: bytes, log_path: str,
           index: int = 0, job_id: str = "job-t") -> Executor:
    assert executor.start(AttemptId(job_id, kind, index, 1), spec, code, log_path)
    return executor


def _map(tmp_path, job_path: str, inputs: str, reducers: int = 1, **plan_options):
    job = load_job(job_path)
    plan = plan_job(job, [inputs], str(tmp_path / "out"),
                    JobOptions(reducers=reducers, **plan_options))
    spec = plan.map_spec("job-t", 0, 1, str(tmp_path / "work"))
    log_path = str(tmp_path / "logs" / "map-0.log")
    executor = Executor(_config(tmp_path))
    return plan, job, run_in(executor, "map", spec, pack_job(job), log_path)


def test_map_then_reduce_in_sandboxes_equals_inline(tmp_path, inputs):
    plan, job, sandbox = _map(tmp_path, WORDCOUNT, inputs, reducers=2)
    outcome = _wait(sandbox)
    assert outcome.ok, outcome.traceback
    manifest = outcome.result
    assert isinstance(manifest, MapManifest)             # the object itself, not a dict
    # records seen, in memory shared with the worker (its heartbeats report it); map_task
    # advances in steps of up to LINES_PER_CHECK, so only "it moved" is exact here
    assert sandbox.progress[0] >= 200
    assert sandbox.progress[2] > 0 and sandbox.progress[1] <= sandbox.progress[2]
    for partition in range(2):
        # the same process runs the reduces: the job is loaded already, no code is sent
        spec = plan.reduce_spec("job-t", partition, 1, [manifest.segment(partition, ENDPOINT)],
                                str(tmp_path / "work"))
        run_in(sandbox, "reduce", spec, b"", str(tmp_path / "logs" / f"reduce-{partition}.log"),
               index=partition)
        reduce_outcome = _wait(sandbox)
        assert reduce_outcome.ok, reduce_outcome.traceback
        assert isinstance(reduce_outcome.result, ReduceResult)
    assert sandbox.tasks_run == 3 and sandbox.alive()
    sandbox.kill()
    commit.mark_success(str(tmp_path / "out"))      # the job commit, which the server does
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "inline"), reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def test_user_exception_comes_back_as_text_with_the_users_line(tmp_path, inputs):
    job = _job_file(tmp_path, "def mapper(k, v):\n    raise ValueError('bad record ' + v)\n")
    _, _, sandbox = _map(tmp_path, job, inputs)
    outcome = _wait(sandbox)
    assert not outcome.ok and outcome.result is None
    assert outcome.error.startswith("ValueError: bad record w0")
    assert f'File "{job}", line 2, in mapper' in outcome.traceback
    assert not outcome.disk_error


def test_os_exit_in_user_code_fails_only_the_attempt(tmp_path, inputs):
    job = _job_file(tmp_path, "import os\n\ndef mapper_init():\n    os._exit(7)\n\n"
                              "def mapper(k, v):\n    yield v, 1\n")
    _, _, sandbox = _map(tmp_path, job, inputs)
    outcome = _wait(sandbox)
    assert not outcome.ok
    assert outcome.error == "task process died (exit code 7) without reporting a result"
    assert os.getpid() > 0            # and we, the "worker", are still here to say so


def test_output_of_user_code_goes_to_the_attempt_log(tmp_path, inputs):
    job = _job_file(tmp_path, "import sys\n\ndef mapper(k, v):\n    print('hello from', v)\n"
                              "    sys.stderr.write('warn\\n')\n    yield v, 1\n")
    _, _, sandbox = _map(tmp_path, job, inputs)
    assert _wait(sandbox).ok
    log = (tmp_path / "logs" / "map-0.log").read_text()
    assert "hello from w0 x0 line" in log and "warn" in log


def test_kill_stops_a_stuck_attempt_at_once(tmp_path, inputs):
    job = _job_file(tmp_path, "import time\n\ndef mapper(k, v):\n    time.sleep(60)\n"
                              "    yield v, 1\n")
    _, _, sandbox = _map(tmp_path, job, inputs)
    time.sleep(0.3)
    assert sandbox.collect() is None                  # still running, and collect never blocks
    started = time.monotonic()
    sandbox.kill()
    assert time.monotonic() - started < 30         # "at once": not the mapper's 60 s
    assert not sandbox.process.is_alive() and sandbox.process.exitcode == -9


def test_attempt_dies_with_its_worker(tmp_path, inputs):
    """A task process is a child of the fork server, not of the worker, and the fork server
    outlives the worker while any child runs; so when the worker is gone (here: its end of
    the result pipe closes, as it does when the worker is kill -9'ed) the attempt must stop
    itself instead of running on as an orphan."""
    job = _job_file(tmp_path, "import time\n\ndef mapper(k, v):\n    time.sleep(60)\n"
                              "    yield v, 1\n")
    _, _, sandbox = _map(tmp_path, job, inputs)
    time.sleep(0.3)
    assert sandbox.process.is_alive()
    sandbox.conn.close()                              # what the kernel does when we die
    sandbox.process.join(PATIENT_S)
    assert not sandbox.process.is_alive()


def test_attempt_over_its_memory_limit_is_killed_with_a_clear_error(tmp_path, inputs):
    job = _job_file(tmp_path, "import time\nheld = []\n\ndef mapper(k, v):\n"
                              "    held.append(b'x' * (200 << 20))\n    time.sleep(60)\n"
                              "    yield v, 1\n")
    _, _, sandbox = _map(tmp_path, job, inputs, task_memory="100MB")
    outcome = _wait(sandbox)
    assert not outcome.ok and sandbox.process.exitcode == -9
    assert outcome.error.startswith("task attempt used ")
    assert outcome.error.endswith(" MB of memory, over the job's --task-memory limit of "
                                  "100 MB; killed")
    used = int(outcome.error.split()[3])
    assert 100 < used < 400


def test_a_silent_attempt_leaves_no_log_and_a_dying_one_keeps_its_last_words(tmp_path, inputs):
    _, _, quiet = _map(tmp_path, WORDCOUNT, inputs)
    assert _wait(quiet).ok
    assert not (tmp_path / "logs" / "map-0.log").exists()
    quiet.kill()
    job = _job_file(tmp_path, "import os\n\ndef mapper(k, v):\n"
                              "    print('last words', flush=True)\n    os._exit(3)\n")
    _, _, dying = _map(tmp_path, job, inputs)
    outcome = _wait(dying)
    assert outcome.error == "task process died (exit code 3) without reporting a result"
    assert (tmp_path / "logs" / "map-0.log").read_text() == "last words\n"


def test_what_one_attempt_prints_never_reaches_the_next_attempts_log(tmp_path, inputs):
    job = _job_file(tmp_path, "def mapper(k, v):\n    print('from', k[1])\n    yield v, 1\n")
    plan, loaded, executor = _map(tmp_path, job, inputs)
    assert _wait(executor).ok
    spec = plan.map_spec("job-t", 0, 2, str(tmp_path / "work"))
    run_in(executor, "map", spec, b"", str(tmp_path / "logs" / "map-0-a2.log"))
    assert _wait(executor).ok
    first = (tmp_path / "logs" / "map-0.log").read_text()
    second = (tmp_path / "logs" / "map-0-a2.log").read_text()
    assert first == second and first.count("\n") == 200
    executor.kill()


GATED = os.path.join(os.path.dirname(__file__), "..", "jobs", "gated_lines.py")


def test_a_cut_is_decided_by_the_task_process_against_what_it_has_claimed(tmp_path):
    """Dynamic work rebalancing, the worker's side: the attempt waits at its first line
    with one batch of lines claimed; a cut before the end of that batch is refused, one
    after it accepted, and the attempt then maps exactly the head of its split."""
    inputs = tmp_path / "in.txt"
    inputs.write_text("".join(f"{i % 97:02d}{'x' * 97}\n" for i in range(3000)))  # 100 B
    gate = tmp_path / "gate"
    job = load_job(GATED)
    plan = plan_job(job, [str(inputs)], str(tmp_path / "out"),
                    JobOptions(reducers=1, split_size="64MB", params={"gate": str(gate)}))
    spec = plan.map_spec("job-t", 0, 1, str(tmp_path / "work"), "inc")
    executor = run_in(Executor(_config(tmp_path)), "map", spec, pack_job(job),
                      str(tmp_path / "logs" / "map-0.log"))
    key = AttemptId("job-t", "map", 0, 1)
    deadline = time.monotonic() + PATIENT_S
    while executor.progress[3] == 0:                        # CLAIMED: its first batch
        assert time.monotonic() < deadline, "the attempt never claimed its first lines"
        time.sleep(0.02)
    claimed = executor.progress[3]
    assert 0 < claimed < 300_000
    assert executor.shrink(key, claimed - 1) == (f"it has read past byte {claimed - 1} "
                                                 f"(to {claimed})", False)
    assert executor.shrink(AttemptId("job-t", "map", 0, 2), 250_000)[1]  # not this one
    assert executor.shrink(key, 150_050) == ("", False)    # in the middle of line 1500
    assert executor.shrink(key, 200_000) == ("it already stops at byte 150050", False)
    gate.write_text("")
    deadline = time.monotonic() + PATIENT_S
    while executor.progress[3] < (1 << 62):                 # it read to its (new) end
        assert time.monotonic() < deadline, "the attempt never finished reading"
        time.sleep(0.02)
    assert executor.shrink(key, 100_000) == ("it has read its whole split", True)
    outcome = _wait(executor)
    assert outcome.ok, outcome.traceback
    counters = outcome.result.counters["zmr"]
    assert counters["MAP_INPUT_RECORDS"] == 1501 and counters["MAP_INPUT_BYTES"] == 150_050
    head = cutting.cut(plan.splits[0], 150_050)[0]
    assert outcome.result.identity.split == head.fingerprint() != plan.splits[0].fingerprint()
    assert executor.shrink(key, 100_000) == ("the attempt does not run here", True)
    executor.kill()
