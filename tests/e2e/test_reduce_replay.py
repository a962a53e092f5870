"""Reducer replay (``zmr replay JOB --key KEY``) through real ``zmr`` processes: a reduce
failure names its key, on a cluster and inline; the replay raises the user's exception
from the user's frame, with the job's values for the key, whether the maps run again
(``--input``) or kept map outputs are read (``--map-outputs``); ``--pdb`` opens the
debugger there."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback

import pytest

from tests.helpers import JOBS, PATIENT_S, ROOT

JOB = os.path.join(JOBS, "reduce_boom.py")
LINES = ["a b boom", "c boom a", "a d", "boom e"]
BOOMS = sum(line.split().count("boom") for line in LINES)


def _zmr(*args: str, cwd: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env, input=stdin, cwd=cwd)


@pytest.fixture()
def inputs(tmp_path):
    first, second = tmp_path / "in-1.txt", tmp_path / "in-2.txt"
    first.write_text("\n".join(LINES[:2]) + "\n")
    second.write_text("\n".join(LINES[2:]) + "\n")
    return [str(first), str(second)]


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "2"]])
def test_a_reduce_failure_names_the_key_to_replay(tmp_path, inputs, where):
    proc = _zmr("run", JOB, "-i", *inputs, "-o", str(tmp_path / "out"), *where,
                cwd=str(tmp_path))
    assert proc.returncode == 1
    assert "the reducer failed on key boom: zmr replay JOB --key boom" in proc.stderr
    assert f"ZeroDivisionError: cannot share {BOOMS} counts of 'boom'" in proc.stderr


def test_replay_raises_the_users_exception_from_the_users_frame(tmp_path, inputs):
    proc = _zmr("replay", JOB, "--key", "boom", "-i", *inputs, cwd=str(tmp_path))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    # every value of the key reached the reducer: the job's own count
    assert lines[-1] == f"ZeroDivisionError: cannot share {BOOMS} counts of 'boom'"
    assert lines[-3].startswith(f'  File "{JOB}"') and lines[-3].endswith("in reducer")


def test_replay_in_process_raises_from_the_job_file(tmp_path, inputs):
    """The traceback's last frame is the job file's reducer (not zmr's)."""
    from zmr.runners.reduce_replay import prepare, run_reducer, scratch_dir

    with scratch_dir() as scratch:
        replay = prepare(JOB, inputs, [], scratch)
        with pytest.raises(ZeroDivisionError) as raised:
            run_reducer(replay, "boom")
    last = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (last.filename, last.name) == (JOB, "reducer")


def test_replay_of_a_good_key_prints_its_pairs(tmp_path, inputs):
    proc = _zmr("replay", JOB, "--key", "a", "-i", *inputs, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "a\t3\n"


def test_replay_reads_kept_map_outputs(tmp_path, inputs):
    """Map outputs left on a worker's disk (a job dir of manifests and Arrow files) give
    the same values as running the maps again; a missing key is exit 2, named."""
    from zmr.job.loader import runnable
    from zmr.job.planning import plan_job
    from zmr.settings.job import JobOptions
    from zmr.tasks.map_task import run_map_task

    spec = runnable(JOB, JobOptions())
    plan = plan_job(spec, inputs, str(tmp_path / "out"), parallelism=2)
    job_dir = tmp_path / "data" / "w1" / "job-0007"
    job_dir.mkdir(parents=True)
    for index in range(plan.num_maps):
        run_map_task(plan.map_spec("job-0007", index, 1, str(job_dir)), spec)
    proc = _zmr("replay", JOB, "--key", "boom", "--map-outputs", str(tmp_path / "data"),
                cwd=str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == \
        f"ZeroDivisionError: cannot share {BOOMS} counts of 'boom'"
    good = _zmr("replay", JOB, "--key", "a", "--map-outputs", str(tmp_path / "data"),
                cwd=str(tmp_path))
    assert (good.returncode, good.stdout) == (0, "a\t3\n"), good.stderr
    missing = _zmr("replay", JOB, "--key", "zzz", "--map-outputs", str(tmp_path / "data"),
                   cwd=str(tmp_path))
    assert missing.returncode == 2
    assert "no key 'zzz' in any partition" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_replay_with_pdb_opens_the_debugger_at_the_raising_frame(tmp_path, inputs):
    proc = _zmr("replay", JOB, "--key", "boom", "-i", *inputs, "--pdb", cwd=str(tmp_path),
                stdin="p total, word\nq\n")
    assert proc.returncode == 1
    assert "-> raise ZeroDivisionError" in proc.stdout
    assert f"({BOOMS}, 'boom')" in proc.stdout          # the reducer's own locals


def test_partition_narrows_the_search_and_is_checked(tmp_path, inputs):
    found = _zmr("replay", JOB, "--key", "a", "-i", *inputs, "--reducers", "2",
                 "--partition", "0", cwd=str(tmp_path))
    other = _zmr("replay", JOB, "--key", "a", "-i", *inputs, "--reducers", "2",
                 "--partition", "1", cwd=str(tmp_path))
    # the key lives in exactly one of the two partitions: found there, missing in the other
    assert sorted([found.returncode, other.returncode]) == [0, 2]
    assert "a\t3\n" in (found.stdout + other.stdout)
    assert "no key 'a' in partition" in (found.stderr + other.stderr)
    wrong = _zmr("replay", JOB, "--key", "a", "-i", *inputs, "--reducers", "2",
                 "--partition", "2", cwd=str(tmp_path))
    assert wrong.returncode == 2
    assert "--partition 2: the job's map outputs have 2 partitions (0 to 1)" in wrong.stderr
