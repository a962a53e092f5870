"""A line longer than the split size and the memory budget is read whole; one longer than
MAX_LINE_LENGTH is refused naming the file, its offset and the setting, before it is held
in memory (Hadoop: mapreduce.input.linerecordreader.line.maxlength)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import EXAMPLES, read_output
from zmr.core.errors import InputError
from zmr.core.specs import Split
from zmr.runners.inline import run_inline
from zmr.storage.splits import iter_split_lines, plan_splits


def _lines(path, split_size, max_line, chunk_size=64):
    size = os.path.getsize(path)
    out = []
    for split in plan_splits([path], split_size) if split_size else [Split(path, 0, size)]:
        for offsets, lines in iter_split_lines(split, "strict", chunk_size, max_line):
            out += zip(offsets, lines, strict=True)
    return out


def test_a_line_spanning_many_splits_and_chunks_is_read_once_and_whole(tmp_path):
    path = tmp_path / "in.txt"
    long = "x" * 5000
    path.write_text(f"a\n{long}\nb\n")
    assert _lines(str(path), 700, 5000) == [(0, "a"), (2, long), (5003, "b")]
    assert _lines(str(path), 700, 0) == [(0, "a"), (2, long), (5003, "b")]   # 0: no limit


@pytest.mark.parametrize("text", ["a\n" + "y" * 1001 + "\nb\n", "a\n" + "y" * 1001,
                                  "a\n" + "y" * 5000 + "\n"])
def test_a_line_over_the_limit_is_refused_naming_file_offset_and_setting(tmp_path, text):
    path = tmp_path / "in.txt"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        _lines(str(path), 0, 1000)
    message = str(error.value)
    assert str(path) in message and "at byte 2 " in message
    assert "MAX_LINE_LENGTH (1,000 bytes" in message and "--max-line-length" in message


def test_a_line_of_exactly_the_limit_is_read(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("a\n" + "z" * 1000 + "\r\n" + "w" * 1000)
    assert [len(line) for _, line in _lines(str(path), 0, 1000)] == [1, 1000, 1000]


def test_a_job_reads_a_line_longer_than_split_and_budget_or_refuses_it(tmp_path):
    words = " ".join(f"w{i % 50}" for i in range(400_000))      # one ~2.3 MB line
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f.txt").write_text(f"w1 w2\n{words}\nw3\n")
    job = os.path.join(EXAMPLES, "wordcount.py")
    run_inline(job, [str(tmp_path / "in")], str(tmp_path / "out"), split_size="1MB",
               memory_budget="1MB")
    counts = read_output(str(tmp_path / "out"))
    assert counts["w1"] == 8001 and counts["w3"] == 8001 and counts["w49"] == 8000
    with pytest.raises(InputError, match=r"f\.txt: the line at byte 6 is longer than "
                                         r"MAX_LINE_LENGTH \(1,048,576 bytes"):
        run_inline(job, [str(tmp_path / "in")], str(tmp_path / "out2"), split_size="1MB",
                   max_line_length="1MB")
