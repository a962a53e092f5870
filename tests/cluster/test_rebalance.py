"""Dynamic work rebalancing on a real cluster of two workers: one file is one split, its
mapper waits at its first line until the test opens a gate (so whether a cut happens never
depends on timing), and the idle worker's slot gets the unread half of the split as a new
map task. The output, its (path, offset) keys, the order of each key's values and the
record counters are those of an inline run of the same input, also when the cut is
refused, when the worker running the cut map is killed, and when the coordinator restarts
after the cut."""

from __future__ import annotations

import glob
import os
import signal
import time

from tests.helpers import (
    JOBS,
    PATIENT_S,
    output_bytes,
    wait_through_restart,
    wait_until,
)
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.tasks.claims import Pace

GATED = os.path.join(JOBS, "gated_lines.py")
#: Counters that count records and input bytes: the same however the input was cut
#: (the bytes of map outputs and shuffles depend on how many maps wrote them).
RECORD_COUNTERS = ("MAP_INPUT_RECORDS", "MAP_INPUT_BYTES", "MAP_OUTPUT_RECORDS",
                   "REDUCE_INPUT_GROUPS", "REDUCE_INPUT_RECORDS", "REDUCE_OUTPUT_RECORDS")
#: A cut of 32 kB or more is worth a task here (the default is 1 MiB), so small files do;
#: no backups (the tests count attempts)
SETTINGS = {("tasks", "rebalance_min_bytes"): 32 << 10, ("worker", "prefetch"): 0,
            ("tasks", "speculative"): False}


def write_input(tmp_path, lines: int, width: int) -> str:
    """Lines of ``width`` bytes whose first two characters (the job's key) repeat."""
    path = tmp_path / "in" / "one.txt"
    path.parent.mkdir()
    path.write_text("".join(f"{i % 89:02d}{'x' * (width - 3)}\n" for i in range(lines)))
    return str(path)


def submit(cluster, tmp_path, inputs):
    gate = str(tmp_path / "gate")
    # split_size: one split, whatever the default sizing does with a small file
    return gate, cluster.client.submit(GATED, [inputs], str(tmp_path / "out"), reducers=2,
                                       split_size="64MB", params={"gate": gate})


def inline_run(tmp_path, inputs, gate):
    return run_inline(GATED, [inputs], str(tmp_path / "inline"), reducers=2,
                      split_size="64MB", params={"gate": gate})


def assert_as_inline(tmp_path, inputs, gate, status):
    assert status["state"] == "SUCCEEDED", status["error"]
    inline = inline_run(tmp_path, inputs, gate)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
    for name in RECORD_COUNTERS:
        assert status["counters"]["zmr"][name] == inline.counters["zmr"][name], name


def map_workers(status) -> dict[int, str]:
    """Map index -> the worker of its running (or last) attempt."""
    return {t["index"]: t["attempts"][-1][1] for t in status["tasks"]
            if t["task"] == "map" and t["attempts"]}


def remainder_running(job) -> dict:
    """The status once the split was cut and its remainder runs on the other worker."""
    deadline = time.monotonic() + PATIENT_S
    while True:
        status = job.status()
        running = [t for t in status["tasks"] if t["task"] == "map" and t["state"] == "RUNNING"]
        if status["maps_total"] >= 2 and len(running) >= 2 and \
                len(set(map_workers(status).values())) == 2:
            return status
        assert time.monotonic() < deadline, "the remainder of the cut split never ran"
        time.sleep(0.05)


def test_an_idle_worker_takes_the_unread_half_of_a_running_map(tmp_path):
    inputs = write_input(tmp_path, 4000, 100)              # 400 kB, one split
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=SETTINGS) as cluster:
        gate, job = submit(cluster, tmp_path, inputs)
        status = remainder_running(job)
        open(gate, "w").close()
        status = job.wait(timeout_s=PATIENT_S)
    assert status["maps_total"] >= 2
    succeeded = {a[1] for t in status["tasks"] if t["task"] == "map"
                 for a in t["attempts"] if a[4] == "succeeded"}
    assert len(succeeded) == 2                              # both workers mapped
    # each map ran once: the cut map's output carried its head's identity, as expected
    assert [[a[4] for a in t["attempts"]] for t in status["tasks"] if t["task"] == "map"] \
        == [["succeeded"]] * status["maps_total"]
    assert_as_inline(tmp_path, inputs, gate, status)


def _logs(cluster) -> str:
    text = ""
    for path in glob.glob(os.path.join(cluster.logs_dir, "local-*.log")):
        with open(path, encoding="utf-8", errors="replace") as f:
            text += f.read()
    return text


def test_a_cut_behind_what_the_attempt_has_read_is_refused(tmp_path):
    # 40 kB lines: the attempt claims its first lines (Pace.FIRST = 8 of them, starting up
    # to byte 280,000) before its mapper waits at the first, and the heartbeats say it
    # has read nothing: every cut asked (halfway, at 200 kB) is behind what it claimed.
    # The second worker joins once the mapper waits (before, a cut would be accepted:
    # nothing was read yet)
    assert Pace.FIRST == 8
    inputs = write_input(tmp_path, 10, 40_000)
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), settings=SETTINGS) as cluster:
        gate, job = submit(cluster, tmp_path, inputs)
        wait_until(lambda: os.path.exists(gate + ".waiting"), "the mapper waiting",
                   timeout_s=PATIENT_S)
        cluster.add_worker()
        wait_until(lambda: "refused: it has read past byte 200000" in _logs(cluster),
                   "a refused cut in a worker's log", timeout_s=PATIENT_S)
        assert job.status()["maps_total"] == 1              # a refusal makes no task
        open(gate, "w").close()
        status = job.wait(timeout_s=PATIENT_S)
    assert_as_inline(tmp_path, inputs, gate, status)


def test_the_worker_running_the_cut_map_killed(tmp_path):
    inputs = write_input(tmp_path, 4000, 100)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=SETTINGS) as cluster:
        gate, job = submit(cluster, tmp_path, inputs)
        status = remainder_running(job)
        victim = map_workers(status)[0]                    # runs the head of the split
        cluster.workers[victim].send_signal(signal.SIGKILL)
        cluster.workers[victim].wait()
        open(gate, "w").close()
        status = job.wait(timeout_s=PATIENT_S)
    head = [t for t in status["tasks"] if t["task"] == "map" and t["index"] == 0][0]
    assert [a[4] for a in head["attempts"]][:1] == ["lost"]
    assert_as_inline(tmp_path, inputs, gate, status)


def test_the_coordinator_restarted_after_a_cut(tmp_path):
    inputs = write_input(tmp_path, 4000, 100)
    settings = {**SETTINGS, ("coordinator", "restore_grace_s"): PATIENT_S}
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      settings=settings) as cluster:
        gate, job = submit(cluster, tmp_path, inputs)
        before = remainder_running(job)                     # answered: so it is journaled
        cluster.restart_coordinator()
        open(gate, "w").close()
        status = wait_through_restart(job)
    assert status["maps_total"] >= before["maps_total"]
    # the attempts running at the restart carried on and were believed: no map ran twice
    assert all(len(t["attempts"]) == 1 for t in status["tasks"] if t["task"] == "map"
               and t["index"] < before["maps_total"])
    assert_as_inline(tmp_path, inputs, gate, status)


def test_a_file_whose_last_tenth_costs_ten_times_more_is_shared(tmp_path):
    """No gate: a mapper slow enough (about 8 s alone) that the idle worker's cut, asked
    as the job starts and again every few seconds while a remainder is worth it, is
    accepted long before the attempt gets there."""
    inputs = write_input(tmp_path, 4000, 100)
    job_path = os.path.join(JOBS, "skewed_cost.py")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=SETTINGS) as cluster:
        status = cluster.client.submit(job_path, [inputs], str(tmp_path / "out"), reducers=2,
                                       split_size="64MB", params={"cost_ms": 1.0}
                                       ).wait(timeout_s=PATIENT_S)
    assert status["state"] == "SUCCEEDED" and status["maps_total"] >= 2
    assert len({a[1] for t in status["tasks"] if t["task"] == "map"
                for a in t["attempts"] if a[4] == "succeeded"}) == 2
    inline = run_inline(job_path, [inputs], str(tmp_path / "inline"), reducers=2,
                        split_size="64MB")
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
    for name in RECORD_COUNTERS:
        assert status["counters"]["zmr"][name] == inline.counters["zmr"][name], name
