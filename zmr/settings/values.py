"""Value rules of settings beyond their type: sizes, counts, choices, port ranges.

A rule is ``check(value, label) -> value``: it returns the value to use (a size in bytes for
``"64MB"``) or raises :class:`ConfigError` naming ``label``, which says how the user gave the
value (``--split-size``, ``split_size``, ``jobs/wc.py: setting SPLIT_SIZE``,
``conf/cluster.toml: [worker] shuffle_ports``). Rules are idempotent: a value they returned
passes them again unchanged, so a setting may be checked where it is given and again where
it is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from zmr.core.errors import ConfigError

Check = Callable[[Any, str], Any]

# a number, then optionally k/m/g/t with an optional "b", "i" or "ib" (64M, 64MB, 64Mi,
# 64MiB), or a bare "b"
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b|i)?|b)?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str | int, setting: str = "size") -> int:
    """``"64MB"``, ``"8MiB"``, ``"512k"``, ``"100"`` or ``100`` -> bytes.

    K/M/G/T, KB/MB/GB/TB and KiB/MiB/GiB/TiB are all powers of 1024, as in Hadoop's
    ``dfs.blocksize``. Garbage, zero and negative sizes raise ``ConfigError`` naming
    ``setting`` and the text.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.fullmatch(str(text).strip())
        if match is None:
            raise ConfigError(f"{setting}: cannot read {text!r} as a size "
                              "(expected e.g. 64MB, 8MiB, 512k or a byte count)")
        # Fraction, not float: "12345678901234567890" must not lose digits
        value = int(Fraction(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
    if value <= 0:
        raise ConfigError(f"{setting}: {text!r} must be a positive size")
    return value


def size(value: Any, label: str) -> int:
    """A size such as ``"64MB"`` or a byte count, as bytes (see :func:`parse_size`)."""
    return parse_size(value, label)


def at_least(low: int) -> Check:
    """An integer no smaller than ``low``."""
    def check(value: Any, label: str) -> int:
        if type(value) is not int or value < low:
            raise ConfigError(f"{label} must be an integer >= {low}, got {value!r}")
        return value
    return check


def positive(value: Any, label: str) -> float:
    """A number above zero (a duration, a rate)."""
    if value <= 0:
        raise ConfigError(f"{label} must be > 0, got {value!r}")
    return value


def one_of(*names: str) -> Check:
    """One of ``names`` (the error lists them)."""
    def check(value: Any, label: str) -> str:
        if value not in names:
            raise ConfigError(f"{label} must be one of {', '.join(names)}, got {value!r}")
        return str(value)
    return check


def port_range(value: Any, label: str) -> str:
    """``"7000-7099"`` (1 <= low <= high <= 65535), or "" for any free port."""
    low, dash, high = str(value).partition("-")
    if value and not (dash and low.isdigit() and high.isdigit()
                      and 1 <= int(low) <= int(high) <= 65535):
        raise ConfigError(f"{label} must look like \"7000-7099\" "
                          f"(1 <= low <= high <= 65535), got {value!r}")
    return str(value)


_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def params(value: Any, label: str) -> dict[str, Any]:
    """Job parameters: ``--param NAME=VALUE`` flags (a list of such strings; a later one
    for the same name wins, like Hadoop's ``-D``), or a dict of name -> value (a Python
    API ``params={...}``, or the ``PARAMS`` declaration of a job module or ``Step``)."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = [_param_flag(text, label) for text in value]
    else:
        raise ConfigError(f"{label} must be a dict of parameter names to values, "
                          f"got {type(value).__name__} {value!r}")
    for name, _ in pairs:
        if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
            raise ConfigError(f"{label}: {name!r} is not a parameter name (letters, digits, "
                              "_ . -, not starting with a digit)")
    return dict(pairs)


def _param_flag(text: Any, label: str) -> tuple[str, str]:
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(f"{label} {text!r}: expected NAME=VALUE")
    name, _, value = text.partition("=")
    return name.strip(), value


def file_list(value: Any, label: str) -> list[str]:
    """Side files: ``--file PATH`` (repeatable) or ``FILES = [...]``, each a path with an
    optional ``#NAME`` (mrjob's rename: the name tasks see it under)."""
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{label} must be a list of file paths (PATH or PATH#NAME), "
                          f"got {value!r:.200}")
    return list(value)
