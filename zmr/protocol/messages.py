"""Every message zmr sends, in one place: frozen dataclasses with a ``KIND`` and a docstring.

Fields are JSON types or the core's value types (``AttemptId``, task specs, results, the
job plan, ``StepPlan``), which travel as their JSON shapes (:mod:`zmr.core.jsonable`);
``wire.py`` decodes each field by its annotation, nested fields included, so a message
that reaches a handler is fully typed and well-formed. Bulk bytes (job code, shuffle data)
never go in fields: they travel as extra frames (``blobs``). Peers: C = coordinator,
W = worker, K = client, S = shuffle service, R = reduce task fetching data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from zmr.core.ids import MAP, AttemptId
from zmr.core.jsonable import ShapeError
from zmr.core.plan import JobPlan, StepPlan
from zmr.core.specs import MapManifest, MapTaskSpec, ReduceResult, ReduceTaskSpec


@dataclass(frozen=True, slots=True)
class Message:
    """Base class; ``KIND`` is the frame that names the message on the wire;
    ``MAX_BLOBS`` how many blob frames it may carry (the wire refuses more: only the kinds
    that ship job code or shuffle data carry any)."""

    KIND: ClassVar[bytes] = b""
    MAX_BLOBS: ClassVar[int] = 0


class HeldOutput(NamedTuple):
    """A finished map output a worker still has on disk (``[job_id, manifest]``)."""

    job_id: str
    manifest: MapManifest


class AttemptProgress(NamedTuple):
    """How far a running attempt is: records processed, bytes of its input read of
    ``total`` (all 0 while it is queued)."""

    attempt: AttemptId
    records: int
    read: int
    total: int


def _kind_problem(attempt: AttemptId, value: Any, as_map: type, as_reduce: type) -> str:
    """Why ``value`` cannot belong to ``attempt`` ("" if it can): the shapes of a map's and
    a reduce's spec (or result) are told apart by their fields, but only the attempt says
    which one it must be. Checked when the message is made, so no AssignTask or TaskDone,
    decoded or built, pairs an attempt with the other kind's value."""
    expected = as_map if attempt.kind == MAP else as_reduce
    if isinstance(value, expected):
        return ""
    return (f"expected {expected.__name__} for {attempt.kind} attempt {attempt}, "
            f"got {type(value).__name__}")


# --------------------------------------------------------------------------- worker <-> C

@dataclass(frozen=True, slots=True)
class Register(Message):
    """W->C: a worker (re)joins: who it is, where its shuffle service listens, capacity.
    ``holds`` lists the finished map outputs it still has on disk, so they need not be
    computed again; ``running`` the attempts it is still running (after a coordinator
    restart they simply carry on); ``jobs`` every job it has data on disk for (the reply
    says which are over); ``shuffle_key`` the CURVE public key (z85) reducers must expect
    from its shuffle service ("" when curve is off); ``token`` a random value the worker
    process draws at start, which tells the same process registering again (it keeps its
    registration) from another process claiming its id (refused while this one is live)."""

    KIND: ClassVar[bytes] = b"REGISTER"
    worker_id: str
    host: str
    shuffle_endpoint: str
    slots: int
    cpus: int
    memory_mb: int
    holds: list[HeldOutput] = field(default_factory=list)
    running: list[AttemptId] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    shuffle_key: str = ""
    prefetch: int = 0          # attempts it queues beyond its slots (see RequestTask)
    token: str = ""


@dataclass(frozen=True, slots=True)
class Registered(Message):
    """C->W: registration accepted. ``forget``: jobs of the worker's ``jobs`` that are over
    (or unknown), whose data it may delete."""

    KIND: ClassVar[bytes] = b"REGISTERED"
    worker_id: str
    forget: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RegisterAgain(Message):
    """C->W on PUB: worker ``worker_id`` must register again on a fresh connection: the
    coordinator hears the beats of a worker it does not know (declared dead while frozen or
    cut off, it may have nothing else to send), or another connection claimed its id (and
    with it the ROUTER's route to it). Published, as its control connection may be the
    thing that is broken; other workers ignore it."""

    KIND: ClassVar[bytes] = b"REREGISTER"
    worker_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RequestTask(Message):
    """W->C: the worker takes ``free_slots`` more attempts (idle slots plus its prefetch
    credit); the coordinator answers with ``AssignTask`` messages when work is (or becomes)
    available (load balancing by request)."""

    KIND: ClassVar[bytes] = b"REQUEST"
    worker_id: str
    free_slots: int


@dataclass(frozen=True, slots=True)
class AssignTask(Message):
    """C->W: run one attempt: a MapTaskSpec for a map attempt, a ReduceTaskSpec for a
    reduce (naming the same attempt); the job's code (cloudpickle) follows as blob 0 the
    first time a worker sees the job."""

    KIND: ClassVar[bytes] = b"ASSIGN"
    MAX_BLOBS: ClassVar[int] = 1
    attempt: AttemptId
    spec: MapTaskSpec | ReduceTaskSpec
    has_code: bool

    def __post_init__(self) -> None:
        problem = _kind_problem(self.attempt, self.spec, MapTaskSpec, ReduceTaskSpec)
        if problem:
            raise ShapeError(problem, ".spec")
        spec = self.spec
        index = spec.map_index if isinstance(spec, MapTaskSpec) else spec.partition
        if (spec.job_id, index, spec.attempt) != (self.attempt.job_id, self.attempt.index,
                                                  self.attempt.attempt):
            raise ShapeError(f"names another attempt than {self.attempt}", ".spec")


@dataclass(frozen=True, slots=True)
class TaskDone(Message):
    """W->C: an attempt succeeded: a map's MapManifest or a reduce's ReduceResult (what
    else it says is checked by the coordinator, ``coordinator/results.py``)."""

    KIND: ClassVar[bytes] = b"DONE"
    worker_id: str
    attempt: AttemptId
    result: MapManifest | ReduceResult
    started_s: float
    finished_s: float
    log: str = ""          # the tail of what the attempt printed (see worker/housekeeping.py)
    free_slots: int = -1   # as in RequestTask, so the answer can be the next task; -1: unsaid

    def __post_init__(self) -> None:
        problem = _kind_problem(self.attempt, self.result, MapManifest, ReduceResult)
        if problem:
            raise ShapeError(problem, ".result")


@dataclass(frozen=True, slots=True)
class TaskFailed(Message):
    """W->C: an attempt failed. ``lost_map`` >= 0 when a reduce could not fetch that map's
    output (the holder is gone or its data is corrupt): the map must run again."""

    KIND: ClassVar[bytes] = b"FAILED"
    worker_id: str
    attempt: AttemptId
    error: str
    traceback: str
    lost_map: int = -1
    log: str = ""
    free_slots: int = -1   # as in TaskDone
    fatal: bool = False    # the user's code raised zmr.FatalError: fail the job, no retry
    input_error: bool = False   # the input cannot be read as asked (BadInputError): the
    #                             job fails, no retry, and ``error`` is the one line to show


@dataclass(frozen=True, slots=True)
class KillTask(Message):
    """C->W: stop an attempt (job cancelled or failed)."""

    KIND: ClassVar[bytes] = b"KILL"
    attempt: AttemptId


@dataclass(frozen=True, slots=True)
class ShrinkAttempt(Message):
    """C->W: cut the unread remainder off a running map attempt's split (dynamic work
    rebalancing): the attempt is to keep the lines starting in the first ``keep`` bytes
    of its split, counted over the split's files in order (``storage/cutting.py``), and
    stop there. Answered by ``ShrinkAnswer``; only an accepted cut makes a new task."""

    KIND: ClassVar[bytes] = b"SHRINK"
    attempt: AttemptId
    keep: int


@dataclass(frozen=True, slots=True)
class ShrinkAnswer(Message):
    """W->C: the answer to ``ShrinkAttempt``, decided by the attempt's task process
    itself: ``accepted`` (it stops before byte ``keep`` of its split) or refused, with
    ``reason`` (it already read past ``keep``, has not started, has read its whole split,
    does not run here); ``final``: no later cut of this attempt could be accepted."""

    KIND: ClassVar[bytes] = b"SHRUNK"
    worker_id: str
    attempt: AttemptId
    keep: int
    accepted: bool
    reason: str = ""
    final: bool = False


@dataclass(frozen=True, slots=True)
class Shutdown(Message):
    """C->W: exit cleanly."""

    KIND: ClassVar[bytes] = b"SHUTDOWN"
    reason: str


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """PUB/SUB, both ways: liveness. ``seq`` increases by one per beat so gaps show;
    workers add their load and running attempts, and the ``token`` they register with
    (beats of another process under a registered worker's id keep nothing alive). Never
    the only carrier of anything that matters: PUB drops at its high-water mark and late
    subscribers miss early beats."""

    KIND: ClassVar[bytes] = b"HEARTBEAT"
    sender: str
    seq: int
    load: int = 0
    running: list[AttemptProgress] = field(default_factory=list)
    token: str = ""


# --------------------------------------------------------------------------- client <-> C

@dataclass(frozen=True, slots=True)
class SubmitJob(Message):
    """K->C: run a job: its plan (whose settings the coordinator checks, ``JobPlan.check``,
    so a bad one is answered with why); blob 0 is the job's code."""

    KIND: ClassVar[bytes] = b"SUBMIT"
    MAX_BLOBS: ClassVar[int] = 1
    name: str
    plan: JobPlan
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class SubmitPipeline(Message):
    """K->C: run a multi-step job as one job, which the coordinator steps through itself.
    ``steps``: every step's settings, the first with its splits (the others get theirs
    once the step before has written its output). Blob 0 is every step's code, one after
    another, ``code_sizes[i]`` bytes each (one blob: a message has few frames)."""

    KIND: ClassVar[bytes] = b"SUBMITSTEPS"
    MAX_BLOBS: ClassVar[int] = 1
    name: str
    steps: list[StepPlan]
    code_sizes: list[int]
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class JobAccepted(Message):
    """C->K: the job was queued under ``job_id``."""

    KIND: ClassVar[bytes] = b"ACCEPTED"
    job_id: str


@dataclass(frozen=True, slots=True)
class StatusRequest(Message):
    """K->C: describe a job (``job_id``) or, with an empty id, every job; ``brief`` leaves
    out the task lists (for listings and history)."""

    KIND: ClassVar[bytes] = b"STATUS?"
    job_id: str
    brief: bool = False


@dataclass(frozen=True, slots=True)
class StatusReply(Message):
    """C->K: job descriptions (dicts with id, name, state, progress, counters, error, and
    usage: ``splits``, ``rebalanced``, ``busy_s``, ``slot_s``, ``slots``, ``utilisation``,
    per worker ``worker_busy_s``; see ``coordinator/usage.py``).
    ``coordinator_pid``: the answering process, so a runner can tell the coordinator it
    started from another one listening on the same port."""

    KIND: ClassVar[bytes] = b"STATUS"
    jobs: list[dict[str, Any]]
    workers: list[dict[str, Any]] = field(default_factory=list)
    coordinator_pid: int = 0


@dataclass(frozen=True, slots=True)
class LogsRequest(Message):
    """K->C: what the attempts of a job printed; ``task`` narrows it ("map", "map-3")."""

    KIND: ClassVar[bytes] = b"LOGS?"
    job_id: str
    task: str = ""


@dataclass(frozen=True, slots=True)
class LogsReply(Message):
    """C->K: one dict per reported attempt: task, index, attempt, worker, outcome, log."""

    KIND: ClassVar[bytes] = b"LOGS"
    attempts: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class CancelJob(Message):
    """K->C: cancel a job."""

    KIND: ClassVar[bytes] = b"CANCEL"
    job_id: str


@dataclass(frozen=True, slots=True)
class JobEnded(Message):
    """C->W on PUB: a job reached a final state. Workers kill whatever attempts of it they
    still run (the reliable KillTask messages come over ROUTER too) and delete its map
    outputs and scratch space, keeping its logs (Hadoop purges a job's local files the same
    way). Missed by a worker that was away, it is made up for at its next registration."""

    KIND: ClassVar[bytes] = b"JOBENDED"
    job_id: str
    state: str


@dataclass(frozen=True, slots=True)
class ShutdownCluster(Message):
    """K->C: stop the coordinator and every worker (``zmr cluster stop``, the embedded
    local cluster). ``owner_token``: set by a runner stopping the embedded cluster it
    started; a coordinator started with another token (or none: a standalone cluster)
    refuses it, so a runner never stops a cluster it did not start. "" = any coordinator."""

    KIND: ClassVar[bytes] = b"STOP"
    reason: str
    owner_token: str = ""


@dataclass(frozen=True, slots=True)
class Ack(Message):
    """C->K: a request was carried out."""

    KIND: ClassVar[bytes] = b"ACK"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ErrorReply(Message):
    """C->K: a request was refused; ``message`` says why, ``error`` names the refusal's
    class (``OutputError``, ``ConfigError``...: ``zmr.core.errors.REFUSALS``) so the client
    raises the same error, with its exit code, as its own check would; "" = a ZmrError."""

    KIND: ClassVar[bytes] = b"ERROR"
    message: str
    error: str = ""


# --------------------------------------------------------------------------- shuffle

@dataclass(frozen=True, slots=True)
class ShuffleRequest(Message):
    """R->S (PUSH->PULL): send ``length`` bytes of ``path`` from ``offset`` to the reducer's
    PULL socket at ``reply_to``, at most ``credit`` chunks ahead of its acknowledgements.
    ``path`` must be a committed map output of job ``job_id`` on that worker.
    ``reply_key`` is the CURVE public key (z85) that socket serves with ("" = curve off)."""

    KIND: ClassVar[bytes] = b"FETCH"
    request_id: str
    job_id: str
    path: str
    offset: int
    length: int
    reply_to: str
    credit: int
    reply_key: str = ""


@dataclass(frozen=True, slots=True)
class ShuffleCredit(Message):
    """R->S: the reducer consumed chunks; the service may send ``chunks`` more."""

    KIND: ClassVar[bytes] = b"CREDIT"
    request_id: str
    chunks: int


@dataclass(frozen=True, slots=True)
class ShuffleChunk(Message):
    """S->R (PUSH->PULL): chunk ``seq`` of a request as blob 0; ``error`` when the service
    cannot serve it (file gone, out of range)."""

    KIND: ClassVar[bytes] = b"CHUNK"
    MAX_BLOBS: ClassVar[int] = 1
    request_id: str
    seq: int
    last: bool
    error: str = ""


ALL_MESSAGES: tuple[type[Message], ...] = (
    Register, Registered, RegisterAgain, RequestTask, AssignTask, TaskDone, TaskFailed,
    KillTask, ShrinkAttempt, ShrinkAnswer, Shutdown, Heartbeat, SubmitJob, SubmitPipeline,
    JobAccepted, StatusRequest, StatusReply,
    LogsRequest, LogsReply, CancelJob, JobEnded,
    ShutdownCluster,
    Ack, ErrorReply, ShuffleRequest, ShuffleCredit, ShuffleChunk,
)
