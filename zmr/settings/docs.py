"""The settings reference tables, generated from the tables in :mod:`zmr.settings.job` and
:mod:`zmr.settings.cluster`, so the docs cannot drift from the code.

The page marks each generated table with a pair of comments; :func:`rewrite` replaces
what is between them, and a test checks that the page equals its rewrite::

    <!-- generated: job settings (python -m zmr.settings --write docs/reference/settings.md) -->
    | setting | flag | ...
    <!-- end generated: job settings -->
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from zmr.settings.cluster import CLUSTER_SETTINGS
from zmr.settings.job import JOB_SETTINGS, OPTION_SETTINGS
from zmr.settings.setting import Setting

COMMAND = "python -m zmr.settings --write docs/reference/settings.md"


def job_table() -> str:
    """Every job setting: module name, flag, keyword argument (``run_inline``,
    ``Client.submit``), ``Step`` keyword, ``Input`` keyword, default, meaning."""
    rows = [[_code(s.module), _flag(s), _code(s.name if s in OPTION_SETTINGS else None),
             _code(s.step), _code(s.input), s.shown_default(), _meaning(s)]
            for s in JOB_SETTINGS]
    return _table(["setting", "flag", "keyword", "`Step`", "`Input`", "default", "meaning"],
                  rows)


def cluster_table() -> str:
    """Every key of ``conf/cluster.toml``: ``section.key``, default, meaning."""
    rows = [[_code(s.key), _toml_default(s), _meaning(s)] for s in CLUSTER_SETTINGS]
    return _table(["key", "default", "meaning"], rows)


#: Name of each generated block -> what it holds.
TABLES: dict[str, Callable[[], str]] = {"job settings": job_table,
                                        "cluster settings": cluster_table}


def markdown() -> str:
    """Every generated block, markers included."""
    return "\n\n".join(_block(name, make()) for name, make in TABLES.items()) + "\n"


def rewrite(text: str) -> str:
    """``text`` (the page) with every generated block replaced by the current tables; a
    block missing from ``text`` is a ValueError (a renamed marker must not pass silently)."""
    for name, make in TABLES.items():
        head, found, rest = text.partition(_start(name) + "\n")
        if not found or _end(name) not in rest:
            raise ValueError(f"no generated block {name!r} (marker {_start(name)!r})")
        text = head + _block(name, make()) + rest.partition(_end(name))[2]
    return text


def _start(name: str) -> str:
    return f"<!-- generated: {name} ({COMMAND}) -->"


def _end(name: str) -> str:
    return f"<!-- end generated: {name} -->"


def _block(name: str, body: str) -> str:
    return f"{_start(name)}\n{body}\n{_end(name)}"


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _code(text: str | None) -> str:
    return f"`{text}`" if text else ""


def _flag(setting: Setting) -> str:
    if not setting.flag:
        return ""
    return _code(" ".join(filter(None, (setting.flag[0], setting.metavar))))


def _meaning(setting: Setting) -> str:
    text = setting.doc or setting.help
    if setting.choices and not setting.doc:
        text += f": {', '.join(setting.choices)}"
    return text.replace("|", "\\|")


def _toml_default(setting: Setting) -> str:
    """The default as written in TOML (``true``, ``"..."``), unless the table says how."""
    if setting.shown is not None:
        return setting.shown
    value = setting.default
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return _code(value) if value else '""'
    return str(value)
