"""PARTITIONER = "total_order": part files concatenated are globally sorted (inline runs
against Python's sorted), TeraSort's output equals the sorted records, bad combinations
are refused."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, load_bench, read_parts
from tests.unit.job.test_sorting import random_value, zmr_order
from zmr.core.errors import ConfigError
from zmr.runners.inline import run_inline
from zmr.tasks.sampling import MAX_SPLITS_SAMPLED

gen_terasort = load_bench("gen_terasort")


def identity_job(tmp_path) -> str:
    path = tmp_path / "sort.py"
    path.write_text("import json\nPARTITIONER = 'total_order'\n"
                    "def mapper(_w, line):\n    yield json.loads(line), None\n")
    return str(path)


@pytest.mark.parametrize("reducers,sample", [(4, 100000), (7, 50)])
def test_parts_concatenated_are_sorted_for_any_key_type(tmp_path, reducers, sample):
    rng = random.Random(reducers)
    keys = [random_value(rng) for _ in range(3000)]
    (tmp_path / "in.txt").write_text("".join(json.dumps(k) + "\n" for k in keys))
    run_inline(identity_job(tmp_path), [str(tmp_path / "in.txt")], str(tmp_path / "out"),
               reducers=reducers, sample_size=sample, split_size="4k")
    parts = read_parts(str(tmp_path / "out"))
    got = [k for part in parts for k, _ in part]
    assert got == sorted(keys, key=zmr_order)
    # the samples cut the range into useful pieces: no partition takes almost everything
    assert max(len(p) for p in parts) < len(keys) * 0.6


def test_terasort_output_is_the_sorted_records(tmp_path):
    paths = gen_terasort.generate(3000, str(tmp_path / "in"), files=3, seed=4)
    data = b"".join(Path(p).read_bytes() for p in paths)
    rows = sorted(data[i:i + 100] for i in range(0, len(data), 100))
    run_inline(os.path.join(EXAMPLES, "terasort.py"), [str(tmp_path / "in")],
               str(tmp_path / "out"), split_size="32k")
    parts = sorted(p for p in os.listdir(tmp_path / "out") if p.startswith("part-"))
    out = b"".join((tmp_path / "out" / p).read_bytes() for p in parts)
    assert out == b"".join(rows)
    assert all((tmp_path / "out" / p).stat().st_size > 0 for p in parts)


def test_total_order_with_group_by_keeps_groups_whole(tmp_path):
    rows = [(f"u{i % 37}", i) for i in range(2000)]
    (tmp_path / "in.txt").write_text("".join(f"{u} {n}\n" for u, n in rows))
    job = tmp_path / "g.py"
    job.write_text("PARTITIONER = 'total_order'\nGROUP_BY = 1\n"
                   "def mapper(_w, line):\n    u, n = line.split()\n    yield (u, int(n)), n\n"
                   "def reducer(key, values):\n    yield key[0], len(list(values))\n")
    run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "out"), reducers=5,
               sample_size=MAX_SPLITS_SAMPLED * 3, split_size="2k")
    got = [k for part in read_parts(str(tmp_path / "out")) for k, _ in part]
    assert got == sorted({u for u, _ in rows})


def test_total_order_is_refused_where_it_cannot_hold(tmp_path):
    (tmp_path / "in.txt").write_text("1\n")
    job = tmp_path / "p.py"
    job.write_text("PARTITIONER = 'total_order'\ndef mapper(_w, line):\n    yield line, 1\n"
                   "def partitioner(key, n):\n    return 0\n")
    with pytest.raises(ConfigError, match="and a partitioner function both"):
        run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "o"))
    with pytest.raises(ConfigError, match="partitioner_name must be one of hash, total_order"):
        run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "o"),
                   partitioner_name="range")
    steps = tmp_path / "s.py"
    steps.write_text("from zmr import Step\ndef m(_w, line):\n    yield line, 1\n"
                     "STEPS = [Step(mapper=m, partitioner='total_order'), Step(mapper=m)]\n")
    with pytest.raises(ConfigError, match="is for single-step jobs"):
        run_inline(str(steps), [str(tmp_path / "in.txt")], str(tmp_path / "o2"))


def test_sampling_runs_the_mapper_with_the_jobs_parameters(tmp_path):
    (tmp_path / "in.txt").write_text("".join(f"{i};x\n" for i in range(400)))
    job = tmp_path / "sep.py"
    job.write_text("import zmr\nPARTITIONER = 'total_order'\nPARAMS = {'sep': ','}\n"
                   "def mapper(_w, line):\n"
                   "    yield int(line.split(zmr.param('sep'))[0]), None\n")
    run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "out"), reducers=4,
               params={"sep": ";"}, split_size="1k")
    parts = read_parts(str(tmp_path / "out"))
    assert [k for part in parts for k, _ in part] == list(range(400))
    assert all(len(part) == 100 for part in parts)
