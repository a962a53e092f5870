"""A job whose finished maps lose their output: the worker that made most of them is
SIGKILLed while the reduce waits, and the maps that run again wait too, so the dashboard
can be looked at in that state; then both gates open and the job succeeds."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.helpers import PATIENT_S, wait_until, write_inputs

GATED = """
import os, time
MAP_GATE, REDUCE_GATE = {map_gate!r}, {reduce_gate!r}

def _wait(gate):
    deadline = time.monotonic() + 600
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)

def mapper(key, line):
    yield line.split()[0], 1

def mapper_final():
    print("mapped my split")        # the attempt's log
    _wait(MAP_GATE)

def reducer(key, values):
    _wait(REDUCE_GATE)
    yield key, sum(values)
"""


class LostOutput:
    """Submit, lose a worker's map outputs (kill -9), hold the re-runs; ``finish()``."""

    def __init__(self, dashboard: Any, tmp_path: Any) -> None:
        self.dashboard = dashboard
        self.map_gate, self.reduce_gate = tmp_path / "maps-go", tmp_path / "reduce-go"
        self.map_gate.touch()
        job = tmp_path / "gated_maps.py"
        job.write_text(GATED.format(map_gate=str(self.map_gate),
                                    reduce_gate=str(self.reduce_gate)))
        self.handle = dashboard.cluster.client.submit(
            str(job), [write_inputs(tmp_path / "in", 4)], str(tmp_path / "out"),
            reducers=1, combine_files=False)
        self.job_id = self.handle.job_id
        wait_until(lambda: self.detail()["maps_done"] == 4, "every map to succeed")
        self.map_gate.unlink()                 # maps that run again wait from now on
        made = Counter(a[1] for t in self.detail()["tasks"] if t["task"] == "map"
                       for a in t["attempts"] if a[4] == "succeeded")
        self.killed = made.most_common(1)[0][0]
        process = dashboard.cluster.workers[self.killed]
        process.kill()
        process.wait()
        wait_until(lambda: self.detail()["lost_maps"], "the coordinator to lose the maps")

    def detail(self) -> dict[str, Any]:
        return self.dashboard.json(f"/api/jobs/{self.job_id}")

    def finish(self) -> dict[str, Any]:
        self.map_gate.touch()
        self.reduce_gate.touch()
        return self.handle.wait(timeout_s=PATIENT_S)
