"""A worker frozen with SIGSTOP mid-task is declared dead and its task runs elsewhere; when
it is thawed (SIGCONT) its late result is fenced off and never committed twice. A worker
frozen while idle, with nothing to send once thawed, is asked to register again and
works again."""

from __future__ import annotations

import os
import signal
import time

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, output_bytes, wait_until, write_lines
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster


def test_sigstopped_worker_is_replaced_and_its_late_result_ignored(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    os.environ["ZMR_TEST_DELAY_S"] = "2"           # slow.py: every task takes 2 s
    try:
        job_path = os.path.join(JOBS, "slow.py")
        with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.3,
                          liveness=3, speculative=False) as cluster:
            job = cluster.client.submit(job_path, [inputs], str(tmp_path / "out"))
            while not any(t["attempts"] for t in job.status()["tasks"]):
                time.sleep(0.02)
            (task,) = [t for t in job.status()["tasks"] if t["attempts"]]
            frozen = cluster.workers[task["attempts"][0][1]]
            frozen.send_signal(signal.SIGSTOP)
            while len(cluster.client.workers()) == 2:          # declared dead
                time.sleep(0.05)
            time.sleep(1.0)
            frozen.send_signal(signal.SIGCONT)                  # comes back, finishes late
            status = job.wait(timeout_s=PATIENT_S)
            cluster.wait_for_workers(2, timeout_s=PATIENT_S)           # and registers again
        # NUM_REDUCERS unset: 2 partitions (the slots), coalesced into one reduce task as
        # their map output is tiny, so one part file as an inline run writes
        run_inline(job_path, [inputs], str(tmp_path / "inline"))
    finally:
        del os.environ["ZMR_TEST_DELAY_S"]
    first_map = status["tasks"][0]
    outcomes = [a[4] for a in first_map["attempts"]]
    assert outcomes[0] == "lost"                # the frozen attempt's own result never counted
    job_counters = status["counters"]["zmr.job"]
    assert job_counters["LOST_ATTEMPTS"] >= 1
    # done by the replacement, or (if the thawed worker finished first and re-registered with
    # the complete output) by adopting that output; either way exactly once
    assert "succeeded" in outcomes[1:] or job_counters.get("RECOVERED_MAPS", 0) >= 1
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def _log(cluster, name: str) -> str:
    with open(os.path.join(cluster.logs_dir, f"{name}.log"), encoding="utf-8") as f:
        return f.read()


def test_a_worker_frozen_past_its_timeout_rejoins_with_nothing_to_send(tmp_path):
    """The only worker is frozen (idle: it has nothing to send when it thaws) for longer
    than the liveness timeout. Thawed, it hears the coordinator's beats, so its own silence
    timer never fires; the coordinator hears its beats and tells it to register again."""
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    wordcount = os.path.join(EXAMPLES, "wordcount.py")
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.3,
                      liveness=3) as cluster:
        (name,) = cluster.workers
        frozen = cluster.workers[name]
        frozen.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: not cluster.client.workers(), "the frozen worker declared dead")
            # frozen well past the 0.9 s timeout: the coordinator gave up on it long ago
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                assert not cluster.client.workers()
                time.sleep(0.1)
        finally:
            frozen.send_signal(signal.SIGCONT)
        wait_until(lambda: [w["worker_id"] for w in cluster.client.workers()] == [name],
                   "the thawed worker registered again")
        # (asked by the coordinator, most often; or, if the coordinator's beats did not
        # reach it at once, after its own silence timer: either way it says so)
        assert "registering again" in _log(cluster, name)
        status = cluster.client.submit(wordcount, [inputs], str(tmp_path / "out")).wait(
            timeout_s=PATIENT_S)
        assert status["state"] == "SUCCEEDED"
    run_inline(wordcount, [inputs], str(tmp_path / "inline"))
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
