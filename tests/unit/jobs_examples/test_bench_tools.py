"""The benchmark's own tools keep working: the corpus generator and the sample generator,
in process (tiny end-to-end benchmark runs: tests/jobs_examples/test_bench_runs.py)."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pyarrow.parquet as pq

from tests.helpers import BENCH as _BENCH
from tests.helpers import ROOT as _ROOT
from tests.helpers import load_bench

ROOT = Path(_ROOT)
BENCH = Path(_BENCH)




def test_corpus_is_deterministic_whole_lines_of_8_to_15_words(tmp_path, monkeypatch):
    gen = load_bench("gen_corpus")
    monkeypatch.setattr(gen, "FILE_SIZE", 300_000)          # several files from a small size
    monkeypatch.setattr(gen, "LINES_PER_CHUNK", 1000)
    monkeypatch.setattr(gen, "VOCABULARY", 2_000)      # 100 common words, the rest made up
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
    gen = load_bench("gen_corpus")
    assert gen.parse_size("256MB") == 256 << 20
    assert gen.parse_size("64MiB") == 64 << 20
    assert gen.parse_size("4096") == 4096
    assert gen.parse_size("1.5kb") == 1536


def test_sample_data_is_what_gen_sample_makes(tmp_path):
    load_bench("gen_sample").write_sample(str(tmp_path))
    for made in sorted(tmp_path.rglob("*.txt")):
        bundled = ROOT / "data" / "sample" / made.relative_to(tmp_path)
        assert made.read_bytes() == bundled.read_bytes(), bundled


def test_join_sample_is_what_gen_join_makes(tmp_path):
    load_bench("gen_join").generate(str(tmp_path), 400, 3000, files=2)
    made = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert len(made) == 4
    for path in made:
        bundled = ROOT / "data" / "join" / path.relative_to(tmp_path)
        if path.suffix == ".csv":       # Parquet bytes carry the writer's version
            assert path.read_bytes() == bundled.read_bytes(), bundled
        else:
            assert pq.read_table(path).equals(pq.read_table(bundled)), bundled
