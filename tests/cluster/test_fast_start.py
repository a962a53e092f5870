"""A fast start (issue 30): an embedded cluster forked from its owner (zmr/runners/forked.py,
zmr/worker/forkserver.py), when forking is used and when not, the Popen-like handle of a
forked child (real forks, real signals), pyarrow's pandas probe skipped, nothing left
behind; and commands that run no job importing none of the job machinery."""

from __future__ import annotations

import collections
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import PATIENT_S, processes_mentioning, read_output, write_lines
from zmr.runners.forked import ForkedProcess


def _child(seconds: float, status: int = 0) -> ForkedProcess:
    # SIGTERM is blocked across the fork, so one sent at once waits for the child to drop
    # a handler another test installed in this process (it must not run in the child)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    pid = os.fork()
    if pid == 0:                    # the child only sleeps and exits: nothing else runs
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            time.sleep(seconds)
        finally:
            os._exit(status)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    return ForkedProcess(pid)


def test_poll_and_wait_report_the_exit_status():
    proc = _child(0.0, status=3)
    assert proc.wait(PATIENT_S) == 3
    assert proc.poll() == 3 and proc.returncode == 3


def test_wait_with_a_timeout_raises_as_popen_does_and_kill_ends_it():
    proc = _child(PATIENT_S)
    assert proc.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(0.05)
    proc.kill()
    assert proc.wait(PATIENT_S) == -signal.SIGKILL
    proc.kill()                     # reaped: nothing is signalled (the pid may be reused)
    proc.terminate()


def test_a_terminated_child_reports_sigterm():
    proc = _child(PATIENT_S)
    proc.terminate()
    assert proc.wait() == -signal.SIGTERM


CAN_FORK = """
import threading, zmq
from zmr.runners.forked import can_fork
fresh = can_fork()
zmq.Context.instance()
with_context = can_fork()
zmq.Context.instance().term()
zmq.Context._instance = None
threading.Thread(target=threading.Event().wait, daemon=True).start()
print(fresh, with_context, can_fork())
"""


def test_forking_is_refused_with_a_zeromq_context_or_a_second_thread():
    out = subprocess.run([sys.executable, "-c", CAN_FORK], capture_output=True, text=True,
                         timeout=PATIENT_S, check=True).stdout.split()
    assert out == ["True", "False", "False"]


PANDAS_PROBE = """
import sys
from zmr.core import pandas_probe
pandas_probe.skip()
import pyarrow as pa
pa.array(["a", "b"]), pa.array([1, 2])
print("pandas" in sys.modules)
import pandas as pd
print(type(pa.array(pd.Series(pd.Categorical(["x"])))).__name__)   # a sequence to Arrow
pandas_probe.notice()                                       # a job imported pandas
print(type(pa.array(pd.Series(pd.Categorical(["x"])))).__name__)   # pandas to Arrow again
print(pa.table({"a": [1]}).to_pandas()["a"].tolist())
"""


def test_arrays_are_built_without_importing_pandas_until_it_is_asked_for():
    pytest.importorskip("pandas")
    out = subprocess.run([sys.executable, "-c", PANDAS_PROBE], capture_output=True,
                         text=True, timeout=PATIENT_S, check=True).stdout.split()
    assert out == ["False", "StringArray", "DictionaryArray", "[1]"]


TWO_CLUSTERS = """
import json, os, sys
from zmr.runners import forked
from zmr.runners.local import LocalCluster
job, data, out = sys.argv[1:]
seen = {}
def kinds(cluster):
    procs = [cluster.coordinator, *cluster.workers.values()]
    return [type(p).__name__ for p in procs], [open(f"/proc/{p.pid}/comm").read().strip()
                                               for p in procs]
with LocalCluster(workers=2) as first:          # a fresh process: forked
    seen["first"] = kinds(first)
    first.run(job, input=data, output=out + "/first")
    seen["then_can_fork"] = forked.can_fork()   # the client's ZeroMQ context exists now
    with LocalCluster(workers=1) as second:     # so: fresh interpreters
        seen["second"] = kinds(second)
        second.run(job, input=data, output=out + "/second")
print(json.dumps(seen))
"""


def test_a_fresh_owner_forks_its_cluster_and_one_with_a_zeromq_context_does_not(tmp_path):
    data = write_lines(tmp_path / "in", files=2, lines_per_file=50)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.run([sys.executable, "-c", TWO_CLUSTERS, "jobs/wordcount.py", data,
                           str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=PATIENT_S, env=dict(os.environ, TMPDIR=str(scratch)),
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["first"] == [["ForkedProcess"] * 3,
                             ["zmr-coordinator", "zmr-worker", "zmr-worker"]]
    assert seen["then_can_fork"] is False
    assert seen["second"][0] == ["Popen"] * 2
    first = read_output(str(tmp_path / "out" / "first"))
    assert first == read_output(str(tmp_path / "out" / "second"))
    words = collections.Counter(w for name in os.listdir(data)
                                for w in (pathlib.Path(data) / name).read_text().split())
    assert {str(key): count for key, count in first.items()} == dict(words)
    # no process (coordinator, worker, fork server, executor) and no file left behind
    assert processes_mentioning(str(scratch)) == []
    assert os.listdir(scratch) == []



SIBLING_JOB = """
import os
import sibling


def mapper(key, line):
    yield "imported_by_the_task_process", sibling.IMPORTED_IN == os.getpid()


def reducer(key, values):
    yield key, all(values)
"""


def test_job_modules_the_owner_loaded_are_imported_again_by_the_workers(tmp_path):
    """zmr run loads the job (and what it imports from beside it) to check it before the
    cluster starts; its forked workers must not run on that copy, with the owner's state,
    but import the shipped code as a fresh interpreter would."""
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "sibling_job.py").write_text(SIBLING_JOB)
    (jobs / "sibling.py").write_text("import os\nIMPORTED_IN = os.getpid()\n")
    data = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    proc = subprocess.run([sys.executable, "-m", "zmr", "run", str(jobs / "sibling_job.py"),
                           "--input", data, "--output", str(tmp_path / "out"), "--workers",
                           "1", "--quiet"], capture_output=True, text=True, timeout=PATIENT_S)
    assert proc.returncode == 0, proc.stderr
    assert read_output(str(tmp_path / "out")) == {"imported_by_the_task_process": True}


IMPORTS_OF = """
import os, runpy, sys
sys.argv = ["zmr", *sys.argv[1:]]
try:
    runpy.run_module("zmr", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(code, sorted(m for m in ("pyarrow", "numpy", "cloudpickle", "pandas", "asyncio")
                   if m in sys.modules))
"""


@pytest.mark.parametrize("command", [["--help"], ["status"], ["run", "--help"]])
def test_commands_that_run_no_job_import_no_job_machinery(command):
    """zmr --help and zmr status (here against nothing: exit 3) skip pyarrow, numpy,
    cloudpickle, pandas, and asyncio (CURVE's handler's)."""
    env = dict(os.environ, ZMR_CLIENT_TIMEOUT_S="0.5", ZMR_COORDINATOR_CONTROL_PORT="1")
    proc = subprocess.run([sys.executable, "-c", IMPORTS_OF, *command], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env)
    code, imported = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert code == ("3" if command == ["status"] else "0"), proc.stderr
    assert imported == "[]"


def test_import_zmr_imports_its_names_only_when_used():
    code = ("import sys, zmr; before = sorted(m for m in sys.modules if m.startswith('zmr.')"
            " or m in ('pyarrow', 'zmq')); zmr.ZmrError; print(before, 'zmr.core.errors' in "
            "sys.modules, 'pyarrow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=PATIENT_S, check=True).stdout.split()
    assert out == ["[]", "True", "False"]
