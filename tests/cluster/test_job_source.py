"""Job code shipped as source and side files, on real processes: the 6.824 crash app (an
RNG and a lock at module level, a sibling module and package, task processes that die) on a
standalone cluster and an embedded one; a module that fails to import on the workers; side
files from ``--file`` and ``FILES``, renamed, too big, and cleaned when the job ends. The
oracle is plain Python over the same files."""

from __future__ import annotations

import collections
import glob
import os
import re
import subprocess
import sys
import time

import pytest

from tests.helpers import JOBS, PATIENT_S, read_output
from zmr.core.errors import ConfigError, JobFailedError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

CRASH_APP = os.path.join(JOBS, "source_app", "crash_app.py")
TEXT = ["The quick brown fox", "jumps over the lazy dog's back", "THE END", "fox and dog"]

LOOKUP_JOB = """\
import zmr

FILES = ["stop.txt", "colours.txt#palette"]

def mapper_init():
    global STOP, PALETTE, EXTRA
    STOP = set(open("stop.txt").read().split())      # side files: in the working directory
    PALETTE = open("palette").read().split()
    EXTRA = open("extra.txt").read().strip()

def mapper(key, line):
    for word in line.split():
        if word not in STOP:
            yield word, f"{PALETTE[len(word) % len(PALETTE)]}/{EXTRA}"
"""


def _zmr(*args: str, config: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **({"ZMR_CONFIG": config} if config else {}))
    return subprocess.run([sys.executable, "-m", "zmr", *args], env=env, capture_output=True,
                          text=True, timeout=180)


def _word_counts(lines: list[str]) -> dict[str, int]:
    """The oracle: the crash app's word count in plain Python."""
    return dict(collections.Counter(w.lower().strip("'")
                                    for line in lines for w in re.findall(r"[A-Za-z']+", line)))


def _inputs(tmp_path) -> str:
    directory = tmp_path / "in"
    directory.mkdir()
    for i in range(4):
        (directory / f"part-{i}.txt").write_text("\n".join(TEXT[i:] + TEXT[:i]) + "\n")
    return str(directory)


def _lines(inputs: str) -> list[str]:
    return [line for path in sorted(glob.glob(os.path.join(inputs, "*.txt")))
            for line in open(path).read().splitlines()]


def _wait_until(condition, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_the_crash_app_and_side_files_run_on_a_standalone_cluster(tmp_path):
    inputs = _inputs(tmp_path)
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "lookup.py").write_text(LOOKUP_JOB)
    (tmp_path / "job" / "stop.txt").write_text("the The\n")
    (tmp_path / "job" / "colours.txt").write_text("red green blue\n")
    (tmp_path / "extra.txt").write_text("x1\n")
    (tmp_path / "big.bin").write_bytes(b"0" * 5000)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), max_attempts=12,
                      max_files_size=4096) as cluster:
        config = cluster.config_path
        done = _zmr("submit", CRASH_APP, "-i", inputs, "-o", str(tmp_path / "out"), "--wait",
                    "--split-size", "40", "--param", "crash=0.3", config=config)
        assert done.returncode == 0, done.stderr
        status = cluster.client.job(done.stdout.split()[0])
        assert read_output(str(tmp_path / "out")) == _word_counts(_lines(inputs))
        # each task ran the module as imported in its own process, never a pickled copy
        assert status["counters"]["imported"] == {"here": len(_lines(inputs))}

        handle = cluster.client.submit(str(tmp_path / "job" / "lookup.py"), [inputs],
                                       str(tmp_path / "looked"), reducers=0,
                                       files=[str(tmp_path / "extra.txt")])
        handle.wait(timeout_s=PATIENT_S)
        words = [w for line in _lines(inputs) for w in line.split() if w not in ("the", "The")]
        colours = ["red", "green", "blue"]
        assert read_output(str(tmp_path / "looked")) == {
            w: f"{colours[len(w) % 3]}/x1" for w in words}
        _wait_until(lambda: not glob.glob(str(tmp_path / "c" / "workers" / "*" /
                                               handle.job_id / "code-*")),
                    "side files and code are deleted when the job ends")

        with pytest.raises(ConfigError, match=r"over tasks.max_files_size = 4,096 .*big.bin"):
            cluster.client.submit(str(tmp_path / "job" / "lookup.py"), [inputs],
                                  str(tmp_path / "no"), files=[str(tmp_path / "big.bin")])
        missing = _zmr("submit", str(tmp_path / "job" / "lookup.py"), "-i", inputs, "-o",
                       str(tmp_path / "no"), "--file", str(tmp_path / "nope.txt"),
                       config=config)
        assert missing.returncode == 2
        assert f"--file {tmp_path / 'nope.txt'}: no such file" in missing.stderr


def test_a_module_that_fails_to_import_on_workers_fails_the_job_naming_file_and_line(tmp_path):
    (tmp_path / "job.py").write_text(
        "import os\n\nif os.getpid() != int(os.environ.get('SUBMITTER', '0')):\n"
        "    open(os.path.join(os.path.dirname(__file__), 'table.txt'))\n\n"
        "def mapper(k, v):\n    yield v, 1\n")
    (tmp_path / "table.txt").write_text("only on the submitting machine\n")
    (tmp_path / "in.txt").write_text("a\n")
    os.environ["SUBMITTER"] = str(os.getpid())
    try:
        with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), max_attempts=2) as cluster:
            handle = cluster.client.submit(str(tmp_path / "job.py"), [str(tmp_path / "in.txt")],
                                           str(tmp_path / "out"))
            with pytest.raises(JobFailedError) as failed:
                handle.wait(timeout_s=PATIENT_S)
    finally:
        del os.environ["SUBMITTER"]
    text = str(failed.value)
    assert (f"{tmp_path / 'job.py'}:4: error while importing the job module: "
            "FileNotFoundError") in text
    assert not (tmp_path / "out").exists()


def test_the_crash_app_runs_embedded_and_inline(tmp_path):
    inputs = _inputs(tmp_path)
    run = _zmr("run", CRASH_APP, "-i", inputs, "-o", str(tmp_path / "out"), "--workers", "2",
               "--split-size", "60", "--quiet")
    assert run.returncode == 0, run.stderr
    assert read_output(str(tmp_path / "out")) == _word_counts(_lines(inputs))
    run_inline(CRASH_APP, [inputs], str(tmp_path / "inline"))
    assert read_output(str(tmp_path / "inline")) == _word_counts(_lines(inputs))
