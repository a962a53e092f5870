"""``zmr run`` without --inline: an embedded cluster of real processes that gives the inline
answer and leaves nothing behind; mistakes are reported before any cluster starts."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cluster.conftest import EXAMPLES, write_lines
from tests.helpers import output_bytes

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")


def _zmr(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    # the embedded cluster keeps its config, logs and worker data under $TMPDIR
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    os.makedirs(env["TMPDIR"], exist_ok=True)
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            pass
    return found


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
    assert _processes_mentioning(str(tmp_path / "tmp")) == []     # no coordinator, worker,
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
         "split size"),
    ]
    for args, message in cases:
        proc = subprocess.run([sys.executable, "-c", NO_PROCESSES, "run", WORDCOUNT, *args],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and message in proc.stderr, (args, proc.stderr)
        assert "cluster was started" not in proc.stderr


#: ``zmr`` in a process that may not start any other: starting a cluster is an error
NO_PROCESSES = """
import subprocess, sys
def refuse(*args, **kwargs):
    raise SystemExit("zmr: a cluster was started")
subprocess.Popen = refuse
from zmr.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
