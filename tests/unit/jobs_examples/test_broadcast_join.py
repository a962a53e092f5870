"""The map-side join example (jobs/broadcast_join.py) inline: on the bundled sample, and on
generated tables named by RANKINGS, against DuckDB (the reduce-side join's oracle)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import ROOT, load_bench
from tests.join_oracle import assert_same_as_duckdb
from zmr.runners.inline import run_inline

SAMPLE = os.path.join(ROOT, "data", "join")
JOB = os.path.join(ROOT, "jobs", "broadcast_join.py")


def test_broadcast_join_on_the_bundled_sample_equals_duckdb(tmp_path, monkeypatch):
    monkeypatch.delenv("RANKINGS", raising=False)
    result = run_inline(JOB, os.path.join(SAMPLE, "uservisits"), str(tmp_path / "out"),
                        split_size="64KB", reducers=2)
    assert result.num_maps > 1            # every map task loads the side files itself
    assert assert_same_as_duckdb(str(tmp_path / "out"), os.path.join(SAMPLE, "rankings"),
                                 os.path.join(SAMPLE, "uservisits")) > 100


def test_broadcast_join_ships_the_tables_rankings_names(tmp_path, monkeypatch):
    rankings, visits = load_bench("gen_join").generate(str(tmp_path / "t"), 900, 6000,
                                                       files=3, seed=5)
    monkeypatch.setenv("RANKINGS", rankings)         # read where the job is loaded
    run_inline(JOB, visits, str(tmp_path / "out"), split_size="64KB")
    assert assert_same_as_duckdb(str(tmp_path / "out"), rankings, visits) > 100


def test_broadcast_join_without_its_side_files_fails_naming_them(tmp_path, monkeypatch):
    monkeypatch.setenv("RANKINGS", str(tmp_path))      # no Parquet files there
    with pytest.raises(FileNotFoundError, match="rankings-\\*.parquet side file"):
        run_inline(JOB, os.path.join(SAMPLE, "uservisits"), str(tmp_path / "out"))
