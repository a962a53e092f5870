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
WHERE UV.visitDate BETWEEN '{first}' AND '{last}'
GROUP BY sourceIP
"""


WEEK = ("2000-01-15", "2000-01-22")


def duckdb_join(rankings: str, visits: str, days: tuple[str, str] = WEEK
                ) -> dict[str, tuple[float, float]]:
    """sourceIP -> (total revenue, average page rank) of the visits in ``days``, computed
    by DuckDB."""
    query = QUERY.format(rankings=rankings, visits=visits, first=days[0], last=days[1])
    rows = duckdb.sql(query).fetchall()
    return {ip: (revenue, rank) for ip, revenue, rank in rows}


def assert_same_as_duckdb(output: str, rankings: str, visits: str,
                          days: tuple[str, str] = WEEK) -> int:
    """The job's output equals DuckDB's answer (sums to 1e-9 relative: the additions run
    in another order); returns the number of source IPs."""
    got = read_output(output)
    want = duckdb_join(rankings, visits, days)
    assert set(got) == set(want) and want
    for ip, (revenue, rank) in want.items():
        assert math.isclose(got[ip][0], revenue, rel_tol=1e-9), ip
        assert math.isclose(got[ip][1], rank, rel_tol=1e-12), ip
    return len(want)
