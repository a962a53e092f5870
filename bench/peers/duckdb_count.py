"""DuckDB (its own threads, 2 cores): lines read as one text column, tokens with
regexp_extract_all, counted with GROUP BY.

    python bench/peers/duckdb_count.py [--bigram] OUTPUT_FILE INPUT_FILE...
"""

import duckdb
from common import WORD_SQL, parse_args, write_counts


def main() -> None:
    bigram, out, paths = parse_args()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    files = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
    lines = (f"SELECT regexp_extract_all(lower(line), '{WORD_SQL}') AS w FROM read_csv("
             f"{files}, columns={{'line': 'VARCHAR'}}, header=false, delim='\\x01', quote='',"
             " escape='', auto_detect=false)")
    if bigram:
        pairs = "list_transform(range(1, len(w)), lambda i: w[i] || ' ' || w[i + 1])"
        keys = f"SELECT unnest({pairs}) AS k FROM ({lines})"
    else:
        keys = f"SELECT unnest(w) AS k FROM ({lines})"
    rows = con.execute(f"SELECT k, count(*) FROM ({keys}) GROUP BY k").fetchall()
    write_counts(out, rows)


if __name__ == "__main__":
    main()
