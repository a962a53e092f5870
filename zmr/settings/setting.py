"""One setting, described once: what it accepts, its default, and every way to give it.

A :class:`Setting` is declared as a dataclass field with :func:`option` (a job option:
:class:`zmr.settings.job.JobOptions`) or :func:`entry` (a key of a cluster config section:
:mod:`zmr.settings.cluster`), so the field that holds a value and the description that
validates, documents and exposes it are one declaration. :func:`settings_of` reads them
back. Everything else is generated from them: command-line flags, job-module validation,
``zmr.Step`` and ``zmr.Input`` keywords, config parsing and the docs' settings tables.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from zmr.core.errors import ConfigError
from zmr.settings.values import Check

_SPEC = "zmr.setting"      # dataclass field metadata key holding a setting's description


@dataclass(frozen=True)
class Setting:
    """A setting: its name, the types and rule its values obey, its default and help, and
    where it can be given (a flag, a job-module name, a ``Step`` keyword, a config section).
    """

    name: str                       # keyword, JobOptions field or config key
    types: tuple[type, ...]         # Python (TOML) types a value may have
    default: Any
    help: str                       # one line: --help and the docs
    doc: str = ""                   # the docs' longer meaning, when help is not enough
    check: Check | None = None      # rule beyond the type (values.py)
    shown: str | None = None        # the default as the docs show it, if not str(default)
    flag: tuple[str, ...] = ()      # command-line flags of zmr run and zmr submit
    metavar: str | None = None
    choices: tuple[str, ...] | None = None   # what the flag offers
    module: str | None = None       # job-module name, e.g. SPLIT_SIZE
    step: str | None = None         # zmr.Step keyword, e.g. split_size
    input: str | None = None        # zmr.Input keyword, e.g. format (an input's own setting)
    section: str | None = None      # cluster config section, e.g. worker

    @property
    def type_names(self) -> str:
        return " or ".join(t.__name__ for t in self.types)

    @property
    def key(self) -> str:
        """``section.name`` for a cluster setting, the name otherwise."""
        return f"{self.section}.{self.name}" if self.section else self.name

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has one of the types (a bool is no int; an int is a float)."""
        if isinstance(value, bool):
            return bool in self.types
        if isinstance(value, int) and float in self.types:
            return True
        return isinstance(value, self.types)

    def parse(self, value: Any, label: str) -> Any:
        """``value`` checked and as used (``"8MB"`` -> 8388608, ``2`` -> ``2.0`` for a
        float); ``label`` names it in the error, as the user gave it."""
        if not self.accepts(value):
            raise ConfigError(f"{label} must be {self.type_names}, "
                              f"got {type(value).__name__} {value!r}")
        if float in self.types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        return value if self.check is None else self.check(value, label)

    def shown_default(self) -> str:
        return str(self.default) if self.shown is None else self.shown


def option(default: Any, help: str, *, types: tuple[type, ...], **where: Any) -> Any:
    """A job option field: None until given, so a given value can be told from the job
    module's setting and the default (``default`` is kept in the description)."""
    spec = dict(default=default, help=help, types=types, **where)
    return dataclasses.field(default=None, metadata={_SPEC: spec})


def entry(default: Any, help: str, **where: Any) -> Any:
    """A cluster config key field: its type is the field's annotation."""
    return dataclasses.field(default=default, metadata={_SPEC: dict(default=default,
                                                                     help=help, **where)})


def settings_of(cls: type, **common: Any) -> tuple[Setting, ...]:
    """The settings declared as fields of the dataclass ``cls``, in order; ``common`` is
    given to each (e.g. its config section)."""
    hints = typing.get_type_hints(cls)
    found = []
    for field in dataclasses.fields(cls):
        spec = field.metadata.get(_SPEC)
        if spec is not None:
            spec = {"types": (hints[field.name],), **spec, **common}
            found.append(Setting(name=field.name, **spec))
    return tuple(found)
