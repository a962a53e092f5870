"""The worker's state machine and its one door: ``WorkerState.handle(event, now) -> actions``
(dask's ``WorkerState.handle_stimulus``, the coordinator's ``CoordinatorState.handle``).

A worker is in one of four phases (``WorkerPhase``, in ``phases.py`` with ``TRANSITIONS``,
the only moves between them: anything else raises ``InvalidWorkerTransition`` with the
recent story). Events (``events.py``) go in, actions come out; the machine does no I/O
and reads no clock: ``now`` (monotonic seconds) comes with every event, so registration
retries, backoff, the unhealthy pause and heartbeats are tested by feeding events at any
simulated time, without sockets or sleeping. The shell (``agent.py``) owns the sockets,
the executors and the timers' wake-ups, feeds events in and performs the actions.

What it decides (the ZeroMQ guide's Paranoid Pirate worker, with registration):

* Registration: ``Register`` goes out on a fresh connection (:class:`~zmr.worker.events.
  Connect`); unanswered within a liveness window while the coordinator beats, it goes out
  again (the answer went to another connection that had claimed our id, or was lost).
  A coordinator silent for ``interval * liveness`` is retried on a fresh connection,
  waiting twice as long each time up to ``[worker] reconnect_backoff_max_s``, for ever
  unless ``[worker] give_up_after_s`` is set. Beat numbers going back mean the coordinator
  restarted: register again at once (unless our Register since its last beat already went
  to the new one). ``RegisterAgain`` (we were declared dead) is obeyed once; a refusal
  (``ErrorReply``: our id is held by a live process) is retried after the backoff.
* Health: an attempt that failed on this worker's own disk makes it take no tasks
  (``takes_work`` is False) for ``[worker] unhealthy_pause_s``; then the disk is probed,
  and a passing probe makes it ask for work again.
* Stopping is final: a ``Shutdown``, a signal, giving up, or the shuffle service dying
  (then ``failed``: exit status 1). A stopping worker ignores every event.

A coordinator message of a kind the worker does not act on is ignored (logged at debug
level); an event that is not a worker event is a ``TypeError``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from zmr.protocol.messages import (
    AssignTask,
    ErrorReply,
    Heartbeat,
    JobEnded,
    KillTask,
    Registered,
    RegisterAgain,
    ShrinkAttempt,
    Shutdown,
)
from zmr.worker.events import (
    Action,
    AskForWork,
    Connect,
    CutAttempt,
    DiskFailed,
    DiskProbed,
    EndJob,
    Event,
    KillAttempt,
    ProbeDisk,
    PruneLogs,
    PublishBeat,
    Received,
    ShuffleStopped,
    StartAttempt,
    Started,
    StopRequested,
    Tick,
)
from zmr.worker.phases import (
    TRANSITIONS,
    InvalidWorkerTransition,
    StoryEntry,
    Timing,
    WorkerPhase,
)

log = logging.getLogger("zmr.worker")
#: Phase changes kept for :class:`InvalidWorkerTransition` (and people debugging).
STORY_LENGTH = 50


class WorkerState:
    """One worker's phase, its coordinator connection and its timers. Change them only
    through :meth:`handle`."""

    def __init__(self, worker_id: str, timing: Timing, coordinator: str = "") -> None:
        self.worker_id = worker_id
        self.timing = timing
        self.coordinator = coordinator          # its control endpoint, named in the log
        self.phase = WorkerPhase.CONNECTING
        self.failed = False                     # stopped because something broke
        self.story: deque[StoryEntry] = deque(maxlen=STORY_LENGTH)
        self.last_heard_s = 0.0                 # any message from the coordinator
        self.connected_s = 0.0                  # our last Register went out
        self.confirm_by: float | None = None    # register again if still unanswered then
        self.retry_register_at: float | None = None   # a refused registration, tried again
        self.backoff_s = timing.interval_s      # before the next try on silence or refusal
        self.coordinator_seq = 0                # the coordinator's last beat number ...
        self.last_beat_s = 0.0                  # ... and when it came
        self.beat_seq = 0                       # our own beats
        self.next_beat_s = 0.0                  # due at once
        self.next_prune_s = 0.0                 # the log retention is applied then
        self.sick_until: float | None = None    # unhealthy: the disk is probed then
        self._cause = ""                        # the event being handled, for the story

    # -- reading ---------------------------------------------------------------------------
    @property
    def registered(self) -> bool:
        """Whether our last Register was answered with Registered."""
        return self.phase in (WorkerPhase.REGISTERED, WorkerPhase.UNHEALTHY)

    @property
    def stopped(self) -> bool:
        return self.phase is WorkerPhase.STOPPING

    @property
    def takes_work(self) -> bool:
        """False while unhealthy, in any phase: reports then offer no free slots."""
        return self.sick_until is None

    def wait_s(self, now: float) -> float:
        """How long the shell may wait for traffic before the next :class:`Tick` is due."""
        return max(0.0, self.next_beat_s - now)

    # -- the door --------------------------------------------------------------------------
    def handle(self, event: Event, now: float) -> list[Action]:
        """What ``event`` at monotonic time ``now`` changes, and what the shell must do."""
        if self.stopped:
            return []                           # stopping is final: nothing more to do
        handler = EVENT_HANDLERS.get(type(event))
        if handler is None:
            raise TypeError(f"no handler for {type(event).__name__}: not a worker event")
        self._cause = type(event).__name__
        return handler(self, event, now)

    def _enter(self, phase: WorkerPhase, now: float) -> None:
        if phase is self.phase:
            return
        if phase not in TRANSITIONS[self.phase]:
            raise InvalidWorkerTransition(self._cause, self.phase, phase, self.story)
        self.story.append(StoryEntry(self._cause, self.phase, phase, now))
        self.phase = phase

    # -- events ----------------------------------------------------------------------------
    def _on_started(self, event: Started, now: float) -> list[Action]:
        self.last_heard_s = now                 # silence counts from now
        return self._connect(now)

    def _on_tick(self, event: Tick, now: float) -> list[Action]:
        actions = self._health_due(now)
        if now >= self.next_beat_s:
            self.beat_seq += 1
            self.next_beat_s = now + self.timing.interval_s
            actions.append(PublishBeat(self.beat_seq))
        actions += self._check_coordinator(now)
        if not self.stopped and now >= self.next_prune_s:
            self.next_prune_s = now + self.timing.prune_every_s
            actions.append(PruneLogs())
        return actions

    def _on_received(self, event: Received, now: float) -> list[Action]:
        self.last_heard_s = now                 # any message counts, not only beats
        self._cause = type(event.message).__name__
        handler = MESSAGE_HANDLERS.get(type(event.message))
        if handler is None:
            log.debug("worker=%s ignores %s", self.worker_id, self._cause)
            return []
        return handler(self, event.message, event.blobs, now)

    def _on_disk_failed(self, event: DiskFailed, now: float) -> list[Action]:
        """Stop taking tasks rather than fail every one of them; retry after a pause."""
        pause = self.timing.unhealthy_pause_s
        log.error("worker=%s unhealthy, taking no tasks for %.0fs: %s", self.worker_id,
                  pause, event.reason)
        self.sick_until = now + pause
        if self.phase is WorkerPhase.REGISTERED:
            self._enter(WorkerPhase.UNHEALTHY, now)
        return []

    def _on_disk_probed(self, event: DiskProbed, now: float) -> list[Action]:
        if event.writable:
            self.sick_until = None
            log.info("worker=%s healthy again", self.worker_id)
            if self.phase is WorkerPhase.UNHEALTHY:
                self._enter(WorkerPhase.REGISTERED, now)
        return [AskForWork()]       # still sick: "nothing for me now" (no free slots)

    def _on_shuffle_stopped(self, event: ShuffleStopped, now: float) -> list[Action]:
        """A worker that cannot serve its map outputs only makes reducers fail: quit with
        an error status (for a supervisor to restart it); the coordinator re-runs them."""
        log.error("worker=%s: the shuffle service stopped; exiting", self.worker_id)
        self.failed = True
        self._enter(WorkerPhase.STOPPING, now)
        return []

    def _on_stop_requested(self, event: StopRequested, now: float) -> list[Action]:
        log.info("worker=%s stopping: %s", self.worker_id, event.reason)
        self._enter(WorkerPhase.STOPPING, now)
        return []

    # -- time ------------------------------------------------------------------------------
    def _health_due(self, now: float) -> list[Action]:
        """The unhealthy pause is over: probe the disk (a failed probe waits another)."""
        if self.sick_until is None or now < self.sick_until:
            return []
        self.sick_until = now + self.timing.unhealthy_pause_s
        return [ProbeDisk()]

    def _check_coordinator(self, now: float) -> list[Action]:
        age = now - self.last_heard_s
        silent = age > self.timing.timeout_s
        give_up = self.timing.give_up_after_s
        if give_up > 0 and age > give_up:
            log.error("worker=%s: coordinator unreachable for %.1fs ([worker] give_up_after_s "
                      "= %g), exiting", self.worker_id, age, give_up)
            self._enter(WorkerPhase.STOPPING, now)
            return []
        if self.confirm_by is not None and now > self.confirm_by and not silent:
            # (silence has its own backoff, below)
            log.warning("worker=%s: no answer to our registration; registering again",
                        self.worker_id)
            return self._connect(now)       # and again each window until one is answered
        if silent and now - self.connected_s > self.backoff_s:
            # Paranoid Pirate: a fresh socket, and exponentially longer waits between tries
            self._back_off()
            log.warning("worker=%s: coordinator at %s silent for %.1fs, registering again "
                        "(next try in %.1fs at most)", self.worker_id, self.coordinator,
                        age, self.backoff_s)
            return self._connect(now)
        if self.retry_register_at is not None and now >= self.retry_register_at:
            return self._connect(now)       # a refused registration, tried again
        return []

    # -- coordinator messages --------------------------------------------------------------
    def _on_beat(self, beat: Heartbeat, blobs: tuple[bytes, ...],
                 now: float) -> list[Action]:
        """Beats are numbered from 1 by each coordinator process: a number that goes back
        means the coordinator restarted, which has never heard of us: register again now,
        unless we already did since the old one's last beat (it fell silent first): that
        registration went to the new one, so wait for its answer, not register twice."""
        actions: list[Action] = []
        if beat.seq <= self.coordinator_seq and self.connected_s > self.last_beat_s:
            if not self.registered:
                self.confirm_by = now + self.timing.timeout_s
        elif beat.seq <= self.coordinator_seq:
            log.warning("worker=%s: coordinator restarted (beat %d after %d); registering "
                        "again", self.worker_id, beat.seq, self.coordinator_seq)
            actions = self._connect(now)
        self.coordinator_seq, self.last_beat_s = beat.seq, now
        return actions

    def _on_registered(self, msg: Registered, blobs: tuple[bytes, ...],
                       now: float) -> list[Action]:
        self.confirm_by = None
        if self.backoff_s > self.timing.interval_s:
            log.info("worker=%s: registered with the coordinator again", self.worker_id)
        self.backoff_s = self.timing.interval_s
        self._enter(WorkerPhase.REGISTERED if self.takes_work else WorkerPhase.UNHEALTHY, now)
        actions: list[Action] = [self._job_over(job_id) for job_id in msg.forget]
        return actions + [AskForWork()]

    def _on_assign(self, msg: AssignTask, blobs: tuple[bytes, ...],
                   now: float) -> list[Action]:
        return [StartAttempt(msg, blobs[0] if msg.has_code and blobs else None)]

    def _on_kill(self, msg: KillTask, blobs: tuple[bytes, ...], now: float) -> list[Action]:
        return [KillAttempt(msg.attempt)]

    def _on_shrink(self, msg: ShrinkAttempt, blobs: tuple[bytes, ...],
                   now: float) -> list[Action]:
        return [CutAttempt(msg)]

    def _on_job_ended(self, msg: JobEnded, blobs: tuple[bytes, ...],
                      now: float) -> list[Action]:
        return [self._job_over(msg.job_id)]

    def _on_shutdown(self, msg: Shutdown, blobs: tuple[bytes, ...],
                     now: float) -> list[Action]:
        log.info("worker=%s: shutdown requested: %s", self.worker_id, msg.reason)
        self._enter(WorkerPhase.STOPPING, now)
        return []

    def _on_register_again(self, msg: RegisterAgain, blobs: tuple[bytes, ...],
                           now: float) -> list[Action]:
        """Told so (we were declared dead, or another connection claimed our id): once;
        not while our own registration is on its way or was refused (then the invitation
        is for the registered process of our id, not us), unless it went unanswered."""
        if msg.worker_id != self.worker_id:          # published to every worker
            return []
        if not self.registered and now - self.connected_s < self.timing.timeout_s:
            return []
        log.warning("worker=%s: the coordinator asks us to register again (%s); "
                    "registering again", self.worker_id, msg.reason)
        return self._connect(now)

    def _on_error(self, msg: ErrorReply, blobs: tuple[bytes, ...],
                  now: float) -> list[Action]:
        """An error answer: to our registration (another live process holds our id), try
        again after the backoff; to anything else (the coordinator lost us), register."""
        self.confirm_by = None              # an answer: no "unanswered" retry on top
        if self.registered:
            log.warning("worker=%s: coordinator says %s; registering again", self.worker_id,
                        msg.message)
            return self._connect(now)
        self._back_off()
        log.warning("worker=%s: coordinator says %s; trying again in %.1fs", self.worker_id,
                    msg.message, self.backoff_s)
        self.retry_register_at = now + self.backoff_s
        return []

    # -- shared steps ----------------------------------------------------------------------
    def _connect(self, now: float) -> list[Action]:
        """Register on a fresh connection; the answer may never come (it went to another
        connection that had claimed our id on the ROUTER, or was lost): unanswered within
        a liveness window, register again."""
        self.connected_s = now
        self.retry_register_at = None
        self.confirm_by = now + self.timing.timeout_s
        self._enter(WorkerPhase.CONNECTING, now)
        return [Connect()]

    def _back_off(self) -> None:
        """Wait twice as long before the next try, up to ``reconnect_backoff_max_s``."""
        self.backoff_s = min(self.backoff_s * 2,
                             max(self.timing.backoff_max_s, self.timing.interval_s))

    def _job_over(self, job_id: str) -> EndJob:
        self.next_prune_s = 0.0             # its logs now count against the retention
        return EndJob(job_id)


EVENT_HANDLERS: dict[type[Any], Callable[[WorkerState, Any, float], list[Action]]] = {
    Started: WorkerState._on_started,
    Tick: WorkerState._on_tick,
    Received: WorkerState._on_received,
    DiskFailed: WorkerState._on_disk_failed,
    DiskProbed: WorkerState._on_disk_probed,
    ShuffleStopped: WorkerState._on_shuffle_stopped,
    StopRequested: WorkerState._on_stop_requested,
}
#: What each coordinator message means to a worker; any other kind is ignored.
MESSAGE_HANDLERS: dict[type[Any], Callable[[WorkerState, Any, tuple[bytes, ...], float],
                                           list[Action]]] = {
    Heartbeat: WorkerState._on_beat,
    Registered: WorkerState._on_registered,
    AssignTask: WorkerState._on_assign,
    KillTask: WorkerState._on_kill,
    ShrinkAttempt: WorkerState._on_shrink,
    JobEnded: WorkerState._on_job_ended,
    Shutdown: WorkerState._on_shutdown,
    RegisterAgain: WorkerState._on_register_again,
    ErrorReply: WorkerState._on_error,
}
