"""``zmr run`` without --inline: an embedded cluster of real processes that gives the inline
answer and leaves nothing behind; mistakes are reported before any cluster starts."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import EXAMPLES, PATIENT_S, output_bytes, processes_mentioning, write_lines

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")
GATED = os.path.join(os.path.dirname(__file__), "..", "jobs", "gated.py")


def _zmr(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    # the embedded cluster keeps its config, logs and worker data under $TMPDIR
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env)


def test_embedded_run_equals_inline_and_leaves_nothing_behind(tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=200)
    embedded = _zmr(tmp_path, "run", WORDCOUNT, "--input", inputs, "--output",
                    str(tmp_path / "cluster"), "--reducers", "2", "--split-size", "2KB",
                    "--workers", "2")
    assert embedded.returncode == 0, embedded.stderr
    assert "on 2 workers" in embedded.stderr
    inline = _zmr(tmp_path, "run", WORDCOUNT, "--input", inputs, "--output",
                  str(tmp_path / "inline"), "--reducers", "2", "--split-size", "2KB",
                  "--inline")
    assert inline.returncode == 0, inline.stderr
    assert output_bytes(str(tmp_path / "cluster")) == output_bytes(str(tmp_path / "inline"))
    assert os.path.exists(tmp_path / "cluster" / "_SUCCESS")
    assert processes_mentioning(str(tmp_path / "tmp")) == []     # no coordinator, worker,
    assert os.listdir(tmp_path / "tmp") == []                      # fork server, or files


def test_mistakes_are_reported_before_a_cluster_starts(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=5)
    (tmp_path / "taken").mkdir()
    cases = [
        (["--input", str(tmp_path / "missing"), "--output", str(tmp_path / "o1")],
         f"{tmp_path / 'missing'} does not exist"),
        (["--input", inputs, "--output", str(tmp_path / "taken")], "already exists"),
        (["--input", inputs, "--output", str(tmp_path / "o2"), "--workers", "-1"],
         "--workers must be at least 1"),
        (["--input", inputs, "--output", str(tmp_path / "o3"), "--split-size", "lots"],
         "--split-size: cannot read 'lots'"),
    ]
    for args, message in cases:
        proc = subprocess.run([sys.executable, "-c", NO_PROCESSES, "run", WORDCOUNT, *args],
                              capture_output=True, text=True, timeout=PATIENT_S)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "cluster was started" not in proc.stderr


#: ``zmr`` in a process that may not start any other: starting a cluster is an error
NO_PROCESSES = """
import os, subprocess, sys
def refuse(*args, **kwargs):
    raise SystemExit("zmr: a cluster was started")
subprocess.Popen = refuse
os.fork = refuse
from zmr.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum,code,said", [(signal.SIGINT, 130, "zmr: interrupted"),
                                              (signal.SIGTERM, 143, "zmr: terminated")])
def test_a_signal_during_zmr_run_leaves_nothing_behind(tmp_path, signum, code, said):
    """Ctrl-C (SIGINT) or SIGTERM while the job runs: the job is cancelled, its partial
    output removed, and no coordinator, worker or fork server, nor any file, is left."""
    gate = tmp_path / "gate"          # never opened: the maps wait until the signal
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=20)
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), ZMR_TEST_GATE=str(gate))
    os.makedirs(env["TMPDIR"])
    child = subprocess.Popen([sys.executable, "-m", "zmr", "run", GATED, "--input", inputs,
                              "--output", str(tmp_path / "out"), "--workers", "2"],
                             env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + PATIENT_S
    while not _tasks_running(str(tmp_path / "tmp")):
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    child.send_signal(signum)
    _, err = child.communicate(timeout=PATIENT_S)
    assert child.returncode == code and said in err, err
    deadline = time.monotonic() + PATIENT_S    # the cluster's processes are exiting
    while processes_mentioning(str(tmp_path / "tmp")):
        assert time.monotonic() < deadline, processes_mentioning(str(tmp_path / "tmp"))
        time.sleep(0.1)
    assert os.listdir(tmp_path / "tmp") == []
    assert not (tmp_path / "out").exists()


def _tasks_running(tmp: str) -> bool:
    """A map task of the job on the embedded cluster under ``tmp`` has started (it made
    its work directory in its worker's)."""
    return bool(glob.glob(os.path.join(tmp, "zmr-local-*", "workers", "*", "job-*")))


@pytest.mark.parametrize("where", ["before", "after"])
def test_log_level_shows_the_clusters_own_log_lines_before_or_after_the_command(tmp_path,
                                                                                  where):
    """``zmr --log-level debug run`` printed the same lines as without it (issue 26): the
    coordinator's and workers' lines now come on stderr, each named by its process, and
    at the level asked for, whichever side of ``run`` the flag is on."""
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)

    def run(level: str | None, output: str) -> list[str]:
        job = ["run", WORDCOUNT, "-i", inputs, "-o", str(tmp_path / output), "--workers", "2"]
        flag = ["--log-level", level] if level else []
        done = _zmr(tmp_path, *(flag + job if where == "before" else job + flag))
        assert done.returncode == 0, done.stderr
        return done.stderr.splitlines()

    debug = run("debug", "o1")
    coordinator = [line for line in debug if line.startswith("[coordinator] ")]
    assert any("worker=local-1 registered" in line for line in coordinator), debug
    assert any("job-0001 SUCCEEDED" in line for line in coordinator), debug
    assert any(line.startswith("[local-2] ") for line in debug), debug
    assert any(" DEBUG " in line for line in debug if line.startswith("[local-")), debug
    quiet = run("warning", "o2")           # asked for warnings: the INFO lines stay out
    assert not [line for line in quiet if line.startswith("[") and " INFO " in line], quiet
    default = run(None, "o3")              # no level asked for: only zmr run's own lines
    assert not [line for line in default if line.startswith("[")], default
