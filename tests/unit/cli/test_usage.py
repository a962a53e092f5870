"""How slot usage reads in ``zmr run`` / ``status`` / ``history``, "-" for what is not
known (a running job in a brief reply, a job journaled before usage was kept)."""

from __future__ import annotations

from zmr.cli.usage import usage_line, worker_shares
from zmr.job.result import JobResult


def test_a_known_usage_reads_as_a_percentage_of_the_slots():
    usage = {"utilisation": 0.4567, "busy_s": 4.4, "slot_s": 9.6, "slots": 2.0, "splits": 4,
             "rebalanced": 1, "worker_busy_s": {"w2": 1.1, "w1": 3.3}}
    assert usage_line(usage) == ("slots 46% busy (4.4s busy of 9.6 slot-s, 2 slots)  "
                                 "splits 4  rebalanced 1")
    assert worker_shares(usage) == "w1 75%  w2 25%"
    assert "1 slot)" in usage_line(dict(usage, slots=1))


def test_what_an_older_coordinator_did_not_say_reads_as_a_dash():
    assert usage_line({}) == "slots - busy  splits -  rebalanced -"
    assert usage_line({"utilisation": None, "splits": 3, "rebalanced": 0}) == \
        "slots - busy  splits 3  rebalanced 0"
    assert worker_shares({}) == "" and worker_shares({"worker_busy_s": {"w1": 0.0}}) == ""
    old = {"output": "/o", "maps_total": 2, "reduces_total": 1, "counters": {}}
    result = JobResult.from_status(old, "job-0001", 2, 1.5)
    assert (result.utilisation, result.splits, result.worker_busy_s) == (None, 0, {})
