"""The retention rule (count, age, bytes; newest kept) and a worker applying it to
thousands of real attempt-log files."""

from __future__ import annotations

import os

from zmr.core.retention import Item, Policy, to_forget
from zmr.storage import layout
from zmr.worker.housekeeping import prune_logs

NOW = 1_000_000.0
LOOSE = Policy(max_count=10**9, max_age_s=1e12, max_bytes=1 << 60)


def items(n, size=10):
    return [Item(f"job-{i:04d}", NOW - (n - i), size) for i in range(n)]   # job-0000 oldest


def test_count_keeps_the_newest():
    assert to_forget(items(5), Policy(3, 1e9, 1 << 40), NOW) == ["job-0000", "job-0001"]


def test_age_forgets_what_is_older():
    assert to_forget(items(5), Policy(100, 2.5, 1 << 40), NOW) == [
        "job-0000", "job-0001", "job-0002"]


def test_bytes_forget_the_oldest_first():
    assert to_forget(items(5, size=10), Policy(100, 1e9, 25), NOW) == [
        "job-0000", "job-0001", "job-0002"]


def test_protected_items_are_kept_and_do_not_count():
    forgotten = to_forget(items(5), Policy(1, 1e9, 1 << 40), NOW,
                          protected=frozenset({"job-0000", "job-0004"}))
    assert forgotten == ["job-0001", "job-0002"]


def test_within_every_limit_nothing_goes():
    assert to_forget(items(50), LOOSE, NOW) == []


def _write_job_logs(data_dir, job_id, attempts, size, mtime):
    logs = os.path.dirname(layout.attempt_log_path(data_dir, job_id, "map", 0, 1))
    os.makedirs(logs)
    for i in range(attempts):
        path = layout.attempt_log_path(data_dir, job_id, "map", i, 1)
        with open(path, "wb") as f:
            f.write(b"x" * size)
    os.utime(logs, (mtime, mtime))


def _files(data_dir):
    return sum(len(files) for _, _, files in os.walk(data_dir))


def test_a_worker_keeps_its_logs_bounded_over_thousands_of_tasks(tmp_path):
    """60 finished jobs of 50 attempts each (3,000 real log files): 10 jobs are kept, the
    newest; a running job and one still holding map outputs keep theirs whatever their age."""
    data_dir = str(tmp_path / "worker")
    for j in range(60):
        _write_job_logs(data_dir, f"job-{j:04d}", 50, 100, NOW - 1000 + j)
    os.makedirs(os.path.join(data_dir, "job-0001", "map-out"))    # job-0001 is not over
    assert _files(data_dir) == 3000
    gone = prune_logs(data_dir, Policy(10, 1e9, 1 << 40), NOW, running=frozenset({"job-0000"}))
    assert len(gone) == 48 and gone[0] == "job-0002" and gone[-1] == "job-0049"
    left = sorted(os.listdir(data_dir))
    assert left == ["job-0000", "job-0001", *[f"job-{j:04d}" for j in range(50, 60)]]
    assert _files(data_dir) == 12 * 50
    assert prune_logs(data_dir, Policy(10, 1e9, 1 << 40), NOW,
                      running=frozenset({"job-0000"})) == []              # stable
    assert prune_logs(data_dir, Policy(10, 1e9, 1 << 40), NOW) == ["job-0000"]   # it ended


def test_a_worker_keeps_its_logs_within_bytes_and_age(tmp_path):
    data_dir = str(tmp_path / "worker")
    for j in range(40):
        _write_job_logs(data_dir, f"job-{j:04d}", 25, 1000, NOW - 400 + 10 * j)
    # 25 kB a job: 100 kB is 4 jobs; an hour keeps all, 95 s keeps the newest 10
    prune_logs(data_dir, Policy(1000, 3600, 100_000), NOW)
    assert sorted(os.listdir(data_dir)) == [f"job-{j:04d}" for j in range(36, 40)]
    prune_logs(data_dir, Policy(1000, 15, 1 << 40), NOW)
    assert sorted(os.listdir(data_dir)) == ["job-0039"]


def test_a_missing_or_odd_data_dir_is_no_error(tmp_path):
    assert prune_logs(str(tmp_path / "none"), Policy(1, 1, 1), NOW) == []
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / ".executor-1.out").write_text("x")
    (tmp_path / "w" / "job-0001").mkdir()                     # no logs folder
    assert prune_logs(str(tmp_path / "w"), Policy(1, 1, 1), NOW,
                      running=frozenset({"job-0001"})) == []
    assert sorted(os.listdir(tmp_path / "w")) == [".executor-1.out", "job-0001"]


def test_the_empty_folder_of_a_job_that_printed_nothing_goes_when_it_ends(tmp_path):
    """A finished job whose attempts printed nothing leaves an empty folder once its data is
    purged: with no logs to keep, it goes at the next pruning, not never."""
    data_dir = tmp_path / "w"
    for job_id in ("job-0001", "job-0002", "job-0003"):
        (data_dir / job_id).mkdir(parents=True)
    (data_dir / "job-0002" / "map-00000.arrow").write_bytes(b"x")     # not over yet
    _write_job_logs(str(data_dir), "job-0004", 1, 10, NOW)
    assert prune_logs(str(data_dir), LOOSE, NOW, running=frozenset({"job-0003"})) == []
    assert sorted(os.listdir(data_dir)) == ["job-0002", "job-0003", "job-0004"]
    assert prune_logs(str(data_dir), LOOSE, NOW) == []
    assert sorted(os.listdir(data_dir)) == ["job-0002", "job-0004"]
