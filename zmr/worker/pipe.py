"""What a worker and its executors say to each other, in one place: the settings every
executor runs with (:class:`ExecutorConfig`), what goes down an executor's pipe
(:class:`RunAttempt`, :class:`StopExecutor`), what comes back (:class:`Outcome`), and the
layout of the progress memory they share.

Both ends of the pipe are this worker's own processes, so these travel pickled by
``multiprocessing`` (the spec is the ``MapTaskSpec``/``ReduceTaskSpec`` object itself); the
wire to the coordinator never carries them (``zmr/protocol/messages.py`` is that contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest, MapTaskSpec, ReduceResult, ReduceTaskSpec
from zmr.settings.cluster import WorkerSettings

if TYPE_CHECKING:
    from zmr.transport.security import Curve

#: The slots of the progress array an executor shares with its worker: records processed,
#: bytes read and to read; and, for a cut of the split's remainder (``progress.claim``),
#: the split-relative byte before which every line mapped so far starts, and the end
#: agreed with the worker (-1: none). The last two change only under the executor's lock.
RECORDS, READ, TOTAL, CLAIMED, END = 0, 1, 2, 3, 4
#: What the progress array holds while no attempt runs (and so no lock is held).
IDLE_PROGRESS = (0, 0, 0, 0, -1)


@dataclass(frozen=True)
class ExecutorConfig:
    """Everything an executor runs with, built once by its worker and handed whole to
    every executor (and on to its fetcher): the ``[worker]`` settings section as loaded, so
    a new setting an attempt needs is one field of ``WorkerSettings`` and its use site."""

    worker: WorkerSettings
    #: where executors' output lands first (the worker's data directory)
    scratch_dir: str
    #: this worker's shuffle service: reduces read the segments it serves in place
    own_endpoint: str = ""
    #: this worker's keys, for fetching map outputs from CURVE-protected workers
    curve: Curve | None = None


@dataclass(frozen=True)
class RunAttempt:
    """Run one attempt. ``code`` is the job's archive, sent only when the executor has not
    loaded this job (``None``: run it with the job loaded already)."""

    spec: MapTaskSpec | ReduceTaskSpec
    job_id: str
    code: bytes | None
    log_path: str


@dataclass(frozen=True)
class StopExecutor:
    """Exit once idle (the executor is retired: its job ended, or it ran its share)."""


#: Everything a worker sends down an executor's pipe.
ExecutorRequest = RunAttempt | StopExecutor


@dataclass
class Outcome:
    """How an attempt ended: ``result`` on success, else ``error``/``traceback``."""

    ok: bool
    result: MapManifest | ReduceResult | None = None
    error: str = ""
    traceback: str = ""
    lost_map: int = -1
    disk_error: bool = False     # the worker's own disk failed, not the user's code
    fatal: bool = False          # the user's code raised zmr.FatalError: no retry
    input_error: bool = False    # a BadInputError: no retry, and ``error`` says it all


#: Why a cut was refused ("": it was not) and whether no later cut can be accepted either.
Refusal = tuple[str, bool]


class TaskExecutor(Protocol):
    """What a worker's slots (``slots.py``) need of an executor: ``executor.Executor`` (a
    task process) or ``inprocess.InProcessExecutor`` (python-rq's ``SimpleWorker``: the
    attempt runs in the worker's own process, for tests)."""

    job_id: str | None            # the job whose code it has loaded
    attempt: AttemptId | None     # the attempt it runs
    started_s: float
    tasks_run: int
    memory_limit: int             # bytes of RSS for the running attempt; 0 = none
    progress: Any                 # indexed by RECORDS, READ, TOTAL, CLAIMED, END

    def __init__(self, config: ExecutorConfig) -> None: ...

    @staticmethod
    def warm_up() -> None:
        """Get ready to start executors without stalling the worker's loop."""

    @property
    def busy(self) -> bool: ...

    def fileno(self) -> int:
        """Readable once the running attempt's outcome is there (the worker polls it)."""

    def alive(self) -> bool: ...

    def start(self, attempt: AttemptId, spec: MapTaskSpec | ReduceTaskSpec, code: bytes,
              log_path: str) -> bool:
        """Hand over an attempt; False if the executor cannot take it (take another)."""

    def shrink(self, attempt: AttemptId, keep: int) -> Refusal: ...

    def collect(self) -> Outcome | None:
        """The running attempt's outcome once there is one, else None; never blocks."""

    def check_memory(self) -> bool: ...

    def holds_too_much(self) -> bool: ...

    def kill(self) -> None: ...

    def retire(self) -> None: ...

    def forget_scratch(self) -> None: ...
