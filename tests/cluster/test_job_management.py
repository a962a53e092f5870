"""zmr history / logs / status / workers / --combiner and the progress display, against a
real local cluster (and a coordinator restart for history)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import JOBS, PATIENT_S, write_lines
from zmr.cli.progress import ProgressDisplay
from zmr.core.errors import JobFailedError
from zmr.runners.local import LocalCluster


def _zmr(cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ZMR_CONFIG=cluster.config_path)
    return subprocess.run([sys.executable, "-m", "zmr", *args], env=env, capture_output=True,
                          text=True, timeout=PATIENT_S)


def _reader_goes_away(cluster: LocalCluster, *args: str) -> None:
    """``zmr ... | head -0``: the pipe is closed before zmr writes; it stops quietly."""
    env = dict(os.environ, ZMR_CONFIG=cluster.config_path)
    child = subprocess.Popen([sys.executable, "-m", "zmr", *args], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()
    _, err = child.communicate(timeout=PATIENT_S)
    assert (child.returncode, err) == (128 + signal.SIGPIPE, b"")


def test_history_logs_status_and_workers(tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=30)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), max_attempts=2) as cluster:
        empty = _zmr(cluster, "history")
        assert empty.returncode == 0 and "no jobs in this cluster's history" in empty.stderr
        chatty = cluster.client.submit(os.path.join(JOBS, "chatty.py"), [inputs],
                                       str(tmp_path / "out1"))
        chatty.wait(timeout_s=PATIENT_S)
        bad_input = tmp_path / "bad"
        bad_input.mkdir()
        (bad_input / "x.txt").write_text("fine\nboom\n")
        failing = cluster.client.submit(os.path.join(JOBS, "fails_on_boom.py"),
                                        [str(bad_input)], str(tmp_path / "out2"))
        with pytest.raises(JobFailedError):
            failing.wait(timeout_s=PATIENT_S)

        logs = chatty.logs("map")
        # both small files were packed into one map task, which read each as itself
        assert len(logs) == 1 and all(a["outcome"] == "succeeded" for a in logs)
        text = "".join(a["log"] for a in logs)
        assert "mapper saw the first line of in-0.txt" in text
        assert "mapper saw the first line of in-1.txt" in text
        assert "a warning from user code" in text and "to stderr too" in text
        assert "reducer done" in chatty.logs("reduce-0")[0]["log"]
        shown = _zmr(cluster, "logs", failing.job_id, "--task", "map-0")
        assert shown.returncode == 0
        assert shown.stdout.count(f"==> {failing.job_id} map-00000 attempt") == 2
        assert "ValueError: bad record at" in shown.stdout
        assert _zmr(cluster, "logs", failing.job_id, "--task", "sideways").returncode == 2
        _reader_goes_away(cluster, "logs", failing.job_id)

        status = _zmr(cluster, "status", failing.job_id)
        assert "map-00000 FAILED: 2 failed attempt(s)" in status.stdout
        assert "ValueError: bad record at" in status.stdout
        workers = _zmr(cluster, "workers")
        assert workers.stdout.count("slots 0/1 in use") == 2

        cluster.restart_coordinator()          # history is journaled in SQLite
        history = json.loads(_zmr(cluster, "history", "--json").stdout)
        assert [j["job_id"] for j in history] == [failing.job_id, chatty.job_id]
        assert [j["state"] for j in history] == ["FAILED", "SUCCEEDED"]
        assert history[1]["inputs"] == sorted(history[1]["inputs"]) and len(
            history[1]["inputs"]) == 2
        assert history[1]["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 60
        assert history[1]["submitted_s"] <= history[1]["started_s"] <= history[1]["finished_s"]
        assert "tasks" not in history[1]
        plain = _zmr(cluster, "history", "--limit", "1").stdout
        assert failing.job_id in plain and chatty.job_id not in plain
        assert "ValueError: bad record at" in "".join(a["log"] for a in failing.logs())


def test_combiner_flag_reuses_the_reducer(tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=40)
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        out = {}
        for flag in ([], ["--combiner"]):
            name = "with" if flag else "without"
            done = _zmr(cluster, "submit", os.path.join(JOBS, "chatty.py"), "--input", inputs,
                        "--output", str(tmp_path / name), "--wait", *flag)
            assert done.returncode == 0, done.stderr
            out[name] = cluster.client.job(done.stdout.strip())["counters"]["zmr"]
        assert "COMBINE_INPUT_RECORDS" not in out["without"]
        assert out["with"]["COMBINE_OUTPUT_RECORDS"] < out["with"]["COMBINE_INPUT_RECORDS"]
        assert open(tmp_path / "with" / "part-00000").read() == \
            open(tmp_path / "without" / "part-00000").read()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _status(maps_done: int, reduces_done: int, elapsed: float, state: str = "RUNNING"):
    return {"job_id": "job-0001", "state": state, "maps_done": maps_done, "maps_total": 4,
            "reduces_done": reduces_done, "reduces_total": 2, "elapsed_s": elapsed}


def test_progress_is_bars_on_a_terminal_and_lines_on_change_elsewhere():
    log = io.StringIO()
    display = ProgressDisplay(stream=log)
    for s in (_status(0, 0, 0.0), _status(0, 0, 0.1), _status(1, 0, 0.2), _status(1, 0, 0.3),
              _status(1, 0, 12.0), _status(4, 2, 12.5, "SUCCEEDED")):
        display(s)
    display.close()
    assert log.getvalue().splitlines() == [
        "job-0001 RUNNING: map 0/4  reduce 0/2  0.0s",
        "job-0001 RUNNING: map 1/4  reduce 0/2  0.2s",
        "job-0001 RUNNING: map 1/4  reduce 0/2  12.0s",    # a sign of life after 10 s
        "job-0001 SUCCEEDED: map 4/4  reduce 2/2  12.5s"]
    screen = _Terminal()
    bars = ProgressDisplay(stream=screen)
    bars(_status(1, 0, 0.1))
    bars(_status(4, 2, 1.0, "SUCCEEDED"))
    bars.close()
    drawn = screen.getvalue()
    assert "job-0001 map" in drawn and "job-0001 reduce" in drawn
    assert "4/4" in drawn and "2/2" in drawn and "SUCCEEDED" in drawn
    moving = io.StringIO()
    display = ProgressDisplay(stream=moving)
    for share in (0.25, 0.3, 0.3):                  # one map of 4 done, the others reading
        display(dict(_status(1, 0, 0.5), map_progress=share))
    assert moving.getvalue().splitlines() == [
        "job-0001 RUNNING: map 1/4 (25%)  reduce 0/2  0.5s",
        "job-0001 RUNNING: map 1/4 (30%)  reduce 0/2  0.5s"]
    quiet = io.StringIO()
    ProgressDisplay(quiet=True, stream=quiet)(_status(1, 0, 0.1))
    assert quiet.getvalue() == ""
