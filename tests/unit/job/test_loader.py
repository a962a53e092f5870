"""Job modules are validated before any work starts, with file and line in every error."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest

from zmr.core.errors import JobDefinitionError
from zmr.job.loader import load_job
from zmr.job.shipping import pack_job, unpack_job


def _job(tmp_path, source: str, name: str = "job.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def test_syntax_error_names_file_and_line(tmp_path):
    path = _job(tmp_path, "def mapper(k, v):\n    yield k v\n")
    with pytest.raises(JobDefinitionError, match=rf"{path}:2: syntax error"):
        load_job(path)


def test_import_error_names_file_and_line(tmp_path):
    path = _job(tmp_path, "import os\nimport no_such_module_zmr\ndef mapper(k, v): pass\n")
    with pytest.raises(JobDefinitionError, match=rf"{path}:2: .*no_such_module_zmr"):
        load_job(path)


def test_missing_mapper(tmp_path):
    path = _job(tmp_path, "def reducer(k, vs):\n    yield k, 1\n")
    with pytest.raises(JobDefinitionError, match="defines no mapper"):
        load_job(path)


def test_hook_with_wrong_arity_names_its_line(tmp_path):
    path = _job(tmp_path, "def mapper(k, v): yield k, v\n\ndef reducer(k):\n    yield k, 1\n")
    with pytest.raises(JobDefinitionError, match=rf"{path}:3: reducer must accept 2"):
        load_job(path)


def test_setting_of_wrong_type(tmp_path):
    path = _job(tmp_path, "NUM_REDUCERS = '3'\ndef mapper(k, v): yield k, v\n")
    with pytest.raises(JobDefinitionError, match="NUM_REDUCERS"):
        load_job(path)


def test_bare_name_is_looked_up_in_jobs_dir(tmp_path, monkeypatch):
    (tmp_path / "jobs").mkdir()
    _job(tmp_path / "jobs", "def mapper(k, v): yield k, v\n", "mine.py")
    monkeypatch.chdir(tmp_path)
    assert load_job("mine").name == "mine"
    with pytest.raises(JobDefinitionError, match="not found"):
        load_job("missing")


def test_combiner_setting_reuses_reducer(tmp_path):
    path = _job(tmp_path, """
        COMBINER = "reducer"
        def mapper(k, v): yield v, 1
        def reducer(k, vs): yield k, sum(vs)
    """)
    job = load_job(path)
    assert job.combiner is job.reducer


def test_packed_job_runs_without_its_file_and_shares_module_state(tmp_path, monkeypatch):
    path = _job(tmp_path, """
        import helper_mod
        STOP = set()
        def mapper_init():
            STOP.update(helper_mod.WORDS)
        def mapper(k, v):
            if v not in STOP:
                yield v, 1
    """)
    (tmp_path / "helper_mod.py").write_text("WORDS = ['the']\n")
    blob = pack_job(load_job(path))
    (tmp_path / "job.py").unlink()
    (tmp_path / "helper_mod.py").unlink()
    monkeypatch.chdir(tmp_path)                   # unpacking moves into the job's files
    monkeypatch.delitem(sys.modules, "helper_mod")
    job = unpack_job(blob, str(tmp_path / "work"), {})
    assert os.path.basename(os.getcwd()) == "files"
    assert os.path.dirname(os.path.dirname(os.getcwd())) == str(tmp_path / "work")
    job.mapper_init()
    assert list(job.mapper(None, "the")) == [] and list(job.mapper(None, "x")) == [("x", 1)]


def test_task_memory_setting_is_a_size_checked_at_load_time(tmp_path):
    assert load_job(_job(tmp_path, "TASK_MEMORY = '2GB'\ndef mapper(k, v): yield k, v\n")) \
        .setting("TASK_MEMORY") == "2GB"
    path = _job(tmp_path, "TASK_MEMORY = 'lots'\ndef mapper(k, v): yield k, v\n", "bad.py")
    with pytest.raises(JobDefinitionError, match=r"bad.py: setting TASK_MEMORY: .*'lots'"):
        load_job(path)
    path = _job(tmp_path, "TASK_MEMORY = 2.5\ndef mapper(k, v): yield k, v\n", "float.py")
    with pytest.raises(JobDefinitionError, match="TASK_MEMORY = 2.5 has the wrong type"):
        load_job(path)


@pytest.mark.parametrize("line, meant", [
    ("NUM_REDUCER = 3", "NUM_REDUCERS"),
    ("REDUCERS = 2", "NUM_REDUCERS"),          # REDUCE is closer, but takes a name
    ("SPLITSIZE = '8MB'", "SPLIT_SIZE"),
    ("SORT_VALUE = True", "SORT_VALUES"),
    ("COMBINE_FILE = False", "COMBINE_FILES"),
])
def test_a_setting_name_with_a_typo_is_refused_naming_the_setting_meant(tmp_path, line, meant):
    """Ignored, it would run the job with the default (one reducer, 64 MB splits...)."""
    path = _job(tmp_path, f"def mapper(k, v):\n    yield v, 1\n{line}\n")
    name = line.split(" =")[0]
    with pytest.raises(JobDefinitionError,
                       match=f"{name} is not a zmr setting: did you mean {meant}\\?"):
        load_job(path)


@pytest.mark.parametrize("line", [
    "PARTITIONS = 8",            # close to PARTITIONER, which takes a name: the job's own
    "ROUNDS = 350",
    "STOPWORDS = {'a', 'the'}",
    "_NUM_REDUCER = 3",          # the way out for a constant that close to a setting
    "NUM_REDUCERS = 3",
])
def test_the_jobs_own_constants_are_left_alone(tmp_path, line):
    path = _job(tmp_path, f"def mapper(k, v):\n    yield v, 1\n{line}\n")
    assert load_job(path).mapper is not None
