"""Input formats (CSV, JSON lines, Parquet, Arrow IPC) split and read through pyarrow, and
output formats (JSON lines, CSV, Parquet) written and read back, inline (a real cluster's
Parquet output read by DuckDB: tests/storage/test_formats_cluster.py)."""

from __future__ import annotations

import csv
import glob
import json
import os

import duckdb
import polars
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tests.helpers import EXAMPLES, JOBS, read_output, write_lines
from zmr.core.errors import InputError, OutputError, ZmrError
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.runners.inline import run_inline
from zmr.settings.job import JobOptions
from zmr.storage.input_formats import iter_record_batches, records
from zmr.storage.splits import iter_split_lines, plan_splits

RECORDS = os.path.join(JOBS, "records.py")
WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")
ROWS = [{"name": f"n{i}", "score": i * 3, "ratio": i / 4} for i in range(200)]


def _csv(tmp_path, rows=ROWS) -> str:
    path = tmp_path / "in" / "t.csv"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["name", "score", "ratio"])
        writer.writeheader()
        writer.writerows(rows)
        f.write("\n")                                   # a blank line is not a record
    return str(path)


def _by_position(out: str) -> list:
    return [v for _, v in sorted(read_output(out).items())]


@pytest.mark.parametrize("split_size", [7, 100, 1 << 20])
def test_csv_records_are_read_once_whatever_the_split(tmp_path, split_size):
    path = _csv(tmp_path)
    run_inline(RECORDS, [path], str(tmp_path / "out"), input_format="csv",
               split_size=split_size)
    assert _by_position(str(tmp_path / "out")) == ROWS
    offsets = sorted(read_output(str(tmp_path / "out")))
    with open(path, "rb") as f:
        data = f.read()
    assert all(data[o - 1:o] == b"\n" for o in offsets)   # keys are line start offsets


def test_jsonl_and_tuple_records(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    run_inline(RECORDS, [str(path)], str(tmp_path / "out"), input_format="jsonl",
               split_size=300)
    assert _by_position(str(tmp_path / "out")) == ROWS
    job = tmp_path / "tuples.py"
    job.write_text(open(RECORDS).read() + '\nINPUT_FORMAT = "jsonl"\nINPUT_RECORDS = "tuple"\n'
                   'INPUT_COLUMNS = ["score", "name"]\n')
    run_inline(str(job), [str(path)], str(tmp_path / "tuples"), split_size=300)
    assert _by_position(str(tmp_path / "tuples")) == [[r["score"], r["name"]] for r in ROWS]


def test_parquet_splits_by_row_group_with_projection(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path, row_group_size=30)     # 7 row groups
    job = load_job(RECORDS)
    plan = plan_job(job, [str(path)], str(tmp_path / "x"),
                    JobOptions(input_format="parquet", split_size=1))
    assert [(s.start, s.length) for s in plan.splits] == [(i, 1) for i in range(7)]
    spec = tmp_path / "proj.py"
    spec.write_text(open(RECORDS).read() + '\nINPUT_COLUMNS = ["score"]\n')
    run_inline(str(spec), [str(path)], str(tmp_path / "out"), input_format="parquet",
               split_size=1)
    out = read_output(str(tmp_path / "out"))
    assert sorted(out) == list(range(200))                  # keys are row numbers
    assert [out[i] for i in range(200)] == [{"score": r["score"]} for r in ROWS]


def test_arrow_ipc_file_splits_by_batch(tmp_path):
    path = tmp_path / "t.arrow"
    table = pa.Table.from_pylist(ROWS)
    with pa.ipc.new_file(str(path), table.schema) as writer:
        for batch in table.to_batches(max_chunksize=25):
            writer.write_batch(batch)
    run_inline(RECORDS, [str(path)], str(tmp_path / "out"), input_format="ipc", split_size=1)
    assert _by_position(str(tmp_path / "out")) == ROWS


def _write(tmp_path, fmt: str) -> str:
    """ROWS in ``fmt``, in several row groups or batches for the table formats."""
    path = str(tmp_path / f"t.{fmt}")
    table = pa.Table.from_pylist(ROWS)
    if fmt == "csv":
        return _csv(tmp_path)
    if fmt == "jsonl":
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in ROWS)
    elif fmt == "parquet":
        pq.write_table(table, path, row_group_size=30)
    else:
        with pa.ipc.new_file(path, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=25):
                writer.write_batch(batch)
    return path


def _read_split_by_split(path: str, fmt: str, split_size: int, options=None):
    """(splits, positions, records) of ``path`` read one split at a time."""
    options = options or {}
    splits, positions, rows = plan_splits([path], split_size, fmt), [], []
    for split in splits:
        lines = iter_split_lines(split) if fmt in ("csv", "jsonl") else iter(())
        for where, batch in iter_record_batches(split, lines, options):
            positions += where
            rows += records(batch, options)
    return splits, positions, rows


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "ipc"])
@pytest.mark.parametrize("split_size", [1, 97, 1000, 1 << 20])
def test_the_splits_of_a_file_hold_every_record_once(tmp_path, fmt, split_size):
    path = _write(tmp_path, fmt)
    splits, positions, rows = _read_split_by_split(path, fmt, split_size)
    assert rows == ROWS                                         # all, in order, none twice
    assert positions == sorted(set(positions))                 # distinct keys
    assert (len(splits) == 1) == (split_size == 1 << 20)      # the file is under 1 MiB
    tuples = _read_split_by_split(path, fmt, split_size,
                                  {"records": "tuple", "columns": ["score", "name"]})[2]
    assert tuples == [(r["score"], r["name"]) for r in ROWS]


def test_parquet_splits_group_row_groups_up_to_the_split_size(tmp_path):
    path = _write(tmp_path, "parquet")
    meta = pq.ParquetFile(path).metadata
    sizes = [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    split_size = sizes[0] * 5 // 2
    splits = plan_splits([path], split_size, "parquet")
    assert [s.start for s in splits] == [0, 2, 4, 6] and splits[-1].end == len(sizes)
    for split in splits:
        assert sum(sizes[split.start:split.end]) <= split_size


def test_map_batch_gets_the_columns_of_a_csv(tmp_path):
    path = _csv(tmp_path)
    job = tmp_path / "batch.py"
    job.write_text("import pyarrow.compute as pc\n"
                   "def map_batch(batch):\n"
                   "    assert batch.schema.names == ['name', 'score']\n"
                   "    return {'key': pc.utf8_slice_codeunits(batch['name'], 0, 2),\n"
                   "            'value': batch['score']}\n"
                   "def reducer(k, vs):\n    yield k, sum(vs)\n"
                   "INPUT_FORMAT = 'csv'\nINPUT_COLUMNS = ['name', 'score']\n")
    run_inline(str(job), [path], str(tmp_path / "out"), split_size=500, reducers=2)
    expected: dict = {}
    for r in ROWS:
        expected[r["name"][:2]] = expected.get(r["name"][:2], 0) + r["score"]
    assert read_output(str(tmp_path / "out")) == expected


def test_columns_missing_from_the_input(tmp_path):
    job = tmp_path / "cols.py"
    job.write_text(open(RECORDS).read() + '\nINPUT_COLUMNS = ["score", "nope"]\n')
    for fmt in ("csv", "parquet", "ipc"):
        path = _write(tmp_path, fmt)
        with pytest.raises(InputError, match=rf"t\.{fmt}: INPUT_COLUMNS names 'nope', not a "
                                             "column of the file"):
            run_inline(str(job), [path], str(tmp_path / fmt), input_format=fmt)
    path = tmp_path / "sparse.jsonl"       # a JSON field no record has is null
    path.write_text('{"score": 1}\n{"score": 2, "nope": "x"}\n')
    run_inline(str(job), [str(path)], str(tmp_path / "j"), input_format="jsonl")
    assert _by_position(str(tmp_path / "j")) == [{"score": 1, "nope": None},
                                                 {"score": 2, "nope": "x"}]


def test_bad_table_files_are_named(tmp_path):
    good = _write(tmp_path, "parquet")
    data = open(good, "rb").read()
    for name, content in [("cut.parquet", data[:len(data) // 2]), ("junk.parquet", b"x" * 99)]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError, match=rf"{name}: .*magic"):
            run_inline(RECORDS, [str(tmp_path / name)], str(tmp_path / "o"),
                       input_format="parquet")
    (tmp_path / "junk.arrow").write_bytes(b"x" * 99)
    with pytest.raises(InputError, match=r"junk.arrow"):
        run_inline(RECORDS, [str(tmp_path / "junk.arrow")], str(tmp_path / "o"),
                   input_format="ipc")


def test_bad_records_name_file_and_offset(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')
    with pytest.raises(InputError, match=r"bad.jsonl: bad record at byte 18"):
        run_inline(RECORDS, [str(path)], str(tmp_path / "o"), input_format="jsonl")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InputError, match=r"bad.csv: bad record at byte 8"):
        run_inline(RECORDS, [str(bad_csv)], str(tmp_path / "o2"), input_format="csv")
    mixed = tmp_path / "mixed.jsonl"       # pyarrow.json needs one type per field
    mixed.write_text('{"a": 1}\n{"a": 2}\n{"a": "x"}\n')
    with pytest.raises(InputError, match=r"mixed.jsonl: bad record at byte 18: .*changed"):
        run_inline(RECORDS, [str(mixed)], str(tmp_path / "o5"), input_format="jsonl")
    typed = tmp_path / "typed.csv"
    typed.write_text("a,b\n1,2\n3,x\n")
    typed_job = tmp_path / "typed.py"
    typed_job.write_text(open(RECORDS).read() + '\nCSV_COLUMN_TYPES = {"b": "int64"}\n')
    with pytest.raises(InputError, match=r"typed.csv: bad record at byte 8"):
        run_inline(str(typed_job), [str(typed)], str(tmp_path / "o6"), input_format="csv")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('a,b\n1,"two\nlines"\n')
    with pytest.raises(InputError, match="line break inside"):
        run_inline(RECORDS, [str(quoted)], str(tmp_path / "o3"), input_format="csv")
    with pytest.raises(ZmrError, match="input_format must be one of"):
        run_inline(RECORDS, [str(quoted)], str(tmp_path / "o4"), input_format="xml")


def test_output_formats_read_back(tmp_path):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=100)
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "text"), reducers=2)
    expected = read_output(str(tmp_path / "text"))
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "jsonl"), reducers=2, output_format="jsonl")
    rows = [json.loads(line) for name in sorted(os.listdir(tmp_path / "jsonl"))
            if name.endswith(".jsonl") for line in open(tmp_path / "jsonl" / name)]
    expected = {str(k): v for k, v in expected.items()}      # text output reads "10" as 10
    assert {r["key"]: r["value"] for r in rows} == expected
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "csv"), reducers=2, output_format="csv")
    table = pacsv.read_csv(tmp_path / "csv" / "part-00000.csv")
    assert table.column_names == ["key", "value"]
    run_inline(WORDCOUNT, [inputs], str(tmp_path / "pq"), reducers=2, output_format="parquet")
    assert sorted(os.listdir(tmp_path / "pq")) == ["_SUCCESS", "part-00000.parquet",
                                                   "part-00001.parquet"]
    got = pq.read_table(tmp_path / "pq", schema=None).to_pylist()
    assert {r["key"]: r["value"] for r in got} == expected


def _two_part_job(tmp_path, values: str):
    """A job sending a, b, c to part 0 and d, e, f to part 1, with values by ``values``."""
    inputs = tmp_path / "in.txt"
    inputs.write_text("a\nb\nc\nd\ne\nf\n")
    job = tmp_path / "parts.py"
    job.write_text(f"def mapper(k, line):\n    yield line, {values}\n"
                   "def reducer(k, vs):\n    yield k, next(iter(vs))\nNUM_REDUCERS = 2\n"
                   "def partitioner(k, n):\n    return 0 if k in 'abc' else n - 1\n")
    return str(inputs), job


def test_parquet_parts_that_disagree_fail_the_job_unless_a_schema_is_declared(tmp_path):
    inputs, job = _two_part_job(tmp_path, "'x' if line in 'abc' else 2")    # str vs int
    with pytest.raises(OutputError, match="different column types.*OUTPUT_SCHEMA"):
        run_inline(str(job), [inputs], str(tmp_path / "o"), output_format="parquet")
    assert not os.path.exists(tmp_path / "o" / "_SUCCESS")
    job.write_text(job.read_text() + 'OUTPUT_SCHEMA = {"key": "string", "value": "string"}\n')
    run_inline(str(job), [inputs], str(tmp_path / "o"), output_format="parquet",
               overwrite=True)
    rows = duckdb.sql(f"select key, value from '{tmp_path}/o/*.parquet' order by key").fetchall()
    assert rows == [("a", "x"), ("b", "x"), ("c", "x"), ("d", "2"), ("e", "2"), ("f", "2")]


def test_parquet_parts_of_nulls_and_ints_take_the_other_parts_types(tmp_path):
    # part 0: a float for a and None for b, c; part 1: ints; part 2 and 3: empty
    inputs, job = _two_part_job(tmp_path, "(1.5 if line == 'a' else None) if line in 'abc' "
                                          "else 2")
    job.write_text(job.read_text().replace("NUM_REDUCERS = 2", "NUM_REDUCERS = 4"))
    run_inline(str(job), [inputs], str(tmp_path / "o"), output_format="parquet")
    schemas = {pq.read_schema(p).to_string() for p in glob.glob(f"{tmp_path}/o/*.parquet")}
    assert len(schemas) == 1 and "value: double" in schemas.pop()
    rows = duckdb.sql(f"select key, value from '{tmp_path}/o/*.parquet' order by key").fetchall()
    assert rows == [("a", 1.5), ("b", None), ("c", None), ("d", 2.0), ("e", 2.0), ("f", 2.0)]
    frame = polars.read_parquet(f"{tmp_path}/o/*.parquet").sort("key")
    assert frame.rows() == rows


def test_parquet_mixed_values_are_text_as_in_text_output(tmp_path):
    inputs, job = _two_part_job(tmp_path, "'x' if line == 'a' else [1, line] "
                                          "if line == 'b' else 'y'")
    run_inline(str(job), [inputs], str(tmp_path / "o"), output_format="parquet",
               reducers=1)
    got = {r["key"]: r["value"] for r in pq.read_table(tmp_path / "o").to_pylist()}
    assert got == {"a": "x", "b": '[1, "b"]', "c": "y", "d": "y", "e": "y", "f": "y"}
