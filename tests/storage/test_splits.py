"""Splits: every line exactly once, at its byte offset, for any split and chunk size."""

from __future__ import annotations

import bz2
import gzip
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.errors import ConfigError, InputError
from zmr.storage.splits import (
    discover_inputs,
    iter_split_lines,
    iter_split_records,
    parse_size,
    plan_splits,
)


def reference_lines(data: bytes) -> list[tuple[int, str]]:
    """The naive answer: split the whole file on \\n, strip one \\r, drop the empty tail."""
    out, pos = [], 0
    parts = data.split(b"\n")
    for i, part in enumerate(parts):
        if i == len(parts) - 1 and part == b"":
            break
        out.append((pos, (part[:-1] if part.endswith(b"\r") else part).decode()))
        pos += len(part) + 1
    return out


def read_all(path: str, split_size: int, chunk_size: int = 4 << 20) -> list[tuple[int, str]]:
    got = []
    for split in plan_splits([path], split_size):
        for offsets, lines in iter_split_lines(split, chunk_size=chunk_size):
            got += zip(offsets, lines)
    return got


contents = st.lists(st.sampled_from([b"a", b"b", b"\n", b"\r", b"\r\n", "é".encode(),
                                     "€".encode()]), max_size=60).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(contents, st.integers(1, 64), st.integers(1, 16))
def test_lines_once_at_their_offsets(tmp_path_factory, data, split_size, chunk_size):
    path = tmp_path_factory.mktemp("s") / "f.txt"
    path.write_bytes(data)
    assert read_all(str(path), split_size, chunk_size) == reference_lines(data)


def test_long_lines_and_no_final_newline(tmp_path):
    data = b"x" * 100_000 + b"\n" + b"y" * 50 + b"\r\nlast"
    (tmp_path / "f").write_bytes(data)
    for split_size in (1, 7, 4096, 1 << 20):
        assert read_all(str(tmp_path / "f"), split_size, chunk_size=1000) == reference_lines(data)


def test_records_carry_path_and_offset(tmp_path):
    (tmp_path / "f").write_text("ab\ncd\n")
    (split,) = plan_splits([str(tmp_path / "f")], 100)
    assert list(iter_split_records(split)) == [((str(tmp_path / "f"), 0), "ab"),
                                               ((str(tmp_path / "f"), 3), "cd")]


def test_compressed_files_are_one_whole_split(tmp_path):
    text = b"".join(b"line %d\r\n" % i for i in range(1000))
    (tmp_path / "a.gz").write_bytes(gzip.compress(text))
    (tmp_path / "a.bz2").write_bytes(bz2.compress(text))
    for name in ("a.gz", "a.bz2"):
        splits = plan_splits([str(tmp_path / name)], 10)
        assert len(splits) == 1 and splits[0].whole
        assert read_all(str(tmp_path / name), 10) == reference_lines(text)


def test_discovery_walks_dirs_skips_hidden_and_underscore(tmp_path):
    for rel in ("a.txt", "sub/b.txt", "sub/deeper/c.txt", ".hidden", "_SUCCESS",
                "_tmp/d.txt", ".git/e.txt", "sub/.f"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    found = [os.path.relpath(p, tmp_path) for p in discover_inputs([str(tmp_path)])]
    assert found == ["a.txt", "sub/b.txt", "sub/deeper/c.txt"]
    assert discover_inputs([str(tmp_path / "_SUCCESS")]) == [str(tmp_path / "_SUCCESS")]
    globbed = discover_inputs([str(tmp_path / "sub" / "**" / "*.txt"), str(tmp_path / "a.txt")])
    assert [os.path.basename(p) for p in globbed] == ["a.txt", "b.txt", "c.txt"]


def test_missing_inputs_are_named(tmp_path):
    with pytest.raises(InputError, match="nope.txt does not exist"):
        discover_inputs([str(tmp_path / "nope.txt")])
    with pytest.raises(InputError, match=r"\*.csv does not exist"):
        discover_inputs([str(tmp_path / "*.csv")])
    (tmp_path / "_only").mkdir()
    with pytest.raises(InputError, match="no input files found"):
        discover_inputs([str(tmp_path / "_only")])


def test_invalid_utf8_names_file_and_offset(tmp_path):
    data = b"ok line\n" * 1000 + b"bad \xff byte\n" + b"more\n"
    bad_at = data.index(b"\xff")
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    for split_size in (5000, 100_000):
        with pytest.raises(InputError, match=rf"{path} at byte {bad_at}"):
            read_all(str(path), split_size, chunk_size=64)
    (split,) = plan_splits([str(path)], 1 << 20)
    lines = [ln for _, batch in iter_split_lines(split, "replace") for ln in batch]
    assert "bad \ufffd byte" in lines


@pytest.mark.parametrize("text,expected", [("64MB", 64 << 20), ("8MiB", 8 << 20),
                                           ("512k", 512 << 10), ("1G", 1 << 30), ("100", 100),
                                           (7, 7), ("1.5KB", 1536)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1MB", "0", "12XB"])
def test_parse_size_rejects_garbage_naming_the_setting(text):
    with pytest.raises(ConfigError, match="split size"):
        parse_size(text, "split size")
