"""A cluster that runs job after job keeps bounded files: each worker deletes the attempt
logs of finished jobs past ``[retention]``, the coordinator forgets old jobs, and a pruned
job is reported as pruned by ``zmr status`` and ``zmr logs``."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import zmr
from tests.helpers import PATIENT_S, wait_until
from zmr.runners.local import LocalCluster

JOB = "def mapper(key, line):\n    print('seen', line)\n    yield line, 1\n\n" \
      "def reducer(key, ones):\n    yield key, sum(ones)\n"
MAPS = 150
KEEP = 2


def log_files(cluster: LocalCluster) -> dict[str, int]:
    """Attempt log files on the workers' disks, by job."""
    found: dict[str, int] = {}
    for path in glob.glob(os.path.join(cluster.base_dir, "workers", "*", "*", "logs", "*")):
        job_id = path.split(os.sep)[-3]
        found[job_id] = found.get(job_id, 0) + 1
    return found


def test_logs_and_history_stay_bounded_over_many_jobs(tmp_path):
    (tmp_path / "job.py").write_text(JOB)
    (tmp_path / "in.txt").write_text("".join(f"{i % 7}\n" for i in range(MAPS)))
    settings = {("retention", "worker_log_jobs"): KEEP, ("retention", "history_jobs"): KEEP,
                ("retention", "every_s"): 0.2}
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), settings=settings) as cluster, \
            zmr.Client(cluster.config_path) as client:
        for n in range(1, 4):
            handle = client.submit(str(tmp_path / "job.py"), [str(tmp_path / "in.txt")],
                                   str(tmp_path / f"out{n}"), split_size=2)
            assert handle.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
            # every attempt logged something; at most KEEP jobs' logs stay on the workers
            wait_until(lambda: len(log_files(cluster)) <= KEEP, "the workers' log retention")
            wait_until(lambda: len(client.history()) <= KEEP, "the coordinator's retention")
        files = log_files(cluster)
        assert sorted(files) == ["job-0002", "job-0003"] and files["job-0003"] >= MAPS
        assert [j["job_id"] for j in client.history()] == ["job-0002", "job-0003"]
        assert client.logs("job-0003") and "seen" in client.logs("job-0003")[0]["log"]
        for command in ("status", "logs"):
            run = subprocess.run([sys.executable, "-m", "zmr", command, "job-0001",
                                  "--config", cluster.config_path], capture_output=True,
                                 text=True, timeout=PATIENT_S)
            assert run.returncode == 2 and run.stderr.startswith(      # a usage error
                "zmr: error: job-0001 finished long enough ago to be pruned"), run.stderr
    assert all((tmp_path / f"out{n}" / "_SUCCESS").exists() for n in range(1, 4))


def test_jobs_that_printed_nothing_leave_no_folders_behind(tmp_path):
    """Their folders have no logs to keep: each goes once its job is over, instead of one
    empty folder per job per worker accumulating forever."""
    (tmp_path / "job.py").write_text("def mapper(key, line):\n    yield line, 1\n")
    (tmp_path / "in.txt").write_text("a\nb\nc\n")
    workers = tmp_path / "c" / "workers"
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"),
                      settings={("retention", "every_s"): 0.2}) as cluster:
        for n in range(3):
            cluster.run(str(tmp_path / "job.py"), str(tmp_path / "in.txt"),
                        str(tmp_path / f"out{n}"), split_size=2, progress=False)
        wait_until(lambda: not glob.glob(str(workers / "*" / "job-*")),
                   "the workers to remove the empty folders of finished jobs")
        assert sorted(os.listdir(workers)) == ["local-1", "local-2"]
