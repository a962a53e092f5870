"""``zmr.FatalError``: a job's own "retrying cannot help" fails the job at the first attempt,
inline and on a cluster alike, with the usual ``zmr: error:`` summary and the user's frames."""

from __future__ import annotations

import subprocess
import sys

import pytest

import zmr
from tests.helpers import PATIENT_S
from zmr.runners.local import LocalCluster

FATAL_JOB = """\
import zmr

class BadRecord(zmr.FatalError):
    pass

def mapper(key, line):
    if line.startswith("bad"):
        raise BadRecord(f"cannot take {line!r}")
    yield line, 1

def reducer(key, ones):
    yield key, sum(ones)
"""


@pytest.fixture()
def fatal_job(tmp_path):
    (tmp_path / "job.py").write_text(FATAL_JOB)
    (tmp_path / "in.txt").write_text("a\nb\nbad one\nc\n")
    return str(tmp_path / "job.py"), str(tmp_path / "in.txt")


def _run(job: str, inputs: str, output: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", "run", job, "--input", inputs,
                           "--output", output, *flags], capture_output=True, text=True,
                          timeout=PATIENT_S)


def test_inline_a_fatal_error_is_the_users_error_with_their_frames(fatal_job, tmp_path):
    job, inputs = fatal_job
    run = _run(job, inputs, str(tmp_path / "out"), "--inline")
    assert run.returncode == 1
    assert run.stderr.startswith("zmr: error: BadRecord: cannot take 'bad one'\n")
    assert f'File "{job}", line 8, in mapper' in run.stderr
    assert not (tmp_path / "out").exists()
    with pytest.raises(zmr.FatalError, match="cannot take"):
        zmr.run_inline(job, [inputs], str(tmp_path / "out2"))


def test_on_a_cluster_a_fatal_error_fails_the_job_without_retrying(fatal_job, tmp_path):
    job, inputs = fatal_job
    with LocalCluster(workers=2, base_dir=str(tmp_path / "cluster")) as cluster, \
            zmr.Client(cluster.config_path) as client:
        handle = client.submit(job, [inputs], str(tmp_path / "out"))
        with pytest.raises(zmr.JobFailedError, match="not retried") as failed:
            handle.wait(timeout_s=PATIENT_S)
        status = client.status(handle.job_id)[0]
    assert "BadRecord: cannot take 'bad one'" in str(failed.value)
    assert f'File "{job}", line 8, in mapper' in str(failed.value)
    assert status["counters"]["zmr.job"]["FAILED_ATTEMPTS"] == 1
    assert not (tmp_path / "out").exists()


def test_zmr_run_on_its_embedded_cluster_reports_a_fatal_error_once(fatal_job, tmp_path):
    job, inputs = fatal_job
    run = _run(job, inputs, str(tmp_path / "out"), "--workers", "1", "--quiet")
    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith("zmr: error: job-0001 FAILED\n"), run.stderr
    assert "raised a fatal error" in run.stderr and "not retried" in run.stderr
    assert f'File "{job}", line 8, in mapper' in run.stderr


def test_a_fatal_error_is_never_skipped_as_a_bad_record(fatal_job, tmp_path):
    job, inputs = fatal_job
    with pytest.raises(zmr.FatalError, match="cannot take"):
        zmr.run_inline(job, [inputs], str(tmp_path / "out"), skip_bad_records=10)
