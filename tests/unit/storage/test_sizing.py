"""Splits sized to the cluster when no split size is given (Spark's maxSplitBytes rule,
zmr.storage.sizing): about 3 splits per slot, between a 64 KiB floor and 64 MiB, each
small file weighing its open cost more; a given split size is used as it is."""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.storage.sizing import MAX_SPLIT, MIN_SPLIT, OPEN_COST, SPLITS_PER_SLOT, auto_split_size
from zmr.storage.splits import iter_split_records, plan_splits

KB, MB = 1 << 10, 1 << 20


def text_file(path: Path, size: int, seed: int = 0) -> str:
    """``size`` bytes of lines of 10 to 80 characters (the last one cut short)."""
    rng = random.Random(seed)
    lines, total = [], 0
    while total < size:
        line = "x" * rng.randint(10, 80) + "\n"
        lines.append(line)
        total += len(line)
    path.write_text("".join(lines)[:size])
    return str(path)


def sparse(path: Path, size: int) -> str:
    """A file of ``size`` bytes that takes no disk space: planning only looks at sizes."""
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def lengths(splits) -> list[int]:
    return [sum(p.length for p in s.pieces()) for s in splits]


def test_the_rule_has_a_floor_a_cap_and_three_splits_per_slot_between():
    assert auto_split_size([1000], 2) == MIN_SPLIT
    assert auto_split_size([100 << 30], 2) == MAX_SPLIT
    weight = 64 * MB + 4 * OPEN_COST
    assert auto_split_size([16 * MB] * 4, 2) == -(-weight // (2 * SPLITS_PER_SLOT))
    assert auto_split_size([16 * MB] * 4, 4) == -(-weight // (4 * SPLITS_PER_SLOT))


def test_one_kilobyte_is_one_split_whatever_the_slots(tmp_path):
    path = text_file(tmp_path / "f", 1000)
    for slots in (1, 2, 8, 64):
        assert lengths(plan_splits([path], None, parallelism=slots)) == [1000]


def test_a_few_tiny_files_stay_one_split(tmp_path):
    """Their open costs alone would make 3 splits per slot: never more than one split per
    64 KiB of data."""
    paths = [text_file(tmp_path / f"f{i}", 100, i) for i in range(100)]
    assert len(plan_splits(paths, None, parallelism=8)) == 1


def test_one_medium_file_is_cut_into_equal_line_aligned_ranges(tmp_path):
    path = text_file(tmp_path / "f", 750 * KB)
    splits = plan_splits([path], None, parallelism=2)
    assert lengths(splits) == [128000] * 6                # 750 KiB / 6, no short tail
    expected = [((path, offset), line) for offset, line in _lines(path)]
    assert [r for s in splits for r in iter_split_records(s)] == expected


def _lines(path: str):
    offset = 0
    with open(path, "rb") as f:
        for raw in f:
            yield offset, raw.decode().rstrip("\n")
            offset += len(raw)


def test_small_files_fill_every_slot(tmp_path):
    """8 files of 900 KB in all, on 2 slots: one split each (the old 64 MB default packed
    them into one split, and one slot did all the work)."""
    paths = [text_file(tmp_path / f"f{i}", 900 * KB // 8, i) for i in range(8)]
    assert len(plan_splits(paths, None, parallelism=2)) == 8
    assert len(plan_splits(paths, None, parallelism=1)) >= 3


def test_a_64mb_corpus_in_4_files_makes_3_splits_per_slot_or_more(tmp_path):
    paths = [sparse(tmp_path / f"part-{i}", 16 * MB) for i in range(4)]
    for slots, count in ((1, 4), (2, 8), (4, 12)):
        splits = plan_splits(paths, None, parallelism=slots)
        assert len(splits) == count >= SPLITS_PER_SLOT * slots
        assert max(lengths(splits)) - min(lengths(splits)) < 8      # equal, to a byte or two
    # a big input: splits of at most 64 MiB, as many as the old fixed default made, equal
    big = [sparse(tmp_path / f"big-{i}", 200 * MB) for i in range(4)]
    assert lengths(plan_splits(big, None, parallelism=2)) == [50 * MB] * 16
    assert len(plan_splits(big, 64 * MB)) == 16


def test_a_thousand_small_files_are_a_few_tasks_per_slot(tmp_path):
    rng = random.Random(7)
    paths = [text_file(tmp_path / f"f{i:04}", rng.randint(KB, 8 * KB), i) for i in range(1000)]
    for slots in (1, 2, 4):
        count = len(plan_splits(paths, None, parallelism=slots))
        assert slots <= count <= (SPLITS_PER_SLOT + 1) * slots


def test_a_given_split_size_wins_and_no_packing_still_means_a_split_per_file(tmp_path):
    paths = [text_file(tmp_path / f"f{i}", 900 * KB // 8, i) for i in range(8)]
    assert lengths(plan_splits(paths, 64 * MB)) == [900 * KB]       # as given: one split
    assert len(plan_splits(paths, None, combine=False, parallelism=1)) == 8
    assert len(plan_splits(paths[:1], None, combine=False, parallelism=64)) == 1


def test_gzip_stays_whole_and_fixed_records_are_not_cut(tmp_path):
    with gzip.open(tmp_path / "a.gz", "wb") as f:
        f.write(os.urandom(300 * KB))
    (split,) = plan_splits([str(tmp_path / "a.gz")], None, parallelism=8)
    assert split.whole
    (tmp_path / "r.dat").write_bytes(b"0123456789" * 100_000)          # 1,000,000 bytes
    splits = plan_splits([str(tmp_path / "r.dat")], None, "fixed:10", parallelism=2)
    assert len(splits) >= 2 * SPLITS_PER_SLOT
    assert all(s.start % 10 == 0 and s.length % 10 == 0 for s in splits)


@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(1, 400 * KB), min_size=1, max_size=30),
       slots=st.integers(1, 16))
def test_packing_never_leaves_slots_an_unpacked_run_would_have_used(tmp_path_factory, sizes,
                                                                    slots):
    root = tmp_path_factory.mktemp("sizes")
    paths = [sparse(root / f"f{i:02}", size) for i, size in enumerate(sizes)]
    packed = plan_splits(paths, None, parallelism=slots)
    unpacked = plan_splits(paths, None, combine=False, parallelism=slots)
    assert sum(lengths(packed)) == sum(sizes)
    if sum(sizes) >= slots * MIN_SPLIT:       # below that, the floor keeps splits whole
        assert len(packed) >= min(len(unpacked), slots)
