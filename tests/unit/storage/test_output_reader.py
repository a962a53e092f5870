"""A job's output read back as pairs and as one Arrow table, for every output format zmr
writes, from part files written by zmr's own writers."""

from __future__ import annotations

import pyarrow as pa
import pytest

from zmr.core.errors import OutputError
from zmr.storage.formats import open_pair_writer, part_suffix
from zmr.storage.output_reader import read_pairs, read_table

PARTS = [[("a", 1), ("b", 2)], [], [("c", 3)]]


def _write(out, fmt, parts=PARTS, success=True):
    out.mkdir()
    for i, pairs in enumerate(parts):
        writer = open_pair_writer(str(out / f"part-{i:05d}{part_suffix(fmt)}"), fmt)
        writer.write(pairs)
        writer.close()
    if success:
        (out / "_SUCCESS").write_text("")
    return str(out)


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv", "parquet"])
def test_every_format_reads_back_as_pairs_and_one_typed_table(tmp_path, fmt):
    out = _write(tmp_path / "out", fmt)
    assert list(read_pairs(out)) == [("a", 1), ("b", 2), ("c", 3)]
    table = read_table(out)
    assert table.schema == pa.schema([("key", pa.string()), ("value", pa.int64())])
    assert table.to_pylist() == [{"key": k, "value": v} for k, v in sum(PARTS, [])]


@pytest.mark.parametrize("fmt", ["text", "jsonl", "csv"])
def test_nested_and_mixed_values(tmp_path, fmt):
    out = _write(tmp_path / "out", fmt, [[("x", [1.5, 2.0]), ("y", [3.0])], [("z", None)]])
    assert list(read_pairs(out)) == [("x", [1.5, 2.0]), ("y", [3.0]), ("z", None)]
    assert read_table(out).column("value").type == pa.list_(pa.float64())
    mixed = _write(tmp_path / "mixed", fmt, [[("k", 1), ("l", "one"), ("m", [1])]])
    # no one Arrow type holds them all: text, as text output wrote them
    assert read_table(mixed).column("value").to_pylist() == ["1", "one", "[1]"]


def test_an_empty_output_is_an_empty_table_with_both_columns(tmp_path):
    table = read_table(_write(tmp_path / "out", "text", [[]]))
    assert table.num_rows == 0 and table.column_names == ["key", "value"]


def test_missing_or_unfinished_outputs_and_bad_lines_are_errors_naming_the_file(tmp_path):
    with pytest.raises(OutputError, match="nowhere: no such output directory"):
        read_table(str(tmp_path / "nowhere"))
    unfinished = _write(tmp_path / "unfinished", "text", success=False)
    with pytest.raises(OutputError, match="not a finished job's output"):
        list(read_pairs(unfinished))
    bad = _write(tmp_path / "bad", "text", [[]])
    (tmp_path / "bad" / "part-00000").write_text("a\t1\nno tab here\n")
    with pytest.raises(OutputError, match=r"part-00000:2: not a key<TAB>value line"):
        list(read_pairs(bad))


def test_an_output_written_before_reads_back_from_its_path_alone(tmp_path):
    """zmr.JobResult(path): the output of an earlier run (an iteration's last round, a
    notebook's yesterday), without running anything."""
    import zmr
    from zmr.runners.inline import run_inline

    (tmp_path / "in.txt").write_text("b a\na\n")
    (tmp_path / "job.py").write_text("def mapper(k, line):\n    for w in line.split():\n"
                                     "        yield w, 1\n"
                                     "def reducer(w, ones):\n    yield w, sum(ones)\n")
    run_inline(str(tmp_path / "job.py"), [str(tmp_path / "in.txt")], str(tmp_path / "out"))
    assert dict(zmr.JobResult(str(tmp_path / "out")).read_pairs()) == {"a": 2, "b": 1}
    (tmp_path / "out" / "_SUCCESS").unlink()
    with pytest.raises(OutputError, match="no _SUCCESS marker"):
        list(zmr.JobResult(str(tmp_path / "out")).read_pairs())
