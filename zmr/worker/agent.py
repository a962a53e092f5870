"""The worker's shell (python-rq's worker loop, over the ZeroMQ guide's Paranoid Pirate
worker): sockets, executors and timers around the state machine of ``state.py``.

Register; ask for as many attempts as there are free slots plus a small prefetch; run each
in a long-lived executor process (``slots.py``, ``executor.py``); report each outcome the
moment its pipe says it is there, with the worker's free slots, so the coordinator's answer
is the next assignment; beat on PUB all along. The loop waits on the ZeroMQ sockets and the
executors' pipes together: nothing on the path from assignment to report waits on a timer.

What to do about the coordinator (registering, re-registering after silence with capped
exponential backoff, restarts, ``RegisterAgain``, refusals), health and stopping is the
machine's decision: each turn, every message, a :class:`~zmr.worker.events.Tick` and what
the shell saw (a disk failure, the shuffle service gone) are fed to
``WorkerState.handle(event, now)``, and the actions it returns are performed here
(``EFFECTS``). The clock is injected (``clock``), and so are the executors
(``executor_type``: ``inprocess.InProcessExecutor`` runs attempts in this process), so a
test can step a whole worker through minutes of simulated time in milliseconds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from zmr.config import ClusterConfig, check_hosts, curve_for
from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest, MapTaskSpec
from zmr.protocol.messages import (
    Heartbeat,
    HeldOutput,
    Message,
    Register,
    RequestTask,
    ShrinkAnswer,
    TaskDone,
    TaskFailed,
)
from zmr.shuffle.server import ShuffleServer
from zmr.storage import layout
from zmr.tasks.map_task import read_indexes
from zmr.tasks.reuse import with_reuse_cache
from zmr.transport.heartbeat import Clock
from zmr.transport.sockets import (
    BEAT_FRAME_BYTES,
    DEALER,
    PUB,
    SUB,
    Channel,
    control_frame_bytes,
    make_socket,
    poll_with_files,
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
from zmr.worker.executor import Executor
from zmr.worker.housekeeping import (
    jobs_on_disk,
    prune_logs,
    purge_job,
    read_log_tail,
)
from zmr.worker.phases import Timing
from zmr.worker.pipe import ExecutorConfig, TaskExecutor
from zmr.worker.slots import Finished, Slots
from zmr.worker.state import WorkerState

log = logging.getLogger("zmr.worker")
#: How often the resident memory of attempts with a --task-memory limit is sampled.
MEMORY_WATCH_S = 0.1
#: Messages handled per socket per turn before the executors are looked at again.
DRAIN_PER_STEP = 64


class WorkerAgent:
    """One worker process: :meth:`run` it (or :meth:`start`, :meth:`step` and
    :meth:`close` it, as tests do)."""

    def __init__(self, config: ClusterConfig, worker_id: str | None = None, *,
                 clock: Clock = time.monotonic,
                 executor_type: type[TaskExecutor] = Executor) -> None:
        self.config = config
        self.clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"
        self.data_dir = layout.worker_dir(config.worker.data_dir, self.worker_id)
        os.makedirs(self.data_dir, exist_ok=True)
        check_hosts(config, {"[coordinator] host": config.coordinator.host,
                             "[worker] shuffle_host": config.worker.shuffle_host,
                             "[worker] advertise": config.worker.advertise})
        self.curve = curve_for(config, config.security.worker_key)
        self.state = WorkerState(self.worker_id, Timing.of(config),
                                 config.endpoint("control_port"))
        self.slots = Slots(config.worker_slots, max(0, config.worker.prefetch),
                           max(1, config.worker.executor_max_tasks),
                           ExecutorConfig(config.worker, self.data_dir, curve=self.curve),
                           executor_type)
        self.shuffle = ShuffleServer(config.shuffle_bind, self.data_dir, self.curve,
                                     _shuffle_setting(config))
        self.shuffle_endpoint = ""
        # drawn once per process: the coordinator tells this process registering again
        # from another one claiming its id (coordinator/admission.py)
        self.token = uuid.uuid4().hex[:16]
        # set from a signal handler or another thread; the loop hands it to the machine
        self._stop_asked = False
        self.dealer: Channel | None = None
        self.pub = Channel(make_socket(PUB, connect=config.endpoint("report_port"),
                                       curve=self.curve), "beats")
        self.sub = Channel(make_socket(SUB, connect=config.endpoint("heartbeat_port"),
                                       curve=self.curve, max_frame=BEAT_FRAME_BYTES), "coord")

    # -- what the process and tests read ---------------------------------------------------
    @property
    def stopping(self) -> bool:
        return self._stop_asked or self.state.stopped

    @stopping.setter
    def stopping(self, value: bool) -> None:
        """``stop_on_signals`` and tests stop the worker by setting this (only a flag:
        a signal handler must not run the machine in the middle of another event)."""
        self._stop_asked = value

    @property
    def failed(self) -> bool:
        """Stopped because something broke: exit status 1."""
        return self.state.failed

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> None:
        self.start()
        try:
            while not self.stopping:
                self.step()
        finally:
            self.close()
        log.info("worker=%s: done, quitting", self.worker_id)

    def start(self) -> None:
        """Serve map outputs, register, and start the executors."""
        # inherited by task processes: lets fault-injection jobs take their worker down
        os.environ["ZMR_WORKER_PID"] = str(os.getpid())
        self.slots.executor_type.warm_up()
        self.shuffle_endpoint = self._advertised(self.shuffle.start_serving())
        self.slots.serve_from(self.shuffle_endpoint)    # where reduces find local data
        log.info("worker=%s starting: slots=%d prefetch=%d shuffle=%s", self.worker_id,
                 self.slots.slots, self.slots.prefetch, self.shuffle_endpoint)
        self._feed(Started())
        # registered first: the coordinator's answer (and first task) is on its way while
        # the executors are forked from the warm fork server, a few milliseconds each
        self.slots.start_executors()

    def step(self) -> None:
        """One turn: wait for a message *or* an executor's pipe (a result, or a death), at
        most until the next heartbeat is due; then act on everything that happened."""
        assert self.dealer is not None
        channels, ready = poll_with_files([self.dealer, self.sub], self.slots.busy(),
                                          self._wait_s())
        for channel in channels:
            self._drain(channel)
        self._settle(self.slots.collect(ready))
        self._feed(Tick())
        if not self.shuffle.is_alive():
            self._feed(ShuffleStopped())
        if self._stop_asked:
            self._feed(StopRequested("asked to stop"))

    def close(self) -> None:
        self.slots.close()
        self.shuffle.stop()
        for channel in (self.dealer, self.pub, self.sub):
            if channel is not None:
                channel.close()

    def _feed(self, event: Event) -> None:
        """The one way into the machine; what it decides is done at once, in order."""
        for action in self.state.handle(event, self.clock()):
            EFFECTS[type(action)](self, action)

    def _wait_s(self) -> float:
        wait = self.state.wait_s(self.clock())
        if self.slots.needs_memory_watch():
            wait = min(wait, MEMORY_WATCH_S)    # RSS is sampled, not signalled
        return wait

    def _drain(self, channel: Channel) -> None:
        """Every message already waiting, so a burst of assignments starts in one turn."""
        for _ in range(DRAIN_PER_STEP):
            received = channel.recv()
            if received is not None:
                self._feed(Received(received[1], tuple(received[2])))
            # a message may make us reconnect, which closes this channel's socket
            if channel.sock.closed or not channel.has_message():
                return

    # -- effects: what the machine's actions do ---------------------------------------------
    def _connect(self, action: Connect) -> None:
        if self.dealer is not None:
            self.dealer.close()
        self.dealer = Channel(make_socket(
            DEALER, connect=self.config.endpoint("control_port"), identity=self.worker_id,
            curve=self.curve, max_frame=control_frame_bytes(self.config.tasks.max_files_size)),
            "control")
        holds = [HeldOutput(*found) for found in read_indexes(self.data_dir)]
        for hold in holds:                  # outputs kept from before a restart
            self.shuffle.publish(hold.job_id, hold.manifest.path)
        self.dealer.send(Register(self.worker_id, socket.gethostname(), self.shuffle_endpoint,
                                  self.slots.slots, os.cpu_count() or 1, _memory_mb(), holds,
                                  self.slots.attempts(), jobs_on_disk(self.data_dir),
                                  self.curve.public.decode() if self.curve else "",
                                  self.slots.prefetch, self.token))

    def _ask_for_work(self, action: AskForWork | None = None) -> None:
        self._send(RequestTask(self.worker_id, self._free()))

    def _publish_beat(self, action: PublishBeat) -> None:
        self.pub.send(Heartbeat(self.worker_id, action.seq, len(self.slots.attempts()),
                                self.slots.progress(), self.token))

    def _start_attempt(self, action: StartAttempt) -> None:
        key = action.assignment.attempt
        # where this worker keeps the job's data: the coordinator cannot know
        spec = dataclasses.replace(action.assignment.spec,
                                   work_dir=layout.job_work_dir(self.data_dir, key.job_id))
        if isinstance(spec, MapTaskSpec) and spec.reuse:    # --reuse: this host's cache
            spec = with_reuse_cache(spec, self.config)
        log.debug("worker=%s %s: queued", self.worker_id, key)
        self.slots.add(key, spec, layout.attempt_log_path(self.data_dir, *key), action.code)
        self._settle(self.slots.fill())

    def _kill_attempt(self, action: KillAttempt) -> None:
        if self.slots.kill(action.attempt):
            log.info("worker=%s killed %s", self.worker_id, action.attempt)
            self._settle(self.slots.fill())
            self._ask_for_work()

    def _cut_attempt(self, action: CutAttempt) -> None:
        """The coordinator wants to cut a running map's remainder: its task process
        decides (``Slots.shrink``); the answer goes back on the control connection, ahead
        of the attempt's own report."""
        msg = action.request
        refusal, final = self.slots.shrink(msg.attempt, msg.keep)
        log.info("worker=%s %s: cut at byte %d %s", self.worker_id, msg.attempt, msg.keep,
                 f"refused: {refusal}" if refusal else "accepted")
        self._send(ShrinkAnswer(self.worker_id, msg.attempt, msg.keep, not refusal, refusal,
                                final))

    def _end_job(self, action: EndJob) -> None:
        """Stop the job's attempts, recycle its executors and free its disk space."""
        for key in self.slots.job_ended(action.job_id):
            log.info("worker=%s killed %s", self.worker_id, key)
        self.shuffle.withdraw(action.job_id)
        purge_job(self.data_dir, action.job_id)

    def _prune_logs(self, action: PruneLogs) -> None:
        """Apply ``[retention]`` to the attempt logs (every ``every_s``, and as a job ends),
        so a worker that runs for months keeps a bounded amount of them."""
        running = frozenset(key.job_id for key in self.slots.attempts())
        gone = prune_logs(self.data_dir, self.config.log_retention(), time.time(), running)
        if gone:
            log.info("worker=%s deleted the logs of %d finished jobs (retention): %s",
                     self.worker_id, len(gone), ", ".join(gone[:5]) +
                     (", ..." if len(gone) > 5 else ""))

    def _probe_disk(self, action: ProbeDisk) -> None:
        self._feed(DiskProbed(_disk_writable(self.data_dir)))

    # -- reports ---------------------------------------------------------------------------
    def _settle(self, finished: list[Finished]) -> None:
        """Start what is queued on the executors that just finished *before* telling the
        coordinator, then report each outcome with the worker's free slots, so its answer
        is the next assignment."""
        if not finished:
            return
        finished += self.slots.fill()
        for done in finished:
            outcome = done.outcome
            if outcome.ok and outcome.result is not None:
                if isinstance(outcome.result, MapManifest):
                    # before anyone hears of it, so it can be fetched
                    self.shuffle.publish(done.key.job_id, outcome.result.path)
                self._send(TaskDone(self.worker_id, done.key, outcome.result, done.started_s,
                                    time.time(), self._log_tail(done.key), self._free()))
                continue
            error = outcome.error
            if outcome.disk_error:
                error = f"worker {self.worker_id}: {error}"
                self._feed(DiskFailed(error))           # before the report: it offers 0
            self._report_failure(done.key, error, outcome.traceback, outcome.lost_map,
                                 outcome.fatal, outcome.input_error)

    def _free(self) -> int:
        """Attempts this worker takes now (0, "nothing for me now", while unhealthy)."""
        return self.slots.free() if self.state.takes_work else 0

    def _report_failure(self, key: AttemptId, error: str, tb: str,
                        lost_map: int = -1, fatal: bool = False,
                        input_error: bool = False) -> None:
        log.warning("worker=%s %s failed: %s", self.worker_id, key, error)
        self._send(TaskFailed(self.worker_id, key, error, tb, lost_map, self._log_tail(key),
                              self._free(), fatal, input_error))

    def _log_tail(self, key: AttemptId) -> str:
        return read_log_tail(layout.attempt_log_path(self.data_dir, *key))

    def _send(self, msg: Message) -> None:
        if self.dealer is not None:
            self.dealer.send(msg)

    def _advertised(self, endpoint: str) -> str:
        advertise = self.config.worker.advertise
        if not advertise:
            return endpoint
        port = endpoint.rsplit(":", 1)[1]
        return f"tcp://{advertise}:{port}"


#: What each action of the machine does.
EFFECTS: dict[type[Action], Callable[[WorkerAgent, Any], None]] = {
    Connect: WorkerAgent._connect,
    AskForWork: WorkerAgent._ask_for_work,
    PublishBeat: WorkerAgent._publish_beat,
    StartAttempt: WorkerAgent._start_attempt,
    KillAttempt: WorkerAgent._kill_attempt,
    CutAttempt: WorkerAgent._cut_attempt,
    EndJob: WorkerAgent._end_job,
    PruneLogs: WorkerAgent._prune_logs,
    ProbeDisk: WorkerAgent._probe_disk,
}


def _shuffle_setting(config: ClusterConfig) -> str:
    """The setting a shuffle bind error names: the port range if one is set, else the
    host (any free port is taken)."""
    worker = config.worker
    if worker.shuffle_ports:
        return f'{config.path}: [worker] shuffle_ports = "{worker.shuffle_ports}"'
    return f'{config.path}: [worker] shuffle_host = "{worker.shuffle_host}"'


def _disk_writable(directory: str) -> bool:
    probe = os.path.join(directory, ".probe")
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
        os.unlink(probe)
        return True
    except OSError:
        return False


def _memory_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (ValueError, OSError):
        return 0
