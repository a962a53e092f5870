"""``zmr run``'s event logs (``.zmr/runs/events/run-...jsonl`` where it runs), inline and on
its embedded cluster, read back with ``zmr history RUN --events`` once the run is over:
the run's tasks with what they read and wrote, its end with the totals the summary
printed, and a failed run's failing task."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, ROOT, write_inputs, write_lines


def _zmr(*args: str, cwd: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ZMR_CONFIG"}
    env["PYTHONPATH"] = os.path.abspath(ROOT)
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env, cwd=cwd)


def _events(run_stderr: str, cwd: str) -> list[dict]:
    (run_id,) = re.findall(r"zmr: event log: zmr history (run-\S+) --events", run_stderr)
    proc = _zmr("history", run_id, "--events", "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _counter(stderr: str, name: str) -> int:
    (value,) = re.findall(rf"^  {name}\s+([\d,]+)$", stderr, re.M)
    return int(value.replace(",", ""))


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "2"]])
def test_a_runs_event_log_is_kept_where_it_ran(tmp_path, where):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=40)
    run = _zmr("run", os.path.join(EXAMPLES, "wordcount.py"), "-i", inputs, "-o",
               str(tmp_path / "out"), "--split-size", "1KB", *where, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    events = _events(run.stderr, str(tmp_path))
    assert [e["event"] for e in events][::len(events) - 1] == ["job_submitted", "job_ended"]
    submitted, end = events[0], events[-1]
    assert submitted["name"] == "wordcount" and submitted["output"] == str(tmp_path / "out")
    finished = [e for e in events if e["event"] == "task_finished"]
    maps = [e for e in finished if e["task"].startswith("map")]
    assert len(maps) == submitted["splits"] > 1
    assert all(e["duration_s"] >= 0 and e["bytes_in"] > 0 and not e["reused"] for e in maps)
    assert sum(e["records_in"] for e in maps) == _counter(run.stderr, "MAP_INPUT_RECORDS")
    assert end["state"] == "SUCCEEDED"
    assert end["counters"]["REDUCE_OUTPUT_RECORDS"] == \
        _counter(run.stderr, "REDUCE_OUTPUT_RECORDS")
    assert len(os.listdir(tmp_path / ".zmr" / "runs" / "events")) == 1


def test_a_failed_inline_run_logs_the_failing_task(tmp_path):
    inputs = write_inputs(tmp_path / "in", files=2, boom=True)
    run = _zmr("run", os.path.join(JOBS, "fails_on_boom.py"), "-i", inputs, "-o",
               str(tmp_path / "out"), "--inline", cwd=str(tmp_path))
    assert run.returncode == 1
    (name,) = os.listdir(tmp_path / ".zmr" / "runs" / "events")
    table = _zmr("history", name[:-len(".jsonl")], "--events", cwd=str(tmp_path))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert " task_failed " in lines[-2] and "ValueError: bad record" in lines[-2]
    assert " job_ended " in lines[-1] and "FAILED" in lines[-1]


def test_an_unknown_job_is_a_usage_error_naming_where_it_looked(tmp_path):
    proc = _zmr("history", "job-0042", "--events", cwd=str(tmp_path))
    assert proc.returncode == 2
    assert "no event log for job-0042: looked for" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = _zmr("history", "../etc", "--events", cwd=str(tmp_path))
    assert bad.returncode == 2 and "is not a job id" in bad.stderr


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "2"]])
def test_a_multi_step_jobs_log_has_its_steps_and_one_end(tmp_path, where):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=40)
    out = str(tmp_path / "out")
    run = _zmr("run", os.path.join(EXAMPLES, "top_words.py"), "-i", inputs, "-o", out,
               *where, cwd=str(tmp_path))
    assert run.returncode == 0, run.stderr
    events = _events(run.stderr, str(tmp_path))
    story = [(e["event"], e.get("step")) for e in events
             if not e["event"].startswith("task_") and e["event"] != "step_planned"]
    assert story == [("job_submitted", None), ("step_started", 1), ("step_ended", 1),
                     ("step_started", 2), ("step_ended", 2), ("job_ended", None)]
    assert events[0]["output"] == out and events[0]["steps"] == 2
    step_ends = [e for e in events if e["event"] == "step_ended"]
    end = events[-1]
    assert end["maps"] == sum(e["maps"] for e in step_ends)
    maps_read = sum(e["records_in"] for e in events if e["event"] == "task_finished"
                    and e["task"].startswith("map"))
    assert end["counters"]["MAP_INPUT_RECORDS"] == maps_read > 80     # both steps' maps
