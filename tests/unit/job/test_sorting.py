"""Secondary sort (SORT_VALUES, GROUP_BY) through run_inline, against plain-Python oracles.

The oracle sorts with Python's own comparisons inside zmr's documented type order
(None < bool < int < float < str < bytes < tuple < list), so it does not share the
engine's byte encoding. Tiny memory budgets force several spills and merge passes, so the
external sort is what is checked, not an in-memory one."""

from __future__ import annotations

import collections
import json
import os
import random

import pytest

from tests.helpers import EXAMPLES, JOBS, read_parts
from zmr.core.errors import ConfigError
from zmr.runners.inline import run_inline
from zmr.storage import codec
from zmr.storage.ordering import KeyOrder, cut_points

TYPE_RANK = {type(None): 0, bool: 1, int: 2, float: 3, str: 4, list: 7}


def zmr_order(value):
    """zmr's total order in plain Python: by type, then value (lists element by element)."""
    if isinstance(value, list):
        return (TYPE_RANK[list], [zmr_order(v) for v in value])
    return (TYPE_RANK[type(value)], value)


def random_value(rng: random.Random):
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randrange(-10**6, 10**6)
    if kind == 1:
        return rng.uniform(-1e3, 1e3)
    if kind == 2:
        return "".join(rng.choice("abcé\x00z") for _ in range(rng.randrange(4)))
    if kind == 3:
        return [rng.randrange(5), rng.choice("xyz")]
    return rng.choice([None, True, False, 7, 7.5])


def write_records(path, n: int, keys: int, seed: int = 5) -> dict[str, list]:
    rng = random.Random(seed)
    expected = collections.defaultdict(list)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            key, value = f"k{rng.randrange(keys)}", random_value(rng)
            expected[key].append(value)
            f.write(f"{key} {json.dumps(value)}\n")
    return {k: sorted(v, key=zmr_order) for k, v in expected.items()}


@pytest.mark.parametrize("reducers,memory", [(1, "64MB"), (3, "32k"), (5, "8k")])
def test_sort_values_reach_the_reducer_sorted(tmp_path, reducers, memory):
    expected = write_records(tmp_path / "in.txt", 20000, keys=40)
    result = run_inline(os.path.join(JOBS, "sorted_values.py"), [str(tmp_path / "in.txt")],
                        str(tmp_path / "out"), reducers=reducers, memory_budget=memory,
                        split_size="1MB")
    got = {k: v for part in read_parts(str(tmp_path / "out")) for k, v in part}
    assert got == expected
    if memory != "64MB":     # the external sort ran: several runs, merged in passes
        assert result.counters["zmr"]["SPILLED_RECORDS"] > 20000


def test_sort_values_as_an_option_and_a_step_keyword(tmp_path):
    (tmp_path / "in.txt").write_text("a 3\na 1\nb 2\na 2\nb -1\n")
    job = tmp_path / "plain.py"
    job.write_text("def mapper(_k, line):\n    k, v = line.split()\n    yield k, int(v)\n"
                   "def reducer(k, vs):\n    yield k, list(vs)\n")
    run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "out"), sort_values=True)
    assert read_parts(str(tmp_path / "out")) == [[("a", [1, 2, 3]), ("b", [-1, 2])]]
    steps = tmp_path / "steps.py"
    steps.write_text(job.read_text().replace("mapper", "_map").replace("reducer", "_red")
                     + "from zmr import Step\nSTEPS = [Step(mapper=_map, reducer=_red, "
                     "sort_values=True), Step(reducer=_red)]\n")
    run_inline(str(steps), [str(tmp_path / "in.txt")], str(tmp_path / "out2"))
    assert read_parts(str(tmp_path / "out2")) == [[("a", [[1, 2, 3]]), ("b", [[-1, 2]])]]


def visits(path, n: int, users: int, seed: int = 9) -> dict[str, list[str]]:
    rng = random.Random(seed)
    rows = [(f"u{rng.randrange(users)}", f"2026-{rng.randrange(1, 13):02}-"
             f"{rng.randrange(1, 29):02}", f"/p{i}") for i in range(n)]
    path.write_text("".join(f"{u},{d},{url}\n" for u, d, url in rows))
    by_user = collections.defaultdict(list)
    for user, date, url in sorted(rows, key=lambda r: (r[0], r[1])):
        by_user[user].append((date, url))
    return by_user


@pytest.mark.parametrize("reducers,memory", [(1, "64MB"), (4, "16k")])
def test_group_by_partitions_and_groups_on_the_first_element(tmp_path, reducers, memory):
    by_user = visits(tmp_path / "visits.csv", 4000, users=30)
    run_inline(os.path.join(EXAMPLES, "secondary_sort.py"), [str(tmp_path / "visits.csv")],
               str(tmp_path / "out"), reducers=reducers, memory_budget=memory,
               split_size="8k")
    parts = read_parts(str(tmp_path / "out"))
    got = [pair for part in parts for pair in part]
    assert sorted(u for u, _ in got) == sorted(by_user)      # one group per user
    for user, urls in got:
        assert sorted(urls) == sorted(url for _, url in by_user[user])
        url_dates = dict((url, date) for date, url in by_user[user])
        assert [url_dates[u] for u in urls] == sorted(url_dates[u] for u in urls)


def test_sorting_settings_that_cannot_hold_are_refused(tmp_path):
    (tmp_path / "in.txt").write_text("a 1\n")
    job = os.path.join(JOBS, "sorted_values.py")
    with pytest.raises(ConfigError, match="SORT_VALUES and GROUP_BY work without a combiner"):
        run_inline(job, [str(tmp_path / "in.txt")], str(tmp_path / "o1"),
                   reducer_as_combiner=True)
    with pytest.raises(ConfigError, match="map-only"):
        run_inline(job, [str(tmp_path / "in.txt")], str(tmp_path / "o2"), reducers=0)
    with pytest.raises(ConfigError, match="--group-by|group_by"):
        run_inline(job, [str(tmp_path / "in.txt")], str(tmp_path / "o3"), group_by=-1)


def test_group_by_needs_composite_keys(tmp_path):
    (tmp_path / "in.txt").write_text("a 1\n")
    with pytest.raises(Exception, match=r"GROUP_BY = 2 needs keys that are tuples"):
        run_inline(os.path.join(JOBS, "sorted_values.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / "out"), group_by=2)


def test_group_prefixes_order_and_group_like_their_first_elements():
    rng = random.Random(3)
    keys = [(random_value(rng), random_value(rng), rng.random()) for _ in range(2000)]
    order = KeyOrder(group_by=1)
    encoded = sorted(codec.encode_key(k) for k in keys)
    prefixes = [order.group_prefix(e) for e in encoded]
    assert prefixes == sorted(prefixes)          # sorted keys have sorted prefixes
    firsts = [zmr_order(codec.decode_key(e)[0]) for e in encoded]
    for (p, f), (q, g) in zip(zip(prefixes, firsts), zip(prefixes[1:], firsts[1:])):
        assert (p == q) == (f == g)
    values = KeyOrder(sort_values=True)
    pair = codec.encode_key((("x", 1), [2]))
    assert values.group_prefix(pair) == codec.encode_key(("x", 1))
    assert values.user_key(pair) == ("x", 1)


def test_cut_points_split_samples_into_equal_ranges():
    samples = [codec.encode_key(i) for i in range(1000)]
    cuts = cut_points(samples, 4)
    assert [codec.decode_key(c) for c in cuts] == [250, 500, 750]
    assert cut_points([codec.encode_key(1)] * 50, 4) == (codec.encode_key(1),)
    assert cut_points([], 3) == ()
