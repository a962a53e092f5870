"""Skipped records, kept: what ``--skip-bad-records`` dropped, with the mapper's error.

A map attempt's :class:`~zmr.job.runtime.RecordSkipper` adds each record it skips here; the
entries travel in the attempt's manifest (typed JSON, never pickled) to whoever commits the
job, which writes them under ``<output>/_quarantine/`` before ``_SUCCESS`` (see
:mod:`zmr.storage.quarantine`). Hadoop's skip mode only counts such records and leaves their
offsets in task logs; here they are a dead-letter file beside the output, one JSON object per
line, that ``zmr replay`` reads back.

An attempt may skip up to ``--skip-bad-records`` records, each of any size: the record's
text and the traceback are capped, and once an attempt's entries pass ``BUDGET_BYTES`` the
rest keep only file, offset and error (``omitted``), so a manifest stays a small message.
"""

from __future__ import annotations

import base64
import traceback
from typing import Any

from zmr.core.specs import QuarantinedRecord

#: Bytes of record text and traceback one attempt's entries may hold in all.
BUDGET_BYTES = 4 << 20
#: Longest record text and traceback kept per entry (a longer one is cut, and says so).
RECORD_MAX = 64 << 10
TRACEBACK_MAX = 16 << 10
CUT_MARK = "\n[... cut: see the input file at this offset]"


class Quarantine:
    """The skipped records of one map attempt, in the order they were met."""

    def __init__(self) -> None:
        self.entries: list[QuarantinedRecord] = []
        self.held = 0                   # bytes of record text and tracebacks kept

    def add(self, key: tuple[str, Any], record: Any, exc: BaseException,
            position: str) -> None:
        path, where = key
        offset = where if position == "byte" and type(where) is int else None
        described = f"{path} at {position} {where!r}"[:1000]
        error = f"{type(exc).__name__}: {exc}"[:TRACEBACK_MAX]
        if self.held >= BUDGET_BYTES:
            self.entries.append(QuarantinedRecord(path, offset, described, error,
                                                  omitted=True))
            return
        text, encoding = record_text(record)
        tb = _cut("".join(traceback.format_exception(type(exc), exc, _users(exc))),
                  TRACEBACK_MAX)
        text = _cut(text, RECORD_MAX)
        self.held += len(text) + len(tb)
        self.entries.append(QuarantinedRecord(path, offset, described, error, tb, text,
                                              encoding))


def record_text(record: Any) -> tuple[str, str]:
    """A record as JSON-safe text and how to read it back: a line as itself, bytes
    (``fixed:N`` records, undecodable lines) in base64, anything else by its repr."""
    if type(record) is str:
        return record, "text"
    if isinstance(record, (bytes, bytearray)):
        return base64.b64encode(bytes(record)).decode("ascii"), "base64"
    return repr(record), "repr"


def _users(exc: BaseException) -> Any:
    """The traceback from the user's mapper on: the skipper's own frame is left out."""
    tb = exc.__traceback__
    return tb.tb_next if tb is not None and tb.tb_next is not None else tb


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + CUT_MARK
