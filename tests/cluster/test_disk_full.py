"""A worker whose disk is full fails its attempt with a clear error naming the worker and
the path, marks itself unhealthy, and the job completes on the other worker."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import EXAMPLES, PATIENT_S, output_bytes, write_lines
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster


@pytest.fixture()
def tiny_tmpfs(tmp_path):
    mount = tmp_path / "c" / "workers" / "local-1"
    mount.mkdir(parents=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_fails_the_attempt_elsewhere_and_worker_stands_aside(tmp_path, tiny_tmpfs):
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=3000)
    wordcount = os.path.join(EXAMPLES, "wordcount.py")
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(wordcount, [inputs], str(tmp_path / "out"), reducers=2,
                                    split_size="32KB")
        status = job.wait(timeout_s=PATIENT_S)
    errors = [t["error"] for t in status["tasks"] if t["error"]]
    assert any("worker local-1: worker storage error at" in e and str(tiny_tmpfs) in e
               and "No space left on device" in e for e in errors)
    attempts = [a for t in status["tasks"] for a in t["attempts"]]
    first_failure = min(a[3] for a in attempts if a[1] == "local-1" and a[4] == "failed")
    # unhealthy: after its disk failed, local-1 was given nothing more
    assert not [a for a in attempts if a[1] == "local-1" and a[2] > first_failure]
    leftovers = [os.path.join(d, f) for d, _, files in os.walk(tiny_tmpfs) for f in files
                 if f.endswith((".arrow", ".tmp"))]
    assert leftovers == [] or all(f.endswith(".arrow") and os.path.exists(
        f[:-len(".arrow")] + ".index.json") for f in leftovers)     # nothing partial kept
    run_inline(wordcount, [inputs], str(tmp_path / "inline"), reducers=2, split_size="32KB")
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
