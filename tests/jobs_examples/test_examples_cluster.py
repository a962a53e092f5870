"""The example jobs outside one process: the benchmark's plain-Python baseline (a script of
its own) agrees with word count, settings read from the environment reach a cluster's
workers, and max_temperature runs on a local cluster (inline and hook by hook:
tests/unit/jobs_examples/test_examples.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.example_jobs import (
    lines_of,
    max_temperatures,
    part_files,
    read_part,
    read_reduced,
    run,
    word_counts,
)
from tests.helpers import PATIENT_S
from zmr.runners.local import LocalCluster

ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "jobs"


# -- the benchmark baseline agrees with the word count job ---------------------------------

def test_py_counter_peer_agrees_with_wordcount(corpus, tmp_path):
    run("wordcount", corpus, tmp_path / "out", reducers=2)
    files = sorted(str(p) for p in corpus.rglob("*") if p.is_file())
    result = tmp_path / "peer.tsv"
    subprocess.run([sys.executable, str(ROOT / "bench" / "peers" / "py_counter.py"),
                    str(result), *files], check=True)
    peer = {w: int(n) for w, n in (ln.split("\t") for ln in
                                   result.read_text(encoding="utf-8").splitlines())}
    assert peer == read_reduced(tmp_path / "out")


# -- on an embedded cluster: job parameters reach the workers -----------------------------

def test_parameters_reach_cluster_workers(corpus, tmp_path):
    """topn's n and grep's pattern are read at module level on each worker, where the job
    file is imported, and topn's module state (the heap) is shared by its hooks inside a
    worker's task process."""
    for job, extra in [("topn", ["--reducers", "3", "--param", "n=6"]),
                       ("grep", ["--param", "pattern=café"])]:
        subprocess.run([sys.executable, "-m", "zmr", "run", str(JOBS / f"{job}.py"), "--quiet",
                        "--workers", "2", "--split-size", "200", *extra, "--input",
                        str(corpus), "--output", str(tmp_path / job)], check=True,
                       timeout=PATIENT_S)
    top = sorted(word_counts(corpus).items(), key=lambda kv: (-kv[1], kv[0]))[:6]
    assert [pair for p in part_files(tmp_path / "topn") for pair in read_part(p)] == top
    grepped = [pair for p in part_files(tmp_path / "grep") for pair in read_part(p)]
    expected = [(f"{path.name}:{offset}", line) for path, offset, line in lines_of(corpus)
                if "café" in line.lower()]
    assert grepped == expected and expected


def test_max_temperature_on_a_cluster_and_the_bundled_sample(tmp_path):
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(str(JOBS / "max_temperature.py"), [str(ROOT / "data" /
                                    "weather")], str(tmp_path / "out"), reducers=2,
                                    split_size=20000)
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
    assert {int(k): v for k, v in read_reduced(tmp_path / "out").items()} == \
        max_temperatures(ROOT / "data" / "weather")
