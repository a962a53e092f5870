"""The worker agent against a real coordinator process, run in a thread of this process so
its parts can be inspected."""

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


def test_the_reconnect_log_names_the_wait_it_will_use(tmp_path, caplog, monkeypatch):
    """No coordinator answers: each try doubles the wait up to reconnect_backoff_max_s, and
    the log says the wait the next try really comes after (8 s, never 16 s)."""
    from zmr.config import load_config

    agent = WorkerAgent(load_config(standalone_config(tmp_path)), "lonely")
    monkeypatch.setattr(agent, "_connect", lambda: setattr(agent, "_connected_at", 0.0))
    try:
        agent.coordinator.last_seen["coordinator"] = 0.0          # silent for ages
        agent._connected_at, agent.backoff_s = 0.0, 4.0
        for _ in range(2):
            agent._check_coordinator()
        waits = [r.getMessage().rsplit("next try in ", 1)[1] for r in caplog.records
                 if "next try in" in r.getMessage()]
        assert waits == ["8.0s at most)", "8.0s at most)"]
    finally:
        agent.pub.close()
        agent.sub.close()


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
