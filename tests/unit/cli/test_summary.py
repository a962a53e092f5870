"""The summary of ``zmr run``: coalesced reduce partitions are said, and the counters shown
(the job's own too, on a cluster as inline)."""

from __future__ import annotations

from zmr.cli.run import _print_summary
from zmr.job.result import JobResult


def test_the_summary_says_how_many_partitions_were_coalesced(capsys):
    _print_summary(JobResult("/out", 4, 2, 1.0, {}, job_id="job-0001", workers=2,
                             partitions=8))
    assert "4 map tasks, 2 reduce tasks (8 partitions coalesced) -> /out" in \
        capsys.readouterr().err


def test_the_summary_says_nothing_more_when_nothing_was_coalesced(capsys):
    _print_summary(JobResult("/out", 4, 4, 1.0, {}, job_id="job-0001", workers=2,
                             partitions=4))
    assert "4 map tasks, 4 reduce tasks -> /out" in capsys.readouterr().err


def test_a_cluster_runs_summary_shows_the_main_counters_and_the_jobs_own(capsys):
    counters = {"zmr": {"MAP_INPUT_RECORDS": 4300, "MAP_INPUT_BYTES": 99, "SPILLED_RECORDS": 7},
                "zmr.job": {"DATA_LOCAL_MAPS": 3},
                "weather": {"MISSING_TEMP": 22051, "BAD_STATION": 2}}
    _print_summary(JobResult("/out", 3, 1, 1.0, counters, job_id="job-0001", workers=2))
    lines = [line.split() for line in capsys.readouterr().err.splitlines()
             if line.startswith("  ")]
    assert lines == [["MAP_INPUT_RECORDS", "4,300"], ["SPILLED_RECORDS", "7"],
                     ["weather/BAD_STATION", "2"], ["weather/MISSING_TEMP", "22,051"]]


def test_log_level_is_taken_before_and_after_the_run_command():
    """``zmr run ... --log-level debug`` was refused as an unknown job option."""
    from zmr.cli.main import build_parser

    parse = build_parser().parse_args
    job = ["run", "j.py", "-i", "in", "-o", "out"]
    assert parse(job).log_level is None                      # zmr's default stands
    assert parse(["--log-level", "debug", *job]).log_level == "debug"
    assert parse([*job, "--log-level", "error"]).log_level == "error"
