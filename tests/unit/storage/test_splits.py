"""Splits: every line exactly once, at its byte offset, for any split, chunk and batch size."""

from __future__ import annotations

import bz2
import gzip
import os
import random
from contextlib import ExitStack
from itertools import pairwise
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.core.errors import ConfigError, InputError
from zmr.core.specs import FileStamp, Split
from zmr.storage import splits as splits_module
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


def read_splits(splits: list[Split], chunk_size: int = 4 << 20,
                on_bad_utf8: str = "strict") -> list[tuple[int, str]]:
    """All (offset, line) pairs of ``splits`` in order, checking the batch shape on the way."""
    got: list[tuple[int, str]] = []
    for split in splits:
        for offsets, lines in iter_split_lines(split, on_bad_utf8, chunk_size=chunk_size):
            assert 0 < len(offsets) == len(lines) <= splits_module._MAX_BATCH_LINES
            got += zip(offsets, lines, strict=True)
    return got


def read_all(path: Path | str, split_size: int, chunk_size: int = 4 << 20,
             on_bad_utf8: str = "strict") -> list[tuple[int, str]]:
    return read_splits(plan_splits([str(path)], split_size), chunk_size, on_bad_utf8)


def splits_at(path: Path, cuts: list[int]) -> list[Split]:
    """Splits of ``path`` with boundaries at ``cuts`` (any positions, not a fixed size)."""
    bounds = sorted({0, *cuts, path.stat().st_size})
    return [Split(str(path), a, b - a) for a, b in pairwise(bounds)]


def small_internals(batch_bytes: int, batch_lines: int, read_bytes: int) -> ExitStack:
    """Shrink the reader's internal sizes so tiny files cross every internal boundary."""
    stack = ExitStack()
    for name, value in [("_BATCH_BYTES", batch_bytes), ("_MAX_BATCH_LINES", batch_lines),
                        ("_SKIP_READ", read_bytes), ("_TAIL_READ", read_bytes)]:
        stack.enter_context(mock.patch.object(splits_module, name, value))
    return stack


# --------------------------------------------------------------------------- properties

pieces = st.sampled_from([b"a", b"b", b"c", b"\n", b"\r", b"\r\n", "é".encode(),
                          "€".encode(), "𝄞".encode()])
contents = st.tuples(st.lists(pieces, max_size=80).map(b"".join),
                     st.booleans()).map(lambda t: t[0] + b"\n" if t[1] else t[0])


@settings(max_examples=300, deadline=None)
@given(data=contents, split_frac=st.floats(0, 1), chunk_size=st.integers(1, 16),
       batch_bytes=st.integers(1, 12), batch_lines=st.integers(1, 5),
       read_bytes=st.integers(1, 8))
def test_fixed_size_splits_give_every_line_once(tmp_path_factory, data, split_frac, chunk_size,
                                                batch_bytes, batch_lines, read_bytes):
    path = tmp_path_factory.mktemp("p") / "f.txt"
    path.write_bytes(data)
    split_size = 1 + round(split_frac * (len(data) + 1))       # 1 .. len + 2
    expected = reference_lines(data)
    assert read_all(path, split_size) == expected
    with small_internals(batch_bytes, batch_lines, read_bytes):
        assert read_all(path, split_size, chunk_size) == expected


@settings(max_examples=200, deadline=None)
@given(data=contents, cuts=st.lists(st.integers(0, 90), max_size=12),
       chunk_size=st.integers(1, 16), read_bytes=st.integers(1, 8))
def test_arbitrary_split_boundaries_give_every_line_once(tmp_path_factory, data, cuts,
                                                         chunk_size, read_bytes):
    path = tmp_path_factory.mktemp("p") / "f.txt"
    path.write_bytes(data)
    cuts = [c for c in cuts if c < len(data)]
    with small_internals(7, 3, read_bytes):
        assert read_splits(splits_at(path, cuts), chunk_size) == reference_lines(data)


def test_a_megabyte_of_mixed_text_through_real_batch_sizes(tmp_path):
    rng = random.Random(7)
    words = ["alpha", "béta", "€uro", "", "x" * 300, "tab\tbed", "cr\rinside"]
    lines = [" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(40_000)]
    data = "".join(ln + rng.choice(["\n", "\r\n"]) for ln in lines).encode()
    (tmp_path / "f").write_bytes(data)
    expected = reference_lines(data)
    for split_size, chunk_size in [(1 << 30, 4 << 20), (300_001, 4 << 20),
                                   (1 << 20, 65_537), (99_999, 1_000)]:
        assert read_all(tmp_path / "f", split_size, chunk_size) == expected


def test_lines_longer_than_chunks_and_splits(tmp_path):
    data = b"x" * 100_000 + b"\n" + b"y" * 50 + b"\r\n\n\nlast"
    (tmp_path / "f").write_bytes(data)
    for split_size in (7, 4096, 1 << 20):       # the line is 1.5 reads of 64 KiB long
        assert read_all(tmp_path / "f", split_size, chunk_size=1000) == reference_lines(data)
    # the splits wholly inside the long line own nothing
    inner = Split(str(tmp_path / "f"), 10_000, 10_000)
    assert read_splits([inner]) == []
    # a split at every byte: 100,000 of them take seconds, so the same shape a tenth the
    # size, with the reads past a split's ends shrunk to keep the line 2.4 reads long
    data = b"x" * 10_000 + b"\n" + b"y" * 50 + b"\r\n\n\nlast"
    (tmp_path / "f").write_bytes(data)
    with small_internals(splits_module._BATCH_BYTES, splits_module._MAX_BATCH_LINES, 4096):
        for split_size in (1, 7, 4096, 1 << 20):
            assert read_all(tmp_path / "f", split_size, chunk_size=1000) == \
                reference_lines(data)
        assert read_splits([Split(str(tmp_path / "f"), 1_000, 1_000)]) == []


def test_newline_just_before_split_start_gives_the_line_to_this_split(tmp_path):
    (tmp_path / "f").write_bytes(b"ab\ncd\nef")
    first, second = Split(str(tmp_path / "f"), 0, 3), Split(str(tmp_path / "f"), 3, 5)
    assert read_splits([first]) == [(0, "ab")]
    assert read_splits([second]) == [(3, "cd"), (6, "ef")]


def test_records_carry_path_and_offset(tmp_path):
    (tmp_path / "f").write_text("ab\n\ncd\n")
    (split,) = plan_splits([str(tmp_path / "f")], 100)
    path = str(tmp_path / "f")
    assert list(iter_split_records(split)) == [((path, 0), "ab"), ((path, 3), ""),
                                               ((path, 4), "cd")]


# --------------------------------------------------------------------------- compressed

@pytest.mark.parametrize("name,compress", [("a.gz", gzip.compress), ("a.bz2", bz2.compress),
                                           ("A.GZ", gzip.compress)])
def test_compressed_files_are_one_whole_split_with_the_plain_lines(tmp_path, name, compress):
    text = b"".join(b"line %d\r\n" % i for i in range(20_000)) + "é€ end".encode()
    (tmp_path / "plain.txt").write_bytes(text)
    (tmp_path / name).write_bytes(compress(text))
    splits = plan_splits([str(tmp_path / name)], 10)
    st = (tmp_path / name).stat()
    assert splits == [Split(str(tmp_path / name), 0, st.st_size, True,
                            stamp=FileStamp(st.st_size, st.st_mtime_ns))]
    for chunk_size in (4 << 20, 333):
        assert read_splits(splits, chunk_size) == read_all(tmp_path / "plain.txt", 4096)


def test_truncated_gzip_is_an_input_error_naming_the_file(tmp_path):
    blob = gzip.compress(b"hello world\n" * 10_000)
    (tmp_path / "t.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InputError, match=f"cannot read input {tmp_path / 't.gz'}"):
        read_all(tmp_path / "t.gz", 100)


# --------------------------------------------------------------------------- bad input

def test_invalid_utf8_names_file_and_offset(tmp_path):
    data = "ok lïne\n".encode() * 1000 + b"bad \xff byte\n" + b"more\n"
    bad_at = data.index(b"\xff")
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    # in a later chunk of the first split, in a later split, and in one big split
    for split_size, chunk_size in [(100_000, 64), (5_000, 64), (5_000, 7), (1 << 20, 4 << 20)]:
        with pytest.raises(InputError, match=rf"{path} at byte {bad_at}:.*--on-bad-utf8"):
            read_all(path, split_size, chunk_size)


def test_invalid_utf8_offset_in_a_later_batch_and_at_eof(tmp_path):
    path = tmp_path / "f.txt"
    data = "€".encode() * 5000 + b"\n" + b"z" * 10 + "€".encode()[:2]    # cut-off char
    path.write_bytes(data)
    with (small_internals(batch_bytes=100, batch_lines=3, read_bytes=5),
          pytest.raises(InputError, match=rf"at byte {len(data) - 2}:")):
        read_all(path, 1 << 20, chunk_size=1000)


def test_replace_mode_substitutes_and_keeps_offsets(tmp_path):
    data = b"good\nbad \xff\xfe byte\r\nend \xe2\x82"
    (tmp_path / "f").write_bytes(data)
    got = read_all(tmp_path / "f", 7, chunk_size=3, on_bad_utf8="replace")
    assert got == [(0, "good"), (5, "bad \ufffd\ufffd byte"), (18, "end \ufffd")]


def test_unknown_bad_utf8_mode_is_a_config_error(tmp_path):
    (tmp_path / "f").write_text("x\n")
    with pytest.raises(ConfigError, match="ignore"):
        read_all(tmp_path / "f", 10, on_bad_utf8="ignore")


def test_file_vanishing_after_planning_is_an_input_error(tmp_path):
    (tmp_path / "f").write_text("x\n")
    splits = plan_splits([str(tmp_path / "f")], 10)
    (tmp_path / "f").unlink()
    with pytest.raises(InputError, match=f"cannot read input {tmp_path / 'f'}"):
        read_splits(splits)


# --------------------------------------------------------------------------- discovery

def make_tree(root: Path, names: list[str]) -> None:
    for rel in names:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n")


def rel(paths: list[str], root: Path) -> list[str]:
    return [os.path.relpath(p, root) for p in paths]


TREE = ["a.txt", "sub/b.txt", "sub/deeper/c.txt", "sub/deeper/d.csv", ".hidden", "_SUCCESS",
        "_tmp/e.txt", ".git/f.txt", "sub/.g", "sub/_h.txt", "sub/_logs/i.txt"]


def test_discovery_walks_dirs_and_skips_hidden_and_underscore(tmp_path):
    make_tree(tmp_path, TREE)
    found = discover_inputs([str(tmp_path)])
    assert rel(found, tmp_path) == ["a.txt", "sub/b.txt", "sub/deeper/c.txt",
                                    "sub/deeper/d.csv"]
    assert all(os.path.isabs(p) for p in found)


def test_explicit_hidden_files_and_dirs_are_taken(tmp_path):
    make_tree(tmp_path, TREE)
    assert discover_inputs([str(tmp_path / "_SUCCESS")]) == [str(tmp_path / "_SUCCESS")]
    assert rel(discover_inputs([str(tmp_path / "_tmp")]), tmp_path) == ["_tmp/e.txt"]


def test_globs_skip_hidden_names_unless_the_pattern_asks_for_them(tmp_path):
    make_tree(tmp_path, TREE)
    assert rel(discover_inputs([str(tmp_path / "**" / "*.txt")]), tmp_path) == [
        "a.txt", "sub/b.txt", "sub/deeper/c.txt"]
    assert rel(discover_inputs([str(tmp_path / "*")]), tmp_path) == [
        "a.txt", "sub/b.txt", "sub/deeper/c.txt", "sub/deeper/d.csv"]
    assert rel(discover_inputs([str(tmp_path / "sub" / "_*")]), tmp_path) == [
        "sub/_h.txt", "sub/_logs/i.txt"]


def test_several_inputs_are_merged_sorted_and_deduplicated(tmp_path, monkeypatch):
    make_tree(tmp_path, TREE)
    monkeypatch.chdir(tmp_path)
    found = discover_inputs(["sub/deeper", "a.txt", "sub/*/c.txt", str(tmp_path / "a.txt")])
    assert found == [str(tmp_path / p) for p in ["a.txt", "sub/deeper/c.txt",
                                                 "sub/deeper/d.csv"]]
    assert discover_inputs("a.txt") == [str(tmp_path / "a.txt")]     # a lone string


def test_missing_inputs_are_named(tmp_path):
    make_tree(tmp_path, ["a.txt", "_only/_x", "h/_SUCCESS"])
    with pytest.raises(InputError, match="nope.txt does not exist"):
        discover_inputs([str(tmp_path / "a.txt"), str(tmp_path / "nope.txt")])
    with pytest.raises(InputError, match=r"\*.csv matches no files"):
        discover_inputs([str(tmp_path / "*.csv")])
    with pytest.raises(InputError, match=r"h/\* matches no files"):      # only hidden there
        discover_inputs([str(tmp_path / "h" / "*")])
    with pytest.raises(InputError, match=f"no input files found in: {tmp_path / '_only'}"):
        discover_inputs([str(tmp_path / "_only")])


def test_unreadable_inputs_are_named(tmp_path, monkeypatch):
    # simulated, so the test also means something when it runs as root
    make_tree(tmp_path, ["a.txt", "locked/b.txt"])
    real_access, real_scandir = os.access, os.scandir

    def access(path, mode):
        return str(path) != str(tmp_path / "a.txt") and real_access(path, mode)

    def scandir(path):
        if str(path) == str(tmp_path / "locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(InputError, match=f"{tmp_path / 'a.txt'} is not readable"):
        discover_inputs([str(tmp_path / "a.txt")])
    with pytest.raises(InputError, match=f"cannot list input directory {tmp_path / 'locked'}"):
        discover_inputs([str(tmp_path / "locked")])


# --------------------------------------------------------------------------- planning

def test_plan_splits_covers_each_file_in_order(tmp_path):
    make_tree(tmp_path, [])
    (tmp_path / "a").write_bytes(b"x" * 25)
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "b").write_bytes(b"y" * 10)
    files = [str(tmp_path / n) for n in ("a", "empty", "b")]
    got = plan_splits(files, 10)
    assert [(os.path.basename(s.path), s.start, s.length) for s in got] == [
        ("a", 0, 10), ("a", 10, 10), ("a", 20, 5), ("b", 0, 10)]
    assert plan_splits(files, 10) == got
    with pytest.raises(ConfigError):
        plan_splits(files, 0)


# --------------------------------------------------------------------------- sizes

@pytest.mark.parametrize("text,expected", [
    ("64MB", 64 << 20), ("8MiB", 8 << 20), ("512k", 512 << 10), ("1GB", 1 << 30),
    ("1G", 1 << 30), ("100", 100), (100, 100), ("1.5KB", 1536), (" 2 kib ", 2048),
    ("10b", 10), ("12345678901234567890", 12345678901234567890)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1MB", "0", "0MB", -5, 0, "12XB", "1 2k",
                                  "0.1", True, "MB"])
def test_parse_size_rejects_garbage_naming_the_setting_and_text(text):
    with pytest.raises(ConfigError) as err:
        parse_size(text, "split size")
    assert str(err.value).startswith("split size: ") and repr(text) in str(err.value)
