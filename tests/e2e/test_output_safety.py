"""Nothing a user owns is ever deleted (issue 25), through real ``zmr`` processes, the
embedded cluster and ``zmr.run``: an output that is, contains or lies inside an input, or
that holds the current directory or the job file, is refused with exit 2 and a message
naming both paths, and every file is still there afterwards; ``--overwrite`` replaces only
an output zmr wrote (a committed one, a partial one, or an empty directory)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import zmr
from tests.helpers import EXAMPLES, PATIENT_S, ROOT, snapshot

SAMPLE = os.path.join(ROOT, "data", "sample")


def zmr_cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, cwd=str(cwd))


@pytest.fixture
def scratch(tmp_path):
    """The issue's scratch directory: the job file and its input ``sample/``."""
    root = tmp_path / "scratch"
    shutil.copytree(SAMPLE, root / "sample")
    for job in ("wordcount.py", "top_words.py"):
        shutil.copy(os.path.join(EXAMPLES, job), root / job)
    return root


def assert_refused(proc, *paths, why: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("zmr: error: output ") and why in proc.stderr, proc.stderr
    for path in paths:
        assert str(path) in proc.stderr, (path, proc.stderr)
    assert "Traceback" not in proc.stderr


def test_overwriting_the_current_directory_inline_is_refused(scratch):
    before = snapshot(scratch.parent)
    proc = zmr_cli("run", "wordcount.py", "-i", "sample", "-o", ".", "--inline",
                   "--overwrite", "-q", cwd=scratch)
    assert_refused(proc, f"output {scratch} ", f"input {scratch / 'sample'}",
                   why="contains the input")
    assert snapshot(scratch.parent) == before


def test_overwriting_a_directory_holding_the_input_on_the_embedded_cluster_is_refused(
        scratch):
    scratch2 = scratch.rename(scratch.parent / "scratch2")       # the command
    before = snapshot(scratch2.parent)
    proc = zmr_cli("run", "scratch2/wordcount.py", "-i", "scratch2/sample", "-o", "scratch2",
                   "--overwrite", "--workers", "1", cwd=scratch2.parent)
    assert_refused(proc, f"output {scratch2} ", f"input {scratch2 / 'sample'}",
                   why="contains the input")
    assert snapshot(scratch2.parent) == before


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "1"]])
def test_output_inside_an_input_directory_is_refused(scratch, where):
    before = snapshot(scratch)
    proc = zmr_cli("run", "wordcount.py", "-i", "sample", "-o", "sample/out", *where, "-q",
                   cwd=scratch)
    assert_refused(proc, scratch / "sample" / "out", f"directory {scratch / 'sample'}",
                   why="lies inside the input directory")
    assert snapshot(scratch) == before


def test_output_that_is_an_input_or_holds_the_job_file_is_refused(scratch):
    before = snapshot(scratch.parent)
    proc = zmr_cli("run", "wordcount.py", "-i", "sample/chapter1.txt", "-o",
                   "sample/chapter1.txt", "--inline", "--overwrite", cwd=scratch)
    assert_refused(proc, scratch / "sample" / "chapter1.txt", why="is also an input")
    os.mkdir(scratch / "jobs")
    shutil.copy(scratch / "wordcount.py", scratch / "jobs" / "wc.py")
    before = snapshot(scratch.parent)
    proc = zmr_cli("run", "jobs/wc.py", "-i", "sample", "-o", "jobs", "--inline",
                   "--overwrite", cwd=scratch)
    assert_refused(proc, f"output {scratch / 'jobs'}", f"job file {scratch / 'jobs' / 'wc.py'}",
                   why="contains the job file")
    # the same directory through a symlink and a "..": resolved before comparing
    os.symlink(scratch / "sample", scratch / "alias")
    proc = zmr_cli("run", "wordcount.py", "-i", f"file://{scratch}/alias", "-o",
                   "sample/notes/../out", "--inline", cwd=scratch)
    assert_refused(proc, scratch / "sample", why="lies inside the input directory")
    os.unlink(scratch / "alias")
    assert snapshot(scratch.parent) == before


def test_multi_step_job_outputs_are_checked_against_its_input(scratch):
    before = snapshot(scratch.parent)
    for where in (["--inline"], ["--workers", "1"]):
        proc = zmr_cli("run", "top_words.py", "-i", "sample", "-o", ".", "--overwrite",
                       *where, cwd=scratch)
        assert_refused(proc, f"output {scratch} ", f"input {scratch / 'sample'}",
                       why="contains the input")
        proc = zmr_cli("run", "../top_words.py", "-i", ".", "-o", "top", *where,
                       cwd=scratch / "sample")
        assert_refused(proc, scratch / "sample" / "top", why="lies inside the input")
    assert snapshot(scratch.parent) == before


def test_overwrite_replaces_only_an_output_zmr_wrote(scratch):
    out = scratch / "out"
    args = ["run", "wordcount.py", "-i", "sample", "-o", "out", "--inline", "--overwrite"]
    (out / "_temporary" / "reduce-00000-a1").mkdir(parents=True)   # a crashed run's
    (out / "_temporary" / "reduce-00000-a1" / "part-00000").write_text("half")
    (out / "part-00000").write_text("stale\n")
    first = zmr_cli(*args, cwd=scratch)
    assert first.returncode == 0, first.stderr
    assert sorted(os.listdir(out)) == ["_SUCCESS", "part-00000"]
    assert zmr_cli(*args, cwd=scratch).returncode == 0                # its own output
    (out / "README").write_text("mine")
    before = snapshot(scratch)
    proc = zmr_cli(*args, cwd=scratch)
    assert proc.returncode == 2
    assert f"output directory {out} exists and --overwrite will not remove it: it holds " \
           "README, which zmr did not write" in proc.stderr
    assert snapshot(scratch) == before


def test_zmr_run_refuses_inline_and_on_the_embedded_cluster(scratch, monkeypatch):
    monkeypatch.chdir(scratch)
    before = snapshot(scratch.parent)
    for cluster in ({"cluster": "inline"}, {"workers": 1}):
        with pytest.raises(zmr.OutputError, match="contains the input") as caught:
            zmr.run("wordcount.py", input="sample", output=".", overwrite=True,
                    progress=False, **cluster)
        assert f"output {scratch} " in str(caught.value)
        with pytest.raises(zmr.OutputError, match="lies inside the input directory"):
            zmr.run("top_words.py", input="sample", output="sample/top", progress=False,
                    **cluster)
    assert snapshot(scratch.parent) == before


def test_a_job_with_several_inputs_keeps_its_output_out_of_each(tmp_path):
    """``INPUTS`` (jobs/join.py, two steps): the output against every input's paths."""
    shutil.copytree(os.path.join(ROOT, "data", "join"), tmp_path / "join")
    visits, rankings = tmp_path / "join" / "uservisits", tmp_path / "join" / "rankings"
    before = snapshot(tmp_path)
    for where in (["--inline"], ["--workers", "1"]):
        proc = zmr_cli("run", os.path.join(EXAMPLES, "join.py"), "--input",
                       f"rankings={rankings}/*.parquet", "--input", f"visits={visits}",
                       "-o", str(visits / "out"), *where, cwd=tmp_path)
        assert_refused(proc, visits / "out", f"directory {visits}",
                       why="lies inside the input directory")
        proc = zmr_cli("run", os.path.join(EXAMPLES, "join.py"), "--input",
                       f"rankings={rankings}/*.parquet", "--input", f"visits={visits}",
                       "-o", str(rankings / "part-0001.parquet"), "--overwrite", *where,
                       cwd=tmp_path)
        assert_refused(proc, rankings / "part-0001.parquet", why="is also an input")
    assert snapshot(tmp_path) == before
