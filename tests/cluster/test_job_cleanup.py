"""A finished job's map outputs and scratch space leave the workers' disks; its logs stay.
A worker that was away when the job ended purges it when it registers again."""

from __future__ import annotations

import os
import signal

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, wait_until, write_lines
from zmr.runners.local import LocalCluster
from zmr.worker.housekeeping import jobs_on_disk, purge_job


def _job_dirs(cluster: LocalCluster, job_id: str) -> dict[str, list[str]]:
    root = os.path.join(cluster.base_dir, "workers")
    return {w: sorted(os.listdir(os.path.join(root, w, job_id)))
            for w in os.listdir(root) if os.path.isdir(os.path.join(root, w, job_id))}


def _word_count(cluster: LocalCluster, tmp_path, files: int, reducers: int,
                job: str = os.path.join(EXAMPLES, "wordcount.py")):
    inputs = write_lines(tmp_path / "in", files=files, lines_per_file=100)
    job = cluster.client.submit(job, [inputs], str(tmp_path / "out"), reducers=reducers)
    assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
    return job


def test_finished_job_data_is_purged_but_logs_are_kept(tmp_path):
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        # the job's mappers print: attempts that print nothing leave no log at all
        job = _word_count(cluster, tmp_path, files=4, reducers=2,
                          job=os.path.join(JOBS, "chatty.py"))
        wait_until(lambda: all(names in ([], ["logs"])
                              for names in _job_dirs(cluster, job.job_id).values()))
        logs = [os.path.join(cluster.base_dir, "workers", worker, job.job_id, "logs")
                for worker, names in _job_dirs(cluster, job.job_id).items() if names]
        assert logs, "the job left no logs on any worker"
        assert all(os.listdir(folder) for folder in logs)


def test_worker_away_at_the_end_purges_at_registration(tmp_path):
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        job = _word_count(cluster, tmp_path, files=2, reducers=1)
        worker = cluster.workers["local-1"]
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        # leftovers the worker could not have purged (it was gone when the job ended)
        stale = os.path.join(cluster.base_dir, "workers", "local-1", job.job_id, "reduce-x")
        os.makedirs(stale)
        cluster.add_worker("local-1")
        wait_until(lambda: not os.path.exists(stale))
        assert _left_in(os.path.dirname(stale)) in ([], ["logs"])   # logs only, if any


def _left_in(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []                   # an empty job folder goes too (nothing was printed)


def test_purge_keeps_logs_and_stays_inside_the_data_dir(tmp_path):
    job_dir = tmp_path / "job-0001"
    (job_dir / "logs").mkdir(parents=True)
    (job_dir / "logs" / "map-00000-a1.log").write_text("hello\n")
    (job_dir / "map-00000-a1.arrow").write_bytes(b"x")
    (job_dir / "reduce-00000-a1.scratch").mkdir()
    (tmp_path / "job-0002" / "logs").mkdir(parents=True)
    assert jobs_on_disk(str(tmp_path)) == ["job-0001"]       # logs alone are not data
    for hostile in ("..", "", "a/../..", "."):
        purge_job(str(job_dir), hostile)
    assert (job_dir / "map-00000-a1.arrow").exists()
    purge_job(str(tmp_path), "job-0001")
    assert sorted(os.listdir(job_dir)) == ["logs"]
    assert (job_dir / "logs" / "map-00000-a1.log").read_text() == "hello\n"
    assert jobs_on_disk(str(tmp_path)) == []
