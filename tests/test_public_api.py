"""The public surface is exactly ``zmr.__all__``: the names below, each importable from
``zmr`` and documented, and each entry point runs a real job. Removing, renaming or adding an
export fails here first; change ``EXPECTED`` (and docs/) on purpose when the API does.

The inline tests are unit tests; the one that needs a cluster (``Client``/``JobHandle``) is
marked ``cluster``."""

from __future__ import annotations

import pytest

import zmr
from tests.helpers import PATIENT_S, read_output
from zmr.runners.local import LocalCluster

EXPECTED = [
    "Client",
    "ClusterUnreachableError",
    "ConfigError",
    "DataCorruptionError",
    "FatalError",
    "Input",
    "InputError",
    "JobCancelledError",
    "JobDefinitionError",
    "JobFailedError",
    "JobHandle",
    "JobInputError",
    "JobResult",
    "LocalCluster",
    "OutputError",
    "REQUIRED",
    "Step",
    "TaskError",
    "ZmrError",
    "increment_counter",
    "param",
    "run",
    "run_inline",
]
ERRORS = ["ClusterUnreachableError", "ConfigError", "DataCorruptionError", "InputError",
          "JobCancelledError", "JobDefinitionError", "JobFailedError", "JobInputError",
          "OutputError", "TaskError"]

WORD_COUNT = """\
import zmr

def mapper(key, line):
    if line == "boom":
        raise ValueError("a record the job cannot take")
    for word in line.split():
        zmr.increment_counter("words", "seen")
        yield word, 1

def reducer(word, ones):
    yield word, sum(ones)
"""

TWO_STEPS = """\
from zmr import Step

def words(key, line):
    for word in line.split():
        yield word, 1

def total(word, ones):
    yield word, sum(ones)

def by_count(word, count):
    yield count, word

def collect(count, words):
    yield count, sorted(words)

STEPS = [Step(mapper=words, reducer=total), Step(mapper=by_count, reducer=collect)]
"""


@pytest.fixture()
def job(tmp_path):
    """(job module, input file) of a word count that counts its words in a user counter."""
    (tmp_path / "job.py").write_text(WORD_COUNT)
    (tmp_path / "in.txt").write_text("b a\na c\n")
    return str(tmp_path / "job.py"), str(tmp_path / "in.txt")


def test_all_is_exactly_the_expected_names():
    assert sorted(zmr.__all__) == EXPECTED
    assert len(set(zmr.__all__)) == len(zmr.__all__)


def test_every_export_is_importable_and_documented():
    namespace: dict[str, object] = {}
    exec("from zmr import *", namespace)           # what __all__ promises
    for name in EXPECTED:
        assert namespace.get(name) is getattr(zmr, name), name
        doc = getattr(zmr, name).__doc__
        # a class's __doc__ is its own (not inherited); a dataclass without one would
        # get its generated signature "Name(field, ...)" instead
        assert doc and doc.strip() and not doc.startswith(f"{name}("), f"{name} has no docstring"


def test_errors_are_zmr_errors_with_an_exit_status():
    assert issubclass(zmr.ZmrError, Exception)
    for name in ["ZmrError", *ERRORS]:
        error = getattr(zmr, name)
        assert issubclass(error, zmr.ZmrError), name
        assert type(error.exit_code) is int and 1 <= error.exit_code <= 4, name


def test_run_inline_runs_a_job_with_a_user_counter(job, tmp_path):
    module, inputs = job
    result = zmr.run_inline(module, [inputs], str(tmp_path / "out"))
    assert isinstance(result, zmr.JobResult)
    assert (tmp_path / "out" / "part-00000").read_text() == "a\t2\nb\t1\nc\t1\n"
    assert (tmp_path / "out" / "_SUCCESS").exists()
    assert (result.output, result.num_maps, result.num_reducers) == (str(tmp_path / "out"), 1, 1)
    assert result.counters["words"] == {"seen": 4}
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] == 2
    assert result.steps == []


def test_run_inline_runs_steps(tmp_path):
    (tmp_path / "steps.py").write_text(TWO_STEPS)
    (tmp_path / "in.txt").write_text("b a\na c\n")
    result = zmr.run_inline(str(tmp_path / "steps.py"), str(tmp_path / "in.txt"),
                            str(tmp_path / "out"))
    assert len(result.steps) == 2 and all(isinstance(s, zmr.JobResult) for s in result.steps)
    assert read_output(str(tmp_path / "out")) == {1: ["b", "c"], 2: ["a"]}


def test_run_inline_raises_the_exported_errors(job, tmp_path):
    module, inputs = job
    (tmp_path / "nohooks.py").write_text("X = 1\n")
    with pytest.raises(zmr.JobDefinitionError):
        zmr.run_inline(str(tmp_path / "nohooks.py"), [inputs], str(tmp_path / "o1"))
    with pytest.raises(zmr.InputError, match="does not exist"):
        zmr.run_inline(module, [str(tmp_path / "missing.txt")], str(tmp_path / "o2"))
    with pytest.raises(zmr.ConfigError, match="split_size: cannot read .lots. as a size"):
        zmr.run_inline(module, [inputs], str(tmp_path / "o3"), split_size="lots")
    zmr.run_inline(module, [inputs], str(tmp_path / "o4"))
    with pytest.raises(zmr.OutputError, match="already exists"):
        zmr.run_inline(module, [inputs], str(tmp_path / "o4"))


@pytest.mark.cluster
def test_client_and_job_handle_run_a_job_on_a_local_cluster(job, tmp_path):
    module, inputs = job
    with LocalCluster(workers=1, base_dir=str(tmp_path / "cluster")) as cluster, \
            zmr.Client(cluster.config_path) as client:
        handle = client.submit(module, [inputs], str(tmp_path / "out"))
        assert isinstance(handle, zmr.JobHandle) and handle.output == str(tmp_path / "out")
        status = handle.wait(timeout_s=PATIENT_S)
        assert status["state"] == "SUCCEEDED" and status["job_id"] == handle.job_id
        assert handle.counters()["words"] == {"seen": 4}
        assert handle.progress() == (1.0, 1.0)
        assert [j["job_id"] for j in client.history()] == [handle.job_id]
        (tmp_path / "boom.txt").write_text("a b\nboom\n")
        failing = client.submit(module, [str(tmp_path / "boom.txt")], str(tmp_path / "bad"))
        with pytest.raises(zmr.JobFailedError, match="a record the job cannot take"):
            failing.wait(timeout_s=PATIENT_S)
    assert (tmp_path / "out" / "part-00000").read_text() == "a\t2\nb\t1\nc\t1\n"
    assert not (tmp_path / "bad").exists()


def _standalone(tmp_path):
    """A standalone cluster as an operator starts one: a config file, ``python -m
    zmr.coordinator`` and ``python -m zmr.worker`` processes (no LocalCluster)."""
    import subprocess
    import sys

    from zmr.config import write_config
    from zmr.transport.sockets import free_port

    config = str(tmp_path / "standalone.toml")
    write_config(config, {
        ("coordinator", "control_port"): free_port(),
        ("coordinator", "heartbeat_port"): free_port(),
        ("coordinator", "report_port"): free_port(),
        ("coordinator", "state_dir"): str(tmp_path / "state"),
        ("dashboard", "port"): free_port(),
        ("worker", "data_dir"): str(tmp_path / "workers")})
    log = open(tmp_path / "standalone.log", "ab")  # noqa: SIM115
    procs = [subprocess.Popen([sys.executable, "-m", "zmr.coordinator", config],
                              stdout=log, stderr=log),
             subprocess.Popen([sys.executable, "-m", "zmr.worker", config, "--id", "w1"],
                              stdout=log, stderr=log)]
    return config, procs


def _stop(config, procs):
    try:
        with zmr.Client(config, timeout_s=PATIENT_S) as client:
            client.shutdown_cluster("test over")
    finally:
        for proc in procs:
            try:
                proc.wait(PATIENT_S)
            except Exception:
                proc.kill()
                proc.wait()


def _words(_, line):
    for word in line.split():
        yield word, 1


def _total(word, ones):
    yield word, sum(ones)


@pytest.mark.cluster
def test_every_entry_point_runs_a_job_of_functions(job, tmp_path):
    module, inputs = job
    wanted = [("a", 2), ("b", 1), ("c", 1)]
    embedded = zmr.run(mapper=_words, reducer=_total, input=inputs, output=tmp_path / "e",
                       workers=1, progress=False)
    assert embedded.workers == 1 and sorted(embedded.read_pairs()) == wanted
    with zmr.LocalCluster(workers=1) as cluster:
        minimum = 2                         # a closure, on the cluster's worker processes

        def frequent(word, ones):
            total = sum(ones)
            if total >= minimum:
                yield word, total
        run = cluster.run(mapper=_words, reducer=frequent, input=inputs, output=tmp_path / "l")
        assert list(run.read_pairs()) == [("a", 2)] and run.job_id == "job-0001"
        handle = cluster.submit(module, input=inputs, output=tmp_path / "s")
        assert handle.status()["job_id"] == "job-0002"
        result = handle.result(timeout_s=PATIENT_S)
        assert result.counter("words", "seen") == 4 and dict(result.read_pairs())["a"] == 2
        again = zmr.run(mapper=_words, reduce="sum", input=inputs, cluster=cluster,
                        output_format="jsonl", progress=False)
        assert sorted(again.read_pairs()) == wanted and again.job_id == "job-0003"
        flag = tmp_path / "go"
        stuck = cluster.submit(mapper=lambda _, line: _wait_for(flag), input=inputs,
                               output=tmp_path / "stuck")
        stuck.cancel()
        with pytest.raises(zmr.JobCancelledError):
            stuck.wait(timeout_s=PATIENT_S)
    assert not (tmp_path / "stuck").exists()
    config, procs = _standalone(tmp_path)
    try:
        with zmr.Client(config) as client:
            _wait_for_worker(client)
            by_client = client.run(mapper=_words, reducer=_total, input=inputs,
                                   output=tmp_path / "c", progress=False)
            assert sorted(by_client.read_pairs()) == wanted
        by_path = zmr.run(module, input=inputs, output=tmp_path / "p", cluster=config,
                          progress=False)
        assert by_path.read_pandas().set_index("key")["value"].to_dict() == dict(wanted)
    finally:
        _stop(config, procs)


def _wait_for(flag):
    """A mapper that blocks until cancelled (the flag never appears)."""
    import time
    while not flag.exists():
        time.sleep(0.05)
    return []


def _wait_for_worker(client, timeout_s=PATIENT_S):
    import time
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if client.workers():
                return
        except zmr.ClusterUnreachableError:
            pass
        time.sleep(0.1)
    raise AssertionError("the standalone worker did not register")
