"""Output from columns (PairWriter.write_columns, zmr.storage.column_output) is
byte-identical to each writer's per-pair ``write`` of the same pairs, for every output
format, for batches the columnar code handles, batches it leaves to Python pairs, and
mixes of the two (Parquet's and CSV's chunks then span both kinds)."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from zmr.core.errors import JobContractError
from zmr.storage import codec, column_output
from zmr.storage.columnar import PairColumns
from zmr.storage.formats import OUTPUT_FORMATS, open_pair_writer


def batch_of(keys, values, sort_values):
    sort_keys = list(zip(keys, values)) if sort_values else keys
    name, column = codec.encode_values(values)
    return PairColumns(pa.record_batch({"k": codec.encode_keys(sort_keys), name: column}),
                       sort_values)


def shaped(shape: str, n: int, seed: int) -> tuple[list, list]:
    rng = random.Random(seed)
    words = ["a", "b\tc", "é", "x\ny", "", "\x00", "z\"q,"]
    if shape == "str-int":
        return [rng.choice(words) for _ in range(n)], [rng.randrange(-99, 10**6) for _ in range(n)]
    if shape == "str-str":
        return [rng.choice(words) for _ in range(n)], [rng.choice(words) for _ in range(n)]
    if shape == "bytes-bytes":
        return ([bytes(rng.choice([0, 255, 65]) for _ in range(rng.randrange(4)))
                 for _ in range(n)], [bytes(rng.randrange(256) for _ in range(6))
                                      for _ in range(n)])
    if shape == "int-float":
        return [rng.randrange(10) for _ in range(n)], [rng.uniform(-1, 1) for _ in range(n)]
    if shape == "str-bool":
        return [rng.choice(words) for _ in range(n)], [rng.random() < 0.5 for _ in range(n)]
    if shape == "mixedkey-int":        # keys of two types: Python pairs, text keys
        return [rng.choice(["k", 3]) for _ in range(n)], [rng.randrange(9) for _ in range(n)]
    assert shape == "mixed"
    return ([rng.choice(["k", 3]) for _ in range(n)],
            [rng.choice([1, "v", b"w", None, (1, 2), 2.5]) for _ in range(n)])


SHAPES = ["str-int", "str-str", "bytes-bytes", "int-float", "str-bool", "mixedkey-int", "mixed"]
# "lines" writes bytes values only (an mrjob protocol's encoded lines): tested alone below
TEXT_FORMATS = sorted(set(OUTPUT_FORMATS) - {"fixed", "lines"})


def write_both(tmp_path, fmt, batches):
    paths = []
    results = []
    for how in ("pairs", "columns"):
        path = str(tmp_path / f"{how}-{fmt}")
        out = open_pair_writer(path, fmt)
        try:
            if how == "pairs":
                results.append(out.write(column_output.python_pairs(batches)))
            else:
                results.append(column_output.write_columns(out, batches))
        finally:
            out.close()
        paths.append(path)
    return results, [open(p, "rb").read() for p in paths]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sort_values", [True, False])
def test_one_shape_is_written_as_by_pairs(tmp_path, fmt, shape, sort_values):
    batches = [batch_of(*shaped(shape, n, n), sort_values) for n in (1, 700, 0, 9000)]
    (by_pairs, by_columns), (expected, got) = write_both(tmp_path, fmt, batches)
    assert by_columns == by_pairs and got == expected


@pytest.mark.parametrize("fmt", ["parquet", "csv", "text"])
def test_chunks_spanning_batches_of_several_shapes(tmp_path, fmt):
    shapes = ["str-int"] * 3 + ["mixedkey-int", "str-int", "mixed", "str-str", "str-int"]
    batches = [batch_of(*shaped(shape, 7000, i), True) for i, shape in enumerate(shapes)]
    if fmt == "parquet":
        with pytest.raises(ValueError, match="declare OUTPUT_SCHEMA"):
            write_both(tmp_path, fmt, batches)     # str values after int ones: both refuse
        batches = batches[:5]
    (by_pairs, by_columns), (expected, got) = write_both(tmp_path, fmt, batches)
    assert by_columns == by_pairs and got == expected


def test_fixed_output_is_the_value_buffers(tmp_path):
    batches = [batch_of(*shaped("bytes-bytes", n, n), sort_values=True) for n in (5, 0, 3000)]
    batches.append(PairColumns(batches[2].batch.slice(100, 50), True))   # an offset column
    (by_pairs, by_columns), (expected, got) = write_both(tmp_path, "fixed", batches)
    assert by_columns == by_pairs and got == expected
    assert len(got) == 6 * (5 + 3000 + 50)


@pytest.mark.parametrize("values", [["text", "more"], [b"ok", 5]])
def test_fixed_output_of_other_values_is_refused_as_before(tmp_path, values):
    batch = batch_of([b"a", b"b"], values, sort_values=True)
    out = open_pair_writer(str(tmp_path / "part"), "fixed")
    with pytest.raises(JobContractError, match="writes bytes values"):
        column_output.write_columns(out, [batch])
    out.close()


def test_every_output_format_is_covered():
    assert set(TEXT_FORMATS) | {"fixed", "lines"} == set(OUTPUT_FORMATS)


def test_lines_output(tmp_path):
    batches = [batch_of([None] * n, shaped("bytes-bytes", n, n)[1], False) for n in (3, 5000)]
    (by_pairs, by_columns), (expected, got) = write_both(tmp_path, "lines", batches)
    assert by_columns == by_pairs and got == expected and len(got) == 6 * 5003 + 5003


@pytest.mark.parametrize("fmt", TEXT_FORMATS + ["fixed"])
def test_null_values_of_a_batch_mapper_are_written_as_by_pairs(tmp_path, fmt):
    values = pa.array([b"x", None, b"z"] if fmt == "fixed" else ["x", None, "z"])
    batch = pa.record_batch({"k": codec.encode_keys(["a", "b", "c"]), "v": values})
    batches = [PairColumns(batch, sort_values=False)]
    if fmt == "fixed":                      # None is not bytes: refused both ways
        for write in (lambda out: out.write(column_output.python_pairs(batches)),
                      lambda out: column_output.write_columns(out, batches)):
            out = open_pair_writer(str(tmp_path / "part"), fmt)
            with pytest.raises(JobContractError, match="writes bytes values"):
                write(out)
            out.close()
        return
    (by_pairs, by_columns), (expected, got) = write_both(tmp_path, fmt, batches)
    assert by_columns == by_pairs and got == expected
