"""Map-side (broadcast) join: jobs/join.py's query, with the small table shipped to every
map task as side files and joined in the mapper, so only per-IP partial sums are shuffled.

    zmr run jobs/broadcast_join.py --input data/join/uservisits --output out/broadcast_join
    RANKINGS=/tmp/join/rankings zmr run jobs/broadcast_join.py -i /tmp/join/uservisits -o out

``RANKINGS`` (an environment variable, read where the job is loaded) names the directory
of the small table's Parquet files (``pageURL``, ``pageRank``; default: the bundled
sample ``data/join/rankings``); they are the job's side files (``FILES``), shipped once per
worker, and ``mapper_init`` loads them into a dict once per map task. The input is the
big table, ``UserVisits`` as CSV. Output lines equal jobs/join.py's:
``sourceIP<TAB>[revenue, avg rank]``. One step and no join shuffle instead of two, as long
as the small table fits in each task's memory (see "Map-side join" in
docs/guide/multiple-inputs.md).
"""

import glob
import os

import pyarrow.parquet as pq

import zmr

SMALL_TABLE = os.environ.get("RANKINGS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "join", "rankings")
#: each Parquet file of the small table, renamed so no two share a name in the task's
#: working directory (where side files land, under these names)
FILES = [f"{path}#rankings-{i:04d}.parquet" for i, path in
         enumerate(sorted(glob.glob(os.path.join(SMALL_TABLE, "*.parquet"))))]
PARAMS = {"first_day": "2000-01-15", "last_day": "2000-01-22"}   # the paper's week
INPUT_FORMAT = "csv"
INPUT_COLUMNS = ["sourceIP", "destURL", "visitDate", "adRevenue"]
INPUT_RECORDS = "tuple"
CSV_COLUMN_TYPES = {"visitDate": "string", "adRevenue": "double"}

ranks = {}                     # pageURL -> pageRank, loaded once per map task
week = ("", "")


def mapper_init():
    global ranks, week
    names = sorted(glob.glob("rankings-*.parquet"))     # the side files, by their names
    if not names:
        raise FileNotFoundError(f"no rankings-*.parquet side file in {os.getcwd()}: is "
                                f"RANKINGS a directory of Parquet files?")
    ranks = {}
    for name in names:
        table = pq.read_table(name, columns=["pageURL", "pageRank"])
        ranks.update(zip(table.column("pageURL").to_pylist(),
                         table.column("pageRank").to_pylist()))
    week = (zmr.param("first_day"), zmr.param("last_day"))


def mapper(_key, row):
    ip, url, day, revenue = row
    if week[0] <= day <= week[1]:       # ISO dates compare as strings
        rank = ranks.get(url)
        if rank is not None:            # inner join: a visit of an unranked page is dropped
            yield ip, (revenue, rank, 1)


def combiner(ip, values):
    revenue, rank_sum, visits = 0.0, 0, 0
    for r, rank, n in values:
        revenue, rank_sum, visits = revenue + r, rank_sum + rank, visits + n
    yield ip, (revenue, rank_sum, visits)


def reducer(ip, values):
    for _, (revenue, rank_sum, visits) in combiner(ip, values):
        yield ip, [revenue, rank_sum / visits]
