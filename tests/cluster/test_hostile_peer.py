"""A real coordinator process facing a worker that lies: garbage frames, results that are
not results, results of the other kind of task, results that name another task. The
coordinator drops what does not decode (the wire checks every nested field), fails the
attempt whose result does not fit its task, never crashes, and the job still completes on
an honest worker with the inline result. A forged registration for a live worker's id is
refused; frames larger than a socket takes are dropped before they are buffered."""

from __future__ import annotations

import json
import os
import time

from tests.helpers import EXAMPLES, PATIENT_S, output_bytes, wait_until, write_lines
from zmr.core.specs import MapManifest
from zmr.protocol import wire
from zmr.protocol.messages import (
    AssignTask,
    Heartbeat,
    Register,
    RequestTask,
    SubmitJob,
    TaskDone,
)
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.transport.sockets import DEALER, PUB, Channel, make_socket, poll


def _next(channel: Channel, kind: type):
    while poll([channel], 10.0):
        received = channel.recv()
        if received is not None and isinstance(received[1], kind):
            return received[1]
    raise AssertionError(f"no {kind.__name__} from the coordinator")


def _map_task_once_failed(job) -> dict:
    deadline = time.monotonic() + PATIENT_S
    while time.monotonic() < deadline:
        (map_task,) = [t for t in job.status()["tasks"] if t["task"] == "map"]
        if map_task["attempts"] and map_task["attempts"][0][4] == "failed":
            return map_task
        time.sleep(0.05)
    raise AssertionError(f"the rogue's attempt never failed: {map_task}")


def _reduce_result(index: int) -> dict:
    return {"partition": index, "attempt": 1, "output_path": "/o", "committed": True}


def _done_frames(task: AssignTask, result: dict) -> list[bytes]:
    """A TaskDone for ``task`` whose result is ``result`` as it is (no TaskDone could be
    made with it: a reduce's result for a map attempt is refused when built)."""
    payload = {"worker_id": "rogue", "attempt": list(task.attempt), "result": result,
               "started_s": 0.0, "finished_s": 1.0}
    return [wire.VERSION, TaskDone.KIND, json.dumps(payload).encode()]


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
            rogue.sock.send_multipart([wire.VERSION, b"DONE", b'{"worker_id": 1}'])
            rogue.sock.send_multipart([b"not", b"zmr", b"at all"])
            rogue.sock.send_multipart([wire.VERSION, b"STATUS?", b"[" * 100_000])
            for result in ({"counters": {"zmr": "lots"}}, _reduce_result(task.attempt.index)):
                rogue.sock.send_multipart(_done_frames(task, result))   # both dropped
            lie = MapManifest(task.attempt.index + 1, task.attempt.attempt, "/nowhere", ())
            rogue.send(TaskDone("rogue", task.attempt, lie, 0.0, 1.0))
            map_task = _map_task_once_failed(job)     # the coordinator still answers
        finally:
            rogue.close()
        assert map_task["error"] == "map result names task 1, not 0"
        cluster.add_worker()
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
    run_inline(wordcount, [inputs], str(tmp_path / "inline"), reducers=1)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def _log(cluster, name: str) -> str:
    with open(os.path.join(cluster.logs_dir, f"{name}.log"), encoding="utf-8") as f:
        return f.read()


def test_a_forged_register_cannot_take_over_a_live_workers_id(tmp_path):
    """Another process (a raw DEALER under the live worker's identity) registers with its
    own host and shuffle endpoint: refused and logged; the real worker keeps its
    registration and runs the next job."""
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=50)
    wordcount = os.path.join(EXAMPLES, "wordcount.py")
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        (real,) = cluster.client.workers()
        forger = Channel(make_socket(DEALER, connect=cluster.client.config.endpoint(
            "control_port"), identity=real["worker_id"]), "forger")
        try:
            forger.send(Register(real["worker_id"], "evil", "tcp://127.0.0.1:9", 8, 8, 1,
                                 token="forged"))
            wait_until(lambda: "registration refused" in _log(cluster, "coordinator"),
                       "the forged registration refused in the coordinator's log")
            (still,) = cluster.client.workers()
            assert (still["host"], still["shuffle_endpoint"], still["slots"]) == \
                (real["host"], real["shuffle_endpoint"], real["slots"])
            # the forger stays connected: the real worker took its route back
            status = cluster.client.submit(wordcount, [inputs], str(tmp_path / "out"),
                                           reducers=1).wait(timeout_s=PATIENT_S)
        finally:
            forger.close()
        assert status["state"] == "SUCCEEDED"
        workers = {a[1] for t in status["tasks"] for a in t["attempts"]}
        assert workers == {real["worker_id"]}
    run_inline(wordcount, [inputs], str(tmp_path / "inline"), reducers=1)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def _peak_rss_mb(pid: int) -> float:
    """The most memory the process has held at once so far (its RSS high-water mark)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def test_oversized_frames_are_dropped_before_the_coordinator_buffers_them(tmp_path):
    """8 peers each send a 40 MB frame to the control port (which takes up to the side
    files' limit, here 1 MiB, plus 16 MiB for code) and one a 4 MB beat to the heartbeat
    port (1 MiB): libzmq cuts each off when it reads the frame's length, so the
    coordinator's memory does not grow by what was sent, and it keeps serving."""
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=50)
    wordcount = os.path.join(EXAMPLES, "wordcount.py")
    big = b"\0" * (40 << 20)
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"),
                      max_files_size=1 << 20) as cluster:
        config = cluster.client.config
        before = _peak_rss_mb(cluster.coordinator.pid)
        peers = [make_socket(DEALER, connect=config.endpoint("control_port"))
                 for _ in range(8)]
        beats = make_socket(PUB, connect=config.endpoint("report_port"))
        try:
            for peer in peers:
                peer.send_multipart([wire.VERSION, SubmitJob.KIND, b"{}", big], copy=False)
            time.sleep(0.2)           # let the PUB connect, or its message goes nowhere
            beats.send_multipart([wire.VERSION, Heartbeat.KIND, b"\0" * (4 << 20)])
            status = cluster.client.submit(wordcount, [inputs], str(tmp_path / "out"),
                                           reducers=1).wait(timeout_s=PATIENT_S)
            grown = _peak_rss_mb(cluster.coordinator.pid) - before
        finally:
            for sock in [*peers, beats]:
                sock.close()
        assert status["state"] == "SUCCEEDED"
        assert grown < 100, f"the coordinator grew {grown:.0f} MB; 320 MB were sent"
        assert cluster.client.workers()           # and its worker never missed a beat
