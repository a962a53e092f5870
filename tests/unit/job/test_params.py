"""Job parameters: ``--param`` flags, ``PARAMS`` declarations, ``zmr.param`` in job code,
run inline (the cluster runs are in tests/cluster/test_job_source.py)."""

from __future__ import annotations

import argparse
import pickle

import pytest

import zmr
from tests.helpers import read_output
from zmr.cli.options import add_job_arguments
from zmr.core.errors import ConfigError
from zmr.job import params
from zmr.job.loader import load_runnable
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions

GREP = """\
import re
import zmr

PARAMS = {"pattern": zmr.REQUIRED, "limit": 100, "ignore_case": False, "tags": []}
PREFIX = zmr.param("prefix", default="")      # module level: read at import

def mapper_init():
    global rx
    rx = re.compile(zmr.param("pattern"), re.I if zmr.param("ignore_case", type=bool) else 0)

def mapper(key, line):
    if rx.search(line) and len(line) <= zmr.param("limit", type=int):
        yield line, zmr.param("tags", type=list)
"""


def flags(*argv: str) -> JobOptions:
    parser = argparse.ArgumentParser()
    add_job_arguments(parser)
    return JobOptions.from_args(parser.parse_args(["job", "-i", "x", "-o", "y", *argv]))


@pytest.fixture()
def grep(tmp_path):
    (tmp_path / "grep.py").write_text(GREP)
    (tmp_path / "in.txt").write_text("Apple pie\nbanana\napple\n")
    return str(tmp_path / "grep.py"), str(tmp_path / "in.txt")


def test_param_flags_repeat_and_the_last_one_for_a_name_wins():
    assert flags("--param", "a=1", "--param", "b=x=y", "--param", "a=2").params == {
        "a": "2", "b": "x=y"}
    assert flags().params is None
    with pytest.raises(ConfigError, match=r"--param 'oops': expected NAME=VALUE"):
        flags("--param", "oops")
    with pytest.raises(ConfigError, match="'1x' is not a parameter name"):
        flags("--param", "1x=3")


def test_declared_parameters_are_typed_by_their_default_and_completed(grep, tmp_path):
    module, inputs = grep
    plan = plan_job(load_runnable(module), [inputs], str(tmp_path / "o"),
                    JobOptions(params=["pattern=app", "limit=5", "ignore_case=yes",
                                       'tags=["t"]']))
    assert plan.params == {"pattern": "app", "limit": 5, "ignore_case": True, "tags": ["t"]}
    assert plan.map_spec("j", 0, 1, "/w").params == plan.params
    assert plan.reduce_spec("j", 0, 1, [], "/w").params == plan.params


@pytest.mark.parametrize(("given", "message"), [
    ({}, r"grep.py: parameter 'pattern' is required .* give --param pattern=VALUE"),
    ({"pattern": "a", "patern": "b"},
     r"grep.py: unknown parameter 'patern' .*PARAMS declares 'pattern', 'limit'"),
    ({"pattern": "a", "limit": "ten"}, r"grep.py: parameter limit = 'ten' is not a valid int"),
    ({"pattern": "a", "ignore_case": "maybe"}, "parameter ignore_case = 'maybe'"),
    ({"pattern": object()}, "parameter pattern = <object .* cannot travel with the job"),
])
def test_bad_parameters_are_errors_at_submit_naming_them(grep, tmp_path, given, message):
    module, inputs = grep
    with pytest.raises(ConfigError, match=message) as caught:
        zmr.run_inline(module, [inputs], str(tmp_path / "o"), params=given)
    assert caught.value.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_job_code_reads_parameters_inline_at_module_level_and_in_hooks(grep, tmp_path):
    module, inputs = grep
    zmr.run_inline(module, [inputs], str(tmp_path / "o"),
                   params={"pattern": "apple", "ignore_case": "true", "tags": ["x", 1]})
    assert read_output(str(tmp_path / "o")) == {"Apple pie": ["x", 1], "apple": ["x", 1]}


def test_an_undeclaring_job_takes_any_parameter_as_text(tmp_path):
    (tmp_path / "job.py").write_text(
        "import zmr\ndef mapper(k, line):\n"
        "    yield zmr.param('word', 'none'), zmr.param('n', 0, type=int)\n")
    (tmp_path / "in.txt").write_text("x\n")
    zmr.run_inline(str(tmp_path / "job.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / "o"), params=["n=7"])
    assert read_output(str(tmp_path / "o")) == {"none": 7}


def test_steps_declare_parameters_for_the_whole_job(tmp_path):
    (tmp_path / "steps.py").write_text("""\
import zmr
PARAMS = {"scale": 1}
def emit(k, line):
    yield line, zmr.param("scale", type=int) * zmr.param("bonus", type=int)
def total(k, vs):
    yield k, sum(vs)
STEPS = [zmr.Step(mapper=emit, reducer=total, params={"bonus": 10}), zmr.Step(reducer=total)]
""")
    (tmp_path / "in.txt").write_text("a\na\nb\n")
    zmr.run_inline(str(tmp_path / "steps.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / "o"), params={"scale": "3"})
    assert read_output(str(tmp_path / "o")) == {"a": 60, "b": 30}
    with pytest.raises(ConfigError, match="unknown parameter 'bonsu'"):
        zmr.run_inline(str(tmp_path / "steps.py"), [str(tmp_path / "in.txt")],
                       str(tmp_path / "o2"), params={"bonsu": "3"})


def test_param_conversions_and_the_required_marker():
    assert params.convert("2.5", float) == 2.5 and params.convert(3, str) == "3"
    assert params.convert("off", bool) is False and params.convert('{"a": 1}', dict) == {"a": 1}
    with pytest.raises(ValueError):
        params.convert("[1]", dict)
    assert pickle.loads(pickle.dumps(zmr.REQUIRED)) is zmr.REQUIRED
    assert params.resolve({"x": ...}, {"x": "1"}, "j.py") == {"x": "1"}
    with pytest.raises(ConfigError, match="PARAMS must be a dict"):
        params.resolve(["x=1"], {}, "j.py")     # type: ignore[arg-type]
    with params.using({"n": "4"}):
        assert zmr.param("n", type=int) == 4 and zmr.param("m", default=9) == 9
        with pytest.raises(ConfigError, match="parameter n = '4' is not a valid dict"):
            zmr.param("n", type=dict)
    assert zmr.param("n") is None
    with params.using({"n": 4, "none": None, "flag": False}):
        # without type=, a value keeps the type it was submitted with: False is not the
        # (truthy) text 'False'; type=str still asks for text
        assert zmr.param("n") == 4 and zmr.param("n", type=str) == "4"
        assert zmr.param("flag") is False and zmr.param("none", type=int) is None
