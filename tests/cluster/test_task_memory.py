"""--task-memory: the worker kills an attempt whose resident memory goes over the job's limit
(a normal failed attempt, retried, then the job fails saying why) and keeps on working."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, read_output, write_lines
from zmr.core.errors import JobFailedError
from zmr.runners.local import LocalCluster

LIMIT_MESSAGE = "over the job's --task-memory limit of 150 MB; killed"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(workers=1, max_attempts=2,
                      base_dir=str(tmp_path_factory.mktemp("taskmem"))) as c:
        yield c


def _counts(output: str) -> dict[str, int]:
    return {str(word): count for word, count in read_output(output).items()}


def _expected_counts(inputs: str) -> Counter:
    words = Counter()
    for name in os.listdir(inputs):
        with open(os.path.join(inputs, name)) as f:
            words.update(w for line in f for w in line.split())
    return words


def _zmr(cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args, "--config", cluster.config_path],
                          capture_output=True, text=True, timeout=90)


def test_attempt_over_the_limit_is_killed_and_the_worker_carries_on(cluster, tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    proc = _zmr(cluster, "submit", os.path.join(JOBS, "memory_hog.py"), "--input", inputs,
                "--output", str(tmp_path / "out"), "--task-memory", "150MB", "--wait")
    assert proc.returncode == 1
    assert "failed 2 times" in proc.stderr and LIMIT_MESSAGE in proc.stderr, proc.stderr
    (job,) = [j for j in cluster.client.status() if j["output"] == str(tmp_path / "out")]
    assert job["state"] == "FAILED" and LIMIT_MESSAGE in job["error"]
    status = _zmr(cluster, "status", job["job_id"])
    assert "task attempt used" in status.stdout and LIMIT_MESSAGE in status.stdout
    assert cluster.workers["local-1"].poll() is None                  # the worker lives
    assert [w["worker_id"] for w in cluster.client.workers()] == ["local-1"]
    after = cluster.client.submit(os.path.join(EXAMPLES, "wordcount.py"), [inputs],
                                  str(tmp_path / "wc"))
    after.wait(timeout_s=PATIENT_S)
    assert _counts(str(tmp_path / "wc")) == dict(_expected_counts(inputs))


def test_ordinary_job_under_a_generous_limit_succeeds(cluster, tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=50)
    job = cluster.client.submit(os.path.join(EXAMPLES, "wordcount.py"), [inputs],
                                str(tmp_path / "out"), task_memory="1GB")
    status = job.wait(timeout_s=PATIENT_S)
    assert all(len(t["attempts"]) == 1 for t in status["tasks"])
    assert _counts(str(tmp_path / "out")) == dict(_expected_counts(inputs))


def test_job_module_setting_is_the_default_limit(cluster, tmp_path):
    source = open(os.path.join(JOBS, "memory_hog.py")).read()
    (tmp_path / "hog.py").write_text(source + '\nTASK_MEMORY = "150MB"\n')
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    job = cluster.client.submit(str(tmp_path / "hog.py"), [inputs], str(tmp_path / "out"))
    with pytest.raises(JobFailedError) as failed:
        job.wait(timeout_s=PATIENT_S)
    assert LIMIT_MESSAGE in str(failed.value)


def test_a_job_at_a_small_memory_budget_spills_and_stays_correct(cluster, tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=4000)
    job = cluster.client.submit(os.path.join(EXAMPLES, "wordcount.py"), [inputs],
                                str(tmp_path / "out"), memory_budget="64KB")
    counters = job.wait(timeout_s=PATIENT_S)["counters"]["zmr"]
    assert _counts(str(tmp_path / "out")) == dict(_expected_counts(inputs))
    # one run per map would be its output as it is (spilled == shuffled); here each map
    # spilled many combined runs and merged them
    assert counters["SPILLED_RECORDS"] > 4 * counters["REDUCE_INPUT_RECORDS"] > 0


def test_task_processes_allocate_arrow_memory_with_the_system_allocator(cluster, tmp_path):
    """mimalloc, Arrow's default, keeps what it frees; tasks use the system pool (and
    return freed memory after spills), unless the user chose a pool."""
    (tmp_path / "pool.py").write_text(
        "import pyarrow as pa\n"
        "def mapper(key, line):\n"
        "    yield pa.default_memory_pool().backend_name, 1\n"
        "def reducer(name, counts):\n"
        "    yield name, sum(counts)\n")
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    cluster.client.submit(str(tmp_path / "pool.py"), [inputs],
                          str(tmp_path / "out")).wait(timeout_s=PATIENT_S)
    expected = os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "system")
    assert read_output(str(tmp_path / "out")) == {expected: 5}
