"""The example jobs in jobs/, end to end through ``run_inline`` and hook by hook.

Each end-to-end test runs a job over a small corpus of several files (nested directory,
multibyte UTF-8, CRLF endings, blank lines, a file without a final newline) with several
reducer counts and tiny split sizes (many map tasks, lines cut at split boundaries), reads
the part files back through the documented output format (a str as is, anything else JSON)
and compares with a straightforward Python computation of the same answer.
"""

from __future__ import annotations

import collections
import heapq
import importlib.util
import itertools
import random
import re
import runpy
import sys
from pathlib import Path

import pytest

from tests.example_jobs import (
    WORD,
    lines_of,
    max_temperatures,
    part_files,
    read_part,
    read_reduced,
    run,
    word_counts,
)
from zmr.job import params
from zmr.runners.inline import run_inline

ROOT = Path(__file__).resolve().parents[3]
JOBS = ROOT / "jobs"
REDUCE_SETUPS = [(1, None), (3, 64), (7, 23)]    # (reducers, split_size in bytes)

# -- word count --------------------------------------------------------------------------------

@pytest.mark.parametrize("reducers,split_size", REDUCE_SETUPS)
def test_wordcount(corpus, tmp_path, reducers, split_size):
    result = run("wordcount", corpus, tmp_path / "out", reducers=reducers,
                 split_size=split_size)
    assert result.num_reducers == reducers
    if split_size:
        assert result.num_maps > 20       # the corpus really was cut into many splits
    assert read_reduced(tmp_path / "out") == dict(word_counts(corpus))


def test_wordcount_on_the_bundled_sample(tmp_path):
    sample = ROOT / "data" / "sample"
    run("wordcount", sample, tmp_path / "out", reducers=2, split_size="16KB")
    counts = read_reduced(tmp_path / "out")
    assert counts == dict(word_counts(sample))
    assert len(counts) > 300 and max(counts.values()) == counts["the"]


@pytest.mark.parametrize("reducers,split_size", REDUCE_SETUPS)
def test_wordcount_split(corpus, tmp_path, reducers, split_size):
    run("wordcount_split", corpus, tmp_path / "out", reducers=reducers,
        split_size=split_size)
    expected = collections.Counter(
        w for path in sorted(corpus.rglob("*")) if path.is_file()
        for line in path.read_text(encoding="utf-8").splitlines() for w in line.split())
    assert read_reduced(tmp_path / "out") == dict(expected)


def test_wordcount_hooks_by_hand():
    wc = _load("wordcount")
    assert list(wc.mapper(("f", 0), "Don't STOP, don't—stop 2x")) == [
        ("don't", 1), ("stop", 1), ("don't", 1), ("stop", 1), ("2x", 1)]
    assert list(wc.mapper(("f", 0), "")) == []
    assert list(wc.combiner("a", iter([1, 1, 1]))) == [("a", 3)]
    assert list(wc.reducer("a", (n for n in [3, 4, 1]))) == [("a", 8)]   # a one-shot stream


# -- inverted index ------------------------------------------------------------------------

@pytest.mark.parametrize("reducers,split_size", REDUCE_SETUPS)
def test_inverted_index(corpus, tmp_path, reducers, split_size):
    run("inverted_index", corpus, tmp_path / "out", reducers=reducers, split_size=split_size)
    expected = collections.defaultdict(set)
    for path, _, line in lines_of(corpus):
        for word in WORD.findall(line.lower()):
            expected[word].add(path.name)
    assert read_reduced(tmp_path / "out") == {w: sorted(d) for w, d in expected.items()}


def test_inverted_index_hooks_by_hand():
    ii = _load("inverted_index")
    assert ii.REDUCE == "collect_set"
    ii.mapper_init()
    for key, line in [(("/x/doc.txt", 0), "a b a"), (("/y/two.txt", 0), "b"),
                      (("/x/doc.txt", 6), "c a")]:
        assert list(ii.mapper(key, line)) == []     # nothing until the task's end
    assert sorted(ii.mapper_final()) == [("a", "doc.txt"), ("b", "doc.txt"),
                                         ("b", "two.txt"), ("c", "doc.txt")]
    ii.mapper_init()
    assert list(ii.mapper_final()) == []             # a new task starts empty


# -- grep (map-only) -----------------------------------------------------------------------

@pytest.mark.parametrize("split_size", [None, 40, 7])
def test_grep_is_map_only(corpus, tmp_path, split_size):
    result = run("grep", corpus, tmp_path / "out", split_size=split_size,
                 params={"pattern": r"err?or|\bcaf"})
    assert result.num_reducers == 0
    counters = result.counters.get("zmr", {})
    assert not [name for name in counters if name.startswith(("REDUCE_", "COMBINE_"))]
    parts = [read_part(p) for p in part_files(tmp_path / "out")]
    if split_size is None:    # the small files are packed into one split
        assert result.num_maps == 1
    pattern = re.compile(r"err?or|\bcaf", re.IGNORECASE)
    expected = [(f"{path.name}:{offset}", line) for path, offset, line in lines_of(corpus)
                if pattern.search(line)]
    assert [pair for part in parts for pair in part] == expected
    assert counters["MAP_OUTPUT_RECORDS"] == len(expected)
    assert any("café" in line for _, line in expected)


def test_grep_default_pattern_and_hooks():
    grep = _load("grep")
    assert grep.NUM_REDUCERS == 0
    assert list(grep.mapper(("/data/x.log", 120), "An ERROR here")) == [
        ("x.log:120", "An ERROR here")]
    assert list(grep.mapper(("/data/x.log", 0), "all fine")) == []


# -- bigram ----------------------------------------------------------------------------------

@pytest.mark.parametrize("reducers,split_size", REDUCE_SETUPS)
def test_bigram(corpus, tmp_path, reducers, split_size):
    run("bigram", corpus, tmp_path / "out", reducers=reducers, split_size=split_size)
    expected = collections.Counter()
    for _, _, line in lines_of(corpus):
        words = WORD.findall(line.lower())
        expected.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    assert read_reduced(tmp_path / "out") == dict(expected)


def test_bigram_hooks_by_hand():
    bg = _load("bigram")
    assert list(bg.mapper(("f", 0), "The cat, the HAT")) == [
        ("the cat", 1), ("cat the", 1), ("the hat", 1)]
    assert list(bg.mapper(("f", 0), "alone")) == []
    pairs = [("a b", "ab c"), ("a", "b")]     # string order == (first, second) tuple order
    assert sorted(f"{x} {y}" for x, y in pairs) == [f"{x} {y}" for x, y in sorted(pairs)]


# -- top-N -----------------------------------------------------------------------------------

@pytest.mark.parametrize("reducers,split_size", [(None, None), (None, 31), (4, 50)])
@pytest.mark.parametrize("n", [1, 5, 1000])
def test_topn(corpus, tmp_path, reducers, split_size, n):
    out = tmp_path / "out"
    result = run("topn", corpus, out, reducers=reducers, split_size=split_size,
                 params=[f"n={n}"])
    assert result.num_reducers == (reducers or 1)    # NUM_REDUCERS = 1 unless overridden
    first, *others = [read_part(p) for p in part_files(out)]
    assert all(part == [] for part in others)         # the partitioner sends all to part 0
    expected = sorted(word_counts(corpus).items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    assert first == expected


def test_topn_breaks_ties_alphabetically(tmp_path):
    # counts: the 6, then mike, alpha, zulu 4 each, bravo 2; top 3 must drop zulu, not alpha
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "1.txt").write_text("the the zulu mike\nalpha the bravo zulu\n")
    (tmp_path / "in" / "2.txt").write_text("mike alpha zulu the\nthe alpha mike\n")
    (tmp_path / "in" / "3.txt").write_text("zulu mike the alpha bravo\n")
    run("topn", tmp_path / "in", tmp_path / "out", split_size=8, params={"n": 3})
    assert read_part(tmp_path / "out" / "part-00000") == [("the", 6), ("alpha", 4),
                                                          ("mike", 4)]


def test_topn_hooks_by_hand():
    with params.using({"n": "3"}):
        topn = _load("topn")
    counts = {"b": [2, 3], "c": [5], "d": [1, 4], "e": [9], "f": [1]}
    for _task in range(2):               # reducer_init/final reset state between tasks
        topn.reducer_init()
        for word in sorted(counts):       # the engine hands keys over in sorted order
            assert not list(topn.reducer(word, iter(counts[word])) or [])
        assert list(topn.reducer_final()) == [("e", 9), ("b", 5), ("c", 5)]
    assert topn.partitioner("anything", 8) == 0


def test_topn_heap_matches_a_full_sort():
    """The bounded heap keeps exactly the N best of any sorted stream of totals."""
    rng = random.Random(7)
    topn = _load("topn")
    for _ in range(200):
        totals = {f"w{i:03d}": rng.randint(1, 6) for i in rng.sample(range(500), 40)}
        topn.N = rng.randint(1, 45)
        topn.reducer_init()
        for word in sorted(totals):
            topn.reducer(word, iter([totals[word]]))
        want = heapq.nsmallest(topn.N, totals.items(), key=lambda kv: (-kv[1], kv[0]))
        assert list(topn.reducer_final()) == want


# -- top words (two steps) -------------------------------------------------------------------

@pytest.mark.parametrize("reducers,split_size", REDUCE_SETUPS)
def test_top_words(corpus, tmp_path, reducers, split_size):
    out = tmp_path / "out"
    result = run("top_words", corpus, out, reducers=reducers, split_size=split_size)
    assert len(result.steps) == 2 and not (out / "_steps").exists()
    expected = sorted(word_counts(corpus).items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [pair for p in part_files(out) for pair in read_part(p)] == expected


def test_top_words_hooks_by_hand():
    tw = _load("top_words")
    assert len(tw.STEPS) == 2 and tw.TOP_N == 10
    assert list(tw.words(("f", 0), "A b a")) == [("a", 1), ("b", 1), ("a", 1)]
    assert list(tw.to_single_key("fox", 3)) == [(None, (3, "fox"))]
    tw.TOP_N = 2
    values = [(2, "b"), (5, "z"), (2, "a"), (1, "c")]
    assert list(tw.keep_best(None, iter(values))) == [(None, (5, "z")), (None, (2, "a"))]
    assert list(tw.rank(None, iter(values))) == [("z", 5), ("a", 2)]


def _load(job: str):
    """Import ``jobs/<job>.py`` afresh (its settings read job parameters at import)."""
    spec = importlib.util.spec_from_file_location(f"example_{job}", JOBS / f"{job}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("reducers,split_size", REDUCE_SETUPS)
def test_max_temperature_on_generated_weather_csv(tmp_path, monkeypatch, reducers,
                                                   split_size):
    weather = tmp_path / "weather"
    monkeypatch.setattr(sys, "argv", ["gen_weather.py", str(weather), "--years", "4",
                                      "--stations", "9", "--days", "40", "--seed", "3"])
    runpy.run_path(str(ROOT / "bench" / "gen_weather.py"), run_name="__main__")   # in process
    run_inline(str(JOBS / "max_temperature.py"), [str(weather)], str(tmp_path / "out"),
               reducers=reducers, split_size=(split_size or 1 << 20) * 16)
    assert {int(k): v for k, v in read_reduced(tmp_path / "out").items()} == \
        max_temperatures(weather)
