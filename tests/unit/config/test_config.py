"""conf/cluster.toml and zmr.config: documented defaults, strict validation naming file and key."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import tomllib

import pytest

from tests.helpers import ROOT
from zmr.config import ClusterConfig, load_config, write_config
from zmr.core.errors import ConfigError
from zmr.settings.cluster import CLUSTER_SETTINGS

DEFAULTS = {(s.section, s.name): s.default for s in CLUSTER_SETTINGS}

SHIPPED = pathlib.Path(ROOT) / "conf" / "cluster.toml"


def test_shipped_config_states_exactly_the_built_in_defaults():
    with open(SHIPPED, "rb") as f:
        raw = tomllib.load(f)
    shipped = {(section, key): value for section, table in raw.items()
               for key, value in table.items()}
    assert shipped == DEFAULTS
    assert dataclasses.replace(load_config(str(SHIPPED)), path="<defaults>") == ClusterConfig()


def test_shipped_config_binds_loopback_only():
    config = load_config(str(SHIPPED))
    assert config.coordinator.host == config.worker.shuffle_host == "127.0.0.1"
    assert config.endpoint("control_port") == "tcp://127.0.0.1:5570"


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "cluster.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text,words", [
    ("[coordinator]\ncontrol_prot = 1\n", ["unknown key", "control_prot", "[coordinator]"]),
    ("[coordnator]\nhost = 'x'\n", ["unknown section", "[coordnator]"]),
    ("[heartbeat]\nliveness = '3'\n", ["[heartbeat] liveness", "must be int", "str"]),
    ("[heartbeat]\nliveness = true\n", ["[heartbeat] liveness", "must be int", "bool"]),
    ("[tasks]\nspeculative = 1\n", ["[tasks] speculative", "must be bool"]),
    ("[worker]\ngive_up_after_s = 'soon'\n", ["give_up_after_s", "must be float"]),
    ("[worker]\ncoordinator_timeout_s = 10.0\n", ["coordinator_timeout_s is no longer",
                                                  "give_up_after_s"]),
    ("[worker\n", ["not valid TOML"]),
    ("coordinator = 3\n", ["unknown section [coordinator]"]),
])
def test_bad_configs_name_the_file_and_the_key(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert path in str(error.value)
    for word in words:
        assert word in str(error.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(str(tmp_path / "nope.toml"))


def test_whole_seconds_are_accepted_for_float_settings(tmp_path):
    config = load_config(_write(tmp_path, "[heartbeat]\ninterval_s = 2\n"))
    assert config.heartbeat.interval_s == 2.0
    assert isinstance(config.heartbeat.interval_s, float)


def test_zero_slots_means_one_per_cpu(tmp_path):
    assert load_config(None).worker_slots == (os.cpu_count() or 1)
    assert load_config(_write(tmp_path, "[worker]\nslots = 3\n")).worker_slots == 3


def test_written_configs_read_back_identically(tmp_path):
    values = {("coordinator", "control_port"): 6001, ("coordinator", "state_dir"): 'a "b"\\c',
              ("heartbeat", "interval_s"): 0.25, ("tasks", "speculative"): False}
    path = str(tmp_path / "w.toml")
    write_config(path, values)
    config = load_config(path)
    assert {(s, k): getattr(getattr(config, s), k) for s, k in values} == values


def test_the_documented_cluster_table_lists_every_setting_with_its_default():
    page = (pathlib.Path(ROOT) / "docs/reference/settings.md").read_text(encoding="utf-8")
    table = page.split("## Cluster settings", 1)[1]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and "." in cells[0]:
            rows[tuple(cells[0].strip("`").split(".", 1))] = cells[1]
    assert set(rows) == set(DEFAULTS)
    for key, shown in rows.items():
        default = DEFAULTS[key]
        words = shown.replace("`", "").replace('"', "").split()
        expected = str(default).lower() if isinstance(default, bool) else str(default)
        assert (words[0] if words else "") == expected, (key, shown)


@pytest.mark.parametrize("ports", ["7000", "7000-", "9-8", "0-10", "1-70000", "a-b", "7000:7010"])
def test_a_bad_shuffle_port_range_names_the_key(tmp_path, ports):
    path = _write(tmp_path, f'[worker]\nshuffle_ports = "{ports}"\n')
    with pytest.raises(ConfigError, match=r"\[worker\] shuffle_ports must look like"):
        load_config(path)


def test_shuffle_service_binds_any_free_port_or_a_range(tmp_path):
    assert load_config(None).shuffle_bind == "tcp://127.0.0.1:*"
    config = load_config(_write(tmp_path, '[worker]\nshuffle_ports = "7000-7099"\n'))
    assert config.shuffle_bind == "tcp://127.0.0.1:7000-7099"


def test_an_environment_variable_that_is_almost_a_settings_is_refused_naming_it():
    """ZMR_WORKER_SLOT=3 would be ignored, and the worker run with its default slots; a
    typo in the config file is refused, so is this one. zmr's other variables and ones
    nowhere near a setting's name are left alone."""
    with pytest.raises(ConfigError, match="ZMR_WORKER_SLOT is not a zmr setting: did you "
                                          "mean ZMR_WORKER_SLOTS"):
        load_config(None, {"ZMR_WORKER_SLOT": "3"})
    config = load_config(None, {"ZMR_WORKER_SLOTS": "3", "ZMR_CONFIG": "x.toml",
                                "ZMR_RUN_DIR": "/tmp/run", "ZMR_TEST_GATE": "g",
                                "ZMR_PURE_PYTHON": "1"})
    assert config.worker_slots == 3
