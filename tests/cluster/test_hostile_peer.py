"""A real coordinator process facing a worker that lies: garbage frames, results that are
not results. The coordinator logs and drops or fails the attempt, never crashes, and the
job still completes on an honest worker with the inline result."""

from __future__ import annotations

import os
import time

from tests.helpers import EXAMPLES, output_bytes, write_lines
from zmr.protocol.messages import AssignTask, Register, RequestTask, TaskDone
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.transport.sockets import DEALER, Channel, make_socket, poll


def _next(channel: Channel, kind: type):
    while poll([channel], 10.0):
        received = channel.recv()
        if received is not None and isinstance(received[1], kind):
            return received[1]
    raise AssertionError(f"no {kind.__name__} from the coordinator")


def _map_task_once_failed(job) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        (map_task,) = [t for t in job.status()["tasks"] if t["task"] == "map"]
        if map_task["attempts"] and map_task["attempts"][0][4] == "failed":
            return map_task
        time.sleep(0.05)
    raise AssertionError(f"the rogue's attempt never failed: {map_task}")


def test_lying_worker_cannot_crash_the_coordinator(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=50)
    wordcount = os.path.join(EXAMPLES, "wordcount.py")
    with LocalCluster(workers=0, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(wordcount, [inputs], str(tmp_path / "out"), reducers=1)
        rogue = Channel(make_socket(DEALER, connect=cluster.client.config.endpoint(
            "control_port"), identity="rogue"), "rogue")
        try:
            rogue.send(Register("rogue", "h", "tcp://127.0.0.1:9", 1, 1, 1))
            rogue.send(RequestTask("rogue", 1))
            task = _next(rogue, AssignTask)
            rogue.sock.send_multipart([b"ZMR1", b"DONE", b'{"worker_id": 1}'])
            rogue.sock.send_multipart([b"not", b"zmr", b"at all"])
            rogue.sock.send_multipart([b"ZMR1", b"STATUS?", b"[" * 100_000])
            rogue.send(TaskDone("rogue", task.job_id, task.task, task.index, task.attempt,
                                {"counters": {"zmr": "lots"}}, 0.0, 1.0))
            map_task = _map_task_once_failed(job)     # the coordinator still answers
        finally:
            rogue.close()
        assert "malformed map result" in map_task["error"]
        cluster.add_worker()
        assert job.wait(timeout_s=60)["state"] == "SUCCEEDED"
    run_inline(wordcount, [inputs], str(tmp_path / "inline"), reducers=1)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
