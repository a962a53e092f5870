"""Total-order sampling (zmr.tasks.sampling): the runs mapped by the map loop give the same
sample as mapping record by record (the reference, written out below), an error is raised
only for a record whose pairs the sample wanted, a batch mapper's sample is a column of
the same keys, and cut points of plain keys (as Python items or as an Arrow column) equal
``cut_points`` of each key's prefix."""

from __future__ import annotations

import itertools
import random

import pyarrow as pa
import pytest

from zmr.core.errors import JobContractError, TaskError
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions
from zmr.storage.ordering import KeyOrder, cut_points
from zmr.tasks import map_task, sampling

MAPPERS = {
    "one": "def mapper(w, line):\n    yield line[:3], line\n",
    "some": ("def mapper(w, line):\n    n = int(line) % 3\n"
             "    return [(int(line), w[1] + i) for i in range(n)] or None\n"),
    "bad_at_700": ("def mapper(w, line):\n    if line == '700':\n        raise KeyError(line)\n"
                   "    yield line, 1\n"),
    "not_pairs": "def mapper(w, line):\n    yield [line, 1]\n",
}


def planned(tmp_path, mapper: str, lines: int = 6000, split_size: str = "1k"):
    (tmp_path / "in.txt").write_text("".join(f"{i}\n" for i in range(lines)))
    (tmp_path / "job.py").write_text("PARTITIONER = 'total_order'\n" + MAPPERS[mapper])
    job = load_job(str(tmp_path / "job.py"))
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                    JobOptions(reducers=3, split_size=split_size))
    return job, plan


def reference_sample(job, plan, size):
    """The sample as it was taken before: every record mapped alone, islice per split."""
    count = min(sampling.MAX_SPLITS_SAMPLED, plan.num_maps)
    chosen = sorted({i * plan.num_maps // count for i in range(count)})
    per_split = -(-size // len(chosen))
    pairs = []
    for index in chosen:
        spec = plan.map_spec("sample", index, 0, "/tmp")

        def mapped(spec=spec):
            for piece, offsets, lines in map_task.input_records(spec):
                for offset, line in zip(offsets, lines):
                    yield from job.mapper((piece.path, offset), line) or ()
        pairs += itertools.islice(mapped(), per_split)
    return [k for k, _ in pairs]


@pytest.mark.parametrize("mapper", ["one", "some"])
@pytest.mark.parametrize("size", [1, 7, 100, 5000])
def test_sample_is_the_per_record_one(tmp_path, mapper, size, map_loops):
    job, plan = planned(tmp_path, mapper)
    assert plan.num_maps > sampling.MAX_SPLITS_SAMPLED
    assert sampling.sample_keys(job, plan, size) == reference_sample(job, plan, size)


def test_a_failing_record_beyond_the_sample_is_never_reported(tmp_path, map_loops):
    job, plan = planned(tmp_path, "bad_at_700", lines=800, split_size="64k")
    assert plan.num_maps == 1
    keys = sampling.sample_keys(job, plan, 600)
    assert keys == [str(i) for i in range(600)]
    with pytest.raises(TaskError, match=r"the mapper raised on .*in.txt at 2690: KeyError"):
        sampling.sample_keys(job, plan, 750)


def test_pairs_of_another_shape_are_refused(tmp_path):
    job, plan = planned(tmp_path, "not_pairs", lines=50)
    with pytest.raises(JobContractError, match=r"mapper must yield \(key, value\) pairs"):
        sampling.sample_keys(job, plan, 10)


@pytest.mark.parametrize("kind", ["bytes", "str", "int", "mixed"])
@pytest.mark.parametrize("partitions", [2, 5, 40])
def test_cuts_of_plain_keys_are_cut_points(kind, partitions):
    rng = random.Random(partitions)
    make = {"bytes": lambda: bytes(rng.choice([0, 255, 7]) for _ in range(rng.randrange(3))),
            "str": lambda: rng.choice(["", "a", "\x00", "é", "b"]) * rng.randrange(3),
            "int": lambda: rng.randrange(-5, 5),
            "mixed": lambda: rng.choice([1, "a", b"b", (1,), 2.5])}[kind]
    keys = [make() for _ in range(500)]
    order = KeyOrder(total_order=True)
    expected = cut_points([order.key_prefix(k) for k in keys], partitions)
    assert sampling._cuts(order, keys, partitions) == expected


def test_cuts_under_group_by_keep_the_scalar_path():
    keys = [(i % 7, str(i)) for i in range(100)]
    order = KeyOrder(group_by=1, total_order=True)
    assert sampling._cuts(order, keys, 4) == cut_points([order.key_prefix(k) for k in keys], 4)


@pytest.mark.parametrize("kind", ["bytes", "str", "int", "mixed"])
@pytest.mark.parametrize("partitions", [2, 5, 40])
def test_cuts_of_a_key_column_are_those_of_its_items(kind, partitions):
    # a batch mapper's keys are cut as a column (encoded and sorted by Arrow and numpy)
    rng = random.Random(partitions)
    make = {"bytes": lambda: bytes(rng.choice([0, 255, 7]) for _ in range(rng.randrange(3))),
            "str": lambda: rng.choice(["", "a", "\x00", "é", "b"]) * rng.randrange(3),
            "int": lambda: rng.randrange(-5, 5),
            "mixed": lambda: rng.choice([1.5, 2.5, None])}[kind]
    keys = [make() for _ in range(500)]
    order = KeyOrder(total_order=True)
    assert sampling._cuts(order, pa.array(keys), partitions) == sampling._cuts(
        order, keys, partitions)


def test_a_batch_mappers_sample_is_a_column_of_the_same_keys(tmp_path):
    (tmp_path / "in.dat").write_bytes(bytes(range(256)) * 40)       # 1,024 records of 10
    settings = "PARTITIONER = 'total_order'\nINPUT_FORMAT = 'fixed:10'\n"
    (tmp_path / "batch.py").write_text(
        settings + "import pyarrow.compute as pc\ndef map_batch(batch):\n"
        "    r = batch.column('record')\n"
        "    return {'key': pc.binary_slice(r, 3, 6), 'value': r}\n")
    (tmp_path / "records.py").write_text(
        settings + "def mapper(where, record):\n    yield record[3:6], record\n")
    samples = []
    for name in ("batch.py", "records.py"):
        job = load_job(str(tmp_path / name))
        plan = plan_job(job, [str(tmp_path / "in.dat")], str(tmp_path / "out"),
                        JobOptions(reducers=3, split_size="800"))
        samples.append(sampling.sample_keys(job, plan, 700))
    column, keys = samples
    assert isinstance(column, pa.Array) and column.to_pylist() == keys and len(keys) == 700
