"""``zmr run --reuse`` in real processes: the code digest is the same in every process
(unlike cloudpickle's bytes), so a second ``zmr run`` reuses the first one's maps and
says so, inline and on the embedded cluster alike."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from tests.helpers import PATIENT_S, ROOT, output_bytes
from tests.reuse_jobs import edit, write_inputs, write_job_dir

#: Sets of strings iterate in an order that follows the per-process hash seed.
SEEDED_JOB_TAIL = '''

VOWELS = frozenset("aeiou")
KINDS = {"short", "long", "other"}


def classify(word):
    return "short" if len(word) < 4 and word[0] in VOWELS else "long"


def map_kinds(key, line):
    for word in line.split():
        if classify(word) in KINDS and word in {"alpha", "beta", "gamma"}:
            yield word, 1
'''

DIGEST_SCRIPT = '''
import sys
from zmr.job.loader import load_job
from zmr.job.fingerprint import map_code_digest
import dataclasses
job = load_job(sys.argv[1])
job = dataclasses.replace(job, mapper=job.mapper.__globals__["map_kinds"])
print(map_code_digest(job, {"stop.txt": sys.argv[2]}))
'''


def _digest_in_process(job: str, seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": ROOT}
    side = os.path.join(os.path.dirname(job), "stop.txt")
    out = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, job, side], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip()


def test_the_digest_is_the_same_in_two_processes(tmp_path):
    job = write_job_dir(tmp_path)
    with open(job, "a", encoding="utf-8") as f:
        f.write(SEEDED_JOB_TAIL)
    first, second = _digest_in_process(job, "1"), _digest_in_process(job, "2")
    assert first == second and len(first) == 32
    edit(job, '"beta", "gamma"}', '"beta", "delta"}')
    assert _digest_in_process(job, "1") != first




def test_cloudpickle_bytes_would_not_do():
    """Why the digest is not cloudpickle's bytes: they follow the hash seed of the
    process (a set constant), so two runs of an unchanged job would never match."""
    script = ("import cloudpickle, hashlib\n"
              "words = {'alpha', 'beta', 'gamma', 'delta', 'epsilon'}\n"
              "f = lambda k, v: [(v, v in words)]\n"
              "print(hashlib.sha256(cloudpickle.dumps(f)).hexdigest())\n")
    digests = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True,
                              timeout=120).stdout for seed in ("1", "2", "3", "4")}
    assert len(digests) > 1


def zmr_run(job: str, data: str, output: str, cache: str, *flags: str) -> str:
    """``zmr run JOB --reuse`` in a process of its own, in the output's folder (where its
    event log goes: ``.zmr/runs/events``); its summary (stderr)."""
    env = {**os.environ, "PYTHONPATH": ROOT, "ZMR_WORKER_REUSE_DIR": cache}
    done = subprocess.run([sys.executable, "-m", "zmr", "run", job, "--reuse",
                           "--input", data, "--output", output, *flags], env=env,
                          cwd=os.path.dirname(output), capture_output=True, text=True,
                          timeout=PATIENT_S)
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "2"]], ids=["inline", "cluster"])
def test_a_second_zmr_run_reuses_the_first_ones_maps(tmp_path, where):
    job = write_job_dir(tmp_path / "job")
    data = write_inputs(tmp_path / "data")
    cache = str(tmp_path / "cache")
    first = zmr_run(job, data, str(tmp_path / "out1"), cache, *where)
    assert "reused" not in first
    edit(job, "def reducer(word, counts):\n    yield word, sum(counts)",
         "def reducer(word, counts):\n    yield word, sum(counts) + 1000")
    again = zmr_run(job, data, str(tmp_path / "out2"), cache, *where)
    assert re.search(r"6 map tasks \(map 6/6 reused\)", again), again
    assert _maps_reused_in_event_logs(tmp_path) == [False] * 6 + [True] * 6
    fresh = zmr_run(job, data, str(tmp_path / "out3"), str(tmp_path / "empty"), *where)
    assert "reused" not in fresh
    assert output_bytes(str(tmp_path / "out2")) == output_bytes(str(tmp_path / "out3"))


def _maps_reused_in_event_logs(folder) -> list[bool]:
    """For each map finished, in the runs' order, whether its event says it was reused."""
    logs = sorted(glob.glob(os.path.join(folder, ".zmr", "runs", "events", "*.jsonl")),
                  key=os.path.getmtime)
    return [record["reused"] for log in logs[:2] for record in map(json.loads, open(log))
            if record["event"] == "task_finished" and record["task"].startswith("map")]


def test_a_multi_step_job_says_which_steps_maps_were_reused(tmp_path):
    data = write_inputs(tmp_path / "data")
    job, cache = os.path.join(ROOT, "jobs", "top_words.py"), str(tmp_path / "cache")
    zmr_run(job, data, str(tmp_path / "out1"), cache, "--inline")
    again = zmr_run(job, data, str(tmp_path / "out2"), cache, "--inline")
    assert re.search(r"step 1/2 done in \S+: 6 map tasks \(map 6/6 reused\)", again), again
    assert re.search(r"step 2/2 done in \S+: 1 map tasks, ", again), again  # fresh input
    assert output_bytes(str(tmp_path / "out1")) == output_bytes(str(tmp_path / "out2"))
