"""Generate the two tables of the join benchmark of Pavlo et al. (SIGMOD 2009, "A
Comparison of Approaches to Large-Scale Data Analysis"): ``Rankings`` as Parquet files and
``UserVisits`` as CSV files (with a header line), from a fixed seed (same bytes every time).

    python3 bench/gen_join.py OUT_DIR [--rankings 100000] [--visits 1000000] [--files 4]

writes ``OUT_DIR/rankings/part-NNNN.parquet`` (pageURL, pageRank, avgDuration) and
``OUT_DIR/uservisits/part-NNNN.csv`` (sourceIP, destURL, visitDate, adRevenue, userAgent,
countryCode, languageCode, searchWord, duration), the columns of the paper. Visited pages
follow a Zipf-like law, so some URLs get many visits; 5% of the visits go to pages not in
``Rankings`` (an inner join drops them). Visit dates are uniform over 2000-01-01 ..
2000-04-09, so the join query's week (2000-01-15 .. 2000-01-22) keeps about 8% of them.
The bundled sample ``data/join/`` is ``--rankings 400 --visits 3000 --files 2``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

AGENTS = ["Mozilla/5.0", "Opera/9.80", "Safari/533", "curl/7.68", "Wget/1.20"]
COUNTRIES = ["USA", "DEU", "FRA", "BRA", "IND", "JPN", "CHN", "GBR"]
LANGUAGES = ["en", "de", "fr", "pt", "hi", "ja", "zh"]
WORDS = ["data", "join", "query", "arrow", "zero", "map", "reduce", "shuffle", "disk"]
FIRST_DAY = datetime.date(2000, 1, 1)
DAYS = 100


def urls(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct page URLs."""
    return [f"http://{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=8))}.com/"
            f"page{i}.html" for i in range(count)]


def rankings(pages: list[str], seed: int) -> pa.Table:
    gen = np.random.default_rng(seed)
    return pa.table({"pageURL": pages,
                     "pageRank": gen.integers(1, 10_000, len(pages), dtype=np.int32),
                     "avgDuration": gen.integers(1, 300, len(pages), dtype=np.int32)})


def uservisits(pages: list[str], count: int, seed: int) -> pa.Table:
    gen = np.random.default_rng(seed + 1)
    ranked = np.minimum(gen.zipf(1.3, count) - 1, len(pages) - 1)
    missing = gen.random(count) < 0.05          # visits of pages Rankings does not have
    dest = [f"http://unranked.org/p{i}.html" if gone else pages[r]
            for i, (r, gone) in enumerate(zip(ranked.tolist(), missing.tolist()))]
    days = gen.integers(0, DAYS, count).tolist()
    return pa.table({
        "sourceIP": [f"{a}.{b}.{c}.{d}" for a, b, c, d in
                     gen.integers(1, 255, (count, 4)).tolist()],   # few enough to repeat
        "destURL": dest,
        "visitDate": [(FIRST_DAY + datetime.timedelta(days=d)).isoformat() for d in days],
        "adRevenue": np.round(gen.random(count) * 100, 2),
        "userAgent": gen.choice(AGENTS, count), "countryCode": gen.choice(COUNTRIES, count),
        "languageCode": gen.choice(LANGUAGES, count), "searchWord": gen.choice(WORDS, count),
        "duration": gen.integers(1, 100, count, dtype=np.int32)})


def generate(out: str, num_rankings: int, num_visits: int, files: int = 4,
             seed: int = 2009, ip_pool: int = 0) -> tuple[str, str]:
    """Write both tables under ``out`` in ``files`` files each; returns their two
    directories. ``ip_pool``: draw source IPs from that many (0: about visits / 4)."""
    rng = random.Random(seed)
    pages = urls(num_rankings, rng)
    ranks, visits = rankings(pages, seed), uservisits(pages, num_visits, seed)
    pool = ip_pool or max(1, num_visits // 4)
    ips = visits.column("sourceIP").to_pylist()[:pool]
    visits = visits.set_column(0, "sourceIP", pa.array([ips[i % pool] for i in
                                                        range(num_visits)]))
    dirs = os.path.join(out, "rankings"), os.path.join(out, "uservisits")
    for directory in dirs:
        os.makedirs(directory, exist_ok=True)
    for i in range(files):
        lo, hi = i * len(ranks) // files, (i + 1) * len(ranks) // files
        pq.write_table(ranks.slice(lo, hi - lo), os.path.join(dirs[0], f"part-{i:04}.parquet"),
                       row_group_size=64 << 10)
        lo, hi = i * num_visits // files, (i + 1) * num_visits // files
        pacsv.write_csv(visits.slice(lo, hi - lo), os.path.join(dirs[1], f"part-{i:04}.csv"),
                        pacsv.WriteOptions(quoting_style="none"))
    return dirs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--rankings", type=int, default=100_000)
    p.add_argument("--visits", type=int, default=1_000_000)
    p.add_argument("--files", type=int, default=4)
    p.add_argument("--seed", type=int, default=2009)
    args = p.parse_args()
    dirs = generate(args.out, args.rankings, args.visits, args.files, args.seed)
    sizes = [sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) for d in dirs]
    print(f"{dirs[0]}: {sizes[0] / 1e6:.1f} MB Parquet, {dirs[1]}: {sizes[1] / 1e6:.1f} MB CSV")


if __name__ == "__main__":
    main()
