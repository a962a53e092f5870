"""Event log records: every type survives its line (the encoder made from its field types
writes what ``json`` and the typed decoder read back), a torn last line is left out, a bad
line elsewhere names the file and line, and old logs go by the retention policy."""

from __future__ import annotations

import json
import os

import pytest

from zmr.core.jsonable import ShapeError
from zmr.core.retention import Policy
from zmr.storage import event_log
from zmr.storage import events as ev
from zmr.storage import layout

SAMPLES = [
    ev.JobSubmitted(1.0, "job-0001", 'wc "quoted" é', ("/in/a", "/in/b"), "/out", 3, 2, 1,
                    {"params": {"n": [1, 2.5, None]}, "speculative": True}),
    ev.StepPlanned(2.0, "job-0002", 2, 4, 1, "no files"),
    ev.StepStarted(2.5, "job-0002.s2", 2, 4, 1),
    ev.StepEnded(2.75, "job-0002.s2", 2, "FAILED", 0.25, 4, 1, "boom"),
    ev.TaskAssigned(3.0, "job-0001", "map-00000", 2, "w-1", retry=True),
    ev.TaskStarted(3.25, "job-0001", "map-00000", 2, "w-1"),
    ev.finished(4.0, "job-0001", "map-00000", 2, "w-1", 0.75,
                {"zmr": {"MAP_INPUT_BYTES": 10, "MAP_INPUT_RECORDS": 2,
                         "MAP_SKIPPED_RECORDS": 1, "MAPS_REUSED": 1}}),
    ev.TaskFailed(4.5, "job-0001", "reduce-00001", 1, "w-2", "ValueError: x\ny", 3, True),
    ev.TaskKilled(5.0, "job-0001", "map-00001", 1, "w-2"),
    ev.WorkerLost(6.0, "job-0001", "w-2", "missed its heartbeats", ("map-00001-a1",), 2),
    ev.RecordsQuarantined(7.0, "job-0001", 12, "/out/_quarantine"),
    ev.JobEnded(8.0, "job-0001", "SUCCEEDED", 7.0, 3, 2, 1, "", {"MAP_INPUT_RECORDS": 9}),
]


@pytest.mark.parametrize("record", SAMPLES, ids=lambda r: r.KIND)
def test_every_record_type_survives_its_line(record):
    line = ev.encode(record)
    assert json.loads(line)["event"] == record.KIND       # plain JSON, kind first
    assert ev.decode(line) == record


def test_the_counters_of_a_finished_task_become_its_fields():
    (finished,) = [r for r in SAMPLES if isinstance(r, ev.TaskFinished)]
    assert (finished.bytes_in, finished.records_in, finished.skipped_records,
            finished.reused) == (10, 2, 1, True)


def test_a_torn_last_line_is_left_out_and_a_bad_line_is_named(tmp_path):
    path = tmp_path / "job.jsonl"
    lines = [ev.encode(r) for r in SAMPLES[:3]]
    path.write_text("\n".join(lines) + "\n" + lines[0][:20])   # a writer died mid-line
    assert event_log.read_events(str(path)) == SAMPLES[:3]
    path.write_text("\n".join([lines[0], '{"event": "nope"}', lines[1]]) + "\n")
    with pytest.raises(ShapeError, match=r"job.jsonl line 2: unknown event 'nope'"):
        event_log.read_events(str(path))


def test_the_log_is_written_on_flush_and_old_logs_are_pruned(tmp_path):
    log = event_log.EventLog(str(tmp_path))
    for number in range(1, 4):
        log.add(f"job-000{number}", SAMPLES[0])
    assert not os.path.exists(layout.events_dir(str(tmp_path)))    # buffered
    log.flush()
    for number, age in ((1, 300), (2, 200), (3, 100)):
        path = layout.event_log_path(str(tmp_path), f"job-000{number}")
        os.utime(path, (1000 - age, 1000 - age))
    gone = event_log.prune(str(tmp_path), Policy(2, 1e9, 1 << 30), 1000.0,
                    keep=frozenset(["job-0001"]))
    assert gone == []                      # the oldest is kept: 2 others within the count
    gone = event_log.prune(str(tmp_path), Policy(1, 1e9, 1 << 30), 1000.0)
    assert gone == ["job-0001", "job-0002"]
    assert sorted(os.listdir(layout.events_dir(str(tmp_path)))) == ["job-0003.jsonl"]
