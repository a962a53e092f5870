"""DuckDB (2 threads): the join task of jobs/join.py in SQL, written as zmr writes it
(``sourceIP<TAB>[revenue, avg rank]`` lines).

    python bench/peers/duckdb_join.py OUTPUT_FILE RANKINGS_DIR USERVISITS_DIR
"""

import json
import sys

import duckdb

QUERY = """
SELECT sourceIP, SUM(adRevenue), AVG(pageRank)
FROM read_parquet('{rankings}/*.parquet') AS R
JOIN read_csv('{visits}/*.csv', header = true, types = {{'visitDate': 'VARCHAR'}}) AS UV
  ON R.pageURL = UV.destURL
WHERE UV.visitDate BETWEEN '2000-01-15' AND '2000-01-22'
GROUP BY sourceIP
"""


def main() -> None:
    out, rankings, visits = sys.argv[1:4]
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    rows = con.execute(QUERY.format(rankings=rankings, visits=visits)).fetchall()
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(f"{ip}\t{json.dumps([revenue, rank])}\n" for ip, revenue, rank in rows)


if __name__ == "__main__":
    main()
