"""An embedded cluster (``zmr run``, ``zmr.run()``) is its own cluster in a shell that
exports a standalone cluster's ``ZMR_<SECTION>_<KEY>`` variables (as the docs suggest for
``zmr submit``): its job never reaches the standalone cluster, and its stop never stops it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import EXAMPLES, PATIENT_S, read_output, wait_until, write_lines
from zmr.client import Client
from zmr.config import load_config, write_config
from zmr.core.errors import ClusterUnreachableError, ZmrError
from zmr.runners.local import LocalCluster
from zmr.transport.sockets import free_port

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A standalone coordinator and one worker; yields (config path, environment that
    exports its placement keys, coordinator process)."""
    root = tmp_path_factory.mktemp("standalone")
    values = {("coordinator", "control_port"): free_port(),
              ("coordinator", "heartbeat_port"): free_port(),
              ("coordinator", "report_port"): free_port(),
              ("coordinator", "state_dir"): str(root / "state"),
              ("dashboard", "port"): free_port(),
              ("worker", "data_dir"): str(root / "data"), ("worker", "slots"): 1}
    config = str(root / "cluster.toml")
    write_config(config, values)
    procs = [_spawn(root, "coordinator", ["-m", "zmr.coordinator", config]),
             _spawn(root, "worker", ["-m", "zmr.worker", config, "--id", "standalone-1"])]
    exported = {f"ZMR_{section}_{key}".upper(): str(value)
                for (section, key), value in values.items()}
    env = dict(os.environ, TMPDIR=str(root / "tmp"), **exported)
    os.makedirs(env["TMPDIR"])
    try:
        with Client(config, timeout_s=5.0) as client:
            wait_until(lambda: _registered(client) == 1, "the standalone worker")
        yield config, env, procs[0], root
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _spawn(root, name: str, args: list[str]) -> subprocess.Popen[bytes]:
    with open(root / f"{name}.log", "ab") as log:
        return subprocess.Popen([sys.executable, *args], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)


def _registered(client: Client) -> int:
    try:
        return len(client.workers())
    except ClusterUnreachableError:
        return -1


def _untouched(standalone) -> None:
    """The standalone cluster ran no job, is alive, answers, and was never asked to stop."""
    config, _, coordinator, root = standalone
    assert coordinator.poll() is None, (root / "coordinator.log").read_text()
    with Client(config, timeout_s=PATIENT_S) as client:
        assert client.history() == []
        # never told to stop, its worker is still there (a worker that missed beats on a
        # busy machine registers again)
        wait_until(lambda: "standalone-1" in [w["worker_id"] for w in client.workers()],
                   "the standalone cluster's worker")
    assert "stopping: " not in (root / "coordinator.log").read_text()


def _zmr_run(env, inputs: str, output) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "zmr", "run", WORDCOUNT, "--input", inputs,
                             "--output", str(output), "--workers", "1"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_zmr_runs_in_a_shell_exporting_a_clusters_ports_use_their_own(standalone,
                                                                          tmp_path):
    _, env, _, _ = standalone
    inputs = write_lines(tmp_path / "in", files=2, lines_per_file=40)
    runs = [_zmr_run(env, inputs, tmp_path / f"out{n}") for n in (1, 2)]
    for run in runs:
        _, stderr = run.communicate(timeout=4 * PATIENT_S)
        assert run.returncode == 0, stderr
    for n in (1, 2):
        assert sum(read_output(str(tmp_path / f"out{n}")).values()) == 4 * 80  # four words a line
    _untouched(standalone)


def test_zmr_run_function_in_such_a_shell_uses_its_own_cluster(standalone, tmp_path):
    _, env, _, _ = standalone
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=30)
    script = (f"import zmr\nr = zmr.run({WORDCOUNT!r}, input={inputs!r}, "
              f"output={str(tmp_path / 'out')!r}, workers=1, progress=False)\n"
              "print(r.job_id)\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, text=True,
                          capture_output=True, timeout=4 * PATIENT_S)
    assert done.returncode == 0, done.stderr
    assert sum(read_output(str(tmp_path / "out")).values()) == 4 * 30
    _untouched(standalone)


def test_a_stop_carrying_another_clusters_token_is_refused(standalone):
    config, _, coordinator, _ = standalone
    with Client(config, timeout_s=PATIENT_S) as client:
        with pytest.raises(ZmrError, match="refused: it is meant for a cluster another "
                                           "runner started"):
            client.shutdown_cluster("local cluster stopping", owner_token="not-this-one")
        client.workers()                                   # still answering
    assert coordinator.poll() is None


def test_an_embedded_cluster_never_mistakes_another_coordinator_for_its_own(standalone,
                                                                             tmp_path):
    """Its coordinator cannot bind a port another coordinator holds (given here on
    purpose; a race for a free port otherwise): that one answers, with workers, but is not
    the process it started, so start() fails instead of sending jobs there."""
    config, _, coordinator, root = standalone
    taken = load_config(config).coordinator.control_port
    cluster = LocalCluster(workers=1, base_dir=str(tmp_path / "c"),
                           settings={("coordinator", "control_port"): taken})
    with pytest.raises(ZmrError, match="cannot|bind|listen"):
        cluster.start()
    assert coordinator.poll() is None
    with Client(config, timeout_s=PATIENT_S) as client:
        assert client.history() == []
    assert "stopping: " not in (root / "coordinator.log").read_text()
