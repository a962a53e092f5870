"""Job parameters on real processes: ``zmr submit --param`` to a running cluster (recorded
in its history, shown by ``zmr status``, kept over a coordinator restart) and ``zmr run
--param`` on an embedded cluster; the oracle is the same grep in plain Python."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.helpers import read_output
from zmr.runners.local import LocalCluster

GREP = """\
import re
import zmr

PARAMS = {"pattern": zmr.REQUIRED, "min_length": 0}
# module level: runs at submit too (before PARAMS is checked), so it needs a default
RX = re.compile(zmr.param("pattern", default=""))

def mapper(key, line):
    if RX.search(line) and len(line) >= zmr.param("min_length", type=int):
        yield line, zmr.param("pattern")
"""
LINES = ["apple pie", "banana", "grape", "pineapple", "applesauce", "kiwi"]


def _zmr(*args: str, config: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **({"ZMR_CONFIG": config} if config else {}))
    return subprocess.run([sys.executable, "-m", "zmr", *args], env=env, capture_output=True,
                          text=True, timeout=180)


def _oracle(pattern: str, min_length: int) -> dict[str, str]:
    return {line: pattern for line in LINES
            if re.search(pattern, line) and len(line) >= min_length}


def test_submit_and_run_take_parameters_that_status_and_history_show(tmp_path):
    (tmp_path / "grep.py").write_text(GREP)
    (tmp_path / "in.txt").write_text("\n".join(LINES) + "\n")
    job, inputs = str(tmp_path / "grep.py"), str(tmp_path / "in.txt")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        config = cluster.config_path
        refused = _zmr("submit", job, "-i", inputs, "-o", str(tmp_path / "no"),
                       "--param", "min_lenght=3", config=config)
        assert refused.returncode == 2 and "unknown parameter 'min_lenght'" in refused.stderr
        submitted = _zmr("submit", job, "-i", inputs, "-o", str(tmp_path / "out"), "--wait",
                         "--param", "pattern=apple", "--param", "min_length=9", config=config)
        assert submitted.returncode == 0, submitted.stderr
        job_id = submitted.stdout.split()[0]
        status = _zmr("status", job_id, config=config)
        assert "params: pattern=apple  min_length=9" in status.stdout
        cluster.restart_coordinator()
        history = json.loads(_zmr("history", "--json", config=config).stdout)
        assert history[0]["params"] == {"pattern": "apple", "min_length": 9}
    assert read_output(str(tmp_path / "out")) == _oracle("apple", 9)
    embedded = _zmr("run", job, "-i", inputs, "-o", str(tmp_path / "emb"), "--workers", "2",
                    "--param", "pattern=an")
    assert embedded.returncode == 0, embedded.stderr
    assert read_output(str(tmp_path / "emb")) == _oracle("an", 0)
