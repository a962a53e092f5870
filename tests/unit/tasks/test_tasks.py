"""Map and reduce tasks: spills under a budget, bounded reduce merges, checksums, commits."""

from __future__ import annotations

import collections
import os

import pytest

from tests.helpers import EXAMPLES, JOBS, read_output, read_parts
from zmr.core.errors import ConfigError, FetchFailedError
from zmr.core.plan import JobPlan
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.runners.inline import run_inline
from zmr.settings.job import JobOptions
from zmr.storage import commit
from zmr.tasks.map_task import run_map_task
from zmr.tasks.reduce_task import merge_factor, run_reduce_task


def _corpus(path, lines=3000, vocab=400):
    with open(path, "w") as f:
        for i in range(lines):
            f.write(" ".join(f"w{(i * 7 + j * 13) % vocab}" for j in range(10)) + "\n")
    return collections.Counter(w for ln in open(path) for w in ln.split())


def test_map_spills_sorted_runs_when_over_budget(tmp_path):
    expected = _corpus(tmp_path / "in.txt")
    job = load_job(os.path.join(EXAMPLES, "wordcount.py"))
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                    JobOptions(reducers=3, memory_budget=20_000, split_size="64MB"))
    assert plan.num_maps == 1               # the whole corpus in the one map task run here
    manifest = run_map_task(plan.map_spec("j", 0, 1, str(tmp_path / "work")), job)
    counters = manifest.counters["zmr"]
    assert counters["MAP_OUTPUT_RECORDS"] == sum(expected.values())
    # several runs were written, each combined, and merged (combining again) at the end
    assert counters["SPILLED_RECORDS"] > counters["COMBINE_OUTPUT_RECORDS"] - counters[
        "SPILLED_RECORDS"] > 0
    assert not os.path.exists(str(tmp_path / "work" / "map-00000-a1.spill"))
    assert sum(p.rows for p in manifest.partitions) == len(expected)


def test_reduce_partition_larger_than_budget_merges_in_passes(tmp_path):
    """One partition several times the budget: bounded merge, counted as reduce spills."""
    expected = _corpus(tmp_path / "in.txt", lines=4000, vocab=100000)
    budget = 150_000                  # the smallest merge factor: two inputs per pass
    out = tmp_path / "out"
    result = run_inline(os.path.join(JOBS, "positions.py"), [str(tmp_path / "in.txt")],
                        str(out), reducers=1, split_size=20_000, memory_budget=budget)
    c = result.counters["zmr"]
    assert merge_factor(budget) == 2 and result.num_maps > 8
    assert c["REDUCE_SHUFFLE_BYTES"] > 3 * budget
    assert c["REDUCE_SPILLED_RECORDS"] >= c["REDUCE_INPUT_RECORDS"]
    assert c["REDUCE_OUTPUT_RECORDS"] == 4000 and len(expected) > 0


def test_corrupt_map_output_is_detected(tmp_path):
    _corpus(tmp_path / "in.txt", lines=200)
    job = load_job(os.path.join(EXAMPLES, "wordcount.py"))
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"), JobOptions(reducers=1))
    commit.prepare_output(plan.output)
    m = run_map_task(plan.map_spec("j", 0, 1, str(tmp_path / "w")), job)
    with open(m.path, "r+b") as f:
        f.seek(m.partitions[0].offset + m.partitions[0].length // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    spec = plan.reduce_spec("j", 0, 1, [m.segment(0)], str(tmp_path / "w"))
    with pytest.raises(FetchFailedError, match="map output of task 0 attempt 1") as failure:
        run_reduce_task(spec, job)
    assert failure.value.map_index == 0
    assert not os.path.exists(os.path.join(plan.output, "part-00000"))


def test_first_commit_wins(tmp_path):
    _corpus(tmp_path / "in.txt", lines=100)
    job = load_job(os.path.join(EXAMPLES, "wordcount.py"))
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"), JobOptions(reducers=1))
    commit.prepare_output(plan.output)
    m = run_map_task(plan.map_spec("j", 0, 1, str(tmp_path / "w")), job)
    first = run_reduce_task(plan.reduce_spec("j", 0, 1, [m.segment(0)], str(tmp_path / "w")),
                            job)
    second = run_reduce_task(plan.reduce_spec("j", 0, 2, [m.segment(0)], str(tmp_path / "w")),
                             job)
    assert first.committed and not second.committed
    # committed, but invisible until the job commits (FileOutputCommitter v1)
    assert sorted(os.listdir(plan.output)) == ["_temporary"]
    assert os.listdir(os.path.join(plan.output, "_temporary", "committed")) == ["part-00000"]
    commit.mark_success(plan.output)
    assert sorted(os.listdir(plan.output)) == ["_SUCCESS", "part-00000"]


def test_combiner_that_changes_keys_is_an_error(tmp_path):
    (tmp_path / "in.txt").write_text("a\nb\na\n")     # "a" twice: the combiner is called
    with pytest.raises(ValueError, match="combiner changed key"):
        run_inline(os.path.join(JOBS, "bad_combiner.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()     # partial output removed


def test_partitioner_out_of_range_is_an_error(tmp_path):
    (tmp_path / "in.txt").write_text("a\nb\n")
    with pytest.raises(ValueError, match="partitioner returned 2"):
        run_inline(os.path.join(JOBS, "bad_partitioner.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / "out"), reducers=2)


def test_custom_partitioner_init_final_hooks_and_user_counters(tmp_path):
    (tmp_path / "in.txt").write_text("apple avocado\nbanana cherry apple\n")
    out = str(tmp_path / "out")
    result = run_inline(os.path.join(JOBS, "first_letter.py"), [str(tmp_path / "in.txt")], out,
                        reducers=3)
    for part in read_parts(out):
        letters = {ord(k[0]) % 3 for k, _ in part if not k.startswith("~")}
        assert len(letters) <= 1
    got = read_output(out)
    assert got["apple"] == 2 and got["~lines-mapped"] == 5
    assert result.counters["fixture"]["mapped_words"] == 5


def test_map_only_job_writes_map_output_in_order(tmp_path):
    (tmp_path / "in.txt").write_text("b\na\nc\n")
    out = str(tmp_path / "out")
    result = run_inline(os.path.join(JOBS, "positions.py"), [str(tmp_path / "in.txt")], out,
                        reducers=0, split_size=2)
    assert result.num_reducers == 0
    lines = [v for part in read_parts(out) for _, v in part]
    assert lines == ["b", "a", "c"] and len(read_parts(out)) == 3


@pytest.mark.parametrize("combiner", [False, True])
def test_values_that_change_type_between_spills(tmp_path, combiner):
    """Early spills hold int values, later ones floats: a partition's merged stream changes
    schema mid-way, which the map output file must hold (as back-to-back IPC streams)."""
    job = tmp_path / "job.py"
    job.write_text(
        "def mapper(key, line):\n"
        "    n = int(line)\n"
        "    yield n // 100, (n if n < 5000 else n / 2)\n"
        "def reducer(key, values):\n"
        "    yield key, sum(values)\n"
        + ("combiner = reducer\n" if combiner else ""))
    (tmp_path / "in.txt").write_text("".join(f"{n}\n" for n in range(10000)))
    run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "out"), reducers=2,
               memory_budget=20_000)
    expected = collections.Counter()
    for n in range(10000):
        expected[n // 100] += n if n < 5000 else n / 2
    assert read_output(str(tmp_path / "out")) == dict(expected)


def test_compressed_intermediates_give_the_same_output_in_fewer_bytes(tmp_path):
    expected = _corpus(tmp_path / "in.txt", lines=4000, vocab=3000)
    sizes = {}
    for codec in ("none", "lz4", "zstd"):
        out = str(tmp_path / codec)
        result = run_inline(os.path.join(EXAMPLES, "bigram.py"), [str(tmp_path / "in.txt")],
                            out, reducers=2, memory_budget=200_000, compression=codec)
        sizes[codec] = result.counters["zmr"]["MAP_OUTPUT_MATERIALIZED_BYTES"]
        assert sum(read_output(out).values()) == sum(
            len(ln.split()) - 1 for ln in open(tmp_path / "in.txt"))
    assert read_output(str(tmp_path / "lz4")) == read_output(str(tmp_path / "none")) == \
        read_output(str(tmp_path / "zstd"))
    assert sizes["zstd"] < sizes["none"] and sizes["lz4"] < sizes["none"]
    assert expected


def test_unknown_compression_is_refused_naming_the_setting(tmp_path):
    (tmp_path / "in.txt").write_text("a b\n")
    with pytest.raises(ConfigError, match="compression must be one of none, lz4, zstd"):
        run_inline(os.path.join(EXAMPLES, "wordcount.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / "out"), compression="gzip")


def test_task_memory_limit_travels_in_specs_and_caps_the_spill_budget(tmp_path):
    (tmp_path / "in.txt").write_text("a b\n")
    job = load_job(os.path.join(EXAMPLES, "wordcount.py"))
    inputs, out = [str(tmp_path / "in.txt")], str(tmp_path / "out")
    plan = plan_job(job, inputs, out, JobOptions(memory_budget="256MB", task_memory="200MB"))
    assert (plan.task_memory, plan.memory_budget) == (200 << 20, 100 << 20)   # half the limit
    assert plan.map_spec("j", 0, 1, "w").task_memory == 200 << 20
    assert plan.reduce_spec("j", 0, 1, [], "w").to_dict()["task_memory"] == 200 << 20
    assert JobPlan.from_dict(plan.to_dict()) == plan
    small = plan_job(job, inputs, out, JobOptions(memory_budget="16MB", task_memory="2GB"))
    assert small.memory_budget == 16 << 20                      # already well below the limit
    assert plan_job(job, inputs, out).task_memory == 0          # no limit by default
    with pytest.raises(ConfigError, match="task_memory"):
        plan_job(job, inputs, out, JobOptions(task_memory="0"))


def test_a_map_output_carries_its_identity_and_refuses_input_changed_since_planning(tmp_path):
    """Issue 25 finding 1: the output says which job incarnation and split it was computed
    for (written to its index, offered again after a worker restart), and a file rewritten
    after planning (same name, same size) is refused with an input error, not mapped."""
    from zmr.core.errors import InputError
    from zmr.tasks.map_task import read_indexes

    _corpus(tmp_path / "in.txt")
    job = load_job(os.path.join(EXAMPLES, "wordcount.py"))
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                    JobOptions(reducers=2))
    work = str(tmp_path / "worker" / "job-0001")         # as a worker lays out its data
    spec = plan.map_spec("job-0001", 0, 1, work, "c0ffee")
    manifest = run_map_task(spec, job)
    assert manifest.identity == plan.map_identity("c0ffee", "job-0001", 0) == spec.identity
    assert read_indexes(str(tmp_path / "worker")) == [("job-0001", manifest)]
    before = plan.splits[0].fingerprint()
    text = (tmp_path / "in.txt").read_bytes()
    (tmp_path / "in.txt").write_bytes(text.upper())                 # same size, new content
    os.utime(tmp_path / "in.txt", ns=(0, plan.splits[0].stamp.mtime_ns + 10**9))
    with pytest.raises(InputError, match=r"in\.txt changed after the job was planned"):
        run_map_task(plan.map_spec("job-0001", 0, 2, work, "c0ffee"), job)
    replanned = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                         JobOptions(reducers=2))
    assert replanned.splits[0].fingerprint() != before      # so is the identity's split
