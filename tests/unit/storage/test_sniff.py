"""A format that does not fit a file's contents is an error at planning that names the
file (exit 2), not a map task failing four attempts with a UTF-8 error."""

from __future__ import annotations

import bz2
import gzip
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zmr.cli.main import main
from zmr.core.errors import InputError
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions
from zmr.storage.sniff import check_contents, format_problem


def _parquet() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"x": [1, 2]}), sink)
    return sink.getvalue()


def _ipc() -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, pa.schema([("x", pa.int64())])) as writer:
        writer.write_table(pa.table({"x": [1]}))
    return sink.getvalue()


@pytest.mark.parametrize("name, content, fmt, message", [
    ("r.parquet", _parquet(), "csv", 'it is a Parquet file, not CSV text; read it with '
                                     'format "parquet"'),
    ("r.parquet", _parquet(), "text", "it is a Parquet file, not text"),
    ("r.arrow", _ipc(), "jsonl", 'it is an Arrow IPC file, not JSONL text; read it with '
                                 'format "ipc"'),
    ("v.csv", b"a,b\n1,2\n", "parquet", r"it is not a Parquet file \(those start with the "
                                        r"magic bytes PAR1\); it is text starting 'a,b'"),
    ("r.parquet", _parquet(), "ipc", 'it is not an Arrow IPC file .*it is a Parquet file'),
    ("v.txt", gzip.compress(b"a b\n"), "text", "it is gzip data, not text; zmr "
                                               "decompresses it only under a name ending"),
    ("v.txt.gz", b"a b\n", "text", "its name ends in .gz but it is not gzip data"),
    ("v.txt.bz2", gzip.compress(b"a"), "text", "its name ends in .bz2 but it is not bzip2 "
                                               "data .it is gzip data"),
    ("v.jsonl", b"a,b\n1,2\n", "jsonl", "it is not JSON lines: its first line starts 'a,b'"),
    ("v.bin", b"\x00\x01\x80\xfe", "text", r"invalid UTF-8 in \S+v.bin at byte 2"),
])
def test_mismatches_name_the_file_at_planning(tmp_path, name, content, fmt, message):
    (tmp_path / name).write_bytes(content)
    job = load_job("jobs/wordcount.py")
    with pytest.raises(InputError, match=message) as raised:
        plan_job(job, [str(tmp_path)], str(tmp_path / "out"), JobOptions(input_format=fmt))
    assert str(tmp_path / name) in str(raised.value) and raised.value.exit_code == 2


@pytest.mark.parametrize("name, content, fmt", [
    ("a.txt", "héllo wörld\n".encode(), "text"),
    ("a.txt.gz", gzip.compress(b"a\n"), "text"),
    ("a.csv.bz2", bz2.compress(b"a,b\n"), "csv"),
    ("a.jsonl", b'\n  {"a": 1}\n', "jsonl"),
    ("orchard.csv", b"ORCHARD,BZh9,PAR\n1,2,3\n", "csv"),   # text that starts like magic
    ("a.parquet", _parquet(), "parquet"),
    ("a.arrow", _ipc(), "ipc"),
])
def test_files_that_fit_their_format_pass(name, content, fmt):
    assert format_problem(name, fmt, content) == ""


def test_a_utf8_character_cut_by_the_read_passes_and_replace_reads_anything(tmp_path):
    assert format_problem("a.txt", "text", "ab é".encode()[:-1]) == ""
    assert format_problem("a.txt", "text", b"\x80\x81", "replace") == ""
    (tmp_path / "p.parquet").write_bytes(_parquet())
    check_contents([str(tmp_path / "p.parquet")], "arrow")     # a step's pairs: not checked


def test_the_command_line_exits_2_naming_the_file(tmp_path, capsys):
    (tmp_path / "r.parquet").write_bytes(_parquet())
    code = main(["run", "--inline", "jobs/wordcount.py", "-i", str(tmp_path), "-o",
                 str(tmp_path / "out"), "--input-format", "csv"])
    assert code == 2
    assert f"zmr: error: csv input {tmp_path / 'r.parquet'}: it is a Parquet file" in \
        capsys.readouterr().err
    assert not (tmp_path / "out").exists()
