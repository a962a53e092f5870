"""Declarative REDUCE = "...": column-wise partials give the same answers as Python."""

from __future__ import annotations

import collections
import os
import statistics

import pytest

from tests.helpers import EXAMPLES, JOBS, read_output
from zmr.core.errors import JobDefinitionError
from zmr.job.loader import load_job
from zmr.runners.inline import run_inline

JOB = os.path.join(JOBS, "agg_stats.py")
REFERENCE = {"sum": sum, "count": len, "min": min, "max": max, "mean": statistics.fmean,
             "first": lambda v: v[0], "collect_list": list}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_each_reduction_matches_python(tmp_path, monkeypatch, name):
    lines = [" ".join(f"{c}{i % 7}" for c in "abcab"[: 1 + i % 5]) for i in range(400)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("ZMR_TEST_REDUCE", name)
    out = tmp_path / "out"
    # tiny splits and budget: many map tasks, several spills each, merges of partials
    run_inline(JOB, [str(tmp_path / "in.txt")], str(out), reducers=2, split_size=300,
               memory_budget=2000)
    values = collections.defaultdict(list)
    for line in lines:
        for i, word in enumerate(line.split()):
            values[word[:1]].append(len(word) + i)
    expected = {k: REFERENCE[name](v) for k, v in values.items()}
    got = read_output(str(out))
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value) if name == "mean" else got[key] == value


def test_reduce_setting_with_a_reducer_is_refused(tmp_path):
    (tmp_path / "j.py").write_text("REDUCE = 'sum'\ndef mapper(k, v): yield v, 1\n"
                                   "def reducer(k, vs): yield k, 1\n")
    with pytest.raises(JobDefinitionError, match="REDUCE = 'sum' replaces reducer"):
        load_job(str(tmp_path / "j.py"))


def test_unknown_reduction_is_refused(tmp_path):
    (tmp_path / "j.py").write_text("REDUCE = 'median'\ndef mapper(k, v): yield v, 1\n")
    with pytest.raises(JobDefinitionError, match="not one of sum, count"):
        load_job(str(tmp_path / "j.py"))


def test_vectorised_word_count_equals_the_record_path(tmp_path):
    jobs = EXAMPLES
    (tmp_path / "in").mkdir()
    for i in range(3):
        (tmp_path / "in" / f"{i}.txt").write_text(
            "".join(f"The quick {w} fox's tail, the END {i}\r\n" for w in ("brown", "red")) * 50)
    for name in ("wordcount", "wordcount_vectorized"):
        run_inline(os.path.join(jobs, f"{name}.py"), [str(tmp_path / "in")],
                   str(tmp_path / name), reducers=3, split_size=700, memory_budget=3000)
    assert read_output(str(tmp_path / "wordcount")) == \
        read_output(str(tmp_path / "wordcount_vectorized"))
