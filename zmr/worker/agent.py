"""The worker's messaging loop (python-rq's worker loop, over the ZeroMQ guide's Paranoid
Pirate worker).

Register; ask for as many attempts as there are free slots plus a small prefetch; run each
in a long-lived executor process (``slots.py``, ``executor.py``); report each outcome the
moment its pipe says it is there, with the worker's free slots, so the coordinator's answer
is the next assignment; beat on PUB all along. The loop waits on the ZeroMQ sockets and the
executors' pipes together: nothing on the path from assignment to report waits on a timer.
When the coordinator goes silent for ``interval * liveness`` the worker reconnects on a
fresh socket and registers again, waiting twice as long between tries each time up to
``[worker] reconnect_backoff_max_s`` (Hadoop's NodeManager and Spark's workers do the
same): it keeps trying forever, so workers may start before their coordinator and survive
a coordinator restart of any length; only ``[worker] give_up_after_s`` (off by default)
makes it kill its tasks and exit. A coordinator that declared it dead while it was frozen
hears its beats and tells it to register again (``RegisterAgain``); a registration refused
(its id is held by another live process) is retried on the same backoff.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
import uuid

from zmr.config import ClusterConfig, check_hosts, curve_for
from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest, MapTaskSpec
from zmr.protocol.messages import (
    AssignTask,
    ErrorReply,
    Heartbeat,
    HeldOutput,
    JobEnded,
    KillTask,
    Message,
    Register,
    RegisterAgain,
    Registered,
    RequestTask,
    ShrinkAnswer,
    ShrinkAttempt,
    Shutdown,
    TaskDone,
    TaskFailed,
)
from zmr.shuffle.server import ShuffleServer
from zmr.storage import layout
from zmr.tasks.map_task import read_indexes
from zmr.tasks.reuse import with_reuse_cache
from zmr.transport.heartbeat import Beat, Liveness
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
from zmr.worker.executor import warm_up
from zmr.worker.housekeeping import (
    jobs_on_disk,
    prune_logs,
    purge_job,
    read_log_tail,
)
from zmr.worker.slots import Finished, Slots

log = logging.getLogger("zmr.worker")
COORDINATOR = "coordinator"
#: How often the resident memory of attempts with a --task-memory limit is sampled.
MEMORY_WATCH_S = 0.1
#: Messages handled per socket per turn before the executors are looked at again.
DRAIN_PER_STEP = 64


class WorkerAgent:
    """One worker process."""

    def __init__(self, config: ClusterConfig, worker_id: str | None = None) -> None:
        self.config = config
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:4]}"
        self.data_dir = layout.worker_dir(config.worker.data_dir, self.worker_id)
        os.makedirs(self.data_dir, exist_ok=True)
        interval = config.heartbeat.interval_s
        self.coordinator = Liveness(interval, config.heartbeat.liveness)
        self.beat = Beat(interval)
        check_hosts(config, {"[coordinator] host": config.coordinator.host,
                             "[worker] shuffle_host": config.worker.shuffle_host,
                             "[worker] advertise": config.worker.advertise})
        self.curve = curve_for(config, config.security.worker_key)
        self.slots = Slots(config.worker_slots, max(0, config.worker.prefetch),
                           max(1, config.worker.executor_max_tasks), self.data_dir,
                           self.curve, fetch_timeout_s=config.worker.fetch_timeout_s)
        self.shuffle = ShuffleServer(config.shuffle_bind, self.data_dir, self.curve,
                                     _shuffle_setting(config))
        self.stopping = False
        self.failed = False             # stopped because something broke: exit status 1
        self.unhealthy_until = 0.0
        self.next_prune_s = 0.0         # monotonic time the log retention is next applied
        self.coordinator_seq = 0
        self.last_beat_s = 0.0          # monotonic time of the coordinator's last beat
        self._connected_at = 0.0        # ... of our last Register
        self.answered_s = 0.0           # ... of the last Registered
        self.confirm_by = 0.0           # register again if still unanswered by then
        self.backoff_s = interval
        # drawn once per process: the coordinator tells this process registering again
        # from another one claiming its id (coordinator/admission.py)
        self.token = uuid.uuid4().hex[:16]
        self.retry_register_at = 0.0    # monotonic time a refused registration is retried
        self.dealer: Channel | None = None
        self.pub = Channel(make_socket(PUB, connect=config.endpoint("report_port"),
                                       curve=self.curve), "beats")
        self.sub = Channel(make_socket(SUB, connect=config.endpoint("heartbeat_port"),
                                       curve=self.curve, max_frame=BEAT_FRAME_BYTES), "coord")

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> None:
        # inherited by task processes: lets fault-injection jobs take their worker down
        os.environ["ZMR_WORKER_PID"] = str(os.getpid())
        warm_up()
        endpoint = self.shuffle.start_serving()
        self.shuffle_endpoint = self._advertised(endpoint)
        self.slots.own_endpoint = self.shuffle_endpoint    # where reduces find local data
        log.info("worker=%s starting: slots=%d prefetch=%d shuffle=%s", self.worker_id,
                 self.slots.slots, self.slots.prefetch, self.shuffle_endpoint)
        self.coordinator.heard(COORDINATOR)     # start counting silence from now
        self._connect()
        # registered first: the coordinator's answer (and first task) is on its way while
        # the executors are forked from the warm fork server, a few milliseconds each
        self.slots.start_executors()
        try:
            while not self.stopping:
                self.step()
        finally:
            self._teardown()
        log.info("worker=%s: done, quitting", self.worker_id)

    def step(self) -> None:
        """One turn: wait for a message *or* an executor's pipe (a result, or a death), at
        most until the next heartbeat is due; then act on everything that happened."""
        assert self.dealer is not None
        channels, ready = poll_with_files([self.dealer, self.sub], self.slots.busy(),
                                          self._wait_s())
        for channel in channels:
            self._drain(channel)
        self._settle(self.slots.collect(ready))
        if self.unhealthy_until and time.monotonic() >= self.unhealthy_until:
            self._request_work()                # the pause is over: check the disk, ask again
        if self.beat.due():
            self.pub.send(Heartbeat(self.worker_id, self.beat.next_seq(),
                                    len(self.slots.attempts()), self.slots.progress(),
                                    self.token))
        self._check_coordinator()
        self._check_shuffle()
        self._prune_logs()

    def _prune_logs(self) -> None:
        """Apply ``[retention]`` to the attempt logs every ``every_s`` (and as a job ends), so
        a worker that runs for months keeps a bounded amount of them."""
        if time.monotonic() < self.next_prune_s:
            return
        self.next_prune_s = time.monotonic() + self.config.retention.every_s
        running = frozenset(key.job_id for key in self.slots.attempts())
        gone = prune_logs(self.data_dir, self.config.log_retention(), time.time(), running)
        if gone:
            log.info("worker=%s deleted the logs of %d finished jobs (retention): %s",
                     self.worker_id, len(gone), ", ".join(gone[:5]) +
                     (", ..." if len(gone) > 5 else ""))

    def _wait_s(self) -> float:
        wait = self.beat.time_left_s()
        if self.slots.needs_memory_watch():
            wait = min(wait, MEMORY_WATCH_S)    # RSS is sampled, not signalled
        return wait

    def _drain(self, channel: Channel) -> None:
        """Every message already waiting, so a burst of assignments starts in one turn."""
        for _ in range(DRAIN_PER_STEP):
            received = channel.recv()
            if received is not None:
                self.coordinator.heard(COORDINATOR)
                self._handle(received[1], received[2])
            # a message may make us reconnect, which closes this channel's socket
            if channel.sock.closed or not channel.has_message():
                return

    def _check_shuffle(self) -> None:
        """A worker that cannot serve its map outputs any more only makes reducers fail:
        quit (with an error status, for a supervisor to restart it) and let the
        coordinator re-run what it held."""
        if not self.shuffle.is_alive() and not self.stopping:
            log.error("worker=%s: the shuffle service stopped; exiting", self.worker_id)
            self.stopping = self.failed = True

    def _teardown(self) -> None:
        self.slots.close()
        self.shuffle.stop()
        for channel in (self.dealer, self.pub, self.sub):
            if channel is not None:
                channel.close()

    # -- coordinator connection ------------------------------------------------------------
    def _connect(self) -> None:
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
        self._connected_at = time.monotonic()
        self.retry_register_at = 0.0
        # the answer may never come (it went to another connection that had claimed our id
        # on the ROUTER, or was lost): unanswered within a liveness window, register again
        self.confirm_by = self._connected_at + self.coordinator.timeout_s

    @property
    def registered(self) -> bool:
        """Whether our last Register was answered with Registered."""
        return self.answered_s > self._connected_at

    def _check_coordinator(self) -> None:
        age = self.coordinator.age_s(COORDINATOR)
        give_up = self.config.worker.give_up_after_s
        if give_up > 0 and age > give_up:
            log.error("worker=%s: coordinator unreachable for %.1fs ([worker] give_up_after_s "
                      "= %g), exiting", self.worker_id, age, give_up)
            self.stopping = True
        elif self.confirm_by and time.monotonic() > self.confirm_by and \
                not self.coordinator.expired():         # (silence has its own backoff)
            log.warning("worker=%s: no answer to our registration; registering again",
                        self.worker_id)
            self._connect()         # and again each liveness window until one is answered
        elif (self.coordinator.expired()
              and time.monotonic() - self._connected_at > self.backoff_s):
            # Paranoid Pirate: a fresh socket, and exponentially longer waits between tries
            self._back_off()
            log.warning("worker=%s: coordinator at %s silent for %.1fs, registering again "
                        "(next try in %.1fs at most)", self.worker_id,
                        self.config.endpoint("control_port"), age, self.backoff_s)
            self._connect()
        elif self.retry_register_at and time.monotonic() >= self.retry_register_at:
            self._connect()                 # a refused registration, tried again

    def _back_off(self) -> None:
        """Wait twice as long before the next try, up to ``reconnect_backoff_max_s``."""
        self.backoff_s = min(self.backoff_s * 2,
                             max(self.config.worker.reconnect_backoff_max_s,
                                 self.config.heartbeat.interval_s))

    def _free(self) -> int:
        return self.slots.free() if self._healthy() else 0       # 0: "nothing for me now"

    def _request_work(self) -> None:
        self._send(RequestTask(self.worker_id, self._free()))

    # -- messages --------------------------------------------------------------------------
    def _handle(self, msg: Message, blobs: list[bytes]) -> None:
        if isinstance(msg, Heartbeat):
            self._coordinator_beat(msg)
        elif isinstance(msg, Registered):
            self.answered_s, self.confirm_by = time.monotonic(), 0.0
            if self.backoff_s > self.config.heartbeat.interval_s:
                log.info("worker=%s: registered with the coordinator again", self.worker_id)
            self.backoff_s = self.config.heartbeat.interval_s
            for job_id in msg.forget:
                self._job_ended(job_id)
            self._request_work()
        elif isinstance(msg, AssignTask):
            self._start(msg, blobs)
        elif isinstance(msg, KillTask):
            self._kill(msg.attempt)
        elif isinstance(msg, ShrinkAttempt):
            self._shrink(msg)
        elif isinstance(msg, JobEnded):
            self._job_ended(msg.job_id)
        elif isinstance(msg, Shutdown):
            log.info("worker=%s: shutdown requested: %s", self.worker_id, msg.reason)
            self.stopping = True
        elif isinstance(msg, RegisterAgain):
            if msg.worker_id == self.worker_id:     # published to every worker
                self._register_again(msg.reason)
        elif isinstance(msg, ErrorReply):
            self._refused(msg.message)

    def _register_again(self, reason: str) -> None:
        """Told so (we were declared dead, or another connection claimed our id): once;
        not while our own registration is on its way or was refused (then the invitation
        is for the registered process of our id, not us), unless it went unanswered."""
        unanswered_s = self.config.heartbeat.interval_s * self.config.heartbeat.liveness
        if not self.registered and time.monotonic() - self._connected_at < unanswered_s:
            return
        log.warning("worker=%s: the coordinator asks us to register again (%s); "
                    "registering again", self.worker_id, reason)
        self._connect()

    def _refused(self, message: str) -> None:
        """An error answer: to our registration (another live process holds our id), try
        again after the backoff; to anything else (the coordinator lost us), register."""
        self.confirm_by = 0.0               # an answer: no "unanswered" retry on top
        if self.registered:
            log.warning("worker=%s: coordinator says %s; registering again", self.worker_id,
                        message)
            self._connect()
            return
        self._back_off()
        log.warning("worker=%s: coordinator says %s; trying again in %.1fs", self.worker_id,
                    message, self.backoff_s)
        self.retry_register_at = time.monotonic() + self.backoff_s

    def _job_ended(self, job_id: str) -> None:
        """Stop the job's attempts, recycle its executors and free its disk space."""
        for key in self.slots.job_ended(job_id):
            log.info("worker=%s killed %s", self.worker_id, key)
        self.shuffle.withdraw(job_id)
        purge_job(self.data_dir, job_id)
        self.next_prune_s = 0.0             # its logs now count against the retention

    def _coordinator_beat(self, beat: Heartbeat) -> None:
        """Beats are numbered from 1 by each coordinator process: a number that goes back
        means the coordinator restarted, which has never heard of us: register again now,
        unless we already did since the old one's last beat (it fell silent first): that
        registration went to the new one, so wait for its answer, not register twice."""
        now = time.monotonic()
        if beat.seq <= self.coordinator_seq and self._connected_at > self.last_beat_s:
            if not self.registered:
                self.confirm_by = now + self.coordinator.timeout_s
        elif beat.seq <= self.coordinator_seq:
            log.warning("worker=%s: coordinator restarted (beat %d after %d); registering "
                        "again", self.worker_id, beat.seq, self.coordinator_seq)
            self._connect()
        self.coordinator_seq, self.last_beat_s = beat.seq, now

    def _start(self, msg: AssignTask, blobs: list[bytes]) -> None:
        key = msg.attempt
        # where this worker keeps the job's data: the coordinator cannot know
        spec = dataclasses.replace(msg.spec,
                                   work_dir=layout.job_work_dir(self.data_dir, key.job_id))
        if isinstance(spec, MapTaskSpec) and spec.reuse:    # --reuse: this host's cache
            spec = with_reuse_cache(spec, self.config)
        log.debug("worker=%s %s: queued", self.worker_id, key)
        self.slots.add(key, spec, layout.attempt_log_path(self.data_dir, *key),
                       blobs[0] if msg.has_code and blobs else None)
        self._settle(self.slots.fill())

    def _kill(self, key: AttemptId) -> None:
        if self.slots.kill(key):
            log.info("worker=%s killed %s", self.worker_id, key)
            self._settle(self.slots.fill())
            self._request_work()

    def _shrink(self, msg: ShrinkAttempt) -> None:
        """The coordinator wants to cut a running map's remainder: its task process
        decides (``Slots.shrink``); the answer goes back on the control connection, ahead
        of the attempt's own report."""
        refusal, final = self.slots.shrink(msg.attempt, msg.keep)
        log.info("worker=%s %s: cut at byte %d %s", self.worker_id, msg.attempt, msg.keep,
                 f"refused: {refusal}" if refusal else "accepted")
        self._send(ShrinkAnswer(self.worker_id, msg.attempt, msg.keep, not refusal, refusal,
                                final))

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
                self._mark_unhealthy(error)
            self._report_failure(done.key, error, outcome.traceback, outcome.lost_map,
                                 outcome.fatal, outcome.input_error)

    def _mark_unhealthy(self, reason: str) -> None:
        """Stop taking tasks rather than fail every one of them; retry after a pause."""
        pause = self.config.worker.unhealthy_pause_s
        log.error("worker=%s unhealthy, taking no tasks for %.0fs: %s", self.worker_id,
                  pause, reason)
        self.unhealthy_until = time.monotonic() + pause

    def _healthy(self) -> bool:
        if time.monotonic() < self.unhealthy_until:
            return False
        if self.unhealthy_until:              # the pause is over: is the disk usable again?
            if not _disk_writable(self.data_dir):
                self.unhealthy_until = time.monotonic() + self.config.worker.unhealthy_pause_s
                return False
            self.unhealthy_until = 0.0
            log.info("worker=%s healthy again", self.worker_id)
        return True

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
