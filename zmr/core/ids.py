"""Names of tasks and attempts, with one text form each and one parser.

A task is ``(job id, kind, index)`` (kind ``map`` or ``reduce``), an attempt a task plus its
attempt number. On the wire they are short JSON lists (NamedTuples, see
:mod:`zmr.core.jsonable`); in logs and error messages they are
``job-0003/map/17/2``. Nothing else splits or joins these strings.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

MAP, REDUCE = "map", "reduce"
KINDS = (MAP, REDUCE)
#: A literal, so decoding an id refuses any other kind (see :mod:`zmr.core.jsonable`).
Kind = Literal["map", "reduce"]


class TaskId(NamedTuple):
    job_id: str
    kind: Kind
    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose: task.index reads well

    def __str__(self) -> str:
        return f"{self.job_id}/{self.kind}/{self.index}"

    @property
    def label(self) -> str:
        """How logs and messages name it: ``map-00017``."""
        return f"{self.kind}-{self.index:05d}"

    @classmethod
    def parse(cls, text: str) -> TaskId:
        job_id, kind, index = _parts(_TASK, text, "job/kind/index")
        return cls(job_id, kind, int(index))  # type: ignore[arg-type]


class AttemptId(NamedTuple):
    job_id: str
    kind: Kind
    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose: task.index reads well
    attempt: int

    def __str__(self) -> str:
        return f"{self.job_id}/{self.kind}/{self.index}/{self.attempt}"

    @property
    def task(self) -> TaskId:
        return TaskId(self.job_id, self.kind, self.index)

    @property
    def label(self) -> str:
        """How logs and messages name it: ``map-00017 attempt 2``."""
        return f"{self.kind}-{self.index:05d} attempt {self.attempt}"

    @classmethod
    def parse(cls, text: str) -> AttemptId:
        job_id, kind, index, attempt = _parts(_ATTEMPT, text, "job/kind/index/attempt")
        return cls(job_id, kind, int(index), int(attempt))  # type: ignore[arg-type]


# ASCII digits only: str.isdigit and \d take "²" too, which int() refuses
_TASK = re.compile(r"([^/]+)/(map|reduce)/([0-9]+)")
_ATTEMPT = re.compile(r"([^/]+)/(map|reduce)/([0-9]+)/([0-9]+)")


def _parts(form: re.Pattern[str], text: str, name: str) -> tuple[str, ...]:
    found = form.fullmatch(text)
    if found is None:
        raise ValueError(f"not a {name} id: {text[:80]!r}")
    return found.groups()
