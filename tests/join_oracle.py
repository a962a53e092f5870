"""DuckDB as the oracle of the join example (jobs/join.py): the same query in SQL."""

from __future__ import annotations

import math

import duckdb

from tests.helpers import read_output

QUERY = """
SELECT sourceIP, SUM(adRevenue), AVG(pageRank)
FROM read_parquet('{rankings}/*.parquet') AS R
JOIN read_csv('{visits}/*.csv', header = true, types = {{'visitDate': 'VARCHAR'}}) AS UV
  ON R.pageURL = UV.destURL
WHERE UV.visitDate BETWEEN '2000-01-15' AND '2000-01-22'
GROUP BY sourceIP
"""


def duckdb_join(rankings: str, visits: str) -> dict[str, tuple[float, float]]:
    """sourceIP -> (total revenue, average page rank), computed by DuckDB."""
    rows = duckdb.sql(QUERY.format(rankings=rankings, visits=visits)).fetchall()
    return {ip: (revenue, rank) for ip, revenue, rank in rows}


def assert_same_as_duckdb(output: str, rankings: str, visits: str) -> int:
    """The job's output equals DuckDB's answer (sums to 1e-9 relative: the additions run
    in another order); returns the number of source IPs."""
    got = read_output(output)
    want = duckdb_join(rankings, visits)
    assert set(got) == set(want) and want
    for ip, (revenue, rank) in want.items():
        assert math.isclose(got[ip][0], revenue, rel_tol=1e-9), ip
        assert math.isclose(got[ip][1], rank, rel_tol=1e-12), ip
    return len(want)
