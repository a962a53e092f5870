"""Names of tasks and attempts, with one text form each and one parser.

A task is ``(job id, kind, index)`` (kind ``map`` or ``reduce``), an attempt a task plus its
attempt number. On the wire they are short JSON lists (NamedTuples, see
:mod:`zmr.core.jsonable`); in logs and error messages they are
``job-0003/map/17/2``. Nothing else splits or joins these strings.
"""

from __future__ import annotations

from typing import NamedTuple

MAP, REDUCE = "map", "reduce"
KINDS = (MAP, REDUCE)


class TaskId(NamedTuple):
    job_id: str
    kind: str
    index: int

    def __str__(self) -> str:
        return f"{self.job_id}/{self.kind}/{self.index}"

    @property
    def label(self) -> str:
        """How logs and messages name it: ``map-00017``."""
        return f"{self.kind}-{self.index:05d}"

    @classmethod
    def parse(cls, text: str) -> TaskId:
        job_id, kind, index = _parts(text, 3, "job/kind/index")
        return cls(job_id, kind, _number(index, text))


class AttemptId(NamedTuple):
    job_id: str
    kind: str
    index: int
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
        job_id, kind, index, attempt = _parts(text, 4, "job/kind/index/attempt")
        return cls(job_id, kind, _number(index, text), _number(attempt, text))


def _parts(text: str, count: int, form: str) -> list[str]:
    parts = text.split("/")
    if len(parts) != count or parts[1] not in KINDS or not parts[0]:
        raise ValueError(f"not a {form} id: {text[:80]!r}")
    return parts


def _number(part: str, text: str) -> int:
    if not part.isdigit():
        raise ValueError(f"not a number in id {text[:80]!r}: {part[:20]!r}")
    return int(part)
