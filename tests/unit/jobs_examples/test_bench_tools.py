"""The benchmark's own tools keep working: the corpus generator, the sample generator and
tiny end-to-end benchmark runs (figures are not checked, only that it runs and agrees)."""

from __future__ import annotations

import filecmp
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_is_deterministic_whole_lines_of_8_to_15_words(tmp_path, monkeypatch):
    gen = _load("gen_corpus")
    monkeypatch.setattr(gen, "FILE_SIZE", 300_000)          # several files from a small size
    monkeypatch.setattr(gen, "LINES_PER_CHUNK", 1000)
    first = gen.write_corpus(1_000_000, str(tmp_path / "a"), seed=3)
    again = gen.write_corpus(1_000_000, str(tmp_path / "b"), seed=3)
    other = gen.write_corpus(1_000_000, str(tmp_path / "c"), seed=4)
    assert len(first) == 4
    assert all(filecmp.cmp(x, y, shallow=False) for x, y in zip(first, again, strict=True))
    assert not filecmp.cmp(first[0], other[0], shallow=False)
    sizes = [Path(p).stat().st_size for p in first]
    assert all(0 < 300_000 - s < 200 for s in sizes[:3])     # full files, cut at a line end
    for path in first:
        text = Path(path).read_text(encoding="ascii")
        assert text.endswith("\n")
        for line in text.splitlines():
            words = line.split(" ")
            assert 8 <= len(words) <= 15 and all(re.fullmatch(r"[a-z]+", w) for w in words)


def test_parse_size():
    gen = _load("gen_corpus")
    assert gen.parse_size("256MB") == 256 << 20
    assert gen.parse_size("64MiB") == 64 << 20
    assert gen.parse_size("4096") == 4096
    assert gen.parse_size("1.5kb") == 1536


def test_sample_data_is_what_gen_sample_makes(tmp_path):
    _load("gen_sample").write_sample(str(tmp_path))
    for made in sorted(tmp_path.rglob("*.txt")):
        bundled = ROOT / "data" / "sample" / made.relative_to(tmp_path)
        assert made.read_bytes() == bundled.read_bytes(), bundled


def test_bench_wordcount_runs_and_agrees(tmp_path):
    gen = _load("gen_corpus")
    files = gen.write_corpus(300_000, str(tmp_path / "corpus"))
    bench = _load("bench_wordcount")
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
                              timeout=120, cwd=ROOT)
    assert dispatch.returncode == 0, dispatch.stderr
    assert re.search(r"200 no-op map tasks, 3 simulated workers \| [\d,]+ tasks/s",
                     dispatch.stdout)
    latency = subprocess.run([sys.executable, str(BENCH / "bench_latency.py"), "--reps", "1"],
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert latency.returncode == 0, latency.stderr
    assert "submitted to a running 2-worker cluster | median" in latency.stdout


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
