"""Cluster configuration files: ``conf/cluster.toml`` read with tomllib into a
:class:`ClusterConfig` (one frozen dataclass per section, defined in
:mod:`zmr.settings.cluster`), written for embedded clusters, and the two settings that need
the transport's keys: CURVE identities and which addresses may be used without them.
"""

from __future__ import annotations

import tomllib
from typing import Any

from zmr.core.errors import ConfigError
from zmr.settings.cluster import ClusterConfig
from zmr.transport.security import Curve, check_exposure, load_curve

__all__ = ["ClusterConfig", "check_hosts", "curve_for", "load_config", "write_config"]


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
    return ClusterConfig.from_tables(raw, path)


def curve_for(config: ClusterConfig, key_name: str) -> Curve | None:
    """This process's CURVE identity (key pair ``key_name``), or None when curve is off."""
    if not config.security.curve:
        return None
    return load_curve(config.security.keys_dir, key_name)


def check_hosts(config: ClusterConfig, hosts: dict[str, str]) -> None:
    """Refuse non-loopback ``hosts`` (setting name -> address) unless curve is on or
    insecure is allowed."""
    check_exposure(hosts, config.security.curve, config.security.allow_insecure, config.path)


def write_config(path: str, values: dict[tuple[str, str], Any]) -> None:
    """Write a config file of ``{(section, key): value}`` (used by the embedded local
    cluster and tests); the values are checked first, so a typo fails here."""
    ClusterConfig(path=path).with_values(values)
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
