"""``zmr slurm`` under a real Slurm: the batch script ``zmr slurm script`` prints, submitted
with ``sbatch``, runs wordcount on data/sample through a coordinator and a worker started in
the allocation, with the same output as an inline run; no process of the job and no
scratch folder is left afterwards, after a clean end and after ``scancel`` mid-job."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PATIENT_S, read_output, wait_until

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[2]
WORDCOUNT = REPO / "jobs" / "wordcount.py"
HELD = REPO / "tests" / "jobs" / "held.py"


def _zmr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, env=env, check=False, timeout=PATIENT_S)


def _sbatch(env: dict[str, str], script: Path, log: Path, *args: str) -> str:
    out = subprocess.run(["sbatch", "--parsable", "--chdir", str(script.parent), "--output",
                          str(log), str(script), *args], env=env, capture_output=True,
                         text=True, check=True, timeout=PATIENT_S)
    return out.stdout.strip().split(";")[0]


def _job_field(env: dict[str, str], job_id: str, field: str) -> str:
    out = subprocess.run(["scontrol", "show", "job", job_id], env=env, capture_output=True,
                         text=True, check=False).stdout
    found = re.search(rf"\b{field}=(\S+)", out)
    return found.group(1) if found else ""


def _finished(env: dict[str, str], job_id: str) -> str:
    """The job's final state once it has one, after waiting for it."""
    ended = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY")
    wait_until(lambda: _job_field(env, job_id, "JobState") in ended, f"Slurm job {job_id}",
               interval_s=0.2)
    return _job_field(env, job_id, "JobState")


def _processes_of(job_id: str) -> list[str]:
    """Processes still carrying the job's SLURM_JOB_ID: zmr's or anything they started."""
    marker = f"SLURM_JOB_ID={job_id}".encode()
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker in environ:
            left.append(f"{pid}: {cmdline.decode(errors='replace')}")
    return left


@pytest.fixture()
def batch_script(tmp_path: Path) -> Path:
    printed = _zmr("slurm", "script", "--nodes", "1", "--time", "00:10:00")
    assert printed.returncode == 0, printed.stderr
    script = tmp_path / "zmr-job.sh"
    script.write_text(printed.stdout, encoding="utf-8")
    return script


def test_wordcount_under_sbatch_matches_inline(slurm_env, batch_script, tmp_path):
    inline = _zmr("run", str(WORDCOUNT), "--input", str(REPO / "data" / "sample"),
                  "--output", str(tmp_path / "inline"), "--inline", "--quiet")
    assert inline.returncode == 0, inline.stderr
    log = tmp_path / "job.log"
    job_id = _sbatch(slurm_env, batch_script, log, str(WORDCOUNT), "--input",
                     str(REPO / "data" / "sample"), "--output", str(tmp_path / "slurm"))
    state = _finished(slurm_env, job_id)
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    assert (state, _job_field(slurm_env, job_id, "ExitCode")) == ("COMPLETED", "0:0"), text
    assert "1 worker(s) on 1 node(s)" in text and "SUCCEEDED" in text, text
    assert read_output(str(tmp_path / "slurm")) == read_output(str(tmp_path / "inline"))
    assert (tmp_path / "slurm" / "_SUCCESS").exists()
    wait_until(lambda: not _processes_of(job_id), f"job {job_id}'s processes to end")
    assert not Path(f"/tmp/zmr-{job_id}").exists(), "scratch folder left behind"


def _held_job(env: dict[str, str], script: Path, tmp_path: Path) -> tuple[str, Path]:
    """A job whose only map waits for a gate file that never comes, once it runs."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.txt").write_text("one two\nHOLD\nthree\n", encoding="utf-8")
    env = dict(env, ZMR_TEST_GATE=str(tmp_path / "never"))
    log = tmp_path / "job.log"
    job_id = _sbatch(env, script, log, str(HELD), "--input", str(inputs),
                     "--output", str(tmp_path / "out"))
    wait_until(lambda: log.exists() and "RUNNING" in log.read_text(errors="replace"),
               f"job {job_id} to run its map", interval_s=0.2)
    assert _processes_of(job_id), "the job runs no process of its own?"
    return job_id, log


@pytest.mark.parametrize("how", ["scancel", "time-limit warning"])
def test_cancelled_mid_job_tears_everything_down(slurm_env, batch_script, tmp_path, how):
    """scancel signals every process of the job (Slurm kills what is left after KillWait);
    the time-limit warning (--signal=B:USR1, sent here with scancel --batch) reaches the
    batch script alone, so there zmr's own teardown must stop the coordinator and the
    srun step of workers."""
    job_id, log = _held_job(slurm_env, batch_script, tmp_path)
    signal_args = ["--signal=USR1", "--batch"] if how != "scancel" else []
    subprocess.run(["scancel", *signal_args, job_id], env=slurm_env, check=True,
                   timeout=PATIENT_S)
    state = _finished(slurm_env, job_id)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert state == ("CANCELLED" if how == "scancel" else "FAILED"), text
    wait_until(lambda: not _processes_of(job_id), f"job {job_id}'s processes to end")
    assert "terminated" in text, text
    if how != "scancel":
        assert _job_field(slurm_env, job_id, "ExitCode") == "143:0", text
    assert not Path(f"/tmp/zmr-{job_id}").exists(), f"scratch folder left behind:\n{text}"
    assert not (tmp_path / "out" / "_SUCCESS").exists()
