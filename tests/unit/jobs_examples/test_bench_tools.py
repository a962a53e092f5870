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


def _func(module: str, name: str, line: int = 1) -> tuple[str, int, str]:
    return (f"/somewhere/zmr/{module}.py", line, name)


def test_phase_rules_name_engine_functions_and_leave_the_rest_to_their_callers():
    phases = load_bench("phases")
    assert phases.rule_phase(_func("storage/codec", "encode_keys")) == "encode"
    assert phases.rule_phase(_func("storage/codec", "_decode_at")) == "decode"
    assert phases.rule_phase(_func("storage/sorting", "merge_sorted")) == "merge"
    assert phases.rule_phase(_func("tasks/reduce_task", "_reduced_pairs")) == "reduce call"
    # renamed or new engine functions, comprehensions, other libraries: no rule
    assert phases.rule_phase(_func("storage/codec", "<listcomp>")) is None
    assert phases.rule_phase(_func("storage/brand_new", "anything")) is None
    assert phases.rule_phase(("/usr/lib/python3.11/json/encoder.py", 1, "encode")) is None


def test_phase_attribution_adds_up_and_follows_callers(tmp_path):
    """A synthetic profile: (cc, nc, tottime, cumtime, callers{caller: (cc, nc, tt, ct)})."""
    phases = load_bench("phases")
    job = str(tmp_path / "job.py")
    feed, spill = _func("tasks/collector", "feed"), _func("tasks/collector", "spill")
    write = _func("storage/ipc", "write_partition")
    helper = ("/lib/pyarrow/compute.py", 9, "take")             # no rule: its callers'
    mapper, reducer = (job, 3, "mapper"), (job, 8, "reducer")
    loop = _func("tasks/reduce_task", "_reduced_pairs")
    looped = ("/lib/x.py", 1, "a")                             # a call cycle a <-> b
    other = ("/lib/x.py", 2, "b")
    root = ("/bench/bench_profile.py", 1, "main")               # nobody called it
    stats = {
        root: (1, 1, 0.5, 10.0, {}),
        feed: (1, 1, 1.0, 3.0, {root: (1, 1, 1.0, 3.0)}),
        mapper: (5, 5, 2.0, 2.0, {feed: (5, 5, 2.0, 2.0)}),
        spill: (1, 1, 0.5, 2.5, {root: (1, 1, 0.5, 2.5)}),
        write: (1, 1, 1.0, 1.0, {spill: (1, 1, 1.0, 1.0)}),
        helper: (2, 2, 1.0, 1.0, {spill: (1, 1, 0.75, 0.75), feed: (1, 1, 0.25, 0.25)}),
        loop: (1, 1, 0.5, 1.5, {root: (1, 1, 0.5, 1.5)}),
        reducer: (1, 1, 1.0, 1.0, {loop: (1, 1, 1.0, 1.0)}),
        looped: (2, 1, 0.2, 0.3, {other: (1, 1, 0.2, 0.3), root: (1, 1, 0.0, 0.0)}),
        other: (1, 1, 0.1, 0.3, {looped: (1, 1, 0.1, 0.3)}),
    }
    result = phases.attribute(stats, {job})
    seconds = dict(result.seconds)
    assert abs(result.total - sum(s[2] for s in stats.values())) < 1e-9
    assert seconds["map call"] == 2.0 and seconds["reduce call"] == 1.5
    assert abs(seconds["collect"] - 1.25) < 1e-9        # feed + a quarter of the helper
    assert abs(seconds["spill"] - 2.25) < 1e-9          # spill, its write, 3/4 of the helper
    assert abs(seconds["other"] - 0.8) < 1e-9           # main and the cycle
    rows = phases.table(result)
    assert rows[-1].startswith("| **total** | **7.80**")
    assert any(line.startswith("| map call | 2.00 | 25.6 |") for line in rows)


def test_profile_of_a_tiny_terasort_has_its_phases_and_adds_up(tmp_path):
    """In process (inline): 1,000 records; every phase of a sort job shows up, and the
    phases add up to the profile's total."""
    bench = load_bench("bench_profile")
    figures = bench.profile(bench.WORKLOADS["terasort"], 0.0001, str(tmp_path), plain=False)
    seconds = figures.attribution.seconds
    # (no "reduce call": TeraSort's identity reduce writes the merged columns as they are)
    for phase in ("read", "map call", "encode", "partition", "sort", "spill", "merge",
                  "decode", "output write", "plan"):
        assert seconds.get(phase, 0) > 0, phase
    total = figures.attribution.total
    assert abs(sum(seconds.values()) - total) < 1e-9 and total <= figures.profiled_s * 1.05
    # (how much is left as "other" is a share of time, which a busy machine moves: the
    # docs say to check it with --top when engine functions are renamed)


def test_shuffle_inputs_are_deterministic_and_shaped_as_their_jobs_expect(tmp_path):
    gen = load_bench("gen_shuffle")
    first = gen.visits(str(tmp_path / "a"), 3000)
    again = gen.visits(str(tmp_path / "b"), 3000)
    assert all(filecmp.cmp(x, y, shallow=False) for x, y in zip(first, again, strict=True))
    rows = [line.rstrip("\n").split(",") for path in first
            for line in Path(path).read_text(encoding="ascii").splitlines(keepends=True)]
    assert 2900 < len(rows) <= 3000 and all(len(r) == 3 for r in rows)
    assert len({(user, time) for user, time, _ in rows}) == len(rows)   # one order per user
    edges = tmp_path / "edges.txt"
    count = gen.edges(str(edges), 300, 2000)
    pairs = [tuple(line.split()) for line in edges.read_text(encoding="ascii").splitlines()]
    assert len(pairs) == count == len(set(pairs)) and all(s != t for s, t in pairs)
    documents = gen.documents(str(tmp_path / "docs"), 250_000)
    assert len(documents) == 3 and all(Path(d).read_bytes().endswith(b"\n") for d in documents)
