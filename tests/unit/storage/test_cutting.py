"""Cutting a split's remainder off (dynamic work rebalancing): the head and the remainder
read exactly the lines of the uncut split, with the same (path, offset) keys, wherever the
cut falls (in a line, on a line start, at a piece boundary of a packed split)."""

from __future__ import annotations

import random

import pytest

from zmr.core.specs import Piece, Split
from zmr.storage import cutting
from zmr.storage.splits import iter_split_records, plan_splits


def _write(path, lines: list[str]) -> str:
    path.write_text("".join(line + "\n" for line in lines))
    return str(path)


def _records(split: Split) -> list[tuple[tuple[str, int], str]]:
    return list(iter_split_records(split))


def _lines(rng: random.Random, n: int) -> list[str]:
    return ["x" * rng.randint(0, 40) + f" {i}" for i in range(n)]


def test_every_cut_of_a_split_reads_each_line_once_with_its_key(tmp_path):
    path = _write(tmp_path / "a.txt", _lines(random.Random(1), 60))
    (split,) = plan_splits([path], 1 << 20)
    whole = _records(split)
    for keep in range(1, cutting.split_length(split)):
        head, rest = cutting.cut(split, keep)
        assert head.end == rest.start == keep and rest.end == split.end
        assert _records(head) + _records(rest) == whole, keep
        assert head.fingerprint() != split.fingerprint() != rest.fingerprint()


def test_a_split_not_starting_at_zero_is_cut_relative_to_its_start(tmp_path):
    path = _write(tmp_path / "a.txt", _lines(random.Random(2), 200))
    splits = plan_splits([path], 1000, combine=False)
    middle = splits[1]
    for keep in (1, 37, 500, 999):
        head, rest = cutting.cut(middle, keep)
        assert head.start == middle.start and rest.start == middle.start + keep
        assert _records(head) + _records(rest) == _records(middle)


def test_packed_split_cut_in_a_file_or_on_a_file_boundary(tmp_path):
    rng = random.Random(3)
    paths = [_write(tmp_path / f"f{i}.txt", _lines(rng, 8)) for i in range(4)]
    (split,) = plan_splits(paths, 1 << 20)
    assert len(split.pieces()) == 4
    whole = _records(split)
    boundaries = {sum(p.length for p in split.pieces()[:k]) for k in range(1, 4)}
    for keep in sorted(boundaries | set(range(1, cutting.split_length(split), 7))):
        head, rest = cutting.cut(split, keep)
        assert cutting.split_length(head) == keep
        assert cutting.split_length(rest) == cutting.split_length(split) - keep
        assert _records(head) + _records(rest) == whole, keep
        if keep in boundaries:                  # whole files on each side
            assert all(p.start == 0 for p in rest.pieces())


def test_only_plain_text_splits_can_be_cut(tmp_path):
    text = Split("/in/a.txt", 0, 100)
    assert cutting.cuttable(text)
    assert not cutting.cuttable(Split("/in/a.txt.gz", 0, 100, whole=True))
    assert not cutting.cuttable(Split("/in/a.txt", 0, 100, more=(Piece("/b.gz", 0, 5, True),)))
    for fmt in ("csv", "jsonl", "parquet", "ipc", "arrow", "fixed:8", "files"):
        assert not cutting.cuttable(Split("/in/a", 0, 100, format=fmt))


@pytest.mark.parametrize("keep", [0, 100, 101, -1])
def test_a_cut_outside_the_split_is_refused(keep):
    with pytest.raises(ValueError, match="cannot cut"):
        cutting.cut(Split("/in/a.txt", 0, 100), keep)
