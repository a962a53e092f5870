"""The join example (jobs/join.py) inline on its bundled sample, against DuckDB, and its
reducer by hand (values in any order)."""

from __future__ import annotations

import os
import runpy

from tests.helpers import ROOT
from tests.join_oracle import assert_same_as_duckdb
from zmr.runners.inline import run_inline

SAMPLE = os.path.join(ROOT, "data", "join")


def test_join_inline_on_the_bundled_sample_equals_duckdb(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)          # INPUTS name the sample relative to the checkout
    result = run_inline("jobs/join.py", None, str(tmp_path / "out"), split_size="64KB",
                        reducers=2)
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] > 3000
    assert assert_same_as_duckdb(str(tmp_path / "out"), os.path.join(SAMPLE, "rankings"),
                                 os.path.join(SAMPLE, "uservisits")) > 100


def test_join_takes_the_week_as_parameters(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    february = ("2000-02-01", "2000-02-29")
    run_inline("jobs/join.py", None, str(tmp_path / "out"),
               params={"first_day": february[0], "last_day": february[1]})
    assert assert_same_as_duckdb(str(tmp_path / "out"), os.path.join(SAMPLE, "rankings"),
                                 os.path.join(SAMPLE, "uservisits"), february) > 400


def test_join_reducer_streams_the_visits_after_the_ranking():
    """Step 1 sorts values, so the ranking (tag 0) comes first; each visit is joined as it
    arrives: the first joined pair is out before the second visit is read."""
    job = runpy.run_path(os.path.join(ROOT, "jobs", "join.py"))
    assert job["STEPS"][0].settings["sort_values"]

    def values():
        yield 0, 7
        yield 1, "ip1", 2.5
        raise AssertionError("read past the first visit before yielding its join")

    assert next(job["join"]("u", values())) == ("ip1", (2.5, 7, 1))
    assert list(job["join"]("u", iter([(0, 7), (1, "ip1", 2.5), (1, "ip2", 1.0)]))) == [
        ("ip1", (2.5, 7, 1)), ("ip2", (1.0, 7, 1))]
    assert list(job["join"]("u", iter([(1, "ip1", 2.5)]))) == []    # no ranking, no join
    assert list(job["per_ip"]("ip", iter([(2.0, 6, 2), (1.0, 3, 1)]))) == [("ip", [3.0, 3.0])]
