"""Coalescing reduce partitions on real processes: a job whose NUM_REDUCERS was not given
(set up here as such: a plan of 8 partitions with ``coalesce`` on, whatever the default
number is) runs fewer reduce tasks when its map outputs are small, with the same output as
an inline run; an explicit number is that many part files; a total-order job stays
globally sorted across its coalesced part files; a coordinator killed mid-reduce comes
back with the same reduce tasks."""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    EXAMPLES,
    JOBS,
    PATIENT_S,
    load_bench,
    output_bytes,
    wait_through_restart,
    wait_until,
    write_lines,
)
from zmr.job.loader import load_job
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.settings.job import JobOptions
from zmr.tasks.sampling import plan_sorted_job

PARTITIONS = 8
WORDCOUNT = os.path.join(JOBS, "slow_reduce.py")


@pytest.fixture(scope="module")
def cluster2(tmp_path_factory):
    with LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("cluster2"))) as c:
        yield c


def submit_auto(client, job_path, inputs, output, **options):
    """Submit ``job_path`` planned with PARTITIONS reduce partitions, as a job whose
    NUM_REDUCERS was not given would be (``coalesce`` on)."""
    spec = load_job(job_path)
    plan = plan_sorted_job(spec, [inputs], output,
                           JobOptions(reducers=PARTITIONS, **options))
    return client.submit_plan(spec, dataclasses.replace(plan, coalesce=True))


def part_files(output):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(output, "part-*")))


def test_tiny_map_outputs_make_fewer_reduce_tasks_with_the_same_output(cluster2, tmp_path):
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=60)
    out = str(tmp_path / "out")
    status = submit_auto(cluster2.client, os.path.join(JOBS, "first_letter.py"), inputs,
                         out, combine_files=False).wait(timeout_s=PATIENT_S)
    assert status["state"] == "SUCCEEDED"
    assert status["maps_total"] == 4 and status["partitions"] == PARTITIONS
    assert status["reduces_total"] == 1          # a few kB of map output: one task
    assert part_files(out) == ["part-00000"]
    assert os.path.exists(os.path.join(out, "_SUCCESS"))
    # the one task merged 8 sorted partitions: byte for byte one partition's sorted output
    run_inline(os.path.join(JOBS, "first_letter.py"), [inputs], str(tmp_path / "inline"),
               reducers=1)
    assert output_bytes(out) == output_bytes(str(tmp_path / "inline"))


def test_an_explicit_number_of_reducers_is_that_many_part_files(cluster2, tmp_path):
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=60)
    out = str(tmp_path / "out")
    status = cluster2.client.submit(os.path.join(JOBS, "first_letter.py"), [inputs], out,
                                    reducers=4).wait(timeout_s=PATIENT_S)
    assert status["state"] == "SUCCEEDED" and status["reduces_total"] == 4
    assert part_files(out) == [f"part-{r:05d}" for r in range(4)]


@pytest.mark.skipif(shutil.which("sort") is None, reason="needs GNU sort")
def test_total_order_output_stays_globally_sorted_across_coalesced_part_files(cluster2,
                                                                               tmp_path):
    gen_terasort = load_bench("gen_terasort")
    paths = gen_terasort.generate(40000, str(tmp_path / "in"), files=2, seed=5)
    out = str(tmp_path / "out")
    status = submit_auto(cluster2.client, os.path.join(EXAMPLES, "terasort.py"),
                         str(tmp_path / "in"), out, split_size="512KB"
                         ).wait(timeout_s=PATIENT_S)
    assert status["state"] == "SUCCEEDED"
    # ~4.5 MB of map output on 2 slots: a few tasks, each of several partitions
    assert 2 <= status["reduces_total"] < PARTITIONS
    parts = part_files(out)
    assert parts == [f"part-{r:05d}" for r in range(status["reduces_total"])]
    expected = subprocess.run(["sort", *paths], capture_output=True, check=True,
                              env={**os.environ, "LC_ALL": "C"}, timeout=PATIENT_S).stdout
    assert b"".join(Path(out, p).read_bytes() for p in parts) == expected


def test_a_coordinator_restarted_mid_reduce_keeps_the_coalesced_reduce_tasks(tmp_path):
    inputs = write_lines(tmp_path / "in", files=4, lines_per_file=50)
    out = str(tmp_path / "out")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        job = submit_auto(cluster.client, WORDCOUNT, inputs, out, combine_files=False)
        # reducers sleep in reducer_final: the reduce is running when we restart
        wait_until(lambda: job.status()["maps_done"] == 4 and any(
            t["task"] == "reduce" and t["state"] == "RUNNING" for t in job.status()["tasks"]),
            "a coalesced reduce running", timeout_s=PATIENT_S)
        before = job.status()["reduces_total"]
        cluster.restart_coordinator()
        status = wait_through_restart(job)
    assert before == 1 and status["state"] == "SUCCEEDED"
    assert status["reduces_total"] == before and status["partitions"] == PARTITIONS
    assert part_files(out) == ["part-00000"]
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "inline"), reducers=1)
    assert output_bytes(out) == output_bytes(str(tmp_path / "inline"))
