"""The Python client of a zmr cluster: submit jobs, follow them, cancel them.

    client = zmr.Client("conf/cluster.toml")
    job = client.submit("jobs/wordcount.py", ["data/"], "out/wc", reducers=4)
    job.wait()                 # raises JobFailedError with the last traceback on failure
    job.counters()["zmr"]["MAP_INPUT_RECORDS"]

The job module is loaded and validated here, before anything is sent, and inputs are
planned here too (Hadoop's JobSubmitter computes splits on the client as well).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from zmr.config import ClusterConfig, curve_for, load_config
from zmr.core.errors import (
    ClusterUnreachableError,
    ConfigError,
    JobCancelledError,
    JobFailedError,
    JobInputError,
    ZmrError,
    refusal,
)
from zmr.core.plan import JobPlan, StepPlan
from zmr.core.progress import ProgressDisplay
from zmr.job.api import JobSpec, Pipeline
from zmr.job.inputs import input_args
from zmr.protocol.messages import (
    Ack,
    CancelJob,
    ErrorReply,
    JobAccepted,
    LogsReply,
    LogsRequest,
    Message,
    ShutdownCluster,
    StatusReply,
    StatusRequest,
    SubmitJob,
    SubmitPipeline,
)
from zmr.settings.job import JobOptions
from zmr.storage.layout import fresh_output
from zmr.transport.sockets import DEALER, Channel, control_frame_bytes, make_socket, poll

if TYPE_CHECKING:
    from zmr.job.functions import Job
    from zmr.job.result import JobResult

# Loading, planning and shipping a job (pyarrow, numpy, cloudpickle) are imported by the
# methods that submit one, so ``zmr status``, ``zmr cancel`` and ``import zmr`` skip them.

FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
#: The first pause of :meth:`Client.wait` between status requests; it grows by half up
#: to poll_s, so a job is seen done at most half its run time late.
FIRST_POLL_S = 0.005
#: ``input=`` of submit and run: a path, a list of them, or (a job with ``INPUTS``) none or
#: ``{name: path(s)}``; paths may be path-like objects
Inputs = Any
Reply = TypeVar("Reply", bound=Message)


class Client:
    """Talks to the coordinator named by a config file (or ``ZMR_CONFIG``)."""

    def __init__(self, config: ClusterConfig | str | None = None,
                 timeout_s: float | None = None) -> None:
        if not isinstance(config, ClusterConfig):
            config = load_config(config or os.environ.get("ZMR_CONFIG"))
        self.config = config
        # per request: [client] timeout_s unless told otherwise
        self.timeout_s = config.client.timeout_s if timeout_s is None else timeout_s
        self._channel: Channel | None = None
        #: slots known to be coming (an embedded cluster's size, its workers registered
        #: or not): jobs are planned for at least this many (:meth:`parallelism`)
        self.planned_slots = 0

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def request(self, msg: Message, *blobs: bytes) -> Message:
        """Send one request and wait for its reply; an ErrorReply is raised as the error it
        names (an OutputError for an output among the inputs), else as a ZmrError."""
        channel = self._channel or Channel(make_socket(
            DEALER, connect=self.config.endpoint("control_port"),
            curve=curve_for(self.config, self.config.security.client_key)), "client")
        self._channel = channel
        try:
            reply = self._reply(channel, msg, *blobs)
        except BaseException:
            self.close()  # interrupted (Ctrl-C): the reply must not answer the next request
            raise
        if reply is not None:
            if isinstance(reply, ErrorReply):
                raise refusal(reply.message, reply.error)
            return reply
        self.close()      # a fresh socket next time: the old one may hold a stale reply
        hint = ("is it running, and is this client's key listed in its authorized/ keys?"
                if self.config.security.curve else "is it running?")
        raise ClusterUnreachableError(
            f"coordinator at {self.config.endpoint('control_port')} did not "
                       f"answer within {self.timeout_s:g}s ({hint})")

    def _reply(self, channel: Channel, msg: Message, *blobs: bytes) -> Message | None:
        """Send ``msg`` and wait for the answer, None after ``timeout_s``."""
        channel.send(msg, *blobs)
        deadline = time.monotonic() + self.timeout_s
        while poll([channel], max(0.0, deadline - time.monotonic())):
            received = channel.recv()
            if received is not None:
                return received[1]
        return None

    def expect(self, reply_type: type[Reply], msg: Message, *blobs: bytes) -> Reply:
        """``request``, refusing a well-formed reply of the wrong kind (never an assert on
        what a peer sent)."""
        reply = self.request(msg, *blobs)
        if not isinstance(reply, reply_type):
            raise ZmrError(f"coordinator answered {type(msg).__name__} with "
                           f"{type(reply).__name__}, expected {reply_type.__name__}")
        return reply

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, job: Job | None = None, input: Inputs | None = None,
               output: str | os.PathLike[str] | None = None, options: JobOptions | None = None,
               *, name: str | None = None, **settings: Any) -> JobHandle:
        """Validate the job, plan its splits on this machine and submit it; returns a
        :class:`JobHandle` at once.

        ``job`` is a job file's path (or bare name in ``jobs/``) or an imported job module;
        or leave it out and give the hooks as functions: ``mapper=``, ``reducer=``,
        ``combiner=`` (lambdas and closures too: they travel with cloudpickle). ``input`` is a
        path, glob or list of them (for a job with ``INPUTS``: none, or
        ``{name: path(s)}``); ``output`` a directory that must not exist (a fresh temporary
        one when None). Every other keyword is a job option (``reducers=4``,
        ``params={...}``, ``output_format="parquet"``, ``overwrite=True``, ...: the
        settings table, by their Python names) on top of ``options``. A multi-step job is
        submitted whole, as one job the coordinator steps through (it goes on if this
        client goes away); its statuses carry ``step`` and ``steps``."""
        from zmr.job.functions import job_and_options
        from zmr.job.loader import runnable
        from zmr.job.pipeline import plan_steps
        from zmr.tasks.sampling import plan_sorted_job

        spec, options = job_and_options(job, options, settings)
        spec = runnable(spec, options)
        inputs = input_args(_fspaths(input))
        output = fresh_output() if output is None else os.fspath(output)
        overwrite = bool(options.resolved().overwrite)
        slots = self.parallelism()
        if isinstance(spec, Pipeline):
            steps = plan_steps(spec, inputs, output, options, slots)
            return self.submit_steps(spec, steps, overwrite=overwrite, name=name)
        plan = plan_sorted_job(spec, inputs, output, options, slots)
        return self.submit_plan(spec, plan, overwrite=overwrite, name=name)

    def parallelism(self) -> int:
        """The slots a job submitted now is planned for (its default split size and
        NUM_REDUCERS follow them): the registered workers' slots, at least
        :attr:`planned_slots`; with no worker registered yet, one worker's slots as the
        config sets them (``worker.slots``, or the CPUs)."""
        live = sum(int(worker.get("slots", 0)) for worker in self.workers())
        return max(live, self.planned_slots) or self.config.worker_slots

    def run(self, job: Job | None = None, input: Inputs | None = None,
            output: str | os.PathLike[str] | None = None, options: JobOptions | None = None,
            *, name: str | None = None, progress: bool = True, timeout_s: float | None = None,
            **settings: Any) -> JobResult:
        """:meth:`submit` the job and wait for it, showing progress (a widget in Jupyter,
        bars on a terminal, plain lines in a log; ``progress=False``: none); returns its
        :class:`~zmr.JobResult`, or raises ``JobFailedError`` (with the failing task's
        traceback) or ``JobCancelledError``. Interrupted (Ctrl-C), it cancels the job."""
        handle = self.submit(job, input, output, options, name=name, **settings)
        try:
            return handle.result(timeout_s, progress=progress)
        except KeyboardInterrupt:
            handle.cancel_quietly()
            raise

    def submit_steps(self, pipeline: Pipeline, steps: list[StepPlan], *,
                     overwrite: bool = False, name: str | None = None) -> JobHandle:
        """Submit a multi-step job already loaded and planned (:func:`plan_steps`); its
        output is checked here first (:func:`check_job`), and again by the coordinator."""
        from zmr.job.shipping import pack_job
        from zmr.storage.output_safety import check_job

        check_job([step.plan for step in steps], pipeline.source, overwrite)
        limit = self.config.tasks.max_files_size
        codes = [pack_job(spec, step.plan.files, limit)
                 for spec, step in zip(pipeline.steps, steps)]
        reply = self.expect(JobAccepted, SubmitPipeline(
            name or pipeline.name, steps, [len(c) for c in codes], overwrite),
            _shippable(b"".join(codes), limit))
        return JobHandle(self, reply.job_id, steps[-1].plan.output)

    def submit_plan(self, spec: JobSpec, plan: JobPlan, *, overwrite: bool = False,
                    name: str | None = None) -> JobHandle:
        """Submit a job already loaded and planned (``submit`` does both first); its
        output is checked here first (:func:`check_job`), and again by the coordinator."""
        from zmr.job.shipping import pack_job
        from zmr.storage.output_safety import check_job

        check_job([plan], spec.source, overwrite)
        limit = self.config.tasks.max_files_size
        reply = self.expect(JobAccepted, SubmitJob(name or spec.name, plan, overwrite),
                            _shippable(pack_job(spec, plan.files, limit), limit))
        return JobHandle(self, reply.job_id, plan.output)

    def status(self, job_id: str = "") -> list[dict[str, Any]]:
        return self.expect(StatusReply, StatusRequest(job_id)).jobs

    def history(self) -> list[dict[str, Any]]:
        """Every job the coordinator has journaled, oldest first, without task lists."""
        return self.expect(StatusReply, StatusRequest("", brief=True)).jobs

    def logs(self, job_id: str, task: str = "") -> list[dict[str, Any]]:
        """What each reported attempt of the job printed (the tail of its log); ``task``
        narrows it to "map", "reduce", "map-N" or "reduce-N"."""
        return self.expect(LogsReply, LogsRequest(job_id, task)).attempts

    def job(self, job_id: str) -> dict[str, Any]:
        return self.status(job_id)[0]

    def workers(self) -> list[dict[str, Any]]:
        return self.expect(StatusReply, StatusRequest("", brief=True)).workers

    def cancel(self, job_id: str) -> None:
        self.expect(Ack, CancelJob(job_id))

    def shutdown_cluster(self, reason: str = "requested by client", owner_token: str = ""
                         ) -> None:
        """Stop the coordinator and its workers; with ``owner_token``, only a coordinator
        started with that token obeys (others answer with an error)."""
        self.expect(Ack, ShutdownCluster(reason, owner_token))

    def wait(self, job_id: str, timeout_s: float | None = None, poll_s: float = 0.05,
             on_progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Block until the job ends; returns its final status, or raises JobFailedError."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        # a short job is seen done within milliseconds; a long one is asked at poll_s
        pause_s = min(FIRST_POLL_S, poll_s)
        while True:
            # brief: a job of thousands of tasks is not described in full 20 times a second
            status = self.expect(StatusReply, StatusRequest(job_id, brief=True)).jobs[0]
            if status["state"] in FINAL_STATES:
                status = self.job(job_id)        # the final word, with every task
            if on_progress is not None:
                on_progress(status)
            if status["state"] in FINAL_STATES:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise ZmrError(f"{job_id} still {status['state']} after {timeout_s}s")
            time.sleep(pause_s)
            pause_s = min(pause_s * 1.5, poll_s)
        if status["state"] == "CANCELLED":
            raise JobCancelledError(f"{job_id} CANCELLED", status.get("error", ""))
        if status["state"] != "SUCCEEDED" and status.get("error_kind") == "input":
            raise JobInputError(f"{job_id} {status['state']}: {status['error']}")
        if status["state"] != "SUCCEEDED":
            raise JobFailedError(f"{job_id} {status['state']}", status.get("error", ""))
        return status


class JobHandle:
    """A submitted job, for notebooks and schedulers: ``status()``, ``progress()``,
    ``counters()``, ``wait()``, ``result()``, ``cancel()``, ``logs()``."""

    def __init__(self, client: Client, job_id: str, output: str) -> None:
        self.client = client
        self.job_id = job_id
        self.output = output

    def status(self) -> dict[str, Any]:
        return self.client.job(self.job_id)

    def progress(self) -> tuple[float, float]:
        """Fractions of the map phase (finished maps plus the share of their input running
        maps have read) and of reduce tasks done."""
        s = self.status()
        return (s["map_progress"],
                s["reduces_done"] / max(1, s["reduces_total"]))

    def counters(self) -> dict[str, dict[str, int]]:
        return self.status()["counters"]

    def wait(self, timeout_s: float | None = None,
             on_progress: Callable[[dict[str, Any]], None] | None = None,
             poll_s: float = 0.05) -> dict[str, Any]:
        return self.client.wait(self.job_id, timeout_s, poll_s, on_progress=on_progress)

    def cancel(self) -> None:
        """Ask the coordinator to cancel the job (its running attempts are killed, its
        output discarded); ``wait`` then raises ``JobCancelledError``."""
        self.client.cancel(self.job_id)

    def cancel_quietly(self) -> None:
        """Cancel a job whose wait was interrupted, without letting a second Ctrl-C or a
        failure here hide the first interruption."""
        try:
            self.client.timeout_s = min(self.client.timeout_s, 5.0)
            self.cancel()
        except (ZmrError, KeyboardInterrupt):
            pass

    def result(self, timeout_s: float | None = None, progress: bool = False) -> JobResult:
        """Wait for the job (showing progress if asked) and return its
        :class:`~zmr.JobResult`; raises as :meth:`wait` does."""
        from zmr.job.result import JobResult

        display = ProgressDisplay(quiet=not progress)
        try:
            status = self.wait(timeout_s, on_progress=display)
        finally:
            display.close()
        return JobResult.from_status(status, self.job_id, len(self.client.workers()),
                                     float(status.get("elapsed_s", 0.0)))

    def logs(self, task: str = "") -> list[dict[str, Any]]:
        return self.client.logs(self.job_id, task)

    def __repr__(self) -> str:
        return f"JobHandle({self.job_id!r}, output={self.output!r})"


def _fspaths(given: Any) -> Any:
    """``input=`` with path-like objects as text: one path, a list, or ``{name: path(s)}``."""
    if given is None or isinstance(given, (str, os.PathLike)):
        return None if given is None else os.fspath(given)
    if isinstance(given, dict):
        return {name: _fspaths(paths) for name, paths in given.items()}
    return [os.fspath(path) for path in given]


def _shippable(code: bytes, max_files_size: int) -> bytes:
    """The job's code, if the coordinator's control socket takes a frame that large (else
    libzmq would drop the connection and the submission would only time out)."""
    most = control_frame_bytes(max_files_size)
    if len(code) > most:
        raise ConfigError(f"the job's code and side files pack to {len(code):,} bytes, over "
                          f"the {most:,} a submission may carry (tasks.max_files_size = "
                          f"{max_files_size:,}, plus 16 MiB for the code)")
    return code
