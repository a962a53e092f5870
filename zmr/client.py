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
from typing import Any, TypeVar

from zmr.config import ClusterConfig, load_config
from zmr.errors import JobFailedError, ZmrError
from zmr.job.api import JobSpec
from zmr.job.loader import load_job, pack_job
from zmr.planning import JobPlan, plan_job
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
)
from zmr.transport.sockets import DEALER, Channel, make_socket, poll

FINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
Reply = TypeVar("Reply", bound=Message)


class Client:
    """Talks to the coordinator named by a config file (or ``ZMR_CONFIG``)."""

    def __init__(self, config: ClusterConfig | str | None = None,
                 timeout_s: float = 10.0) -> None:
        if not isinstance(config, ClusterConfig):
            config = load_config(config or os.environ.get("ZMR_CONFIG"))
        self.config = config
        self.timeout_s = timeout_s
        self._channel: Channel | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def request(self, msg: Message, *blobs: bytes) -> Message:
        """Send one request and wait for its reply; ErrorReply becomes a ZmrError."""
        channel = self._channel or Channel(make_socket(
            DEALER, connect=self.config.endpoint("control_port"),
            curve=self.config.curve(self.config["security", "client_key"])), "client")
        self._channel = channel
        channel.send(msg, *blobs)
        deadline = time.monotonic() + self.timeout_s
        while poll([channel], max(0.0, deadline - time.monotonic())):
            received = channel.recv()
            if received is None:
                continue
            reply = received[1]
            if isinstance(reply, ErrorReply):
                raise ZmrError(reply.message)
            return reply
        self.close()      # a fresh socket next time: the old one may hold a stale reply
        hint = ("is it running, and is this client's key listed in its authorized/ keys?"
                if self.config["security", "curve"] else "is it running?")
        raise ZmrError(f"coordinator at {self.config.endpoint('control_port')} did not "
                       f"answer within {self.timeout_s:g}s ({hint})")

    def expect(self, reply_type: type[Reply], msg: Message, *blobs: bytes) -> Reply:
        """``request``, refusing a well-formed reply of the wrong kind (never an assert on
        what a peer sent)."""
        reply = self.request(msg, *blobs)
        if not isinstance(reply, reply_type):
            raise ZmrError(f"coordinator answered {type(msg).__name__} with "
                           f"{type(reply).__name__}, expected {reply_type.__name__}")
        return reply

    # -- jobs ------------------------------------------------------------------------------
    def submit(self, job: str | JobSpec, inputs: list[str] | str, output: str, *,
               reducers: int | None = None, split_size: int | str | None = None,
               memory_budget: int | str | None = None, on_bad_utf8: str = "strict",
               overwrite: bool = False, name: str | None = None,
               compression: str | None = None,
               skip_bad_records: int | None = None,
               task_memory: int | str | None = None) -> JobHandle:
        """Validate the job, plan its splits and submit it; returns a handle."""
        spec = job if isinstance(job, JobSpec) else load_job(job)
        plan = plan_job(spec, [inputs] if isinstance(inputs, str) else list(inputs), output,
                        reducers=reducers, split_size=split_size, memory_budget=memory_budget,
                        on_bad_utf8=on_bad_utf8, compression=compression,
                        skip_bad_records=skip_bad_records,
                        task_memory=task_memory)
        return self.submit_plan(spec, plan, overwrite=overwrite, name=name)

    def submit_plan(self, spec: JobSpec, plan: JobPlan, *, overwrite: bool = False,
                    name: str | None = None) -> JobHandle:
        """Submit a job already loaded and planned (``submit`` does both first)."""
        reply = self.expect(JobAccepted, SubmitJob(name or spec.name, plan.to_dict(), overwrite),
                            pack_job(spec))
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

    def shutdown_cluster(self, reason: str = "requested by client") -> None:
        self.expect(Ack, ShutdownCluster(reason))

    def wait(self, job_id: str, timeout_s: float | None = None, poll_s: float = 0.05,
             on_progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Block until the job ends; returns its final status, or raises JobFailedError."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            status = self.job(job_id)
            if on_progress is not None:
                on_progress(status)
            if status["state"] in FINAL_STATES:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise ZmrError(f"{job_id} still {status['state']} after {timeout_s}s")
            time.sleep(poll_s)
        if status["state"] != "SUCCEEDED":
            raise JobFailedError(f"{job_id} {status['state']}", status.get("error", ""))
        return status


class JobHandle:
    """A submitted job: for notebooks and schedulers."""

    def __init__(self, client: Client, job_id: str, output: str) -> None:
        self.client = client
        self.job_id = job_id
        self.output = output

    def status(self) -> dict[str, Any]:
        return self.client.job(self.job_id)

    def progress(self) -> tuple[float, float]:
        """Fractions of map and reduce tasks done."""
        s = self.status()
        return (s["maps_done"] / max(1, s["maps_total"]),
                s["reduces_done"] / max(1, s["reduces_total"]))

    def counters(self) -> dict[str, dict[str, int]]:
        return self.status()["counters"]  # type: ignore[no-any-return]

    def wait(self, timeout_s: float | None = None,
             on_progress: Callable[[dict[str, Any]], None] | None = None,
             poll_s: float = 0.05) -> dict[str, Any]:
        return self.client.wait(self.job_id, timeout_s, poll_s, on_progress=on_progress)

    def cancel(self) -> None:
        self.client.cancel(self.job_id)

    def logs(self, task: str = "") -> list[dict[str, Any]]:
        return self.client.logs(self.job_id, task)

    def __repr__(self) -> str:
        return f"JobHandle({self.job_id!r}, output={self.output!r})"
