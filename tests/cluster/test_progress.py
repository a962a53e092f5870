"""Progress moves during a long map task: running maps report the bytes of their split read
so far, and the job's map progress (status, ``zmr status``) counts them."""

from __future__ import annotations

import time

from tests.helpers import PATIENT_S, write_lines
from zmr.runners.local import LocalCluster

SLOW_MAPPER = "import time\n\ndef mapper(key, line):\n    time.sleep(0.002)\n    yield line, 1\n"


def test_map_progress_moves_before_the_first_map_finishes(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=3000)
    job_path = tmp_path / "slowmap.py"
    job_path.write_text(SLOW_MAPPER)
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), heartbeat_interval_s=0.2) as c:
        job = c.client.submit(str(job_path), [inputs], str(tmp_path / "out"))
        seen = []
        deadline = time.monotonic() + PATIENT_S
        while time.monotonic() < deadline:
            status = c.client.status(job.job_id)[0]
            if status["state"] != "RUNNING" and status["state"] != "QUEUED":
                break
            if status["maps_done"] == 0:
                seen.append(status["map_progress"])
            time.sleep(0.05)
        final = job.wait(timeout_s=PATIENT_S)
    moving = sorted({share for share in seen if 0 < share < 1})
    assert len(moving) >= 2, f"map progress never moved mid-task: {seen[-20:]}"
    assert all(a <= b for a, b in zip(seen, seen[1:], strict=False)), seen      # never goes back
    assert final["map_progress"] == 1.0
