"""A cluster spread over four "hosts" (network namespaces on a private bridge): the
coordinator on one, three workers on the others, CURVE on every socket, workers binding
0.0.0.0 and advertising their own address. Mid-job one worker's link is cut: the
coordinator declares it dead, re-runs what it ran and held, and the job's output equals the
inline result. Skipped, with the reason, where namespaces cannot be created (not root)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.helpers import PATIENT_S, output_bytes, wait_until, write_lines
from tests.netlab import NetLab, netns_unavailable
from zmr.config import write_config
from zmr.runners.inline import run_inline
from zmr.transport.security import generate_keys

SLOW = os.path.join(os.path.dirname(__file__), "..", "jobs", "slow.py")
CUT = 2                                   # the host whose cable is pulled

pytestmark = pytest.mark.skipif(bool(netns_unavailable()), reason=netns_unavailable() or "ok")


def _config(tmp_path, lab: NetLab) -> str:
    keys = str(tmp_path / "keys")
    generate_keys(keys)
    path = str(tmp_path / "cluster.toml")
    write_config(path, {
        ("coordinator", "host"): lab.address(0),
        ("coordinator", "state_dir"): str(tmp_path / "state"),
        ("dashboard", "port"): -1,
        ("worker", "data_dir"): str(tmp_path / "workers"),
        ("worker", "slots"): 1,
        ("worker", "shuffle_host"): "0.0.0.0",
        ("heartbeat", "interval_s"): 0.5,
        ("tasks", "speculative"): False,
        ("security", "curve"): True,
        ("security", "keys_dir"): keys,
    })
    return path


def _zmr(lab: NetLab, config: str, *args: str, timeout_s: float = PATIENT_S) -> str:
    run = lab.run(0, [sys.executable, "-m", "zmr", *args, "--config", config], timeout_s)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _status(lab: NetLab, config: str, job_id: str) -> dict:
    status = json.loads(_zmr(lab, config, "status", job_id, "--json"))
    return status[0] if isinstance(status, list) else status


def test_job_survives_a_worker_losing_its_link(tmp_path, monkeypatch):
    monkeypatch.setenv("ZMR_TEST_DELAY_S", "0.4")
    inputs = write_lines(tmp_path / "in", files=6, lines_per_file=300)
    logs = tmp_path / "logs"
    logs.mkdir()
    with NetLab(4) as lab:
        config = _config(tmp_path, lab)
        lab.popen(0, [sys.executable, "-m", "zmr.coordinator", config], str(logs / "c.log"))
        for i in (1, 2, 3):
            lab.popen(i, [sys.executable, "-m", "zmr.worker", config, "--id", f"w{i}",
                          "--advertise", lab.address(i)], str(logs / f"w{i}.log"))
        wait_until(lambda: len(json.loads(_zmr(lab, config, "workers", "--json"))) == 3,
              "three workers to register")
        job_id = _zmr(lab, config, "submit", SLOW, "--input", inputs, "--output",
                      str(tmp_path / "out"), "--reducers", "3", "--split-size", "4096").strip()

        def maps_done_by(worker: str) -> int:
            status = _status(lab, config, job_id)
            return sum(a[1] == worker and a[4] == "succeeded" for t in status["tasks"]
                       if t["task"] == "map" for a in t["attempts"])

        wait_until(lambda: maps_done_by(f"w{CUT}") >= 1, f"a map to finish on w{CUT}")
        lab.cut(CUT)
        _zmr(lab, config, "wait", job_id, timeout_s=3 * PATIENT_S)
        final = _status(lab, config, job_id)
        workers = [w["worker_id"] for w in json.loads(_zmr(lab, config, "workers", "--json"))]
    assert final["state"] == "SUCCEEDED"
    assert sorted(workers) == ["w1", "w3"]          # the cut worker was declared dead
    reran = [t for t in final["tasks"] if t["task"] == "map" and len(t["attempts"]) > 1]
    assert reran, "the cut worker's finished maps were not run again"
    run_inline(SLOW, [inputs], str(tmp_path / "inline"), reducers=3)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
    assert os.path.exists(tmp_path / "out" / "_SUCCESS")


def test_the_reason_for_skipping_is_clear():
    reason = netns_unavailable()
    assert reason == "" or "root" in reason or "namespace" in reason or "ip" in reason
