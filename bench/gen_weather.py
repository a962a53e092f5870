"""Deterministic weather-station CSV in the spirit of the NCDC data the Hadoop book's
"maximum temperature per year" example reads: one file per year, a header line, rows
``station,date,temperature,quality``. Temperatures are tenths of a degree Celsius; 9999
means missing and quality codes other than 0, 1, 4, 5, 9 mean suspect (as in NCDC records).

    python3 bench/gen_weather.py OUT_DIR [--first-year 1990] [--years 10] [--stations 50]
                                 [--days 365] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import random


def year_rows(year: int, stations: int, days: int, rng: random.Random) -> list[str]:
    rows = []
    start = datetime.date(year, 1, 1)
    for day in range(days):
        date = start + datetime.timedelta(days=day * 365 // days)
        season = -math.cos(2 * math.pi * day / max(1, days))       # -1 in winter, 1 in summer
        for s in range(stations):
            if rng.random() < 0.03:
                temperature, quality = 9999, 9                        # missing reading
            else:
                temperature = round(100 + 150 * season + rng.gauss(0, 60) + (s % 7) * 10)
                quality = rng.choice([0, 1, 1, 1, 4, 5, 9, 2, 3])    # 2 and 3: suspect
            rows.append(f"{s:06d}-99999,{date.isoformat()},{temperature},{quality}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--first-year", type=int, default=1990)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for year in range(args.first_year, args.first_year + args.years):
        with open(os.path.join(args.out_dir, f"{year}.csv"), "w", encoding="utf-8") as f:
            f.write("station,date,temperature,quality\n")
            f.write("\n".join(year_rows(year, args.stations, args.days, rng)) + "\n")


if __name__ == "__main__":
    main()
