"""A worker's phases and the only moves between them (the worker's counterpart of
``coordinator/states.py``): the machine in ``state.py`` checks every phase change against
:data:`TRANSITIONS` and keeps a short story of them, shown by the error when a change is
not allowed. Also the settings the machine's clock work needs (:class:`Timing`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from zmr.config import ClusterConfig
from zmr.core.errors import ZmrError


class WorkerPhase(str, Enum):
    """CONNECTING: a ``Register`` is on its way, refused or due again (not registered).
    REGISTERED: answered; asks for tasks and runs them. UNHEALTHY: registered, but its disk
    failed: takes no tasks until a probe passes. STOPPING: final; the loop ends."""

    CONNECTING = "connecting"
    REGISTERED = "registered"
    UNHEALTHY = "unhealthy"
    STOPPING = "stopping"


TRANSITIONS: dict[WorkerPhase, frozenset[WorkerPhase]] = {
    # answered: unhealthy if the disk failed meanwhile (attempts run while connecting)
    WorkerPhase.CONNECTING: frozenset({WorkerPhase.REGISTERED, WorkerPhase.UNHEALTHY,
                                       WorkerPhase.STOPPING}),
    # back to CONNECTING: silence, a restart, RegisterAgain, or an error answer
    WorkerPhase.REGISTERED: frozenset({WorkerPhase.CONNECTING, WorkerPhase.UNHEALTHY,
                                       WorkerPhase.STOPPING}),
    WorkerPhase.UNHEALTHY: frozenset({WorkerPhase.REGISTERED, WorkerPhase.CONNECTING,
                                      WorkerPhase.STOPPING}),
    WorkerPhase.STOPPING: frozenset(),
}


class StoryEntry(NamedTuple):
    """One phase change: which event caused it, from and to which phase, when."""

    event: str
    start: WorkerPhase
    finish: WorkerPhase
    now: float

    def __str__(self) -> str:
        return f"{self.now:.3f} {self.event}: {self.start.value} -> {self.finish.value}"


class InvalidWorkerTransition(ZmrError):
    """A phase change :data:`TRANSITIONS` does not allow; the message shows the story."""

    def __init__(self, event: str, start: WorkerPhase, finish: WorkerPhase,
                 story: Iterable[StoryEntry]) -> None:
        lines = "".join(f"\n  {entry}" for entry in story)
        super().__init__(f"worker {event}: {start.value} -> {finish.value} is not "
                         f"allowed{lines}")


@dataclass(frozen=True)
class Timing:
    """The settings the machine's clock work needs, in seconds."""

    interval_s: float              # [heartbeat] interval_s: beats, and the first backoff
    liveness: int                  # [heartbeat] liveness: missed beats before silence
    backoff_max_s: float           # [worker] reconnect_backoff_max_s
    give_up_after_s: float         # [worker] give_up_after_s (0: never)
    unhealthy_pause_s: float       # [worker] unhealthy_pause_s
    prune_every_s: float           # [retention] every_s

    @classmethod
    def of(cls, config: ClusterConfig) -> Timing:
        return cls(config.heartbeat.interval_s, config.heartbeat.liveness,
                   config.worker.reconnect_backoff_max_s, config.worker.give_up_after_s,
                   config.worker.unhealthy_pause_s, config.retention.every_s)

    @property
    def timeout_s(self) -> float:
        """Silence after which the coordinator counts as gone (and a Register as lost)."""
        return self.interval_s * self.liveness
