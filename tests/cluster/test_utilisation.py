"""Every finished job says how busy it kept the slots, with the splits its plan cut and how
many were rebalanced: in the ``zmr run`` summary (embedded and --inline), ``zmr status``
and ``zmr history`` (across a coordinator restart), and the Python API's JobResult. A job
of one map task on two workers keeps at most half the slots busy; one of many tasks more.
(The dashboard's JSON API: tests/dashboard/test_api.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.helpers import PATIENT_S, write_inputs
from zmr.runners.local import LocalCluster

#: Each task sleeps (not spins) for a while, so the shape of the job, not the machine's
#: load, decides how many slots are busy.
JOB = """
import time
COMBINE_FILES = {combine}
NUM_REDUCERS = {reducers}

def mapper(key, line):
    yield line, 1

def mapper_final():
    time.sleep(0.6)

def reducer(key, values):
    yield key, sum(values)

def reducer_final():
    time.sleep(0.6)
"""
USAGE = re.compile(r"slots (\d+)% busy \(([\d.]+)s busy of ([\d.]+) slot-s, ([\d.]+) slots?\)"
                   r"  splits (\d+)  rebalanced (\d+)")


def _job(tmp_path, name: str, combine: bool, reducers: int) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(JOB.format(combine=combine, reducers=reducers))
    return str(path)


def _zmr(tmp_path, *args: str, config: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    if config:
        env["ZMR_CONFIG"] = config
    os.makedirs(env["TMPDIR"], exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env)
    assert done.returncode == 0, done.stderr
    return done


def test_zmr_run_prints_utilisation_splits_and_rebalanced(tmp_path):
    inputs = write_inputs(tmp_path / "in", 6)
    many = _job(tmp_path, "many", combine=False, reducers=2)
    embedded = _zmr(tmp_path, "run", many, "-i", inputs, "-o", str(tmp_path / "out"),
                    "--workers", "2").stderr
    busy, busy_s, slot_s, slots, splits, rebalanced = USAGE.search(embedded).groups()
    assert 0 < int(busy) <= 100 and 0 < float(busy_s) <= float(slot_s)
    assert 1 <= float(slots) <= 2 and (int(splits), int(rebalanced)) == (6, 0)
    assert re.search(r"busy time per worker: local-\d \d+%", embedded)
    inline = _zmr(tmp_path, "run", many, "-i", inputs, "-o", str(tmp_path / "out-inline"),
                  "--inline").stderr
    busy, busy_s, slot_s, slots, splits, rebalanced = USAGE.search(inline).groups()
    assert (float(slots), int(splits), int(rebalanced)) == (1.0, 6, 0)
    # one slot, 6 maps and 2 reduces of 0.6 s each, end to end
    assert float(busy_s) >= 8 * 0.6 and int(busy) >= 50
    assert "busy time per worker" not in inline


def test_status_history_and_results_compare_one_split_with_many(tmp_path):
    one = _job(tmp_path, "one", combine=True, reducers=1)
    many = _job(tmp_path, "many", combine=False, reducers=2)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        lone = cluster.client.submit(one, [write_inputs(tmp_path / "a", 1)],
                                     str(tmp_path / "out-one")).result(timeout_s=PATIENT_S)
        spread = cluster.client.submit(many, [write_inputs(tmp_path / "b", 8)],
                                       str(tmp_path / "out-many")).result(timeout_s=PATIENT_S)
        assert (lone.splits, spread.splits, lone.rebalanced, spread.rebalanced) == (1, 8, 0, 0)
        # one map, then one reduce: never more than one of the two slots busy at a time
        assert 0 < lone.utilisation <= 0.5 + 0.01
        assert spread.utilisation > lone.utilisation + 0.1, (lone, spread)
        assert set(spread.worker_busy_s) == {"local-1", "local-2"}

        status = _zmr(tmp_path, "status", spread.job_id, config=cluster.config_path).stdout
        shown = int(USAGE.search(status).group(1))
        assert abs(shown - 100 * spread.utilisation) <= 1 and "splits 8  rebalanced 0" in status
        assert re.search(r"busy time per worker: local-\d \d+%  local-\d \d+%", status)

        cluster.restart_coordinator()               # journaled: history keeps them
        history = _zmr(tmp_path, "history", config=cluster.config_path).stdout
        assert [int(m.group(5)) for m in USAGE.finditer(history)] == [8, 1]   # newest first
        listed = json.loads(_zmr(tmp_path, "history", "--json",
                                 config=cluster.config_path).stdout)
        assert [j["utilisation"] for j in listed] == [spread.utilisation, lone.utilisation]
