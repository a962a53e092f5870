"""Job parameters: values given at submit (``--param NAME=VALUE``, ``params={...}``) that job
code reads with :func:`param`, wherever it runs (Hadoop's ``-D``, mrjob's passthrough options).

A job module (or a ``Step``) may declare ``PARAMS = {"NAME": default}``; then a parameter it
does not declare, or one declared :data:`REQUIRED` and not given, is an error at submit
naming the parameter, and a value given as text (every flag is text) is converted to the
type of its default (``PARAMS = {"n": 10}`` and ``--param n=20`` gives ``20``). A job that
declares nothing takes any parameter, as text. The resolved values travel in the job's plan
and in every task spec, so a task on any worker sees exactly what was submitted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from zmr.core.errors import ConfigError


class _Required:
    """``PARAMS = {"pattern": zmr.REQUIRED}``: a parameter without a default, which every
    submission must give (Python's ``...`` says the same: ``{"pattern": ...}``)."""

    def __repr__(self) -> str:
        return "zmr.REQUIRED"

    def __reduce__(self) -> str:
        return "REQUIRED"        # one object, also after a job travels by pickle


REQUIRED = _Required()


def _required(default: Any) -> bool:
    return default is REQUIRED or default is Ellipsis

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_current: dict[str, Any] = {}


def param(name: str, default: Any = None, type: Any = None) -> Any:  # noqa: A002 - mrjob/argparse's name
    """The job parameter ``name`` as ``type`` (``int``, ``float``, ``bool``, ``str``,
    ``list``, ``dict`` or any one-argument callable), or ``default`` if the job has no such
    parameter (returned as it is). Without ``type``, the value as submitted: typed as it
    was passed from Python (``params={"flag": False}``) or converted to its ``PARAMS``
    default's type, text from a flag. Readable from hooks and from module-level code
    alike."""
    if name not in _current:
        return default
    value = _current[name]
    if value is None or type is None:
        return value             # (a declared default of None: "not set", in any type)
    try:
        return convert(value, type)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"parameter {name} = {value!r} is not a valid "
                          f"{getattr(type, '__name__', type)}: {exc}") from None


def convert(value: Any, kind: Any) -> Any:
    """``value`` as ``kind``: text is read the way a flag means it (``"false"`` is False,
    ``"[1, 2]"`` a list); a value already of that kind is kept."""
    if kind is bool:
        return _boolean(value)
    if isinstance(kind, type) and isinstance(value, kind) and not (
            isinstance(value, bool) and kind is not bool):
        return value
    if kind in (list, dict) and isinstance(value, str):
        parsed = json.loads(value)
        if not isinstance(parsed, kind):
            raise ValueError(f"JSON {kind.__name__} expected")
        return parsed
    return kind(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"use one of {', '.join(_TRUE + _FALSE)}")


@contextlib.contextmanager
def using(params: Mapping[str, Any]) -> Iterator[None]:
    """Make ``params`` what :func:`param` reads while job code runs (a task, an import)."""
    saved = dict(_current)
    _current.clear()
    _current.update(params)
    try:
        yield
    finally:
        _current.clear()
        _current.update(saved)


def set_current(params: Mapping[str, Any]) -> None:
    """For a worker's executor process: the parameters of the job it runs from now on."""
    _current.clear()
    _current.update(params)


def resolve(declared: Mapping[str, Any] | None, given: Mapping[str, Any] | None,
            where: str) -> dict[str, Any]:
    """The parameters a job runs with: ``given`` (flags, keyword arguments) checked against
    and completed from ``declared`` (its ``PARAMS``; None: undeclared, anything goes).
    ``where`` (the job file) starts every error."""
    given = dict(given or {})
    if declared is None:
        return _jsonable(given, where)
    if not isinstance(declared, Mapping):
        raise ConfigError(f"{where}: PARAMS must be a dict of parameter names to defaults "
                          f"(zmr.REQUIRED: none), got {declared!r:.100}")
    unknown = [name for name in given if name not in declared]
    if unknown:
        raise ConfigError(f"{where}: unknown parameter {unknown[0]!r} (--param "
                          f"{unknown[0]}=...): PARAMS declares "
                          f"{', '.join(map(repr, declared)) or 'none'}")
    values = {}
    for name, default in declared.items():
        if name in given:
            values[name] = _as_declared(name, given[name], default, where)
        elif _required(default):
            raise ConfigError(f"{where}: parameter {name!r} is required (PARAMS declares it "
                              f"without a default): give --param {name}=VALUE")
        else:
            values[name] = default
    return _jsonable(values, where)


def _as_declared(name: str, value: Any, default: Any, where: str) -> Any:
    """A text value converted to its default's type, so jobs get numbers as numbers."""
    if not isinstance(value, str) or _required(default) or default is None \
            or isinstance(default, str):
        return value
    try:
        return convert(value, type(default))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: parameter {name} = {value!r} is not a valid "
                          f"{type(default).__name__} (its default is {default!r}): "
                          f"{exc}") from None


def _jsonable(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Parameters travel as JSON (plans, task specs, the journal): refuse anything else
    here, naming it, instead of failing somewhere on the wire."""
    for name, value in values.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: parameter {name} = {value!r:.100} cannot travel "
                              "with the job (use str, int, float, bool, None, or lists "
                              "and dicts of them)") from None
    return values


def declared_union(*declarations: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parameters a multi-step job declares: those of its module and of every step
    (None if none declares any)."""
    found = [d for d in declarations if d is not None]
    if not found:
        return None
    union: dict[str, Any] = {}
    for declared in found:
        for name, default in declared.items():
            union.setdefault(name, default)
    return union
