"""Parquet output of a real cluster job is one dataset for DuckDB, and a bad record of a
CSV input fails the cluster job naming file and offset (the formats themselves:
tests/unit/storage/test_formats.py)."""

from __future__ import annotations

import os

import duckdb
import pytest

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, read_output, write_lines
from zmr.core.errors import JobFailedError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

RECORDS = os.path.join(JOBS, "records.py")
WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")


def test_cluster_parquet_output_is_one_duckdb_dataset(tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=300)
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "text"), reducers=4)
    expected = {str(k): v for k, v in read_output(str(tmp_path / "text")).items()}
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(WORDCOUNT, [inputs], str(tmp_path / "out"), reducers=4,
                                    output_format="parquet", split_size=4000)
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n3,4,5\n")
        failing = cluster.client.submit(RECORDS, [str(bad)], str(tmp_path / "bad-out"),
                                        input_format="csv")
        with pytest.raises(JobFailedError, match="bad.csv: bad record at byte 8"):
            failing.wait(timeout_s=PATIENT_S)
    rows = duckdb.sql(f"select key, value from '{tmp_path}/out/*.parquet'").fetchall()
    assert dict(rows) == expected and len(rows) == len(expected)
