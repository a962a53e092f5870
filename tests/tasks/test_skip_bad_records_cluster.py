"""--skip-bad-records on a real local cluster and from the command line (inline and with
workers): skipped records counted and logged with file and byte offset, the limit holding
for the whole job and for one task (inline: tests/unit/tasks/test_skip_bad_records.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import JOBS, PATIENT_S, ROOT, output_pairs, write_with_bad_records
from zmr.core.errors import JobFailedError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

JOB = os.path.join(JOBS, "skips_bad.py")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("skip"))) as c:
        yield c


def test_cluster_skips_counts_and_logs(cluster, tmp_path):
    inputs, clean, positions = write_with_bad_records(tmp_path, bad=3)
    handle = cluster.client.submit(JOB, [inputs], str(tmp_path / "out"), reducers=2,
                                   split_size="1KB", skip_bad_records=5)
    status = handle.wait(timeout_s=PATIENT_S)
    assert status["counters"]["zmr"]["MAP_SKIPPED_RECORDS"] == 3
    run_inline(JOB, [clean], str(tmp_path / "expected"), reducers=2)
    assert output_pairs(str(tmp_path / "out")) == output_pairs(str(tmp_path / "expected"))
    logs = "".join(a["log"] for a in handle.logs("map"))
    for path, offset in positions:
        assert f"{path} at byte {offset}: ValueError: BAD record" in logs
    assert logs.count("zmr: skipped bad record") == 3


def test_cluster_fails_a_job_over_the_limit_in_all(cluster, tmp_path):
    inputs, _, _ = write_with_bad_records(tmp_path, bad=6)
    handle = cluster.client.submit(JOB, [inputs], str(tmp_path / "out"), reducers=2,
                                   split_size="1KB", skip_bad_records=5)
    with pytest.raises(JobFailedError, match="more than the limit of --skip-bad-records 5"):
        handle.wait(timeout_s=PATIENT_S)
    assert not os.path.exists(tmp_path / "out")


def test_cluster_fails_a_task_over_the_limit(cluster, tmp_path):
    inputs, _, _ = write_with_bad_records(tmp_path, bad=6, files=1)
    proc = _zmr("submit", JOB, "--input", inputs, "--output", str(tmp_path / "out"),
                "--skip-bad-records", "5", "--wait", "--config", cluster.config_path)
    assert proc.returncode == 1
    assert "met more bad records than the limit of --skip-bad-records 5" in proc.stderr


@pytest.mark.parametrize("inline", [True, False])
def test_cli_run_with_the_flag(tmp_path, inline):
    inputs, _, _ = write_with_bad_records(tmp_path, bad=3)
    where = ["--inline"] if inline else ["--workers", "2"]
    ok = _zmr("run", JOB, "--input", inputs, "--output", str(tmp_path / "ok"),
              "--skip-bad-records", "5", *where)
    assert ok.returncode == 0, ok.stderr
    if inline:
        assert "MAP_SKIPPED_RECORDS" in ok.stderr and "at byte" in ok.stderr
    else:
        assert "skipped 3 bad records" in ok.stderr
    too_few = _zmr("run", JOB, "--input", inputs, "--output", str(tmp_path / "bad"),
                   "--skip-bad-records", "2", "--split-size", "1KB", *where)
    assert too_few.returncode == 1
    assert "--skip-bad-records 2" in too_few.stderr


def _zmr(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env)
