"""DuckDB (2 threads): jobs/secondary_sort.py in SQL, each user's visited URLs in time
order, written as zmr writes it (``user<TAB>["url", ...]`` lines).

    python bench/peers/duckdb_secondary_sort.py OUTPUT_FILE VISITS_DIR
"""

import json
import sys

import duckdb

QUERY = """
SELECT user, list(url ORDER BY time, url)
FROM read_csv('{visits}/*.csv', header = false,
              columns = {{'user': 'VARCHAR', 'time': 'VARCHAR', 'url': 'VARCHAR'}})
GROUP BY user
"""


def main() -> None:
    out, visits = sys.argv[1:3]
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    rows = con.execute(QUERY.format(visits=visits)).fetchall()
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(f"{user}\t{json.dumps(urls)}\n" for user, urls in rows)


if __name__ == "__main__":
    main()
