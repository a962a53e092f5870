"""Which ``ZMR_<SECTION>_<KEY>`` variables an embedded cluster's processes and client see
(docs/cluster/configuration.md, "What an embedded cluster takes from the environment")."""

from __future__ import annotations

import dataclasses

from zmr.config import load_config, write_config
from zmr.runners.local import LocalCluster
from zmr.settings.cluster import SecuritySettings

NEVER = ["ZMR_COORDINATOR_CONTROL_PORT", "ZMR_COORDINATOR_HEARTBEAT_PORT",
         "ZMR_COORDINATOR_REPORT_PORT", "ZMR_DASHBOARD_PORT", "ZMR_COORDINATOR_HOST",
         "ZMR_DASHBOARD_HOST", "ZMR_WORKER_SHUFFLE_HOST", "ZMR_WORKER_SHUFFLE_PORTS",
         "ZMR_WORKER_ADVERTISE", "ZMR_COORDINATOR_STATE_DIR", "ZMR_WORKER_DATA_DIR",
         "ZMR_WORKER_SLOTS", "ZMR_WORKER_GIVE_UP_AFTER_S", "ZMR_HEARTBEAT_INTERVAL_S",
         "ZMR_HEARTBEAT_LIVENESS", "ZMR_TASKS_MAX_ATTEMPTS",
         *[f"ZMR_SECURITY_{f.name.upper()}" for f in dataclasses.fields(SecuritySettings)]]
HONOURED = {"ZMR_TASKS_TASK_TIMEOUT_S": "30", "ZMR_CLIENT_TIMEOUT_S": "60",
            "ZMR_WORKER_FETCH_TIMEOUT_S": "40", "ZMR_RETENTION_HISTORY_JOBS": "7"}


def test_an_embedded_cluster_drops_the_variables_of_the_keys_it_sets(monkeypatch, tmp_path):
    for name in NEVER:
        monkeypatch.setenv(name, "1")    # the wrong type for some: never even read
    for name, value in HONOURED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("UNRELATED", "kept")
    cluster = LocalCluster(workers=1, base_dir=str(tmp_path), slots=2)
    env = cluster._environment()
    assert [name for name in NEVER if name in env] == []
    assert {name: env[name] for name in HONOURED} == HONOURED and env["UNRELATED"] == "kept"
    write_config(cluster.config_path, cluster.settings)
    config = load_config(cluster.config_path, env)
    assert config.coordinator.control_port == cluster.settings["coordinator",
                                                                "control_port"]
    assert config.coordinator.host == "127.0.0.1" and not config.security.curve
    assert config.worker.slots == 2 and config.tasks.task_timeout_s == 30.0
    assert config.client.timeout_s == 60.0 and config.retention.history_jobs == 7


def test_each_embedded_cluster_has_its_own_owner_token(tmp_path):
    first = LocalCluster(workers=1, base_dir=str(tmp_path / "a"))
    second = LocalCluster(workers=1, base_dir=str(tmp_path / "b"))
    assert len(first.owner_token) == 32 and first.owner_token != second.owner_token
