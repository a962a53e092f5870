"""run_cluster.sh starts a coordinator and N workers, and stops exactly those processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.helpers import EXAMPLES, PATIENT_S, standalone_config, write_lines
from zmr.client import Client

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_run_cluster_script_start_submit_stop(tmp_path):
    config = standalone_config(tmp_path)
    env = dict(os.environ, ZMR_RUN_DIR=str(tmp_path / "run"), PYTHON=sys.executable)
    script = os.path.join(ROOT, "run_cluster.sh")
    subprocess.run([script, "2", config, "--with-coordinator"], env=env, check=True,
                   timeout=PATIENT_S)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        pids = {f: int(open(tmp_path / "run" / f).read())
                for f in os.listdir(tmp_path / "run") if f.endswith(".pid")}
        assert sorted(pids) == ["coordinator.pid", "worker-1.pid", "worker-2.pid"]
        client = Client(config)
        deadline = time.monotonic() + PATIENT_S
        while len(client.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        inputs = write_lines(tmp_path / "in", files=2, lines_per_file=50)
        job = client.submit(os.path.join(EXAMPLES, "wordcount.py"), [inputs],
                            str(tmp_path / "out"), reducers=2)
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        client.close()
        subprocess.run([script, "stop"], env=env, check=True, timeout=PATIENT_S)
        for pid in pids.values():
            assert not os.path.exists(f"/proc/{pid}") or _zombie(pid)
        assert bystander.poll() is None          # not ours: left alone
        assert not [f for f in os.listdir(tmp_path / "run") if f.endswith(".pid")]
    finally:
        bystander.kill()
        subprocess.run([script, "stop"], env=env, timeout=PATIENT_S)


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] == "Z"
