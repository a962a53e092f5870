"""A worker killed after its maps finished comes back on the same data directory: its map
outputs are offered again and used, not recomputed."""

from __future__ import annotations

import os
import signal
import time

from tests.helpers import JOBS, PATIENT_S, output_bytes, write_lines
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster


def test_restarted_worker_offers_its_map_outputs(tmp_path):
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=50)
    job_path = os.path.join(JOBS, "slow_reduce.py")
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2,
                      liveness=3) as cluster:
        job = cluster.client.submit(job_path, [inputs], str(tmp_path / "out"), reducers=2,
                                    combine_files=False)      # a map per file
        while job.status()["maps_done"] < 3:
            time.sleep(0.05)
        cluster.workers["local-1"].send_signal(signal.SIGKILL)     # during the reduces
        cluster.workers["local-1"].wait()
        while cluster.client.workers():                           # declared dead
            time.sleep(0.05)
        cluster.add_worker("local-1")                              # same id, same disk
        status = job.wait(timeout_s=PATIENT_S)
    maps = [t for t in status["tasks"] if t["task"] == "map"]
    assert all(len(t["attempts"]) == 1 for t in maps)             # nothing recomputed
    assert status["counters"]["zmr.job"]["RECOVERED_MAPS"] == 3
    assert status["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 150  # counted once
    run_inline(job_path, [inputs], str(tmp_path / "inline"), reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
