"""Fixed-length records (INPUT_FORMAT = "fixed:N"), read record by record or as columns
for ``map_batch``, and the one-field/fixed output formats."""

from __future__ import annotations

import gzip
import os

import pyarrow as pa
import pytest

from zmr.core.errors import ConfigError, InputError
from zmr.runners.inline import run_inline
from zmr.storage.splits import iter_split_fixed, iter_split_fixed_columns, plan_splits


def records(n: int, size: int = 10, seed: int = 0) -> list[bytes]:
    return [bytes((seed + i * 7 + j) % 256 for j in range(size - 1)) + b"\n" for i in range(n)]


@pytest.mark.parametrize("split_size", [10, 25, 64, 1000, 1 << 20])
def test_splits_align_to_records_and_read_each_once(tmp_path, split_size):
    data = records(57)
    (tmp_path / "a.dat").write_bytes(b"".join(data))
    (tmp_path / "b.dat").write_bytes(b"".join(data[:3]))
    splits = plan_splits([str(tmp_path / "a.dat"), str(tmp_path / "b.dat")], split_size,
                         "fixed:10")
    got = []
    for split in splits:
        for piece in split.pieces():
            assert piece.start % 10 == 0 and piece.length % 10 == 0
            for offsets, recs in iter_split_fixed(piece):
                got += [(piece.path, o, r) for o, r in zip(offsets, recs)]
    expected = [(str(tmp_path / "a.dat"), i * 10, r) for i, r in enumerate(data)]
    expected += [(str(tmp_path / "b.dat"), i * 10, r) for i, r in enumerate(data[:3])]
    assert sorted(got) == sorted(expected)


def test_a_file_that_is_not_whole_records_is_named(tmp_path):
    (tmp_path / "bad.dat").write_bytes(b"x" * 25)
    with pytest.raises(InputError, match=r"bad.dat: 25 bytes is not a whole number of "
                                         r"10-byte records"):
        plan_splits([str(tmp_path / "bad.dat")], 1000, "fixed:10")
    with gzip.open(tmp_path / "short.dat.gz", "wb") as f:
        f.write(b"y" * 25)
    (split,) = plan_splits([str(tmp_path / "short.dat.gz")], 1000, "fixed:10")
    with pytest.raises(InputError, match=r"short.dat.gz: the record at byte 20 is cut short"):
        list(iter_split_fixed(split))


def test_bad_fixed_formats_are_config_errors(tmp_path):
    (tmp_path / "in.dat").write_bytes(b"x" * 10)
    for bad in ("fixed:0", "fixed:", "fixed:ten", "fixed"):
        with pytest.raises(ConfigError, match="input_format"):
            run_inline(_job(tmp_path, "k"), [str(tmp_path / "in.dat")], str(tmp_path / "o"),
                       input_format=bad)


def _job(tmp_path, body: str, name: str = "job.py") -> str:
    path = tmp_path / name
    path.write_text(f"def mapper(where, record):\n    yield {body}\n")
    return str(path)


def test_fixed_records_map_only_to_key_and_value_outputs(tmp_path):
    data = records(40)
    (tmp_path / "in.dat").write_bytes(b"".join(data))
    job = _job(tmp_path, "record.hex(), where[1]")
    run_inline(job, [str(tmp_path / "in.dat")], str(tmp_path / "keys"), reducers=0,
               input_format="fixed:10", output_format="key", split_size="100")
    lines = [ln for p in sorted(os.listdir(tmp_path / "keys")) if p.startswith("part-")
             for ln in (tmp_path / "keys" / p).read_text().splitlines()]
    assert lines == [r.hex() for r in data]
    run_inline(job, [str(tmp_path / "in.dat")], str(tmp_path / "values"), reducers=1,
               input_format="fixed:10", output_format="value")
    offsets = (tmp_path / "values" / "part-00000").read_text().splitlines()
    assert sorted(map(int, offsets)) == [i * 10 for i in range(40)]


def test_fixed_output_writes_bytes_values_back_to_back(tmp_path):
    data = records(30, seed=3)
    (tmp_path / "in.dat").write_bytes(b"".join(data))
    run_inline(_job(tmp_path, "record, record"), [str(tmp_path / "in.dat")],
               str(tmp_path / "out"), reducers=1, input_format="fixed:10",
               output_format="fixed")
    assert (tmp_path / "out" / "part-00000").read_bytes() == b"".join(sorted(data))
    with pytest.raises(Exception, match=r'OUTPUT_FORMAT = "fixed" writes bytes values'):
        run_inline(_job(tmp_path, "record, 1", "ints.py"), [str(tmp_path / "in.dat")],
                   str(tmp_path / "out2"), reducers=1, input_format="fixed:10",
                   output_format="fixed")


@pytest.mark.parametrize("split_size", [10, 70, 1000])
def test_record_columns_are_the_records(tmp_path, split_size):
    # map_batch's reader: the same records and offsets as the per-record one, as one
    # binary column per batch over the bytes read, gzip included
    data = records(5000, seed=5)
    (tmp_path / "a.dat").write_bytes(b"".join(data))
    with gzip.open(tmp_path / "b.dat.gz", "wb") as f:
        f.write(b"".join(data[:900]))
    for split in plan_splits([str(tmp_path / "a.dat"), str(tmp_path / "b.dat.gz")],
                             split_size, "fixed:10"):
        for piece in split.pieces():
            expected = [(o, r) for offsets, recs in iter_split_fixed(piece)
                        for o, r in zip(offsets, recs)]
            got = []
            for offsets, column in iter_split_fixed_columns(piece, 64):
                assert column.type == pa.binary() and len(offsets) == len(column)
                got += zip(offsets.tolist(), column.to_pylist())
            assert got == expected


def test_a_batch_mapper_reads_fixed_records_as_a_binary_column(tmp_path):
    data = records(300, seed=9)
    (tmp_path / "in.dat").write_bytes(b"".join(data))
    job = tmp_path / "batch.py"
    job.write_text("import pyarrow.compute as pc\n"
                   "def map_batch(batch):\n"
                   "    assert batch.schema.names == ['path', 'offset', 'record']\n"
                   "    records = batch.column('record')\n"
                   "    return {'key': pc.binary_slice(records, 2, 5), 'value': records}\n")
    run_inline(str(job), [str(tmp_path / "in.dat")], str(tmp_path / "out"), reducers=1,
               input_format="fixed:10", output_format="fixed", split_size="1000")
    expected = sorted(data, key=lambda r: r[2:5])      # stable: equal keys in input order
    assert (tmp_path / "out" / "part-00000").read_bytes() == b"".join(expected)
