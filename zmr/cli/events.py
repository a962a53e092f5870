"""``zmr history JOB --events``: a job's event log, read from disk (no cluster needed).

The log is looked for in the configured cluster's history (``[coordinator] state_dir``)
and among ``zmr run``'s runs (``.zmr/runs`` here); ``--json`` prints its lines as they
are, else a table: one line per event, time from the job's submission.
"""

from __future__ import annotations

import argparse
import os
import sys

from zmr.config import load_config
from zmr.coordinator.pipelines import owner_of
from zmr.core.errors import ConfigError
from zmr.storage import event_log
from zmr.storage import events as ev
from zmr.storage import layout
from zmr.storage.event_text import describe



def find_event_log(job_id: str, config_path: str | None) -> str:
    """The path of ``job_id``'s log; ConfigError naming where it was looked for."""
    if not ev.JOB_NAME.fullmatch(job_id):
        raise ConfigError(f"{job_id[:100]!r} is not a job id (job-0007) nor a run name "
                          "(run-20260101-120000-ab12)")
    state_dir = load_config(config_path).coordinator.state_dir
    places = [state_dir, os.path.abspath(layout.LOCAL_RUNS)]
    # a step of a multi-step job writes into its job's log
    paths = [layout.event_log_path(place, owner_of(job_id) or job_id) for place in places]
    for path in paths:
        if os.path.isfile(path):
            return path
    raise ConfigError(f"no event log for {job_id}: looked for {' and '.join(paths)} (a "
                      "job's log goes with its history, [retention] history_*)")


def cmd_history_events(args: argparse.Namespace) -> int:
    path = find_event_log(args.job_id, args.config or os.environ.get("ZMR_CONFIG"))
    if args.json:
        for line in event_log.raw_lines(path):
            print(line)
        return 0
    try:
        records = event_log.read_events(path)
    except ValueError as exc:
        raise ConfigError(f"{path}: not an event log: {exc}") from None
    if not records:
        print(f"zmr: {path} holds no events yet", file=sys.stderr)
    start = records[0].time_s if records else 0.0
    for record in records:
        print(f"{record.time_s - start:>9.3f}s  {record.KIND:<19} {describe(record)}")
    return 0
