"""The coordinator's I/O shell: sockets in, events to the state machine, commands out.

Sockets (ZeroMQ guide shapes): a ROUTER that workers (DEALER) and clients talk to; a PUB
for the coordinator's heartbeats; a SUB that workers' PUB sockets connect to for theirs.
One poll loop with a finite timeout, like the guide's majordomo broker: read, turn each
message into an event for ``CoordinatorState.handle``, carry out the commands it returns
(``effects.py``), beat, expire silent workers. The state is read only through
``views.py``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from zmr.config import ClusterConfig, check_hosts, curve_for
from zmr.coordinator import history, views
from zmr.coordinator.admission import Admission
from zmr.coordinator.commands import Send
from zmr.coordinator.departures import Departures
from zmr.coordinator.effects import Effects
from zmr.coordinator.event_recorder import EventRecorder
from zmr.coordinator.journal import Journal
from zmr.coordinator.model import Job
from zmr.coordinator.parts import bound_sockets, make_state
from zmr.coordinator.pipeline_records import submitted_steps
from zmr.coordinator.pipelines import PipelineJob
from zmr.coordinator.stimuli import (
    AttemptFailed,
    AttemptSucceeded,
    HistoryPruned,
    JobCancelled,
    JobSubmitted,
    PipelineSubmitted,
    ProgressReported,
    Restored,
    ShrinkAnswered,
    TaskRequested,
    Tick,
    WorkerExpired,
    WorkerRegistered,
)
from zmr.core.errors import ConfigError, ZmrError, refused_as
from zmr.core.process import worth_logging
from zmr.dashboard.app import make_route
from zmr.dashboard.snapshot import LoopQueries, SnapshotBox
from zmr.protocol.messages import (
    Ack,
    CancelJob,
    ErrorReply,
    Heartbeat,
    JobAccepted,
    LogsReply,
    LogsRequest,
    Message,
    Register,
    Registered,
    RegisterAgain,
    RequestTask,
    ShrinkAnswer,
    Shutdown,
    ShutdownCluster,
    StatusReply,
    StatusRequest,
    SubmitJob,
    SubmitPipeline,
    TaskDone,
    TaskFailed,
)
from zmr.storage import commit, output_safety
from zmr.storage.event_log import EventLog
from zmr.transport.heartbeat import Beat, Liveness
from zmr.transport.http import HttpListener
from zmr.transport.security import COORDINATOR_KEY
from zmr.transport.sockets import Channel, PeerGone, bound_endpoint, is_tcp_endpoint, poll

log = logging.getLogger("zmr.coordinator")
#: The last events of a job the dashboard's job page shows.
EVENTS_SHOWN = 500
COORDINATOR_ID = "coordinator"
#: Messages handled per socket per turn of the loop before timers are looked at again.
DRAIN_PER_STEP = 256
#: How an output refusal names the coordinator's own working directory (not the client's).
COORDINATOR_DIR = "coordinator's working directory"


class CoordinatorServer:
    """Runs the coordinator until told to stop."""

    def __init__(self, config: ClusterConfig, clock: Callable[[], float] = time.time,
                 owner_token: str = ""):
        # wall-clock time: journaled timestamps must mean the same after a restart
        self.owner_token = owner_token   # set by the runner that started it (embedded)
        interval = config.heartbeat.interval_s
        self.clock = clock
        check_hosts(config, {"[coordinator] host": config.coordinator.host})
        curve = curve_for(config, COORDINATOR_KEY)
        self.router, self.pub, self.sub = bound_sockets(config, curve)
        self.journal = Journal(config.coordinator.state_dir)
        self.state = make_state(config, self.journal.incarnation)
        self.next_tick_s = clock()
        self.retention = config.history_retention()
        self.retention_every_s = config.retention.every_s
        self.next_prune_s = clock()
        self.liveness = Liveness(interval, config.heartbeat.liveness, clock)
        self.admission = Admission(self.liveness, interval, clock)
        self.beat = Beat(interval, clock)
        self.stopping = False
        self.refused = 0                # requests answered with an error
        self.warned_s: dict[str, float] = {}    # job id -> when "no worker" was last logged
        self.recorder = EventRecorder(EventLog(config.coordinator.state_dir))
        self.effects = Effects(self.state, self.journal, self._send, self.pub.send, clock,
                               self.recorder)
        self._restore()
        self.snapshots = SnapshotBox(self.snapshot)
        self.departures = Departures()          # lost workers, for the dashboard
        self.queries = LoopQueries(self.answer_query)     # the dashboard's task logs
        self.dashboard = self._start_dashboard(config)
        # each handler takes the message type it is registered for
        self.handlers: dict[type[Message], Callable[[bytes, Any, list[bytes]], None]] = {
            Register: self.handle_register, RequestTask: self.handle_request,
            TaskDone: self.handle_done, TaskFailed: self.handle_failed,
            ShrinkAnswer: self.handle_shrink_answer,
            SubmitJob: self.handle_submit, SubmitPipeline: self.handle_submit_pipeline,
            StatusRequest: self.handle_status,
            CancelJob: self.handle_cancel, ShutdownCluster: self.handle_stop,
            LogsRequest: self.handle_logs,
        }

    def _restore(self) -> None:
        restored, pipelines = self.journal.load(), self.journal.load_pipelines()
        if restored or pipelines:
            self.effects.feed(Restored(self.clock(), tuple(restored), tuple(pipelines)))
            jobs: list[Job | PipelineJob] = [*restored, *pipelines]
            live = [j.job_id for j in jobs if j.state.value in ("QUEUED", "RUNNING")]
            log.info("restored %d jobs from %s; resuming %s", len(restored), self.journal.path,
                     ", ".join(live) or "none")

    # -- loop ------------------------------------------------------------------------------
    def serve(self) -> None:
        log.info("coordinator listening on %s", bound_endpoint(self.router.sock))
        try:
            while not self.stopping:
                self.step(timeout_s=min(self.beat.time_left_s(), 0.2))
            self._shutdown_workers("cluster stopping")
        finally:
            if self.dashboard is not None:
                self.dashboard.close()
            if self.effects.unsaved:
                self.effects.persist()
            self.journal.close()
            self.recorder.close()
            self.router.close(linger_s=1.0)    # let the Shutdown messages leave
            self.pub.close()
            self.sub.close()

    def step(self, timeout_s: float) -> None:
        for channel in poll([self.router, self.sub], timeout_s):
            for _ in range(DRAIN_PER_STEP):      # a burst is handled in one turn of the loop
                received = channel.recv()
                if received is not None:
                    self._dispatch(channel, *received)
                    # heartbeats alone change nothing the journal records
                    self.effects.unsaved |= channel is self.router
                if not channel.has_message():
                    break
        if self.beat.due():
            self.pub.send(Heartbeat(COORDINATOR_ID, self.beat.next_seq(),
                                    load=len(views.worker_ids(self.state))))
        self._expire_workers()
        if self.clock() >= self.next_tick_s:        # timeouts and stragglers, twice a second
            self.next_tick_s = self.clock() + 0.5
            self.effects.feed(Tick(self.clock()))
            self.effects.unsaved = True
            self._warn_workerless()
        self.effects.persist_if_due()
        if self.clock() >= self.next_prune_s:
            self.next_prune_s = self.clock() + self.retention_every_s
            self.prune_history()
        self.snapshots.refresh()
        self.queries.serve()

    def prune_history(self) -> None:
        """Forget the finished jobs past ``[retention]``'s history limits (memory, status,
        journal rows), oldest first; the newest job and live jobs are always kept."""
        forget = history.to_prune(self.state, self.journal.log_bytes, self.retention,
                                  self.clock())
        if forget:
            log.info("forgetting %d finished jobs (retention): %s", len(forget),
                     ", ".join(forget[:5]) + (", ..." if len(forget) > 5 else ""))
            self.effects.feed(HistoryPruned(self.clock(), tuple(forget)))

    def _expire_workers(self) -> None:
        for worker_id in self.liveness.expired():
            log.warning("worker=%s missed heartbeats for %.1fs: declared dead", worker_id,
                        self.liveness.timeout_s)
            self._note_lost(worker_id, f"missed heartbeats for {self.liveness.timeout_s:.1f}"
                                       "s: declared dead")
            self.liveness.forget(worker_id)
            self.admission.declared_dead(worker_id)
            self.effects.feed(WorkerExpired(self.clock(), worker_id))
            self.effects.unsaved = True

    def _warn_workerless(self) -> None:
        """Say so, once per ``no_worker_warning_s``, when jobs wait with no worker at all:
        a cluster whose workers never came back must not look merely slow."""
        now, every = self.clock(), self.state.no_worker_warning_s
        waiting = views.workerless_jobs(self.state, now)
        if not waiting and self.warned_s:
            log.info("workers registered again: jobs resume")
        for job_id, waited in waiting:
            if now - self.warned_s.get(job_id, 0.0) >= every:
                self.warned_s[job_id] = now
                log.warning("job=%s: no live worker for %.0fs ([coordinator] "
                            "no_worker_warning_s = %g): start workers (python -m zmr.worker "
                            "CONFIG) or check that they reach %s", job_id, waited, every,
                            bound_endpoint(self.router.sock))
        if not waiting:
            self.warned_s = {}

    def _send(self, command: Send) -> bool:
        """Deliver a machine's ``Send``; False if the worker's connection is gone."""
        try:
            self.router.send(command.msg, *command.blobs, to=command.peer.encode())
        except PeerGone:
            self._note_lost(command.peer, "its connection was gone: declared dead")
            self.liveness.forget(command.peer)
            self.admission.declared_dead(command.peer)
            return False
        return True

    def _reply(self, peer: bytes, msg: Message) -> None:
        try:
            self.router.send(msg, to=peer)
        except PeerGone:
            log.info("client %r left before its reply", peer[:32])

    # -- dashboard -------------------------------------------------------------------------
    def _start_dashboard(self, config: ClusterConfig) -> HttpListener | None:
        port = config.dashboard.port
        if port < 0:
            return None
        host = config.dashboard.host
        try:
            listener = HttpListener(host, port, make_route(self.snapshots.get,
                                                           self.queries.ask))
        except OSError as exc:
            raise ConfigError(f"dashboard.host/port {host}:{port}: cannot listen: {exc} "
                              "(choose another port, or -1 to turn the dashboard off)") from exc
        host, bound = listener.address
        log.info("dashboard on http://%s:%d/", host, bound)
        return listener

    def snapshot(self) -> dict[str, Any]:
        """Everything the dashboard shows, as plain data (built on the loop's thread)."""
        return dict(views.snapshot(self.state, self.clock(), self.liveness.age_s),
                    departed=self.departures.describe())

    def answer_query(self, what: str, args: dict[str, str]) -> Any:
        """The dashboard's questions beyond the snapshot (on the loop's thread)."""
        if what == "events":
            return self.recorder.timeline(args["job_id"], EVENTS_SHOWN)
        if what != "logs":
            raise ConfigError(f"no such question: {what[:40]}")
        return self.attempt_logs(args["job_id"], args.get("task", ""))

    def _note_lost(self, worker_id: str, why: str) -> None:
        """Before the machine forgets it: the dashboard lists lost workers."""
        if views.knows_worker(self.state, worker_id):
            self.departures.lost(views.worker_description(self.state, worker_id),
                                 worker_id, self.clock(), why)

    # -- messages --------------------------------------------------------------------------
    def _dispatch(self, channel: Channel, peer: bytes, msg: Message, blobs: list[bytes]) -> None:
        if channel is self.sub:
            if isinstance(msg, Heartbeat):
                self._heard_beat(msg)
            return
        worker_id = getattr(msg, "worker_id", None)
        if worker_id is not None and peer != worker_id.encode():
            # a worker's socket identity is its id: anything else speaks for another worker
            self._drop(msg, peer, f"sent for worker {worker_id[:64]!r}")
            return
        if worker_id is not None and not isinstance(msg, Register):
            if not views.knows_worker(self.state, worker_id):
                self._reply(peer, ErrorReply("unknown worker: register first"))
                return
            self.liveness.heard(worker_id)       # any traffic proves liveness
        handler = self.handlers.get(type(msg))
        if handler is None:
            self._drop(msg, peer, "not a request")
            return
        try:
            handler(peer, msg, blobs)
        except ZmrError as exc:
            self.refused += 1
            if worth_logging(self.refused, first=100):    # the client gets every reason
                log.warning("request %s refused (%d so far): %s", type(msg).__name__,
                            self.refused, exc)
            self._reply(peer, ErrorReply(str(exc), refused_as(exc)))

    def _heard_beat(self, beat: Heartbeat) -> None:
        token = views.worker_token(self.state, beat.sender)
        if token is not None:
            if token == beat.token:     # not another process beating under its id
                self.liveness.heard(beat.sender, beat.seq)
                self.effects.feed(ProgressReported(self.clock(), beat))
        elif self.admission.should_ask(beat.sender):
            # declared dead, yet beating (it was frozen or cut off), or registered with
            # our previous process: it may have nothing else to send, so it would never
            # learn it must register again
            self.pub.send(RegisterAgain(beat.sender, "unknown to the coordinator: "
                                        "declared dead, or the coordinator restarted"))
            log.info("worker=%s: heartbeats from a worker not registered; asked it to "
                     "register again", beat.sender[:64])

    def _drop(self, msg: Message, peer: bytes, why: str) -> None:
        """Ignore a well-formed message that is not ours to act on (logged, rate-limited:
        a hostile peer can send millions)."""
        self.router.dropped += 1
        if worth_logging(self.router.dropped):
            log.warning("dropped %s from %r: %s (%d dropped so far)", type(msg).__name__,
                        peer[:32], why, self.router.dropped)

    # -- from workers ----------------------------------------------------------------------
    def handle_register(self, peer: bytes, msg: Register, blobs: list[bytes]) -> None:
        if not is_tcp_endpoint(msg.shuffle_endpoint):
            raise ZmrError(f"worker {msg.worker_id}: shuffle endpoint "
                           f"{msg.shuffle_endpoint[:100]!r} is not tcp://HOST:PORT")
        refusal = self.admission.refusal(self.state, msg)
        if refusal:
            # its connection took over the live worker's route: that one reconnects
            if self.admission.should_reclaim(msg.worker_id):
                self.pub.send(RegisterAgain(msg.worker_id, "another process claimed its id"))
            raise ZmrError(refusal)         # logged (rate-limited) and answered as an error
        log.info("worker=%s registered: host=%s slots=%d shuffle=%s", msg.worker_id, msg.host,
                 msg.slots, msg.shuffle_endpoint)
        commands = self.effects.handle(WorkerRegistered(self.clock(), msg))
        self.liveness.heard(msg.worker_id)
        self.admission.registered(msg.worker_id)
        self.departures.back(msg.worker_id, self.clock())
        self._reply(peer, Registered(msg.worker_id,
                                     views.jobs_to_forget(self.state, msg.jobs)))
        self.effects.run(commands)

    def handle_request(self, peer: bytes, msg: RequestTask, blobs: list[bytes]) -> None:
        self.effects.feed(TaskRequested(self.clock(), msg))

    def handle_done(self, peer: bytes, msg: TaskDone, blobs: list[bytes]) -> None:
        self._save_log(msg, "succeeded")
        self.effects.feed(AttemptSucceeded(self.clock(), msg))

    def handle_shrink_answer(self, peer: bytes, msg: ShrinkAnswer, blobs: list[bytes]) -> None:
        self.effects.feed(ShrinkAnswered(self.clock(), msg))

    def handle_failed(self, peer: bytes, msg: TaskFailed, blobs: list[bytes]) -> None:
        self._save_log(msg, "failed")
        log.warning("%s failed on worker=%s: %s", msg.attempt, msg.worker_id, msg.error)
        self.effects.feed(AttemptFailed(self.clock(), msg))

    def _save_log(self, msg: TaskDone | TaskFailed, outcome: str) -> None:
        """Keep an attempt's log tail, only for attempts we know: a stale or forged report
        must not grow the journal."""
        if views.is_running_attempt(self.state, msg.attempt, msg.worker_id):
            self.journal.save_log(msg.attempt, msg.worker_id, outcome, msg.log)

    # -- from clients ----------------------------------------------------------------------
    def handle_submit(self, peer: bytes, msg: SubmitJob, blobs: list[bytes]) -> None:
        if len(blobs) != 1:
            raise ZmrError("a job submission carries its code as exactly one blob")
        plan = msg.plan.check()          # its shape was checked by the wire: its settings
        problem = views.unplaceable(self.state, plan)
        if problem:
            raise ZmrError(problem)
        # the client checked too, but any client may submit: nothing of a user's is deleted
        output_safety.check_plans([plan], here=COORDINATOR_DIR)
        commit.prepare_output(plan.output, msg.overwrite)
        job_id = views.next_job_id(self.state)
        commands = self.effects.handle(JobSubmitted(self.clock(), job_id, msg.name, plan,
                                                  blobs[0]))
        log.info("job=%s submitted: %s, %d maps, %d reduces -> %s", job_id, msg.name,
                 plan.num_maps, plan.num_reducers, plan.output)
        self.effects.persist()
        self._reply(peer, JobAccepted(job_id))
        self.effects.run(commands)

    def handle_submit_pipeline(self, peer: bytes, msg: SubmitPipeline,
                               blobs: list[bytes]) -> None:
        steps, codes = submitted_steps(msg, blobs)
        problem = views.unplaceable(self.state, *(step.plan for step in steps))
        if problem:
            raise ZmrError(problem)
        output = steps[-1].plan.output
        output_safety.check_plans([step.plan for step in steps], here=COORDINATOR_DIR)
        commit.clear_output(output, msg.overwrite)
        commit.prepare_output(steps[0].plan.output, overwrite=True)
        job_id = views.next_job_id(self.state)
        commands = self.effects.handle(PipelineSubmitted(self.clock(), job_id, msg.name,
                                                       steps, codes))
        log.info("job=%s submitted: %s, %d steps, step 1 of %d maps -> %s", job_id,
                 msg.name, len(steps), steps[0].plan.num_maps, output)
        self.effects.persist()
        self._reply(peer, JobAccepted(job_id))
        self.effects.run(commands)

    def handle_status(self, peer: bytes, msg: StatusRequest, blobs: list[bytes]) -> None:
        now = self.clock()
        if msg.job_id and not views.knows_job(self.state, msg.job_id):
            raise ConfigError(history.unknown_job(self.state, msg.job_id))
        workers = views.describe_workers(self.state, self.liveness.age_s)
        if self.effects.unsaved:
            self.effects.persist()   # what a client is told survives a coordinator restart
        described = views.describe_jobs(self.state, now, msg.job_id, msg.brief)
        self._reply(peer, StatusReply(described, workers, os.getpid()))

    def handle_logs(self, peer: bytes, msg: LogsRequest, blobs: list[bytes]) -> None:
        self._reply(peer, LogsReply(self.attempt_logs(msg.job_id, msg.task)))

    def attempt_logs(self, job_id: str, task: str) -> list[dict[str, Any]]:
        """What a job's attempts printed (``task``: map, reduce, map-N, reduce-N or all)."""
        if not views.knows_job(self.state, job_id):
            raise ConfigError(history.unknown_job(self.state, job_id))
        kind, _, index = task.partition("-")
        if kind not in ("", "map", "reduce") or (index and not index.isdigit()):
            raise ConfigError(f"--task {task[:40]!r}: expected map, reduce, map-N or "
                              "reduce-N")
        # a multi-step job's attempts ran in its steps' jobs, each named in its entries
        return [{**entry, "job_id": step} for step in views.log_job_ids(self.state, job_id)
                for entry in self.journal.logs(step, kind, int(index) if index else None)]

    def handle_cancel(self, peer: bytes, msg: CancelJob, blobs: list[bytes]) -> None:
        if not views.knows_job(self.state, msg.job_id):
            raise ConfigError(history.unknown_job(self.state, msg.job_id))
        self.effects.feed(JobCancelled(self.clock(), msg.job_id))
        self.effects.persist()
        self._reply(peer, Ack(f"{msg.job_id} cancelled"))

    def handle_stop(self, peer: bytes, msg: ShutdownCluster, blobs: list[bytes]) -> None:
        if msg.owner_token and msg.owner_token != self.owner_token:
            # a runner stopping the embedded cluster it started, sent here by mistake
            raise ZmrError(f"shutdown ({msg.reason[:100]}) refused: it is meant for a "
                           "cluster another runner started, not this coordinator")
        log.info("stopping: %s", msg.reason)
        self.stopping = True
        self._reply(peer, Ack("stopping"))

    def _shutdown_workers(self, reason: str) -> None:
        for worker_id in views.worker_ids(self.state):
            try:
                self.router.send(Shutdown(reason), to=worker_id.encode())
            except PeerGone:
                pass
