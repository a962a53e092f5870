"""The worker agent against a real coordinator process (or a ROUTER socket playing one),
run in a thread of this process, or stepped by the test on a simulated clock with its
attempts run in this process (``InProcessExecutor``), so its parts can be inspected.
(Its decisions alone, without sockets, are tested in ``test_state.py``.)"""

from __future__ import annotations

import threading
import time

from tests.helpers import PATIENT_S, standalone_config, wait_until
from zmr.runners.local import LocalCluster
from zmr.worker.agent import WorkerAgent


def test_worker_quits_with_an_error_when_its_shuffle_service_dies(tmp_path, monkeypatch):
    monkeypatch.setenv("ZMR_WORKER_PID", "0")        # the agent sets it for its tasks
    with LocalCluster(workers=0, base_dir=str(tmp_path / "c")) as cluster:
        agent = WorkerAgent(cluster.client.config, "in-test")
        runner = threading.Thread(target=agent.run, daemon=True)
        runner.start()
        cluster.wait_for_workers(1)
        agent.shuffle.stop()                         # the service thread ends
        runner.join(PATIENT_S)
        assert not runner.is_alive() and agent.failed


def test_worker_without_a_free_shuffle_port_exits_with_the_reason(tmp_path):
    import subprocess
    import sys

    from zmr.config import write_config
    from zmr.transport.sockets import PULL, bound_endpoint, make_socket

    squatter = make_socket(PULL, bind="tcp://127.0.0.1:*")
    port = bound_endpoint(squatter).rsplit(":", 1)[1]
    config = str(tmp_path / "cluster.toml")
    write_config(config, {("worker", "shuffle_ports"): f"{port}-{port}",
                          ("worker", "data_dir"): str(tmp_path / "data")})
    try:
        proc = subprocess.run([sys.executable, "-m", "zmr.worker", config], capture_output=True,
                              text=True, timeout=PATIENT_S)
    finally:
        squatter.close()
    assert proc.returncode == 2                      # a setting to change, like the coordinator's
    assert (f'zmr.worker: error: {config}: [worker] shuffle_ports = "{port}-{port}": cannot '
            f"bind tcp://127.0.0.1:{port}-{port}") in proc.stderr
    assert "Traceback" not in proc.stderr


def _started(agent: WorkerAgent) -> threading.Thread:
    runner = threading.Thread(target=agent.run, daemon=True)
    runner.start()
    return runner


def test_a_second_process_under_a_live_workers_id_waits_until_that_one_is_gone(
        tmp_path, monkeypatch):
    """Refused while the first process beats (and retrying on its backoff, not in a tight
    loop); accepted, as a restart, once the first one has stopped."""
    monkeypatch.setenv("ZMR_WORKER_PID", "0")
    # the fence lets a registration in once the registered process has been silent for 2
    # intervals: 1 s ones, so a first agent slowed by a busy machine still counts as alive
    with LocalCluster(workers=0, base_dir=str(tmp_path / "c"), heartbeat_interval_s=1.0,
                      liveness=3) as cluster:
        first = WorkerAgent(cluster.client.config, "same-id")
        first_runner = _started(first)
        cluster.wait_for_workers(1)
        second = WorkerAgent(cluster.client.config, "same-id")
        second_runner = _started(second)
        try:
            def coordinator_log() -> str:
                return open(f"{cluster.logs_dir}/coordinator.log", encoding="utf-8").read()

            # (the log, not second.retry_register_at, which each retry clears again)
            wait_until(lambda: "registration refused" in coordinator_log(),
                       "the second registration refused")
            time.sleep(1.0)                  # a while of being refused: no tight loop
            assert 1 <= coordinator_log().count("registration refused") <= 5
            (registered,) = cluster.client.workers()
            assert registered["shuffle_endpoint"] == first.shuffle_endpoint
            first.stopping = True            # it quits: its beats stop
            first_runner.join(PATIENT_S)
            wait_until(lambda: [w["shuffle_endpoint"] for w in cluster.client.workers()]
                       == [second.shuffle_endpoint], "the second process accepted")
        finally:
            first.stopping = second.stopping = True
            second_runner.join(PATIENT_S)


def test_an_unanswered_registration_is_sent_again_while_the_coordinator_beats(
        tmp_path, monkeypatch):
    """The coordinator beats but its answer to our Register never comes (it went to another
    connection that had claimed our id, or was lost): the worker registers again within a
    liveness window instead of waiting, unregistered, for ever."""
    from zmr.config import load_config
    from zmr.protocol.messages import Heartbeat, Register, Registered, RequestTask
    from zmr.transport.sockets import PUB, ROUTER, Channel, make_socket

    monkeypatch.setenv("ZMR_WORKER_PID", "0")
    config = load_config(standalone_config(tmp_path))
    router = Channel(make_socket(ROUTER, bind=config.endpoint("control_port")), "control")
    beats = Channel(make_socket(PUB, bind=config.endpoint("heartbeat_port")), "beats")
    agent = WorkerAgent(config, "unanswered")
    runner = _started(agent)
    registers: list[float] = []
    try:
        deadline, seq, next_beat = time.monotonic() + PATIENT_S, 0, 0.0
        while len(registers) < 2 and time.monotonic() < deadline:
            if time.monotonic() >= next_beat:       # a coordinator that is alive
                seq += 1
                beats.send(Heartbeat("coordinator", seq))
                next_beat = time.monotonic() + config.heartbeat.interval_s / 2
            if router.sock.poll(50):
                received = router.recv()
                if received is not None and isinstance(received[1], Register):
                    registers.append(time.monotonic())       # never answered
        assert len(registers) == 2, "the worker never registered again"
        router.send(Registered("unanswered"), to=b"unanswered")
        wait_until(lambda: router.sock.poll(50) and isinstance(
            (router.recv() or (None, None))[1], RequestTask), "work asked for once answered")
    finally:
        agent.stopping = True
        runner.join(PATIENT_S)
        router.close()
        beats.close()


class SimulatedClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


#: a mapper that fails the way a full disk under the worker's data directory makes it fail
DISK_FULL_JOB = """import errno, os

def mapper(key, line):
    raise OSError(errno.ENOSPC, "No space left on device", os.path.join(os.getcwd(), "spill"))
    yield line, 1
"""


def _assignment(tmp_path, job_path: str, job_id: str):
    from zmr.core.ids import AttemptId
    from zmr.job.loader import load_job
    from zmr.job.planning import plan_job
    from zmr.job.shipping import pack_job
    from zmr.protocol.messages import AssignTask
    from zmr.settings.job import JobOptions

    (tmp_path / "in.txt").write_text("to be or not to be\n")
    job = load_job(job_path)
    spec = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / f"out-{job_id}"),
                    JobOptions(reducers=1)).map_spec(job_id, 0, 1, "")
    return AssignTask(AttemptId(job_id, "map", 0, 1), spec, True), pack_job(job)


def _next_message(agent: WorkerAgent, router):
    """Step the agent until the coordinator's socket receives its next message."""
    deadline = time.monotonic() + PATIENT_S
    while time.monotonic() < deadline:
        agent.step()
        if router.sock.poll(10):
            received = router.recv()
            if received is not None:
                return received[1]
    raise AssertionError("the worker sent nothing")


def test_a_worker_whose_disk_failed_takes_no_tasks_for_the_pause_then_asks_again(
        tmp_path, monkeypatch):
    """python-rq's SimpleWorker: attempts run in this process, and a simulated clock jumps
    over the 30 s unhealthy pause, so the whole story takes milliseconds: a map runs and
    is reported; one fails on the worker's disk, is reported offering no slots, and the
    worker takes nothing until the pause is over and its disk takes writes again."""
    import os

    from tests.helpers import EXAMPLES
    from zmr.config import load_config
    from zmr.core.specs import MapManifest
    from zmr.protocol.messages import Register, Registered, RequestTask, TaskDone, TaskFailed
    from zmr.transport.sockets import ROUTER, Channel, make_socket
    from zmr.worker.inprocess import InProcessExecutor
    from zmr.worker.phases import WorkerPhase

    monkeypatch.setenv("ZMR_WORKER_PID", "0")
    # short beats (the loop waits at most one) and a coordinator never counted as gone
    config = load_config(standalone_config(tmp_path)).with_values({
        ("heartbeat", "interval_s"): 0.05, ("heartbeat", "liveness"): 1_000_000})
    router = Channel(make_socket(ROUTER, bind=config.endpoint("control_port")), "control")
    clock = SimulatedClock()
    agent = WorkerAgent(config, "sick", clock=clock, executor_type=InProcessExecutor)
    cwd = os.getcwd()
    agent.start()
    try:
        assert isinstance(_next_message(agent, router), Register)
        router.send(Registered("sick"), to=b"sick")
        assert _next_message(agent, router) == RequestTask("sick", 2)    # 1 slot + prefetch
        good, code = _assignment(tmp_path, os.path.join(EXAMPLES, "wordcount.py"), "job-ok")
        router.send(good, code, to=b"sick")
        done = _next_message(agent, router)
        assert isinstance(done, TaskDone) and isinstance(done.result, MapManifest)
        assert done.free_slots == 2 and os.getcwd() == cwd
        source = tmp_path / "disk_full.py"
        source.write_text(DISK_FULL_JOB)
        bad, code = _assignment(tmp_path, str(source), "job-disk")
        router.send(bad, code, to=b"sick")
        failed = _next_message(agent, router)
        assert isinstance(failed, TaskFailed) and failed.free_slots == 0
        assert failed.error.startswith("worker sick: worker storage error at ")
        assert "No space left on device" in failed.error
        clock.now += config.worker.unhealthy_pause_s - 1
        agent.step()
        assert agent.state.phase is WorkerPhase.UNHEALTHY and agent._free() == 0
        clock.now += 2                                # the pause is over: probe, ask again
        assert _next_message(agent, router) == RequestTask("sick", 2)
        assert agent.state.phase is WorkerPhase.REGISTERED
    finally:
        agent.close()
        router.close()
