"""An embedded local cluster: a real coordinator and N real worker processes on loopback.

``zmr run`` uses it by default, and tests use it as their cluster fixture: the processes,
sockets and code paths are those of a standalone cluster, only the ports are picked free and
everything is torn down (no orphans) when the context ends.

It is its own cluster, whatever the shell says: the keys it writes in its config (ports,
hosts, state and data directories, security, and what its arguments set) are not
overridden by ``ZMR_<SECTION>_<KEY>`` variables exported for a standalone cluster, and its
stop request carries a token only its own coordinator knows, so it never stops another.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any, TextIO

from zmr.client import Client, JobHandle
from zmr.config import load_config, without_overrides, write_config
from zmr.core.errors import ZmrError
from zmr.core.process import die_with_parent
from zmr.job.result import JobResult
from zmr.protocol.messages import StatusReply, StatusRequest
from zmr.runners import forked
from zmr.runners.log_echo import LogEcho
from zmr.settings.cluster import SecuritySettings
from zmr.transport.sockets import free_port

if TYPE_CHECKING:
    #: A process of the cluster: a fresh interpreter, or forked from this one.
    Process = subprocess.Popen[bytes] | forked.ForkedProcess
PORT_KEYS = (("coordinator", "control_port"), ("coordinator", "heartbeat_port"),
             ("coordinator", "report_port"), ("dashboard", "port"))
#: Times start() picks fresh ports when one it picked was taken before it was bound.
PORT_TRIES = 5
#: Keys an embedded cluster always writes (besides its ports, directories and arguments),
#: so that a standalone cluster's ZMR_* variables cannot move it off loopback or give it
#: that cluster's keys: see "What an embedded cluster takes from the environment".
PINNED: dict[tuple[str, str], Any] = {
    ("coordinator", "host"): "127.0.0.1", ("dashboard", "host"): "127.0.0.1",
    ("worker", "shuffle_host"): "127.0.0.1", ("worker", "shuffle_ports"): "",
    ("worker", "advertise"): "",
    **{("security", f.name): f.default for f in dataclasses.fields(SecuritySettings)},
}


def cluster_slots(workers: int, slots: int = 1) -> int:
    """Task slots of ``workers`` workers of ``slots`` each (0: one per CPU, as a worker
    counts them)."""
    return workers * (slots or os.cpu_count() or 1)



class LocalCluster:
    """A cluster on this machine for notebooks, scripts and tests: a real coordinator and
    ``workers`` real worker processes on loopback, started by ``with`` (or ``start()``) and
    torn down, with their temporary files, when it ends (or by ``stop()``)::

        with zmr.LocalCluster(workers=2) as cluster:
            result = cluster.run(mapper=words, reducer=total, input="data/", output="out")
            handle = cluster.submit("jobs/wordcount.py", input="data/", output="out2")
            handle.wait()

    Jobs run one after another or side by side on the same processes, without restarting
    them (a driver loop pays start-up once). ``run`` and ``submit`` are those of
    :class:`~zmr.Client`; ``cluster.client`` is the client itself and ``config_path`` a
    config file other clients (``zmr status``) may use while it runs.

    ``slots`` is tasks per worker; the remaining arguments set the cluster keys of a
    standalone cluster's config (heartbeats, timeouts, attempts, and ``settings`` keyed by
    ``(section, key)``), for tests of failure handling. ``echo_logs`` (``zmr run
    --log-level``): a stream that gets the processes' log lines too, as they are written."""

    def __init__(self, workers: int = 2, base_dir: str | None = None, slots: int = 1,
                 heartbeat_interval_s: float = 0.5, liveness: int = 3,
                 give_up_after_s: float = 0.0, max_attempts: int = 4,
                 settings: dict[tuple[str, str], Any] | None = None, log_level: str = "info",
                 echo_logs: TextIO | None = None, **tasks: Any) -> None:
        self.num_workers = workers
        self.slots_per_worker = slots
        self.log_level = log_level
        self._own_dir = base_dir is None
        self.base_dir = base_dir or tempfile.mkdtemp(prefix="zmr-local-")
        self._echo = LogEcho(self.logs_dir, echo_logs) if echo_logs else None
        self.config_path = os.path.join(self.base_dir, "cluster.toml")
        # ports picked here may be taken by the time the coordinator binds (another
        # process's connection, another cluster): start() then picks fresh ones
        self._own_ports = [key for key in PORT_KEYS if key not in (settings or {})]
        self.settings: dict[tuple[str, str], Any] = {
            **_fresh_ports(),
            ("coordinator", "state_dir"): os.path.join(self.base_dir, "coordinator"),
            ("dashboard", "port"): free_port(),
            ("worker", "data_dir"): os.path.join(self.base_dir, "workers"),
            ("worker", "slots"): slots,
            ("worker", "give_up_after_s"): give_up_after_s,
            ("heartbeat", "interval_s"): heartbeat_interval_s,
            ("heartbeat", "liveness"): liveness,
            ("tasks", "max_attempts"): max_attempts,
            **PINNED,
            **{("tasks", key): value for key, value in tasks.items()},
            **(settings or {}),
        }
        self.coordinator: Process | None = None
        self.workers: dict[str, Process] = {}
        self.client: Client = None  # type: ignore[assignment]
        self.keep_logs = False        # a process died at start: its logs outlive stop()
        # only the coordinator started here knows it: stop() cannot stop another cluster
        self.owner_token = secrets.token_hex(16)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run(self, job: Any = None, input: Any = None, output: Any = None, **settings: Any
            ) -> JobResult:
        """Run a job on this cluster and wait for it: :meth:`zmr.Client.run`."""
        return self._running_client().run(job, input, output, **settings)

    def submit(self, job: Any = None, input: Any = None, output: Any = None, **settings: Any
               ) -> JobHandle:
        """Submit a job to this cluster and return its handle: :meth:`zmr.Client.submit`."""
        return self._running_client().submit(job, input, output, **settings)

    @property
    def total_slots(self) -> int:
        """The slots of the workers this cluster starts: what its jobs are planned for."""
        return cluster_slots(self.num_workers, self.slots_per_worker)

    @property
    def dashboard_url(self) -> str | None:
        """Where this cluster's coordinator serves its dashboard (None: turned off)."""
        port = int(self.settings.get(("dashboard", "port"), -1))
        if port < 0:
            return None
        return f"http://{self.settings.get(('dashboard', 'host'), '127.0.0.1')}:{port}/"

    def _running_client(self) -> Client:
        if self.coordinator is None or self.coordinator.poll() is not None:
            raise ZmrError("this LocalCluster is not running: use it in a with block or "
                           "call start() first")
        return self.client

    def start(self) -> None:
        os.makedirs(self.logs_dir, exist_ok=True)
        try:
            for tries_left in reversed(range(PORT_TRIES)):
                self._launch()
                try:
                    self.wait_for_workers(self.num_workers, starting=True)
                    self._start_echo()
                    return
                except _PortTaken:
                    if not tries_left or not self._own_ports:
                        raise
                self._stop_workers()
                self.settings.update(_fresh_ports(self._own_ports))
        except BaseException:
            self.stop()           # never leave half a cluster behind
            raise

    def _start_echo(self) -> None:
        """Once the processes are forked (a thread would make forking unsafe): the echo
        reads each log from its start, so no line is missed."""
        if self._echo is not None:
            self._echo.start()

    def _launch(self) -> None:
        """Config, coordinator and workers (those added before ``start`` too), then the
        client: its ZeroMQ context would make forking them unsafe (``forked.py``)."""
        write_config(self.config_path, self.settings)
        self.start_coordinator()
        for worker_id, proc in list(self.workers.items()):
            if proc.poll() is not None:     # killed to try other ports: started again;
                self.add_worker(worker_id)  # one still running keeps running (a second
                                            # process under its id would fight it for it)
        while len(self.workers) < self.num_workers:
            self.add_worker()
        self.client = Client(load_config(self.config_path, self._environment()))
        # jobs are planned for every slot started here, registered yet or not
        self.client.planned_slots = self.total_slots

    def _stop_workers(self) -> None:
        self.client.close()
        for proc in self.workers.values():
            proc.kill()
            proc.wait()

    def add_worker(self, worker_id: str | None = None, config_path: str | None = None) -> str:
        """Start a worker (on this cluster's config unless told otherwise); reusing an id
        restarts that worker on its data directory."""
        worker_id = worker_id or f"local-{len(self.workers) + 1}"
        self.workers[worker_id] = self._spawn(worker_id, ["-m", "zmr.worker",
                                                          config_path or self.config_path,
                                                          "--id", worker_id])
        return worker_id

    def restart_coordinator(self) -> None:
        """kill -9 the coordinator and start it again on the same config and state."""
        self.kill_coordinator()
        self.start_coordinator()

    def kill_coordinator(self) -> None:
        """kill -9 the coordinator (its workers keep trying to reach it)."""
        assert self.coordinator is not None
        self.coordinator.kill()
        self.coordinator.wait()
        self.client.close()

    def start_coordinator(self) -> None:
        """Start the coordinator on this cluster's config and state (again)."""
        token_file = os.path.join(self.base_dir, "owner.token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.owner_token)
        self.coordinator = self._spawn("coordinator", ["-m", "zmr.coordinator",
                                                       self.config_path,
                                                       "--owner-token-file", token_file])

    def wait_for_workers(self, count: int, timeout_s: float | None = None,
                         starting: bool = False) -> None:
        """Wait until ``count`` workers are registered: as long as the coordinator (and,
        ``starting``, every worker process started) is alive: a busy machine may take
        minutes to start them; at most ``timeout_s`` if given. A process that died is an
        error with the end of its log, and the logs are kept (:attr:`keep_logs`)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        pause_s = 0.005             # forked workers register within milliseconds
        while deadline is None or time.monotonic() < deadline:
            self._check_alive(starting)     # first: a dead coordinator never answers
            try:
                if self._own_workers() >= count:
                    return
            except ZmrError:
                pass
            time.sleep(pause_s)
            pause_s = min(pause_s * 2, 0.05)
        raise ZmrError(f"{count} workers did not register within {timeout_s:.0f}s "
                       f"(logs: {self.logs_dir})")

    def _own_workers(self) -> int:
        """Workers registered with the coordinator started here; 0 while another process
        answers on its port (ours could not bind it, and is about to exit: start() then
        picks other ports), so no job of ours ever goes to another cluster."""
        reply = self.client.expect(StatusReply, StatusRequest("", brief=True))
        ours = self.coordinator is not None and reply.coordinator_pid == self.coordinator.pid
        return len(reply.workers) if ours else 0

    @property
    def logs_dir(self) -> str:
        return os.path.join(self.base_dir, "logs")

    def _check_alive(self, starting: bool) -> None:
        if self.coordinator is not None and self.coordinator.poll() is not None:
            self._died("coordinator", self.coordinator)
        for worker_id, proc in self.workers.items() if starting else ():
            if proc.poll() is not None:
                self._died(f"worker {worker_id}", proc, worker_id)

    def _died(self, what: str, proc: Process, name: str = "coordinator"
              ) -> None:
        log = os.path.join(self.logs_dir, f"{name}.log")
        tail = _tail(log)
        if name == "coordinator" and proc.returncode == 2 and "cannot " in tail and (
                "bind" in tail or "listen" in tail):
            raise _PortTaken(tail)
        self.keep_logs = True
        raise ZmrError(f"the embedded cluster's {what} exited with code {proc.returncode} "
                       f"while starting; the end of its log ({log}):\n"
                       f"{tail}\n(logs kept in {self.logs_dir})")

    def _spawn(self, name: str, args: list[str]) -> Process:
        """Start ``python -m MODULE ARGS``: forked from this process while that is safe
        (milliseconds instead of a fresh interpreter's imports), else a new interpreter."""
        args = [*args, "--log-level", self.log_level]
        log_path = os.path.join(self.base_dir, "logs", f"{name}.log")
        env = dict(self._environment(), PYTHONUNBUFFERED="1")
        if forked.can_fork():
            return forked.fork_main(f"{args[1]}.__main__", args[2:], log_path, env)
        log = open(log_path, "ab")  # noqa: SIM115
        try:
            return subprocess.Popen([sys.executable, *args], stdout=log, stderr=log, env=env,
                                    stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        finally:
            log.close()

    def _environment(self) -> dict[str, str]:
        """This process's environment without the overrides of the keys this cluster
        writes in its config (they would win over the file), for its processes and its
        client."""
        return without_overrides(os.environ, self.settings)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the coordinator to stop everything; kill whatever does not exit in time.
        Only this cluster's own processes are signalled, and only its coordinator obeys
        the stop request (it carries :attr:`owner_token`)."""
        if self.client is not None and self.coordinator is not None and \
                self.coordinator.poll() is None:
            try:
                self.client.timeout_s = 3.0
                self.client.shutdown_cluster("local cluster stopping", self.owner_token)
            except ZmrError:
                pass
        if self.client is not None:
            self.client.close()
        procs = [p for p in [*self.workers.values(), self.coordinator] if p is not None]
        # a worker that had not registered yet never hears the shutdown: after a grace
        # period SIGTERM (a clean exit, its temporary files removed), SIGKILL at the end
        _wait_all(procs, time.monotonic() + min(3.0, timeout_s / 2))
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        _wait_all(procs, time.monotonic() + timeout_s / 2)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if self._echo is not None:      # the processes' last lines, before they go
            self._echo.stop()
        if self._own_dir and self.keep_logs:
            _remove_all_but(self.base_dir, "logs")
        elif self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)


class _PortTaken(ZmrError):
    """The coordinator could not bind a port picked for it: pick others and try again."""


def _fresh_ports(keys: tuple[tuple[str, str], ...] | list[tuple[str, str]] = PORT_KEYS
                 ) -> dict[tuple[str, str], int]:
    return {key: free_port() for key in keys}


def _remove_all_but(directory: str, kept: str) -> None:
    for name in os.listdir(directory):
        if name != kept:
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def _tail(path: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a log, indented (what explains a death is at its end)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
            text = f.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return f"  (cannot read it: {exc})"
    return "\n".join("  " + line for line in text.splitlines()[-lines:]) or "  (empty)"


def _wait_all(procs: list[Process], deadline: float) -> None:
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
