"""Jobs given to the Python API as functions (lambdas, closures), modules or paths, run
inline (``cluster="inline"``); bad calls are errors naming the keyword, hook or file."""

from __future__ import annotations

import importlib.util

import pytest

import zmr
from zmr.job.functions import job_and_options


def module_mapper(_, line):
    yield line, 1


@pytest.fixture()
def lines(tmp_path):
    (tmp_path / "in.txt").write_text("b a\na c\nd\n")
    return str(tmp_path / "in.txt")


def test_lambdas_and_a_closure_run_and_read_back(tmp_path, lines):
    skip = {"d"}                                # closed over: travels with the mapper
    result = zmr.run(mapper=lambda _, line: ((w, 1) for w in line.split() if w not in skip),
                     reducer=lambda word, ones: [(word, sum(ones))], combiner="reducer",
                     input=lines, output=tmp_path / "out", reducers=2, cluster="inline",
                     output_format="parquet")
    assert sorted(result.read_pairs()) == [("a", 2), ("b", 1), ("c", 1)]
    assert result.counter("zmr", "MAP_INPUT_RECORDS") == 3 and result.num_reducers == 2
    assert result.counter("zmr", "COMBINE_INPUT_RECORDS") == 4
    assert sorted(result.read_polars().rows()) == [("a", 2), ("b", 1), ("c", 1)]
    assert sorted(result.read_arrow().column("key").to_pylist()) == ["a", "b", "c"]


def test_reduce_keyword_and_a_fresh_output(lines):
    result = zmr.run(mapper=lambda _, line: ((w, 1) for w in line.split()), reduce="sum",
                     input=[lines], cluster="inline")
    assert result.output.endswith("output") and dict(result.read_pairs())["a"] == 2


def test_a_job_module_object_and_a_path(tmp_path, lines):
    (tmp_path / "mod_job.py").write_text(
        "def mapper(_, line):\n    yield len(line), line\n\nNUM_REDUCERS = 1\n")
    spec = importlib.util.spec_from_file_location("mod_job_for_test", tmp_path / "mod_job.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    by_module = zmr.run(module, input=lines, output=tmp_path / "o1", cluster="inline")
    by_path = zmr.run(tmp_path / "mod_job.py", input=lines, output=tmp_path / "o2",
                      cluster="inline")
    assert sorted(by_module.read_pairs()) == sorted(by_path.read_pairs()) == [
        (1, "d"), (3, "a c"), (3, "b a")]


def test_bad_calls_name_the_keyword_hook_or_file(lines):
    with pytest.raises(zmr.ConfigError, match="unknown job setting 'reducer_count'"):
        zmr.run(mapper=len, input=lines, reducer_count=2, cluster="inline")
    with pytest.raises(zmr.ConfigError, match="not both"):
        zmr.run("jobs/wordcount.py", mapper=lambda k, v: [], input=lines, cluster="inline")
    with pytest.raises(zmr.JobDefinitionError, match="no mapper"):
        zmr.run(reducer=lambda k, v: [], input=lines, cluster="inline")
    with pytest.raises(zmr.JobDefinitionError, match=rf"{__file__}:\d+: mapper must accept 2"):
        zmr.run(mapper=lambda line: [], input=lines, cluster="inline")
    with pytest.raises(zmr.JobDefinitionError, match=r"reducer must accept 2"):
        zmr.run(mapper=lambda k, v: [], reducer=len, input=lines,
                cluster="inline")
    with pytest.raises(zmr.JobDefinitionError, match="mapper must be a function, got str"):
        zmr.run(mapper="words", input=lines, cluster="inline")
    with pytest.raises(zmr.ConfigError, match="input= is required"):
        zmr.run(mapper=lambda k, v: [], cluster="inline")
    with pytest.raises(zmr.ConfigError, match="split_size"):
        zmr.run(mapper=lambda k, v: [], input=lines, split_size="lots", cluster="inline")
    with pytest.raises(zmr.ConfigError, match="cluster must be"):
        zmr.run(mapper=lambda k, v: [], input=lines, cluster=3)
    with pytest.raises(zmr.ConfigError, match="workers= sizes the embedded cluster"):
        zmr.run(mapper=lambda k, v: [], input=lines, cluster="x.toml", workers=2)


def test_functions_of_the_users_own_modules_are_shipped_by_value():
    """Workers need not import this test module: its functions travel with their code;
    zmr's own and installed packages' functions stay by reference."""
    import cloudpickle
    import pyarrow.compute

    job, _ = job_and_options(None, None, {"mapper": module_mapper,
                                          "partitioner": pyarrow.compute.add,
                                          "reducer": zmr.increment_counter})
    shipped = cloudpickle.list_registry_pickle_by_value()
    assert __name__ in shipped and job.name == "module_mapper"
    assert not {"zmr", "zmr.job.counters", "pyarrow.compute"} & shipped
    assert b"_make_function" in cloudpickle.dumps(job.mapper)   # its code, not its name
    assert b"_make_function" not in cloudpickle.dumps(job.reducer)
