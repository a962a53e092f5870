"""Small-file packing (Hadoop's CombineFileInputFormat): which pieces share a split, in what
order, and that a packed split reads every line of every file once under the real file's
(path, offset); planning 100,000 files lists them once."""

from __future__ import annotations

import builtins
import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.core.errors import InputError
from zmr.core.specs import MapTaskSpec, Piece, Split
from zmr.storage import locality
from zmr.storage.input_formats import iter_record_batches, split_bytes
from zmr.storage.splits import (
    iter_split_lines,
    iter_split_records,
    list_inputs,
    plan_splits,
)


def write(root: Path, sizes: dict[str, int]) -> list[str]:
    """Files of the given sizes, of 4-byte lines ("abc\\n"), in name order."""
    root.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (root / name).write_bytes((b"abc\n" * size)[:size])
    return [str(root / name) for name in sorted(sizes)]


def layout(splits: list[Split]) -> list[list[tuple[str, int, int]]]:
    """Each split as its pieces' (file name, start, length)."""
    return [[(os.path.basename(p.path), p.start, p.length) for p in s.pieces()]
            for s in splits]


def test_small_files_pack_in_order_up_to_the_split_size_and_big_ranges_stay_alone(tmp_path):
    files = write(tmp_path, {"a": 3, "b": 4, "c": 5, "d": 20, "e": 2, "f": 10})
    assert layout(plan_splits(files, 10)) == [
        [("a", 0, 3), ("b", 0, 4)],            # 7; c would make 12
        [("c", 0, 5)],                         # closed by d: the splits keep input order
        [("d", 0, 10)], [("d", 10, 10)],       # full-size ranges fill a split alone
        [("e", 0, 2)],
        [("f", 0, 10)],                        # as does a file of exactly the split size
    ]
    assert layout(plan_splits(files, 10, combine=False)) == [
        [("a", 0, 3)], [("b", 0, 4)], [("c", 0, 5)], [("d", 0, 10)], [("d", 10, 10)],
        [("e", 0, 2)], [("f", 0, 10)]]


def test_the_tail_of_a_big_file_packs_with_the_next_small_files(tmp_path):
    files = write(tmp_path, {"big": 25, "big2": 12, "small1": 4, "small2": 4})
    assert layout(plan_splits(files, 10)) == [
        [("big", 0, 10)], [("big", 10, 10)],
        [("big", 20, 5)],                      # big2's first range comes next in order
        [("big2", 0, 10)],
        [("big2", 10, 2), ("small1", 0, 4), ("small2", 0, 4)],
    ]


def test_compressed_files_are_whole_pieces_packed_only_when_small(tmp_path):
    for name, lines in (("a.gz", 2), ("b.gz", 400)):
        with gzip.open(tmp_path / name, "wb") as f:
            f.write(b"".join(f"{name} line {i:04}\n".encode() for i in range(lines)))
    files = [str(tmp_path / "a.gz"), *write(tmp_path, {"c.txt": 8}), str(tmp_path / "b.gz")]
    small = os.path.getsize(tmp_path / "a.gz")
    big = os.path.getsize(tmp_path / "b.gz")
    assert small + 8 <= 100 < big
    splits = plan_splits(files, 100)
    assert [[(os.path.basename(p.path), p.whole) for p in s.pieces()] for s in splits] == [
        [("a.gz", True), ("c.txt", False)], [("b.gz", True)]]
    assert [line for _, line in iter_split_records(splits[0])] == [
        "a.gz line 0000", "a.gz line 0001", "abc", "abc"]


def test_pieces_pack_only_with_pieces_of_the_same_hosts(tmp_path):
    files = write(tmp_path, {"a": 2, "b": 2, "c": 2, "d": 2, "e": 2})
    hosts = {files[0]: ("h1",), files[1]: ("h2",), files[2]: ("h1",), files[3]: (),
             files[4]: ("h2",)}
    splits = plan_splits(files, 100, hosts=hosts)
    assert [(s.hosts, [os.path.basename(p.path) for p in s.pieces()]) for s in splits] == [
        (("h1",), ["a", "c"]), (("h2",), ["b", "e"]), ((), ["d"])]
    assert all(p.hosts == s.hosts for s in splits for p in s.pieces())


def test_a_packed_split_crosses_the_wire_as_compact_json(tmp_path):
    split = Split("/d/a", 0, 3, False, ("h",), "csv",
                  (Piece("/d/b", 0, 4), Piece("/d/c.gz", 0, 9, True)))
    d = json.loads(json.dumps(split.to_dict()))
    assert d["more"] == [["/d/b", 0, 4, False], ["/d/c.gz", 0, 9, True]]
    assert Split.from_dict(d) == split
    assert "more" not in Split("/d/a", 0, 3).to_dict()      # a plain split is as before
    spec = MapTaskSpec("j1", 0, 1, split, 2, "/w", "/o", 1 << 20)
    assert MapTaskSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_a_packed_split_is_read_one_piece_at_a_time(tmp_path):
    files = write(tmp_path, {"a": 8, "b": 8})
    (split,) = plan_splits(files, 100)
    with pytest.raises(ValueError, match="one piece at a time"):
        next(iter_split_lines(split))
    assert [list(b[0]) for piece in split.pieces() for b in iter_split_lines(piece)] == [
        [0, 4], [0, 4]]
    assert split_bytes(split) == 16


# -- reading: every line once, under its real file's (path, offset) --------------------------

def reference(path: str) -> list[tuple[tuple[str, int], str]]:
    """Naive: split the file on \\n, strip one \\r, drop the empty tail."""
    out, pos = [], 0
    parts = Path(path).read_bytes().split(b"\n")
    for i, part in enumerate(parts):
        if i == len(parts) - 1 and part == b"":
            break
        out.append(((path, pos), (part[:-1] if part.endswith(b"\r") else part).decode()))
        pos += len(part) + 1
    return out


lines = st.lists(st.sampled_from(["", "x", "yy", "zzzz", "é€", "long line " * 3]),
                 max_size=12)


@settings(max_examples=150, deadline=None)
@given(files=st.lists(st.tuples(lines, st.booleans()), min_size=1, max_size=8),
       split_size=st.integers(1, 80))
def test_packed_splits_give_every_line_of_every_file_once(tmp_path_factory, files,
                                                          split_size):
    root = tmp_path_factory.mktemp("packed")
    paths = []
    for i, (content, terminated) in enumerate(files):
        text = "\n".join(content) + ("\n" if terminated and content else "")
        (root / f"f{i}").write_text(text, encoding="utf-8")
        paths.append(str(root / f"f{i}"))
    expected = [record for path in paths for record in reference(path)]
    splits = plan_splits(paths, split_size)
    got = [record for split in splits for record in iter_split_records(split)]
    assert sorted(got) == sorted(expected)                    # once each, real keys
    assert sum(len(s.pieces()) for s in splits) >= len(splits)
    assert all(sum(p.length for p in s.pieces()) <= split_size or not s.more
               for s in splits)


def test_bad_utf8_in_a_later_file_of_a_packed_split_names_that_file(tmp_path):
    files = write(tmp_path, {"a": 8})
    (tmp_path / "b").write_bytes(b"fine\nbad \xff here\n")
    (split,) = plan_splits([*files, str(tmp_path / "b")], 100)
    assert len(split.pieces()) == 2
    with pytest.raises(InputError, match=f"invalid UTF-8 in {tmp_path / 'b'} at byte 9"):
        list(iter_split_records(split))


def test_csv_files_packed_together_each_use_their_own_header(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("y,x\n5,6\n")            # same columns, other order
    (split,) = plan_splits([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")], 100, "csv")
    got = []
    for piece in split.pieces():
        for offsets, batch in iter_record_batches(piece, iter_split_lines(piece), {}):
            got += [((os.path.basename(piece.path), o), row)
                    for o, row in zip(offsets, batch.to_pylist(), strict=True)]
    assert got == [(("a.csv", 4), {"x": 1, "y": 2}), (("a.csv", 8), {"x": 3, "y": 4}),
                   (("b.csv", 4), {"y": 5, "x": 6})]


def test_small_parquet_files_pack_whole_and_big_ones_split_by_row_group(tmp_path):
    for name, groups in (("a.parquet", 1), ("b.parquet", 1), ("big.parquet", 3)):
        table = pa.table({"v": list(range(300 * groups))})
        pq.write_table(table, tmp_path / name, row_group_size=300)
    files = [str(tmp_path / n) for n in ("a.parquet", "b.parquet", "big.parquet")]
    size = os.path.getsize(files[0]) + os.path.getsize(files[1])
    assert os.path.getsize(files[2]) > size
    splits = plan_splits(files, size, "parquet")
    assert layout(splits)[0] == [("a.parquet", 0, 1), ("b.parquet", 0, 1)]
    assert all(len(s.pieces()) == 1 for s in splits[1:])      # big.parquet's row groups
    rows = [(os.path.basename(p.path), where[0], batch.num_rows) for p in splits[0].pieces()
            for where, batch in iter_record_batches(p, iter(()), {})]
    assert rows == [("a.parquet", 0, 300), ("b.parquet", 0, 300)]


# -- planning 100,000 files -------------------------------------------------------------------

class CallCounter:
    """Counts calls to the functions it wraps (they still run: the files are real)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, targets: list[tuple[object, str]]):
        self.calls: dict[str, int] = {}
        for owner, name in targets:
            real = getattr(owner, name)
            monkeypatch.setattr(owner, name, self._counting(name, real))

    def _counting(self, name, real):
        def wrapper(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return real(*args, **kwargs)
        return wrapper


@pytest.mark.slow
def test_planning_100000_files_lists_them_once(tmp_path, monkeypatch):
    """No stat, open or realpath per file: sizes come from the directory listing (one
    ``DirEntry.stat`` each, which is what the listing costs on Linux) and locality is looked
    up per directory. The speed itself is measured by bench/bench_smallfiles.py."""
    dirs, per_dir = 100, 1000
    for d in range(dirs):
        sub = tmp_path / f"d{d:02}"
        sub.mkdir()
        for i in range(per_dir):
            (sub / f"{i:04}.txt").write_bytes(b"w\n")
    locality._hosts_of_directory.cache_clear()
    counter = CallCounter(monkeypatch, [(os, "stat"), (os, "lstat"), (os, "access"),
                                        (builtins, "open"), (os, "open"),
                                        (os.path, "realpath"), (os.path, "getsize")])
    files = list_inputs([str(tmp_path)])
    hosts = {f.path: locality.hosts_holding(f.path, f.symlink) for f in files}
    splits = plan_splits(files, 64 << 20, hosts=hosts)
    assert len(files) == dirs * per_dir
    assert len(splits) == 1 and len(splits[0].pieces()) == dirs * per_dir
    # per directory (realpath's lstat of each path component), never per file
    assert sum(counter.calls.values()) < len(files) // 20, counter.calls
