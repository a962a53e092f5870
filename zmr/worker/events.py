"""What goes into the worker's state machine (``state.py``) and what comes out.

Events are what happened: a message from the coordinator (:class:`Received`, the wire
message itself inside: the wire types double as events), time passing (:class:`Tick`),
or something the shell (``agent.py``) saw (the disk failed, the shuffle service stopped, a
signal). Actions are what the shell must do: open a connection and register, send or
publish something, start, kill or cut an attempt, clean up after a job, probe the disk.
All are small frozen dataclasses; none carries a clock reading (``handle`` gets ``now``).
"""

from __future__ import annotations

from dataclasses import dataclass

from zmr.core.ids import AttemptId
from zmr.protocol.messages import AssignTask, Message, ShrinkAttempt

# -- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """The worker's loop starts: register with the coordinator for the first time."""


@dataclass(frozen=True)
class Received:
    """A message from the coordinator, on the control connection or its heartbeat PUB
    (``blobs``: the frames after it, e.g. a job's code with its first task)."""

    message: Message
    blobs: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Tick:
    """Time passed (once per turn of the loop): beats, retries and pauses come due."""


@dataclass(frozen=True)
class DiskFailed:
    """An attempt failed because this worker's own storage did (``reason`` names it)."""

    reason: str


@dataclass(frozen=True)
class DiskProbed:
    """The answer to :class:`ProbeDisk`: whether the data directory takes writes again."""

    writable: bool


@dataclass(frozen=True)
class ShuffleStopped:
    """The shuffle service's thread ended: this worker can no longer serve map outputs."""


@dataclass(frozen=True)
class StopRequested:
    """Stop (SIGTERM, SIGINT, or whoever runs the worker in-process)."""

    reason: str


Event = Started | Received | Tick | DiskFailed | DiskProbed | ShuffleStopped | StopRequested

# -- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connect:
    """Open a fresh control connection (the old one closed) and send ``Register`` on it."""


@dataclass(frozen=True)
class AskForWork:
    """Send ``RequestTask`` with the free slots (none while unhealthy, see
    ``WorkerState.takes_work``)."""


@dataclass(frozen=True)
class PublishBeat:
    """Publish this worker's heartbeat number ``seq`` (with its attempts' progress)."""

    seq: int


@dataclass(frozen=True)
class StartAttempt:
    """Queue an assigned attempt (``code``: the job's archive, if it came with it)."""

    assignment: AssignTask
    code: bytes | None


@dataclass(frozen=True)
class KillAttempt:
    """Stop an attempt, queued or running, and ask for work if one was stopped."""

    attempt: AttemptId


@dataclass(frozen=True)
class CutAttempt:
    """Ask a running map to stop early (rebalancing) and send the ``ShrinkAnswer``."""

    request: ShrinkAttempt


@dataclass(frozen=True)
class EndJob:
    """The job is over (or the coordinator forgot it): kill what runs of it, stop
    serving its outputs and delete its data (logs stay)."""

    job_id: str


@dataclass(frozen=True)
class PruneLogs:
    """Apply ``[retention]`` to the attempt logs."""


@dataclass(frozen=True)
class ProbeDisk:
    """Check that the data directory takes writes; answer with :class:`DiskProbed`."""


Action = (Connect | AskForWork | PublishBeat | StartAttempt | KillAttempt | CutAttempt
          | EndJob | PruneLogs | ProbeDisk)
