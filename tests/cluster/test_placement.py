"""Placement on a real cluster: declared RESOURCES cap how many tasks share a worker,
impossible needs are refused at submission, maps over local files count as data-local,
and prefetch never queues a reduce behind a busy worker while another idles."""

from __future__ import annotations

import os

import pytest

from tests.helpers import JOBS, PATIENT_S, output_bytes, write_lines
from zmr.core.errors import ZmrError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

JOB = '''
import time
RESOURCES = {resources!r}

def mapper(key, line):
    for word in line.split():
        yield word, 1

def mapper_final():
    time.sleep(0.3)

def reducer(key, values):
    yield key, sum(values)
'''


def _job(tmp_path, name: str, resources: dict) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(JOB.format(resources=resources))
    return str(path)


def _overlaps(attempts: list[list]) -> int:
    """The most attempts running at one moment."""
    edges = sorted([(a[2], 1) for a in attempts] + [(a[3], -1) for a in attempts])
    most = running = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_resources_locality_and_refusal(tmp_path):
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=50)
    cpus = os.cpu_count() or 1
    whole_machine = _job(tmp_path, "whole", {"cpus": cpus})
    with LocalCluster(workers=1, slots=4, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(whole_machine, [inputs], str(tmp_path / "out"),
                                    combine_files=False)      # a map per file
        final = job.wait(timeout_s=PATIENT_S)
        maps = [a for t in final["tasks"] if t["task"] == "map" for a in t["attempts"]]
        assert len(maps) == 4 and _overlaps(maps) == 1      # 4 slots, 1 task at a time
        assert final["partitions"] == 4                     # NUM_REDUCERS: the 4 slots
        assert final["reduces_total"] == 1                  # ... coalesced: a few KB
        assert final["counters"]["zmr.job"]["DATA_LOCAL_MAPS"] == 4

        too_big = _job(tmp_path, "too_big", {"memory_mb": 1 << 30})
        with pytest.raises(ZmrError, match="no worker can run a task needing"):
            cluster.client.submit(too_big, [inputs], str(tmp_path / "never"))
        assert not os.path.exists(tmp_path / "never")
    run_inline(whole_machine, [inputs], str(tmp_path / "inline"))     # one partition
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))


def test_bad_resources_are_named(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    with pytest.raises(ZmrError, match="unknown key 'gpus'"):
        run_inline(_job(tmp_path, "gpus", {"gpus": 1}), [inputs], str(tmp_path / "o"))
    with pytest.raises(ZmrError, match=r"RESOURCES\['cpus'\] must be an integer >= 1"):
        run_inline(_job(tmp_path, "zero", {"cpus": 0}), [inputs], str(tmp_path / "o2"))


def test_reduces_spread_over_idle_workers_instead_of_queueing_behind_busy_ones(tmp_path):
    """Short maps earn each worker a prefetch credit; when the last one ends, every idle
    worker gets a reduce of its own: none waits queued behind another on a busy worker."""
    inputs = write_lines(tmp_path / "in", files=9, lines_per_file=30)
    job_path = os.path.join(JOBS, "slow_reduce.py")       # each reducer_final sleeps 3 s
    with LocalCluster(workers=3, base_dir=str(tmp_path / "c"), speculative=False) as cluster:
        job = cluster.client.submit(job_path, [inputs], str(tmp_path / "out"),
                                    reducers=3, combine_files=False)
        final = job.wait(timeout_s=PATIENT_S)
    reduces = [a for t in final["tasks"] if t["task"] == "reduce" for a in t["attempts"]
               if a[4] == "succeeded"]
    assert len(reduces) == 3
    assert len({a[1] for a in reduces}) == 3, f"reduces shared a worker: {reduces}"
    assert _overlaps(reduces) == 3                 # and ran at the same time
    run_inline(job_path, [inputs], str(tmp_path / "inline"), reducers=3)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
