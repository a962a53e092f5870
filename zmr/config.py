"""Cluster configuration files: ``conf/cluster.toml`` read with tomllib into a
:class:`ClusterConfig` (one frozen dataclass per section, defined in
:mod:`zmr.settings.cluster`), written for embedded clusters, and the two settings that need
the transport's keys: CURVE identities and which addresses may be used without them.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from zmr.core.errors import ConfigError
from zmr.settings.cluster import CLUSTER_SETTINGS, ClusterConfig
from zmr.settings.setting import Setting
from zmr.transport.security import Curve, check_exposure, load_curve

__all__ = ["ClusterConfig", "check_hosts", "config_sources", "curve_for", "env_overrides",
           "load_config", "toml_value", "without_overrides", "write_config"]


#: Names a setting's environment override: ``ZMR_WORKER_SLOTS`` for ``[worker] slots``.
ENV_PREFIX = "ZMR_"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def env_name(setting: Setting) -> str:
    return env_var(str(setting.section), setting.name)


def env_var(section: str, key: str) -> str:
    """The variable that overrides ``[section] key``."""
    return f"{ENV_PREFIX}{section}_{key}".upper()


def without_overrides(environ: Mapping[str, str], keys: Iterable[tuple[str, str]]
                      ) -> dict[str, str]:
    """``environ`` less the ``ZMR_<SECTION>_<KEY>`` variables of ``keys``: what a process
    gets whose config must decide those keys (an embedded cluster's own ports)."""
    dropped = {env_var(section, key) for section, key in keys}
    return {name: value for name, value in environ.items() if name not in dropped}


def load_config(path: str | None, environ: Mapping[str, str] | None = None) -> ClusterConfig:
    """Read and validate a config file (None: built-in defaults), then apply the
    environment's ``ZMR_<SECTION>_<KEY>`` overrides (as Spark's and Dask's settings do):
    file < environment < command line."""
    config = ClusterConfig() if path is None else ClusterConfig.from_tables(_read(path), path)
    return config.with_values(env_overrides(os.environ if environ is None else environ))


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


#: ``ZMR_`` variables that are not settings' overrides (zmr's own; tests' are ZMR_TEST_*).
OTHER_VARIABLES = frozenset({"ZMR_CONFIG", "ZMR_RUN_DIR", "ZMR_PURE_PYTHON", "ZMR_SLURM_DIR",
                             "ZMR_WORKER_PID"})


def env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, str], Any]:
    """``{(section, key): value}`` for every cluster setting the environment sets, each
    value read as its setting's type; a bad one is an error naming the variable, and so
    is a variable that is almost a setting's (``ZMR_WORKER_SLOT``), which would
    otherwise be ignored as a typo in the config file is not."""
    _check_variable_names(environ)
    found = {}
    for setting in CLUSTER_SETTINGS:
        name = env_name(setting)
        if name in environ:
            value = _typed(environ[name], setting, name)
            found[str(setting.section), setting.name] = setting.parse(value, name)
    return found


def _check_variable_names(environ: Mapping[str, str]) -> None:
    names = {env_name(setting) for setting in CLUSTER_SETTINGS}
    for name in environ:
        if not name.startswith(ENV_PREFIX) or name in names or name in OTHER_VARIABLES:
            continue
        meant = difflib.get_close_matches(name, names, n=1, cutoff=0.85)
        if meant:
            raise ConfigError(f"environment variable {name} is not a zmr setting: did you "
                              f"mean {meant[0]}?")


def _typed(text: str, setting: Setting, name: str) -> Any:
    try:
        if bool in setting.types:
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError(text)
            return text.lower() in _TRUE
        if int in setting.types:
            return int(text)
        return float(text) if float in setting.types else text
    except ValueError:
        raise ConfigError(f"{name} must be {setting.type_names}, got {text!r}") from None


def config_sources(path: str | None,
                   environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where each cluster setting's value comes from: ``default``, the file, or the
    environment variable (``zmr config show``)."""
    environ = os.environ if environ is None else environ
    in_file = {(s, k) for s, table in _read(path).items() for k in table} if path else set()
    sources = {}
    for setting in CLUSTER_SETTINGS:
        variable = env_name(setting)
        if variable is not None and variable in environ:
            sources[setting.key] = variable
        elif path and (setting.section, setting.name) in in_file:
            sources[setting.key] = path
        else:
            sources[setting.key] = "default"
    return sources


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
        by_section.setdefault(section, []).append(f"{key} = {toml_value(value)}")
    with open(path, "w", encoding="utf-8") as f:
        for section, lines in by_section.items():
            f.write(f"[{section}]\n" + "\n".join(lines) + "\n\n")


def toml_value(value: Any) -> str:
    """``value`` as TOML writes it (strings quoted and escaped, booleans lower case)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else repr(value)
