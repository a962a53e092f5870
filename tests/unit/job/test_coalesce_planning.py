"""Whether a plan's reduce partitions may be coalesced (``JobPlan.coalesce``): only when
NUM_REDUCERS was given nowhere: not as a flag or keyword, not in the job module, not as a
``Step`` keyword. An explicit number, 0 (map-only) included, is that many reduce tasks."""

from __future__ import annotations

import dataclasses

import pytest

from zmr.job.loader import load_runnable
from zmr.job.pipeline import plan_steps
from zmr.job.planning import plan_job
from zmr.runners import inline
from zmr.runners.inline import run_inline
from zmr.settings.job import JobOptions
from zmr.tasks.sampling import plan_sorted_job

WORDS = "def mapper(k, line):\n    for w in line.split():\n        yield w, 1\n\n" \
        "def reducer(k, values):\n    yield k, sum(values)\n"


def write_job(tmp_path, text, name="job.py"):
    path = tmp_path / name
    path.write_text(text)
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "in" / "a.txt").write_text("b a c a\n" * 50)
    return str(path)


@pytest.mark.parametrize("module_setting, options, expected", [
    ("", JobOptions(), True),
    ("", JobOptions(reducers=3), False),
    ("", JobOptions(reducers=0), False),
    ("NUM_REDUCERS = 2\n", JobOptions(), False),
    ("NUM_REDUCERS = 1\n", JobOptions(), False),     # the default's value, but given
])
def test_only_a_job_that_sets_no_number_of_reducers_is_coalesced(tmp_path, module_setting,
                                                                 options, expected):
    job = write_job(tmp_path, module_setting + WORDS)
    plan = plan_job(load_runnable(job), [str(tmp_path / "in")], str(tmp_path / "o"), options)
    assert plan.coalesce is expected


def test_a_step_keyword_counts_as_given(tmp_path):
    hooks = WORDS.replace("mapper", "words").replace("reducer", "total")
    job = write_job(tmp_path, hooks + "from zmr import Step\n"
                    "STEPS = [Step(mapper=words, reducer=total, num_reducers=2),\n"
                    "         Step(reducer=total)]\n")
    steps = plan_steps(load_runnable(job), [str(tmp_path / "in")], str(tmp_path / "o"))
    assert [step.plan.coalesce for step in steps] == [False, True]


def test_an_inline_run_coalesces_tiny_partitions_into_one_part_file(tmp_path):
    job = write_job(tmp_path, WORDS)
    auto = plan_job(load_runnable(job), [str(tmp_path / "in")], str(tmp_path / "o"))
    assert auto.coalesce
    # explicit 4: four part files; the auto case, planned with 4 partitions: one
    explicit = run_inline(job, [str(tmp_path / "in")], str(tmp_path / "four"), reducers=4)
    assert explicit.num_reducers == 4 and explicit.partitions == 4
    assert len(list((tmp_path / "four").glob("part-*"))) == 4
    plan = plan_sorted_job(load_runnable(job), [str(tmp_path / "in")],
                           str(tmp_path / "one"), JobOptions(reducers=4))
    result = inline._run_plan(load_runnable(job), dataclasses.replace(plan, coalesce=True),
                              False, 0.0)
    assert result.num_reducers == 1 and result.partitions == 4
    assert (tmp_path / "one" / "part-00000").read_text() == "a\t100\nb\t50\nc\t50\n"
    assert sorted(p.name for p in (tmp_path / "one").glob("part-*")) == ["part-00000"]
