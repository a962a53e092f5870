"""Cluster configuration: ``conf/cluster.toml`` read with tomllib into a frozen dataclass.

Every setting, its type and default is listed once in ``SETTINGS``; an unknown section or
key, or a value of the wrong type, is a :class:`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from zmr.core.errors import ConfigError
from zmr.transport.security import Curve, check_exposure, load_curve

#: (section, key) -> (type, default, meaning)
SETTINGS: dict[tuple[str, str], tuple[type, Any, str]] = {
    ("coordinator", "host"): (str, "127.0.0.1", "address the coordinator binds and is reached at"),
    ("coordinator", "control_port"): (int, 5570, "ROUTER socket: workers and clients"),
    ("coordinator", "heartbeat_port"): (int, 5571, "PUB socket: coordinator beats, broadcasts"),
    ("coordinator", "report_port"): (int, 5572, "SUB socket: workers' heartbeats"),
    ("coordinator", "state_dir"): (str, ".zmr/coordinator", "coordinator state and logs"),
    ("dashboard", "host"): (str, "127.0.0.1", "address the HTTP dashboard binds (loopback: "
                                              "reach it through an SSH tunnel)"),
    ("dashboard", "port"): (int, 5580, "HTTP dashboard, JSON API and /metrics; -1 = off"),
    ("worker", "data_dir"): (str, ".zmr/workers", "map outputs; one subdirectory per worker"),
    ("worker", "slots"): (int, 0, "concurrent tasks per worker; 0 = number of CPUs"),
    ("worker", "prefetch"): (int, 1, "attempts assigned beyond the slots, queued so a slot "
                                     "never waits for the coordinator between tasks"),
    ("worker", "executor_max_tasks"): (int, 1000, "attempts one task process runs before it "
                                                  "is replaced (guards against leaks in "
                                                  "user code)"),
    ("worker", "shuffle_host"): (str, "127.0.0.1", "address the shuffle service binds"),
    ("worker", "shuffle_ports"): (str, "", "port range such as \"7000-7099\" for the shuffle "
                                  "service (first free one); empty = any free port"),
    ("worker", "advertise"): (str, "", "address other hosts use to reach this worker"),
    ("worker", "coordinator_timeout_s"): (float, 10.0,
                                          "exit after the coordinator is silent this long"),
    ("heartbeat", "interval_s"): (float, 1.0, "seconds between heartbeats"),
    ("heartbeat", "liveness"): (int, 3, "missed beats before a peer is declared dead"),
    ("tasks", "max_attempts"): (int, 4, "attempts per task before the job fails (Hadoop: 4)"),
    ("tasks", "task_timeout_s"): (float, 600.0,
                                  "kill an attempt whose progress stalls this long (Hadoop: 600)"),
    ("tasks", "blacklist_after"): (int, 3, "failed tasks of a job before a worker gets no more"),
    ("tasks", "speculative"): (bool, True, "back up straggling attempts near a phase's end"),
    ("tasks", "speculative_slow_factor"): (float, 1.5,
                                           "how many median task times make a straggler"),
    ("tasks", "speculative_min_runtime_s"): (float, 5.0, "never back up a younger attempt"),
    ("security", "curve"): (bool, False, "CurveZMQ on every socket: encrypted, and only "
                                         "authorized keys may connect"),
    ("security", "keys_dir"): (str, "conf/keys", "key pairs and authorized/ (zmr keygen)"),
    ("security", "worker_key"): (str, "worker", "key pair workers on this host use"),
    ("security", "client_key"): (str, "client", "key pair clients on this host use"),
    ("security", "allow_insecure"): (bool, False, "allow non-loopback addresses without "
                                                  "curve (a warning is logged)"),
}


@dataclass(frozen=True)
class ClusterConfig:
    """The settings in force, with defaults filled in."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    path: str = "<defaults>"

    def __getitem__(self, key: tuple[str, str]) -> Any:
        return self.values.get(key, SETTINGS[key][1])

    def with_values(self, values: dict[tuple[str, str], Any]) -> ClusterConfig:
        """This config with some settings replaced (command-line overrides)."""
        for (section, key), value in values.items():
            _typed(self.path, section, key, value)
        return ClusterConfig({**self.values, **values}, self.path)

    def endpoint(self, port_key: str) -> str:
        return f"tcp://{self['coordinator', 'host']}:{self['coordinator', port_key]}"

    @property
    def worker_slots(self) -> int:
        return self["worker", "slots"] or os.cpu_count() or 1

    def curve(self, key_name: str) -> Curve | None:
        """This process's CURVE identity (key pair ``key_name``), or None when curve is off."""
        if not self["security", "curve"]:
            return None
        return load_curve(self["security", "keys_dir"], key_name)

    def check_exposure(self, hosts: dict[str, str]) -> None:
        """Refuse non-loopback ``hosts`` (setting name -> address) unless curve is on or
        insecure is allowed."""
        check_exposure(hosts, self["security", "curve"], self["security", "allow_insecure"],
                       self.path)

    @property
    def shuffle_bind(self) -> str:
        """Where a worker's shuffle service binds: a port range, or any free port."""
        return f"tcp://{self['worker', 'shuffle_host']}:{self['worker', 'shuffle_ports'] or '*'}"


def load_config(path: str | None) -> ClusterConfig:
    """Read and validate a config file (None: built-in defaults)."""
    if path is None:
        return ClusterConfig()
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return ClusterConfig(_validate(raw, path), path)


def _validate(raw: dict[str, Any], path: str) -> dict[tuple[str, str], Any]:
    values = {}
    sections = {s for s, _ in SETTINGS}
    for section, table in raw.items():
        if section not in sections or not isinstance(table, dict):
            raise ConfigError(f"{path}: unknown section [{section}]")
        for key, value in table.items():
            if (section, key) not in SETTINGS:
                raise ConfigError(f"{path}: unknown key {key!r} in [{section}]")
            values[section, key] = _typed(path, section, key, value)
    return values


def _typed(path: str, section: str, key: str, value: Any) -> Any:
    expected = SETTINGS[section, key][0]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: [{section}] {key} must be {expected.__name__}, "
                          f"got {type(value).__name__} {value!r}")
    if (section, key) == ("worker", "shuffle_ports") and value and not _port_range(str(value)):
        raise ConfigError(f"{path}: [worker] shuffle_ports must look like \"7000-7099\" "
                          f"(1 <= low <= high <= 65535), got {value!r}")
    return value


def _port_range(text: str) -> bool:
    low, dash, high = text.partition("-")
    if not (dash and low.isdigit() and high.isdigit()):
        return False
    return 1 <= int(low) <= int(high) <= 65535


def write_config(path: str, values: dict[tuple[str, str], Any]) -> None:
    """Write a config file (used by the embedded local cluster)."""
    by_section: dict[str, list[str]] = {}
    for (section, key), value in values.items():
        by_section.setdefault(section, []).append(f"{key} = {_toml(value)}")
    with open(path, "w", encoding="utf-8") as f:
        for section, lines in by_section.items():
            f.write(f"[{section}]\n" + "\n".join(lines) + "\n\n")


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else repr(value)
