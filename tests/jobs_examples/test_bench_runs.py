"""Tiny end-to-end benchmark runs keep working (figures are not checked, only that each runs
and agrees): word count against its peers, dispatch and latency on real clusters, CURVE on
and off, issue 29's shuffle benchmarks and phase profile (the generators and the phase
attribution: tests/unit/jobs_examples/test_bench_tools.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import BENCH as _BENCH
from tests.helpers import PATIENT_S, load_bench
from tests.helpers import ROOT as _ROOT

ROOT = Path(_ROOT)
BENCH = Path(_BENCH)




def test_bench_wordcount_runs_and_agrees(tmp_path):
    gen = load_bench("gen_corpus")
    files = gen.write_corpus(300_000, str(tmp_path / "corpus"))
    bench = load_bench("bench_wordcount")
    runs = bench.run_all(["py_counter", "inline"], files, reps=1)
    assert set(runs) == {"py_counter", "inline"}
    assert all(r[0]["wall_s"] > 0 and r[0]["peak_rss_mb"] > 0 for r in runs.values())


def test_bench_wordcount_rejects_unknown_modes():
    proc = subprocess.run([sys.executable, str(BENCH / "bench_wordcount.py"), "--modes",
                           "inline,nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_dispatch_and_latency_benchmarks_run():
    """Smoke runs (figures not checked): a real coordinator with simulated workers, and a
    1 KB job on a real 2-worker cluster."""
    dispatch = subprocess.run([sys.executable, str(BENCH / "bench_dispatch.py"), "--tasks",
                               "200", "--workers", "3"], capture_output=True, text=True,
                              timeout=PATIENT_S, cwd=ROOT)
    assert dispatch.returncode == 0, dispatch.stderr
    assert re.search(r"200 no-op map tasks, 3 simulated workers \| [\d,]+ tasks/s",
                     dispatch.stdout)
    latency = subprocess.run([sys.executable, str(BENCH / "bench_latency.py"), "--reps", "1"],
                             capture_output=True, text=True, timeout=PATIENT_S, cwd=ROOT)
    assert latency.returncode == 0, latency.stderr
    assert re.search(r"\| submitted to a running 2-worker cluster \| [\d.]+ s \|", latency.stdout)
    assert "zmr run / --inline:" in latency.stdout


def test_curve_benchmark_runs_both_modes_and_checks_outputs():
    """Smoke run (figures not checked): bigram count with CURVE off and on, on a tiny corpus
    (cached under bench/data/ like every benchmark corpus)."""
    run = subprocess.run([sys.executable, str(BENCH / "bench_curve.py"), "--size", "300KB",
                          "--reps", "1", "--split-size", "64KB", "--reducers", "4"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^\| plain \| [\d.]+ \|", run.stdout, re.M)
    assert re.search(r"^\| curve \| [\d.]+ \|", run.stdout, re.M)
    assert re.search(r"curve/plain wall time: [\d.]+ .*outputs identical: \d+ part files, "
                     r"byte for byte, in all 2 runs", run.stdout)


def test_join_benchmark_runs_zmr_and_duckdb_and_they_agree():
    done = subprocess.run([sys.executable, str(BENCH / "bench_join.py"), "--rankings", "500",
                           "--visits", "4000", "--files", "2", "--reps", "1"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "all runs agree with DuckDB" in done.stdout
    assert re.search(r"zmr / DuckDB = [\d.]+x wall time", done.stdout)


def test_join_benchmark_broadcast_mode_agrees_with_duckdb():
    done = subprocess.run([sys.executable, str(BENCH / "bench_join.py"), "--rankings", "500",
                           "--visits", "4000", "--files", "2", "--reps", "1", "--mode",
                           "broadcast"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "all runs agree with DuckDB" in done.stdout
    assert re.search(r"zmr broadcast / DuckDB = [\d.]+x wall time", done.stdout)


@pytest.mark.parametrize("script, flags", [
    ("bench_secondary_sort.py", ["--records", "3000"]),
    ("bench_inverted_index.py", ["--size", "300KB"]),
    ("bench_pagerank.py", ["--nodes", "300", "--edges", "2000", "--rounds", "2"]),
])
def test_issue29_benchmarks_run_zmr_and_the_peer_and_they_agree(script, flags):
    done = subprocess.run([sys.executable, str(BENCH / script), *flags, "--reps", "1"],
                          capture_output=True, text=True, timeout=PATIENT_S, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert re.search(r"all 1 runs agree with the peer: [\d,]+ keys", done.stdout)
    assert re.search(r"zmr / peer = [\d.]+x wall time \(issue 29's target <= [\d.]+x: "
                     r"(PASS|MISS)\)", done.stdout)


def test_profile_benchmark_prints_a_phase_table_per_workload():
    done = subprocess.run([sys.executable, str(BENCH / "bench_profile.py"), "--workloads",
                           "secondary_sort,broadcast_join", "--size", "0.001", "--no-plain"],
                          capture_output=True, text=True, timeout=PATIENT_S, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("| **total** |") == 2
    assert re.search(r"^\| decode \| [\d.]+ \| [\d.]+ \|$", done.stdout, re.M)
    wrong = subprocess.run([sys.executable, str(BENCH / "bench_profile.py"), "--workloads",
                            "terasort,nope"], capture_output=True, text=True, cwd=ROOT)
    assert wrong.returncode == 2 and "nope" in wrong.stderr


def test_codec_benchmark_runs_c_and_pure_python_and_outputs_agree():
    done = subprocess.run([sys.executable, str(BENCH / "bench_codec.py"), "--scale", "0.01",
                           "--reps", "1"], capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "outputs identical in every configuration, 1 reps" in done.stdout
    for job in ("secondary_sort", "join", "inverted_index", "pagerank"):
        assert re.search(rf"^\| {job} \| [\d.]+ / [\d.]+ \| [\d.]+ / [\d.]+ \| [\d.]+x \|$",
                         done.stdout, re.M), done.stdout
