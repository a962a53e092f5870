"""Map outputs damaged on a worker's disk after the map committed (one byte flipped, the
tail cut off) are caught by their CRC-32 when reducers fetch them; the maps run again and
the job's output is still the inline result."""

from __future__ import annotations

import glob
import os
import time

from tests.helpers import PATIENT_S, output_bytes, write_lines
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

HELD = os.path.join(os.path.dirname(__file__), "..", "jobs", "held.py")


def _attempts(job, kind: str) -> dict[int, list[str]]:
    return {t["index"]: [a[4] for a in t["attempts"]] for t in job.status()["tasks"]
            if t["task"] == kind}


def _wait_for_maps(job, count: int) -> None:
    deadline = time.monotonic() + PATIENT_S
    while sum("succeeded" in a for a in _attempts(job, "map").values()) < count:
        assert time.monotonic() < deadline, f"maps never finished: {_attempts(job, 'map')}"
        time.sleep(0.05)


def _damage(outputs: list[str]) -> None:
    flipped, cut = outputs[0], outputs[1]
    with open(flipped, "r+b") as f:
        f.seek(os.path.getsize(flipped) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.truncate(cut, os.path.getsize(cut) - 64)


def test_damaged_map_outputs_are_detected_and_recomputed(tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv("ZMR_TEST_GATE", str(gate))
    inputs = write_lines(tmp_path / "in", files=3, lines_per_file=400)
    with open(os.path.join(inputs, "z-held.txt"), "w") as f:
        f.write("HOLD\nheld words here\n")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c"), speculative=False) as cluster:
        job = cluster.client.submit(HELD, [inputs], str(tmp_path / "out"), reducers=2,
                                    combine_files=False)      # a map per file
        _wait_for_maps(job, 3)                  # every map but the held one has committed
        outputs = sorted(glob.glob(str(tmp_path / "c" / "workers" / "*" / job.job_id / "**"
                                       / "map-*-a*.arrow"), recursive=True))
        assert len(outputs) == 3, outputs
        _damage(outputs)
        gate.touch()
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        maps = _attempts(job, "map")
        reran = [i for i, outcomes in maps.items() if len(outcomes) > 1]
        assert len(reran) >= 2, maps                 # both damaged maps ran again
        logs = "".join(entry["log"] for entry in job.logs("reduce"))
    assert any(word in logs for word in ("CRC", "truncated", "checksum"))
    run_inline(HELD, [inputs], str(tmp_path / "inline"), reducers=2)
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
