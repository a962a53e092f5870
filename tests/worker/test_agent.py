"""The worker agent against a real coordinator process, run in a thread of this process so
its parts can be inspected."""

from __future__ import annotations

import threading

from zmr.local import LocalCluster
from zmr.worker.agent import WorkerAgent


def test_worker_quits_with_an_error_when_its_shuffle_service_dies(tmp_path, monkeypatch):
    monkeypatch.setenv("ZMR_WORKER_PID", "0")        # the agent sets it for its tasks
    with LocalCluster(workers=0, base_dir=str(tmp_path / "c")) as cluster:
        agent = WorkerAgent(cluster.client.config, "in-test")
        runner = threading.Thread(target=agent.run, daemon=True)
        runner.start()
        cluster.wait_for_workers(1)
        agent.shuffle.stop()                         # the service thread ends
        runner.join(10)
        assert not runner.is_alive() and agent.failed
