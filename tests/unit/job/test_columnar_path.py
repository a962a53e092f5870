"""The columnar path (issue 29) against the scalar one, whole jobs through run_inline: with
the bulk code switched off (``scalar_path``: no key ever has a "plain" shape, the identity
reduce goes through the per-pair loop) every part file is byte-identical and the counters
are the same. Tiny memory budgets make several spills and merges, several reducers several
ranges; each output format is written both ways."""

from __future__ import annotations

import json
import os
import random

import pytest

from tests.helpers import EXAMPLES, load_bench, output_bytes
from zmr.job.loader import load_job
from zmr.runners.inline import run_inline
from zmr.settings.job import JobOptions
from zmr.storage import columnar
from zmr.tasks import collector, reduce_task, sampling

gen_terasort = load_bench("gen_terasort")
COUNTERS = ("MAP_OUTPUT_RECORDS", "REDUCE_INPUT_RECORDS", "REDUCE_INPUT_GROUPS",
            "REDUCE_OUTPUT_RECORDS", "BYTES_WRITTEN", "SPILLED_RECORDS")


def columnar_spills(monkeypatch) -> list:
    """Counts the spills the columnar path makes (to check that it was taken)."""
    calls: list = []
    tables = collector.sorted_run_tables
    monkeypatch.setattr(collector, "sorted_run_tables",
                        lambda *args: calls.append(1) or tables(*args))
    return calls


def both_paths(monkeypatch, tmp_path, job, inputs, **options):
    """(columnar run, scalar run): their output bytes, counters and sorted runs spilled."""
    runs = []
    for name in ("columnar", "scalar"):
        spills = []
        new_run = collector.MapOutputCollector._new_run
        with monkeypatch.context() as patch:
            patch.setattr(collector.MapOutputCollector, "_new_run",
                          lambda self: spills.append(1) or new_run(self))
            if name == "scalar":
                patch.setattr(columnar, "plain_column", lambda items: None)
                patch.setattr(reduce_task, "_is_identity", lambda job: False)
            out = str(tmp_path / name)
            result = run_inline(job, inputs, out, **options)
        counters = result.counters["zmr"]
        runs.append((output_bytes(out), {c: counters.get(c) for c in COUNTERS}, len(spills)))
    return runs


def test_terasort_is_byte_identical_to_the_scalar_path_and_sorted(monkeypatch, tmp_path):
    # two maps of 4,500 records: each spills at 4,096 and merges its two runs
    taken = columnar_spills(monkeypatch)
    paths = gen_terasort.generate(9000, str(tmp_path / "in"), files=1, seed=8)
    fast, scalar = both_paths(monkeypatch, tmp_path, os.path.join(EXAMPLES, "terasort.py"),
                              [str(tmp_path / "in")], reducers=5, split_size="450k",
                              memory_budget="96k")
    assert fast == scalar
    data = b"".join(open(p, "rb").read() for p in paths)
    records = sorted(data[i:i + 100] for i in range(0, len(data), 100))
    assert b"".join(fast[0].values()) == b"".join(records)
    assert fast[2] == 4 == len(taken)     # two runs per map task, merged


def test_terasorts_batch_mapper_equals_its_per_record_mapper(monkeypatch, tmp_path):
    # jobs/terasort.py maps columns (map_batch over the fixed:100 records); the same job
    # with a per-record mapper samples the same cuts and writes the same bytes
    paths = gen_terasort.generate(6000, str(tmp_path / "in"), files=2, seed=9)
    jobs = {"batch": os.path.join(EXAMPLES, "terasort.py"),
            "records": os.path.join(os.path.dirname(EXAMPLES), "tests", "jobs",
                                    "terasort_records.py")}
    outputs, cuts = {}, {}
    for name, job in jobs.items():
        plan = sampling.plan_sorted_job(load_job(job), [str(tmp_path / "in")],
                                        str(tmp_path / "plan"), JobOptions(reducers=3))
        cuts[name] = plan.ordering["cuts"]
        run_inline(job, [str(tmp_path / "in")], str(tmp_path / name), reducers=3,
                   split_size="200k", memory_budget="256k")
        outputs[name] = output_bytes(str(tmp_path / name))
    assert cuts["batch"] == cuts["records"] and len(cuts["batch"]) == 2
    assert outputs["batch"] == outputs["records"]
    data = b"".join(open(p, "rb").read() for p in paths)
    assert b"".join(outputs["batch"].values()) == b"".join(
        sorted(data[i:i + 100] for i in range(0, len(data), 100)))


def job_file(tmp_path, settings: str, mapper: str) -> str:
    path = tmp_path / "job.py"
    path.write_text("import json\n" + settings + "\ndef mapper(_w, line):\n" + mapper)
    return str(path)


KEYS_AND_VALUES = {
    # a word and a number per line: str keys, int values
    "str-int": "    k, v = line.split(' ')\n    yield k, int(v)\n",
    "int-str": "    k, v = line.split(' ')\n    yield int(v) % 97, k\n",
    "bytes-bytes": "    k, v = line.split(' ')\n    yield k.encode()[:2], v.encode()\n",
    # keys of two types: the scalar path all along (text in every Parquet part)
    "mixed": "    k, v = line.split(' ')\n    yield (k if int(v) % 2 else (k, 1)), v\n",
}


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv", "parquet", "value"])
@pytest.mark.parametrize("shape", sorted(KEYS_AND_VALUES))
@pytest.mark.parametrize("settings", ["SORT_VALUES = True\nPARTITIONER = 'total_order'",
                                      "SORT_VALUES = True", "PARTITIONER = 'total_order'",
                                      "# plain key order: only the reduce side is columnar"])
def test_identity_jobs_are_byte_identical_to_the_scalar_path(monkeypatch, tmp_path, fmt,
                                                             shape, settings):
    rng = random.Random(3)
    words = ["a", "b\\tq", "é", "", "zz", "a\\x00"]
    lines = [f"{json.loads(json.dumps(rng.choice(words)))} {rng.randrange(-50, 10**4)}"
             for _ in range(3000)]
    (tmp_path / "in.txt").write_text("\n".join(line.replace(" ", "_", line.count(" ") - 1)
                                               for line in lines) + "\n")
    job = job_file(tmp_path, settings, KEYS_AND_VALUES[shape])
    taken = columnar_spills(monkeypatch)
    fast, scalar = both_paths(monkeypatch, tmp_path, job, [str(tmp_path / "in.txt")],
                              reducers=3, split_size="8k", memory_budget="64k",
                              output_format=fmt)
    assert fast == scalar
    assert fast[1]["REDUCE_OUTPUT_RECORDS"] == 3000
    columnar_map_side = shape != "mixed" and not settings.startswith("#")
    assert (len(taken) == fast[2] > 0) == columnar_map_side
