"""The join example (jobs/join.py: Parquet rankings x CSV uservisits) against DuckDB, on
an embedded cluster (``zmr run``) and a standalone one (``zmr submit``), with generated
data cut into several splits per input and the inputs given as ``--input NAME=PATH``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import PATIENT_S, ROOT, load_bench
from tests.join_oracle import assert_same_as_duckdb
from zmr.runners.local import LocalCluster

JOB = os.path.join(ROOT, "jobs", "join.py")


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """(rankings dir, visits dir): 3,000 pages and 30,000 visits in 3 files each."""
    out = tmp_path_factory.mktemp("join")
    return load_bench("gen_join").generate(str(out), 3000, 30000, files=3, ip_pool=800)


def _env():
    return {**os.environ, "PYTHONPATH": ROOT}


def _zmr(*args, timeout=300):
    done = subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=timeout, env=_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done


def _inputs(tables):
    return ["-i", f"rankings={tables[0]}", "-i", f"visits={tables[1]}"]


def test_join_on_an_embedded_cluster_equals_duckdb(tables, tmp_path):
    out = str(tmp_path / "out")
    _zmr("run", JOB, *_inputs(tables), "-o", out, "--workers", "2", "--split-size", "256KB",
         "--reducers", "3")
    assert assert_same_as_duckdb(out, *tables) > 500


def test_join_on_a_standalone_cluster_equals_duckdb(tables, tmp_path):
    out = str(tmp_path / "out")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "cluster")) as cluster:
        job_id = _zmr("submit", JOB, "--config", cluster.config_path, *_inputs(tables),
                      "-o", out, "--split-size", "256KB").stdout.strip()
        status = cluster.client.wait(job_id, timeout_s=300)
    assert status["state"] == "SUCCEEDED" and status["steps"] == 2
    assert status["maps_total"] >= 1
    assert_same_as_duckdb(out, *tables)


def test_a_parquet_file_given_as_csv_fails_before_the_cluster_starts(tables, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "zmr", "run", JOB, "-i", f"visits={tables[0]}", "-o",
         str(tmp_path / "out")], capture_output=True, text=True, timeout=PATIENT_S, env=_env(),
        cwd=ROOT)
    assert done.returncode == 2
    assert f"csv input {tables[0]}/part-0000.parquet: it is a Parquet file" in done.stderr
    assert "Traceback" not in done.stderr
