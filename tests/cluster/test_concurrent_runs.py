"""Two ``zmr run`` at once in one folder: each has its own embedded cluster (temporary
directory, ports, data directories), so they do not interfere; given the same output
folder, exactly one wins and the other fails cleanly, leaving the winner's output whole."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import JOBS, PATIENT_S, output_bytes, write_lines
from zmr.runners.inline import run_inline


def _start_run(cwd, inputs: str, output: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "zmr", "run", os.path.join(JOBS, "slow.py"), "--input", inputs,
         "--output", output, "--workers", "1", "--reducers", "2", "-q"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, ZMR_TEST_DELAY_S="0.3"))


def _finish(runs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(run.returncode, run.communicate(timeout=PATIENT_S)[1]) for run in runs]


def test_two_runs_in_one_folder_do_not_interfere(tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=30)
    runs = [_start_run(tmp_path, inputs, f"out-{n}") for n in range(2)]
    for (_, err), run in zip(_finish(runs), runs, strict=True):
        assert run.returncode == 0, err
    run_inline(os.path.join(JOBS, "slow.py"), [inputs], str(tmp_path / "inline"), reducers=2)
    expected = output_bytes(str(tmp_path / "inline"))
    for n in range(2):
        assert output_bytes(str(tmp_path / f"out-{n}")) == expected
        assert os.path.exists(tmp_path / f"out-{n}" / "_SUCCESS")
    # nothing else, but each run's own event log (zmr history RUN --events)
    assert sorted(os.listdir(tmp_path)) == [".zmr", "in", "inline", "out-0", "out-1"]
    logs = os.listdir(tmp_path / ".zmr" / "runs" / "events")
    assert len(logs) == 2 and all(name.startswith("run-") for name in logs)


def test_two_runs_into_one_output_folder_one_wins_the_other_fails_cleanly(tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=30)
    runs = [_start_run(tmp_path, inputs, "out") for _ in range(2)]
    results = _finish(runs)
    codes = sorted(run.returncode for run in runs)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(err for run, (_, err) in zip(runs, results, strict=True) if run.returncode)
    assert "zmr: error:" in loser and "out" in loser and "Traceback" not in loser
    assert "already exists" in loser or "cannot create output directory" in loser
    run_inline(os.path.join(JOBS, "slow.py"), [inputs], str(tmp_path / "inline"), reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
    assert sorted(os.listdir(tmp_path / "out")) == ["_SUCCESS", "part-00000", "part-00001"]
