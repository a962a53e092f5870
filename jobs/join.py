"""Reduce-side join of a Parquet table and a CSV file: the join task of Pavlo et al.
(SIGMOD 2009). For each source IP, the ad revenue of its visits in one week and the average
rank of the pages it visited then::

    SELECT sourceIP, SUM(adRevenue), AVG(pageRank)
    FROM rankings JOIN uservisits ON pageURL = destURL
    WHERE visitDate BETWEEN '2000-01-15' AND '2000-01-22' GROUP BY sourceIP

    zmr run jobs/join.py --output out/join                    # the sample in data/join/
    zmr run join -i rankings=R_DIR -i visits=V_DIR -o out/join    # other data
    zmr run join -o out/feb --param first_day=2000-02-01 --param last_day=2000-02-29

Two inputs, each in its own format with its own mapper (``INPUTS``); step 1 joins the
two on the URL (values sorted, so each URL's ranking comes before its visits and the join
streams), step 2 adds up per IP. Output lines: ``sourceIP<TAB>[revenue, avg rank]``.
Data of any size: ``python3 bench/gen_join.py DIR``.
"""

import zmr

PARAMS = {"first_day": "2000-01-15", "last_day": "2000-01-22"}   # the paper's week
RANKING, VISIT = 0, 1          # tags: which table a joined value came from
week = ("", "")                # (first day, last day), read once per map task


def map_rankings(key, row):
    url, rank = row
    yield url, (RANKING, rank)


def read_week():
    global week
    week = (zmr.param("first_day"), zmr.param("last_day"))


def map_visits(key, row):
    ip, url, day, revenue = row
    if week[0] <= day <= week[1]:       # ISO dates compare as strings
        yield url, (VISIT, ip, revenue)


INPUTS = [
    zmr.Input("data/join/rankings/*.parquet", name="rankings", format="parquet",
              columns=["pageURL", "pageRank"], records="tuple", mapper=map_rankings),
    zmr.Input("data/join/uservisits/", name="visits", format="csv",
              columns=["sourceIP", "destURL", "visitDate", "adRevenue"], records="tuple",
              column_types={"visitDate": "string", "adRevenue": "double"},
              mapper_init=read_week, mapper=map_visits),
]


def join(url, values):
    """A URL's ranking with each of its visits, as they stream past: step 1 sorts values
    (``sort_values=True``), so the ranking, tagged 0, comes before the visits, tagged 1,
    and no visit is held back; a URL without a ranking joins nothing."""
    first = next(values)
    if first[0] != RANKING:
        return
    rank = first[1]
    for _, ip, revenue in values:
        yield ip, (revenue, rank, 1)


def partial_sums(ip, values):
    revenue, ranks, visits = 0.0, 0, 0
    for r, rank, n in values:
        revenue, ranks, visits = revenue + r, ranks + rank, visits + n
    yield ip, (revenue, ranks, visits)


def per_ip(ip, values):
    for _, (revenue, ranks, visits) in partial_sums(ip, values):
        yield ip, [revenue, ranks / visits]


STEPS = [zmr.Step(reducer=join, sort_values=True),
         zmr.Step(combiner=partial_sums, reducer=per_ip)]
