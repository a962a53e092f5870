"""``--reuse`` inline, end to end: every input of a map task's fingerprint, changed, makes
that task run again; what it leaves out (the reducer, where code sits in its file) reuses
every map; a reused run's output is byte for byte a fresh run's; a corrupt kept output is
caught and mapped again."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.helpers import output_bytes
from tests.reuse_jobs import (
    PLAIN_JOB,
    edit,
    forget_helpers,
    write_inputs,
    write_job_dir,
    write_text,
)
from zmr.runners.inline import run_inline
from zmr.storage.map_cache import OUTPUT, MapCache


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A job directory, its inputs and a cache of kept outputs of its own."""
    monkeypatch.setenv("ZMR_WORKER_REUSE_DIR", str(tmp_path / "cache"))
    job = write_job_dir(tmp_path / "job")
    data = write_inputs(tmp_path / "data")
    return Work(tmp_path, job, data)


class Work:
    def __init__(self, root, job: str, data: str) -> None:
        self.root, self.job, self.data, self.runs = root, job, data, 0

    def run(self, job: str | None = None, **options):
        """Run the job (as it is on disk now) inline; the result."""
        forget_helpers(os.path.dirname(self.job))
        self.runs += 1
        output = str(self.root / f"out{self.runs}")
        return run_inline(job or self.job, [self.data], output, **options)

    def check_fresh(self, result, job: str | None = None, **options) -> None:
        """The output of ``result`` is byte for byte that of a fresh run: planned the same
        (--reuse cuts each file on its own), with an empty cache."""
        options.pop("reuse", None)
        saved = os.environ["ZMR_WORKER_REUSE_DIR"]
        os.environ["ZMR_WORKER_REUSE_DIR"] = str(self.root / f"empty-cache{self.runs}")
        try:
            fresh = self.run(job, reuse=True, **options)
        finally:
            os.environ["ZMR_WORKER_REUSE_DIR"] = saved
        assert fresh.maps_reused == 0
        assert output_bytes(result.output) == output_bytes(fresh.output)


def test_a_rerun_reuses_every_map_and_writes_the_same_bytes(work):
    first = work.run(reuse=True)
    assert first.maps_reused == 0 and first.num_maps == 6     # two splits per file
    again = work.run(reuse=True)
    assert again.maps_reused == again.num_maps == 6
    assert output_bytes(again.output) == output_bytes(first.output)
    assert again.counters["zmr"]["MAP_INPUT_RECORDS"] == first.counters["zmr"]["MAP_INPUT_RECORDS"]
    work.check_fresh(again, reuse=True)


def test_without_reuse_nothing_is_kept(work, tmp_path):
    work.run()
    assert not os.path.exists(tmp_path / "cache")


CODE_CHANGES = {
    "mapper": ("job.py", "yield word, SCALE + ", "yield word.upper(), SCALE + "),
    "global read by the mapper": ("job.py", "SCALE = 1", "SCALE = 2"),
    "combiner": ("job.py", "    yield word, sum(counts)\n\n\ndef partitioner",
                 "    yield word, sum(counts) * 1\n\n\ndef partitioner"),
    "partitioner": ("job.py", "return len(word) % n", "return (len(word) + 1) % n"),
    "mapper_init": ("job.py", 'open("stop.txt").read().split()',
                    'open("stop.txt").read().split()[:0]'),
    "mapper_final": ("job.py", 'yield "~final", 1', 'yield "~final", 2'),
    "imported helper module": ("reuse_helper.py", "line.lower().split()", "line.split()"),
    "side file": ("stop.txt", "eta\n", "eta\nzeta\n"),
}


@pytest.mark.parametrize("change", sorted(CODE_CHANGES))
def test_a_changed_map_side_code_reruns_every_map(work, change):
    name, old, new = CODE_CHANGES[change]
    work.run(reuse=True, reducers=2)
    edit(os.path.join(os.path.dirname(work.job), name), old, new)
    again = work.run(reuse=True, reducers=2)
    assert again.maps_reused == 0, change
    work.check_fresh(again, reducers=2)


REUSED_CHANGES = {
    "reducer": ("    yield word, sum(counts)\n", "    yield word, sum(counts)\n",
                "def reducer(word, counts):\n    yield word, sum(counts)\n",
                "def reducer(word, counts):\n    yield word, 10 * sum(counts)\n"),
    "lines added above the mapper": (None, None, "def mapper(key, line):",
                                     "# a comment\n\n\ndef mapper(key, line):"),
}


@pytest.mark.parametrize("change", sorted(REUSED_CHANGES))
def test_a_changed_reducer_or_moved_code_reuses_every_map(work, change):
    *_, old, new = REUSED_CHANGES[change]
    work.run(reuse=True)
    edit(work.job, old, new)
    again = work.run(reuse=True)
    assert again.maps_reused == again.num_maps == 6
    work.check_fresh(again)


SETTING_CHANGES = {
    "reducers": ({"reducers": 2}, {"reducers": 3}),
    "compression": ({}, {"compression": "zstd"}),
    "params": ({}, {"params": {"bonus": 1}}),
    "combiner off": ({}, {"reducer_as_combiner": True}),
    "on_bad_utf8": ({}, {"on_bad_utf8": "replace"}),
    "max_line_length": ({}, {"max_line_length": "1MB"}),
    "skip_bad_records": ({}, {"skip_bad_records": 5}),
    "memory_budget": ({}, {"memory_budget": "8MB"}),
    "split size (byte ranges)": ({}, {"split_size": "50KB"}),
}


@pytest.mark.parametrize("change", sorted(SETTING_CHANGES))
def test_a_changed_map_output_setting_reruns_every_map(work, change):
    before, after = SETTING_CHANGES[change]
    work.run(reuse=True, **before)
    again = work.run(reuse=True, **after)
    assert again.maps_reused == 0, change
    work.check_fresh(again, **after)


ORDER_CHANGES = {
    "sort_values": {"sort_values": True},
    "total order partitioner": {"partitioner_name": "total_order"},
}


@pytest.mark.parametrize("change", sorted(ORDER_CHANGES))
def test_a_changed_key_order_reruns_every_map(work, change):
    job = write_job_dir(work.root / "plain", PLAIN_JOB)
    work.run(job, reuse=True, reducers=2)
    again = work.run(job, reuse=True, reducers=2, **ORDER_CHANGES[change])
    assert again.maps_reused == 0
    work.check_fresh(again, job, reducers=2, **ORDER_CHANGES[change])


def _touch_later(path: str) -> None:
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def _same_size_new_text(path: str) -> None:
    with open(path, "r+b") as f:
        first = f.read(5)
        f.seek(0)
        f.write(first[::-1])
    _touch_later(path)


INPUT_CHANGES = {
    "content (same size)": _same_size_new_text,
    "size": lambda path: open(path, "a").write("omega omega\n"),
    "mtime only": _touch_later,
}


@pytest.mark.parametrize("change", sorted(INPUT_CHANGES))
def test_a_changed_input_file_reruns_its_own_splits_only(work, change):
    work.run(reuse=True)
    INPUT_CHANGES[change](os.path.join(work.data, "part1.txt"))
    again = work.run(reuse=True)
    assert (again.num_maps, again.maps_reused) == (6, 4), change
    work.check_fresh(again)


def test_one_new_file_maps_only_its_own_splits(work):
    """With the automatic split size, which follows the whole input's size without
    --reuse: with it, each file is cut on its own, so the old files keep their splits."""
    work.run(reuse=True)
    write_text(os.path.join(work.data, "a-new.txt"), 6000, seed=99)   # sorts first
    again = work.run(reuse=True)
    assert again.num_maps > 6 and again.maps_reused == 6
    work.check_fresh(again)


def test_a_corrupt_kept_output_is_mapped_again(work, tmp_path):
    first = work.run(reuse=True)
    cache = MapCache(str(tmp_path / "cache"), 1 << 30)
    keys = sorted(cache.keys())
    assert len(keys) == 6
    victim = os.path.join(cache.entry_dir(keys[0]), OUTPUT)
    data = bytearray(open(victim, "rb").read())
    data[len(data) // 2] ^= 0xFF
    os.unlink(victim)                    # a new file: the run's own link stays intact
    with open(victim, "wb") as f:
        f.write(bytes(data))
    again = work.run(reuse=True)
    assert again.maps_reused == 5
    assert output_bytes(again.output) == output_bytes(first.output)
    assert sorted(cache.keys()) == keys       # kept again, from the map that ran
    assert work.run(reuse=True).maps_reused == 6


def test_a_half_written_entry_is_never_reused(work, tmp_path):
    """A writer killed before its rename leaves a ``.tmp-`` directory under no key."""
    work.run(reuse=True)
    cache = MapCache(str(tmp_path / "cache"), 1 << 30)
    for key in cache.keys():
        os.rename(cache.entry_dir(key), os.path.join(cache.root, f".tmp-{key}"))
    again = work.run(reuse=True)
    assert again.maps_reused == 0
    work.check_fresh(again)


def test_a_map_only_job_runs_its_maps(work):
    """A map-only job's map output is the job's output: it is not kept."""
    work.run(reuse=True, reducers=0)
    again = work.run(reuse=True, reducers=0)
    assert again.maps_reused == 0
    assert not os.path.exists(work.root / "cache")


def test_clearing_the_cache_reruns_everything(work, tmp_path):
    work.run(reuse=True)
    shutil.rmtree(tmp_path / "cache")
    assert work.run(reuse=True).maps_reused == 0


def test_the_module_setting_turns_reuse_on(work):
    edit(work.job, "SCALE = 1\n", "SCALE = 1\nREUSE = True\n")
    work.run()
    assert work.run().maps_reused == 6


def _words(key, line):
    return [(word, 1) for word in line.split()]


def _total(word, counts):
    yield word, sum(counts)


def _longest(word, counts):
    yield word, max(counts)


def test_zmr_run_with_functions_reuses_their_maps(work, tmp_path):
    """``zmr.run(mapper=..., reuse=True)``: a job built from functions, digested by value."""
    import zmr

    def run(reducer, name):
        return zmr.run(mapper=_words, reducer=reducer, input=work.data, cluster="inline",
                       output=str(tmp_path / name), reuse=True)

    first = run(_total, "a")
    assert first.maps_reused == 0
    assert run(_longest, "b").maps_reused == first.num_maps
    assert zmr.run(mapper=lambda k, line: [(line[:1], 1)], reducer=_total, input=work.data,
                   cluster="inline", output=str(tmp_path / "c"), reuse=True).maps_reused == 0


def _rewrite_keeping_size_and_mtime(path: str) -> None:
    before = os.stat(path)
    _same_size_new_text(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_by_size_and_mtime_a_file_rewritten_with_both_kept_looks_unchanged(work):
    """The documented limit of the default: what --reuse-content is for."""
    work.run(reuse=True)
    _rewrite_keeping_size_and_mtime(os.path.join(work.data, "part1.txt"))
    assert work.run(reuse=True).maps_reused == 6


def test_by_content_a_touched_file_reuses_and_a_rewritten_one_maps(work):
    work.run(reuse=True, reuse_content=True)
    _touch_later(os.path.join(work.data, "part0.txt"))
    assert work.run(reuse=True, reuse_content=True).maps_reused == 6
    _rewrite_keeping_size_and_mtime(os.path.join(work.data, "part1.txt"))
    again = work.run(reuse=True, reuse_content=True)
    assert again.maps_reused == 5            # the split of part1.txt's first bytes
    work.check_fresh(again, reuse_content=True)


def test_by_content_only_the_split_whose_bytes_changed_maps(work):
    path = os.path.join(work.data, "part2.txt")
    work.run(reuse=True, reuse_content=True)
    with open(path, "r+b") as f:             # the last line of the file: its second split
        f.seek(-3, os.SEEK_END)
        f.write(b"xy\n")
    _touch_later(path)
    assert work.run(reuse=True, reuse_content=True).maps_reused == 5
