"""Jobs finish with the exact sequential answer while workers crash, freeze and come back.

The quick variants run in CI; ``pytest -m chaos`` runs the long ones (see README)."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest

from tests.chaos.driver import Chaos, Respawner, expected_word_counts
from tests.helpers import EXAMPLES, JOBS, PATIENT_S, output_bytes, write_lines
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster
from zmr.settings.job import JobOptions

FAST = dict(heartbeat_interval_s=0.5, liveness=4, give_up_after_s=0.0,
            max_attempts=8, speculative_min_runtime_s=1.0)


def _crash_job(tmp_path, max_sleep_s: float) -> str:
    source = open(os.path.join(JOBS, "crash.py")).read()
    path = tmp_path / "crash_here.py"
    path.write_text(source.replace('float(os.environ.get("ZMR_CRASH_MAX_SLEEP_S", "10"))',
                                   repr(max_sleep_s)))
    return str(path)


def run_crash_job(tmp_path, workers: int, files: int, max_sleep_s: float,
                  timeout_s: float) -> None:
    inputs = write_lines(tmp_path / "in", files=files, lines_per_file=40)
    with LocalCluster(workers=workers, base_dir=str(tmp_path / "c"), **FAST) as cluster:
        respawner = Respawner(cluster, workers)
        respawner.start()
        try:
            job = cluster.client.submit(_crash_job(tmp_path, max_sleep_s), [inputs],
                                        str(tmp_path / "out"), reducers=3,
                                        combine_files=False)      # a map per file
            status = job.wait(timeout_s=timeout_s)
        finally:
            respawner.stop.set()
            respawner.join()
    assert status["state"] == "SUCCEEDED"
    assert _raw_counts(tmp_path / "out") == expected_word_counts(inputs)
    return respawner.respawned


def _raw_counts(out) -> dict[str, int]:
    counts = {}
    for part in sorted(os.listdir(out)):
        if part.startswith("part-"):
            for line in open(os.path.join(out, part)):
                word, n = line.rstrip("\n").split("\t")
                counts[word] = int(n)
    return counts


def test_crash_job_quick(tmp_path):
    # Every worker death loses the map outputs it held, and their reruns may crash in
    # turn, so the run time has a long tail: 8-50 s here on a quiet machine, 118 s once
    # under load 7. The deadline only guards against a hang.
    run_crash_job(tmp_path, workers=3, files=6, max_sleep_s=1.0, timeout_s=4 * PATIENT_S)


@pytest.mark.chaos
def test_crash_job_long(tmp_path):
    assert run_crash_job(tmp_path, workers=4, files=12, max_sleep_s=10.0, timeout_s=900) > 0


def run_chaos(tmp_path, seed: int, jobs: int, period_s: float, timeout_s: float,
              coalesced: bool = False) -> dict:
    """Word count jobs, one after another, while workers are killed and frozen; each
    output equals the inline one. ``coalesced``: planned as a job that does not set
    NUM_REDUCERS (8 partitions, coalesced into fewer reduce tasks when every map has run),
    compared with an inline run of one reducer (the one task its tiny output makes)."""
    inputs = write_lines(tmp_path / "in", files=8, lines_per_file=400)
    wordcount = os.path.join(EXAMPLES, "wordcount.py")
    run_inline(wordcount, [inputs], str(tmp_path / "oracle"), split_size="2KB",
               reducers=1 if coalesced else 3)
    with LocalCluster(workers=4, base_dir=str(tmp_path / "c"), **FAST) as cluster:
        respawner, chaos = Respawner(cluster, 4), Chaos(cluster, period_s, seed)
        respawner.start()
        chaos.start()
        try:
            for n in range(jobs):
                started = time.monotonic()
                out = str(tmp_path / f"out{n}")
                job = (_submit_coalesced(cluster.client, wordcount, inputs, out) if coalesced
                       else cluster.client.submit(wordcount, [inputs], out, reducers=3,
                                                  split_size="2KB"))
                status = job.wait(timeout_s=timeout_s)
                assert not coalesced or status["reduces_total"] < status["partitions"]
                assert time.monotonic() - started < timeout_s
                assert output_bytes(out) == output_bytes(str(tmp_path / "oracle"))
        finally:
            chaos.stop.set()
            respawner.stop.set()
            chaos.join()
            respawner.join()
    return dict(chaos.events)


def _submit_coalesced(client, job_path: str, inputs: str, out: str):
    spec = load_job(job_path)
    plan = plan_job(spec, [inputs], out, JobOptions(reducers=8, split_size="2KB"))
    return client.submit_plan(spec, dataclasses.replace(plan, coalesce=True))


def test_chaos_quick(tmp_path):
    run_chaos(tmp_path, seed=1, jobs=2, period_s=1.5, timeout_s=PATIENT_S)


def test_chaos_quick_with_coalesced_reduces(tmp_path):
    run_chaos(tmp_path, seed=2, jobs=2, period_s=1.5, timeout_s=PATIENT_S, coalesced=True)


@pytest.mark.chaos
@pytest.mark.parametrize("seed", range(20))
def test_chaos_long(tmp_path, seed):
    events = run_chaos(tmp_path, seed=seed, jobs=4, period_s=1.0, timeout_s=300)
    assert sum(events.values()) > 0
