"""The one-line summary of ``zmr run``: coalesced reduce partitions are said."""

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
