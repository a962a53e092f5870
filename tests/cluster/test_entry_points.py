"""Every entry point has --help, reads $ZMR_CONFIG and ZMR_<SECTION>_<KEY> overrides, and
takes --log-level; zmr config init writes a config that loads, zmr config show says where
each value came from."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.helpers import PATIENT_S
from zmr.config import load_config, write_config
from zmr.core.errors import ConfigError
from zmr.runners.local import LocalCluster
from zmr.settings.cluster import CLUSTER_SETTINGS, SECTIONS
from zmr.transport.sockets import free_port


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=PATIENT_S, env=dict(os.environ, **(env or {})))


@pytest.mark.parametrize("module", ["zmr", "zmr.coordinator", "zmr.worker"])
def test_every_entry_point_has_help_and_a_log_level(module):
    shown = _run("-m", module, "--help")
    assert shown.returncode == 0 and "--log-level" in shown.stdout
    assert "debug,info,warning,error" in shown.stdout


def test_environment_overrides_beat_the_file_and_name_the_variable(tmp_path):
    path = tmp_path / "c.toml"
    write_config(str(path), {("worker", "slots"): 4, ("tasks", "speculative"): True})
    config = load_config(str(path), {"ZMR_WORKER_SLOTS": "7", "ZMR_TASKS_SPECULATIVE": "off",
                                     "ZMR_HEARTBEAT_INTERVAL_S": "0.25"})
    assert (config.worker.slots, config.tasks.speculative, config.heartbeat.interval_s) == (
        7, False, 0.25)
    with pytest.raises(ConfigError, match="ZMR_WORKER_SLOTS must be int, got 'many'"):
        load_config(str(path), {"ZMR_WORKER_SLOTS": "many"})
    with pytest.raises(ConfigError, match="ZMR_WORKER_SHUFFLE_PORTS"):
        load_config(None, {"ZMR_WORKER_SHUFFLE_PORTS": "9-1"})


def test_config_init_writes_every_setting_and_show_says_where_values_come_from(tmp_path):
    path = tmp_path / "conf" / "cluster.toml"
    assert _run("-m", "zmr", "config", "init", str(path)).returncode == 0
    text = path.read_text()
    assert all(f"\n{s.name} = " in text for s in CLUSTER_SETTINGS)
    written, defaults = load_config(str(path), {}), load_config(None, {})
    assert all(getattr(written, s) == getattr(defaults, s) for s in SECTIONS)
    again = _run("-m", "zmr", "config", "init", str(path))
    assert again.returncode == 2 and "already exists" in again.stderr
    shown = _run("-m", "zmr", "config", "show", "--config", str(path),
                 env={"ZMR_WORKER_SLOTS": "3"})
    assert shown.returncode == 0
    assert "slots = 3  # ZMR_WORKER_SLOTS" in shown.stdout
    assert f'host = "127.0.0.1"  # {path}' in shown.stdout


def test_a_coordinator_and_workers_read_zmr_config_and_overrides(tmp_path):
    """The coordinator and the workers find their config through $ZMR_CONFIG alone, and a
    ZMR_<SECTION>_<KEY> variable reaches both (here: the workers' slots)."""
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        env = {"ZMR_CONFIG": cluster.config_path, "ZMR_WORKER_SLOTS": "3"}
        worker = subprocess.Popen([sys.executable, "-m", "zmr.worker", "--id", "env-worker",
                                   "--log-level", "warning"], env=dict(os.environ, **env),
                                  stderr=subprocess.PIPE, text=True)
        try:
            cluster.wait_for_workers(2, timeout_s=PATIENT_S)
            by_id = {w["worker_id"]: w for w in cluster.client.workers()}
            assert by_id["env-worker"]["slots"] == 3
        finally:
            worker.terminate()
            _, err = worker.communicate(timeout=PATIENT_S)
        assert " INFO " not in err         # --log-level warning took effect


def test_a_coordinator_without_arguments_uses_zmr_config(tmp_path):
    config = tmp_path / "c.toml"
    write_config(str(config), {("coordinator", "control_port"): free_port(),
                               ("coordinator", "heartbeat_port"): free_port(),
                               ("coordinator", "report_port"): free_port(),
                               ("coordinator", "state_dir"): str(tmp_path / "state"),
                               ("dashboard", "port"): -1})
    coordinator = subprocess.Popen([sys.executable, "-m", "zmr.coordinator"],
                                   env=dict(os.environ, ZMR_CONFIG=str(config)),
                                   stderr=subprocess.PIPE, text=True)
    try:
        from zmr.client import Client
        client = Client(str(config), timeout_s=PATIENT_S)
        assert client.workers() == []            # it answers on the configured port
        client.close()
    finally:
        coordinator.terminate()
        coordinator.communicate(timeout=PATIENT_S)
    assert (tmp_path / "state").is_dir()


def test_a_coordinator_port_in_use_is_an_error_naming_the_setting(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    config = tmp_path / "c.toml"
    write_config(str(config), {("coordinator", "control_port"): free_port(),
                               ("coordinator", "heartbeat_port"): free_port(),
                               ("coordinator", "report_port"): port,
                               ("coordinator", "state_dir"): str(tmp_path / "state"),
                               ("dashboard", "port"): -1})
    try:
        run = _run("-m", "zmr.coordinator", str(config))
    finally:
        taken.close()
    assert run.returncode == 2
    assert f"[coordinator] report_port = {port}: cannot bind" in run.stderr
    assert "Traceback" not in run.stderr
