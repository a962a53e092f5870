"""Planning knows how many slots will run the job (``JobPlan.parallelism``): NUM_REDUCERS
not given is that many (Spark's default parallelism) and the default split size follows
it; a given number, 0 and 1 included, wins, from a flag, the module or a Step."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from tests.helpers import read_parts
from zmr.core.errors import ConfigError
from zmr.core.jsonable import from_json, to_json
from zmr.core.plan import JobPlan, StepPlan
from zmr.job.api import Pipeline
from zmr.job.loader import load_job, load_runnable
from zmr.job.pipeline import plan_steps
from zmr.job.planning import plan_job
from zmr.runners.inline import _run_plan as run_plan
from zmr.settings.job import JobOptions
from zmr.tasks.sampling import plan_sorted_job


def job_file(tmp_path, settings: str = "") -> str:
    path = tmp_path / "wc.py"
    path.write_text(f"{settings}\ndef mapper(_k, line):\n    for w in line.split():\n"
                    "        yield w, 1\n\ndef reducer(w, ones):\n    yield w, sum(ones)\n")
    return str(path)


def corpus(tmp_path, size: int = 300_000) -> str:
    rng = random.Random(3)
    lines = [" ".join(f"w{rng.randint(0, 500)}" for _ in range(8)) for _ in range(size // 36)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "in.txt")


@pytest.mark.parametrize("slots", [1, 2, 6])
def test_reducers_and_splits_follow_the_slots_when_not_given(tmp_path, slots):
    plan = plan_job(load_job(job_file(tmp_path)), [corpus(tmp_path)], str(tmp_path / "o"),
                    parallelism=slots)
    assert (plan.parallelism, plan.num_reducers) == (slots, slots)
    assert plan.num_maps >= min(3 * slots, 300_000 // (64 << 10))


@pytest.mark.parametrize("where", ["flag", "module"])
@pytest.mark.parametrize("reducers", [0, 1, 5])
def test_a_given_number_of_reducers_wins(tmp_path, where, reducers):
    given = JobOptions(reducers=reducers) if where == "flag" else JobOptions()
    module = f"NUM_REDUCERS = {reducers}" if where == "module" else ""
    plan = plan_job(load_job(job_file(tmp_path, module)), [corpus(tmp_path)],
                    str(tmp_path / "o"), given, parallelism=4)
    assert (plan.parallelism, plan.num_reducers) == (4, reducers)


def test_a_step_keyword_wins_and_other_steps_follow_the_slots(tmp_path):
    path = tmp_path / "steps.py"
    path.write_text("from zmr import Step\ndef m(_k, line):\n    yield line, 1\n"
                    "def r(k, v):\n    yield k, sum(v)\n"
                    "STEPS = [Step(mapper=m, reducer=r), Step(reducer=r, num_reducers=1)]\n")
    pipeline = load_runnable(str(path))
    assert isinstance(pipeline, Pipeline)
    first, second = plan_steps(pipeline, [corpus(tmp_path)], str(tmp_path / "o"),
                               parallelism=3)
    assert (first.plan.num_reducers, first.auto_reducers) == (3, True)
    assert (second.plan.num_reducers, second.auto_reducers) == (1, False)
    assert first.split_size is None and second.plan.parallelism == 3
    # the coordinator plans a later step again for its live slots
    assert second.for_slots(8).plan.num_reducers == 1
    assert first.for_slots(8).plan.num_reducers == 8


def test_the_slots_travel_in_the_plan_and_are_checked(tmp_path):
    plan = plan_job(load_job(job_file(tmp_path)), [corpus(tmp_path)], str(tmp_path / "o"),
                    parallelism=7)
    assert JobPlan.from_dict(json.loads(json.dumps(to_json(plan)))).parallelism == 7
    step = StepPlan(plan, None, auto_reducers=True)
    assert from_json(StepPlan, json.loads(json.dumps(to_json(step)))) == step
    with pytest.raises(ConfigError, match="parallelism must be at least 1"):
        JobPlan.from_dict({**to_json(plan), "parallelism": 0})
    with pytest.raises(ConfigError, match="parallelism must be at least 1"):
        plan_job(load_job(job_file(tmp_path)), [corpus(tmp_path)], str(tmp_path / "o"),
                 parallelism=0)


def test_total_order_samples_cuts_for_the_default_reducers(tmp_path):
    """TeraSort-like: keys sorted across the slot count's part files."""
    keys = [f"k{n:06d}" for n in random.Random(5).sample(range(10**6), 3000)]
    (tmp_path / "in.txt").write_text("".join(k + "\n" for k in keys))
    job = tmp_path / "sort.py"
    job.write_text("PARTITIONER = 'total_order'\ndef mapper(_k, line):\n    yield line, None\n")
    spec = load_job(str(job))
    plan = plan_sorted_job(spec, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                           JobOptions(), parallelism=4)
    assert plan.num_reducers == 4 and len(plan.ordering["cuts"]) == 3 and plan.coalesce
    # the tasks a 4-slot cluster would run, were its tiny partitions not coalesced
    run_plan(spec, dataclasses.replace(plan, coalesce=False), False, 0.0)
    parts = read_parts(str(tmp_path / "out"))
    assert len(parts) == 4 and all(parts)
    assert [k for part in parts for k, _ in part] == sorted(keys)
