"""A coordinator restarted on another (empty) state dir numbers its jobs from job-0001
again, while workers keep their data dirs: the new job-0001 must not adopt the old
job-0001's map outputs (issue 25 finding 1, a silent wrong answer), nor finish the old
one's attempts that are still running."""

from __future__ import annotations

import os

from tests.helpers import PATIENT_S, output_bytes, wait_until, write_lines
from zmr.config import write_config
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

SETTINGS = {"reducers": 4, "split_size": "8KB", "combine_files": False}


def _gated_job(tmp_path) -> tuple[str, str, str]:
    """Word count whose maps end only once ``map-gate`` exists and whose reduces end only
    once ``reduce-gate`` does: the test decides when each phase can be over."""
    map_gate, reduce_gate = str(tmp_path / "map-gate"), str(tmp_path / "reduce-gate")
    path = tmp_path / "gated_wc.py"
    path.write_text(f'''
import os
import time


def _wait(gate):
    deadline = time.monotonic() + 600
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)


def mapper(key, line):
    for word in line.split():
        yield word, 1


def mapper_final():
    _wait({map_gate!r})


def reducer(key, values):
    yield key, sum(values)


def reducer_final():
    _wait({reduce_gate!r})
''')
    return str(path), map_gate, reduce_gate


def _rewrite_in_place(directory) -> None:
    """Same names, same sizes, other words (and a later mtime)."""
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
            text = f.read()
        with open(path, "wb") as f:             # truncated and rewritten: the same inode
            f.write(text.replace(b"w", b"z"))


def _job_counters(status: dict) -> dict:
    return status["counters"].get("zmr.job", {})


def test_a_coordinator_on_another_state_dir_adopts_no_map_output_of_the_old_one(tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=2000)
    job_path, map_gate, reduce_gate = _gated_job(tmp_path)
    open(map_gate, "w").close()
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        old = cluster.client.submit(job_path, [inputs], str(tmp_path / "out-old"), **SETTINGS)
        maps = old.status()["maps_total"]
        assert maps >= 6
        wait_until(lambda: old.status()["maps_done"] == maps, "the old job's maps")
        # every map output sits on a worker; the reduces wait at their gate
        holders = {worker for t in old.status()["tasks"] if t["task"] == "map"
                   for _, worker, _, _, state, _ in t["attempts"] if state == "succeeded"}
        holder = sorted(holders)[0]
        os.unlink(map_gate)                     # the new job's maps will wait, in turn
        cluster.kill_coordinator()
        cluster.workers[holder].kill()          # its executors follow it (child.py)
        cluster.workers[holder].wait()
        _rewrite_in_place(inputs)
        cluster.settings[("coordinator", "state_dir")] = str(tmp_path / "state-b")
        write_config(cluster.config_path, cluster.settings)
        cluster.start_coordinator()
        cluster.wait_for_workers(1, timeout_s=PATIENT_S)     # the worker that lived on
        new = cluster.client.submit(job_path, [inputs], str(tmp_path / "out-new"),
                                    **SETTINGS)
        assert new.job_id == old.job_id         # an empty state dir: job-0001 again
        cluster.add_worker(holder)              # back on its data dir, offering old outputs
        cluster.wait_for_workers(2, timeout_s=PATIENT_S)
        offered = _job_counters(new.status())
        assert offered.get("REFUSED_MAP_OUTPUTS", 0) >= 1, offered
        assert "RECOVERED_MAPS" not in offered, offered
        open(map_gate, "w").close()
        open(reduce_gate, "w").close()
        status = new.wait(timeout_s=PATIENT_S)
    assert status["state"] == "SUCCEEDED", status.get("error")
    assert "RECOVERED_MAPS" not in _job_counters(status)
    assert status["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 4000
    run_inline(job_path, [inputs], str(tmp_path / "inline"), **SETTINGS)
    assert output_bytes(str(tmp_path / "out-new")) == output_bytes(str(tmp_path / "inline"))
    assert b"w1" not in b"".join(output_bytes(str(tmp_path / "out-new")).values())


def test_input_rewritten_while_the_job_runs_fails_it_as_an_input_error(tmp_path):
    """Maps cut from the old contents must not be mixed with maps of the new: a map that
    finds its file changed since planning (same name, same size) fails the job at once,
    with an input error (exit 2 from the command line), instead of a mixed answer."""
    import pytest

    from zmr.core.errors import InputError, JobFailedError

    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=2000)
    job_path, map_gate, reduce_gate = _gated_job(tmp_path)
    open(reduce_gate, "w").close()
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(job_path, [inputs], str(tmp_path / "out"), **SETTINGS)
        # a map per worker waits at the gate (another may be queued on each): the other
        # six, at least, read their splits only once the input is rewritten
        wait_until(lambda: sum(t["state"] == "RUNNING" for t in job.status()["tasks"]
                               if t["task"] == "map") >= 2, "maps running")
        _rewrite_in_place(inputs)
        open(map_gate, "w").close()
        with pytest.raises(InputError, match="changed after the job was planned") as failed:
            job.wait(timeout_s=PATIENT_S)
        status = job.status()
    assert isinstance(failed.value, JobFailedError) and failed.value.exit_code == 2
    assert status["state"] == "FAILED" and status["error_kind"] == "input"
    assert status["counters"]["zmr.job"]["FAILED_ATTEMPTS"] == 1      # not retried
    assert not os.path.exists(str(tmp_path / "out" / "_SUCCESS"))
