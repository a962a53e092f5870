"""zmr inside a Slurm allocation (``zmr slurm run``, usually from the batch script that
``zmr slurm script`` prints): the coordinator on the first node of the allocation (where
the batch script runs), one ``srun`` step with a worker on every node, the job submitted
to them, and everything stopped at the end, on ``scancel`` and at the time limit too.

Scratch data (map outputs, the coordinator's journal) goes to node-local scratch,
``$TMPDIR/zmr-$SLURM_JOB_ID`` (``/tmp`` without ``$TMPDIR``), as Hadoop-on-demand and
Spark's Slurm recipes do; inputs and output must be on a filesystem every node mounts.
The cluster's addresses are handed to every process as ``ZMR_<SECTION>_<KEY>`` overrides
in the environment, which ``srun`` passes on, so no config file has to be written."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from zmr.client import Client
from zmr.core.errors import ClusterUnreachableError, ConfigError, ZmrError
from zmr.runners.detached import registered_workers
from zmr.transport.sockets import free_port

#: How long start-up may take on a busy cluster before it is an error.
STARTUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Allocation:
    """What Slurm tells the batch script about its allocation."""
    job_id: str
    nodes: tuple[str, ...]
    cpus_on_node: int

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Allocation:
        env = dict(os.environ if environ is None else environ)
        job_id = env.get("SLURM_JOB_ID", "")
        if not job_id:
            raise ConfigError("zmr slurm run: SLURM_JOB_ID is not set: run it inside an "
                              "allocation (sbatch, salloc), e.g. the script `zmr slurm "
                              "script` prints")
        nodes = _hostnames(env.get("SLURM_JOB_NODELIST", ""))
        if not nodes:
            raise ConfigError("zmr slurm run: SLURM_JOB_NODELIST is empty or unreadable")
        cpus = env.get("SLURM_CPUS_ON_NODE", "") or str(os.cpu_count() or 1)
        return cls(job_id, nodes, max(1, int(cpus.split("(")[0])))

    @property
    def multi_node(self) -> bool:
        return len(self.nodes) > 1


def scratch_dir(job_id: str, environ: dict[str, str] | None = None) -> Path:
    """This node's scratch folder for the job: Slurm sets ``$TMPDIR`` to node-local
    storage where a site has it (job_container/tmpfs, a local disk)."""
    env = os.environ if environ is None else environ
    return Path(env.get("TMPDIR") or "/tmp") / f"zmr-{job_id}"


def worker_id(job_id: str, node: str, task: str) -> str:
    return f"slurm{job_id}-{node}-{task}"


class SlurmSession:
    """One zmr cluster for the life of one Slurm job: :meth:`run` starts it, submits the
    job, waits for it and always stops everything it started before returning."""

    def __init__(self, alloc: Allocation, workers_per_node: int = 1,
                 keep_scratch: bool = False, startup_timeout_s: float = STARTUP_TIMEOUT_S,
                 log_level: str = "warning") -> None:
        if workers_per_node < 1:
            raise ConfigError(f"zmr slurm run: --workers-per-node must be >= 1, not "
                              f"{workers_per_node}")
        self.alloc = alloc
        self.workers_per_node = workers_per_node
        self.keep_scratch = keep_scratch
        self.startup_timeout_s = startup_timeout_s
        self.log_level = log_level
        self.scratch = scratch_dir(alloc.job_id)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def expected_workers(self) -> int:
        return len(self.alloc.nodes) * self.workers_per_node

    def run(self, submit_args: Sequence[str]) -> int:
        """Start, submit ``zmr submit SUBMIT_ARGS --wait``, return its exit code."""
        try:
            self.scratch.mkdir(parents=True, exist_ok=True)
            os.environ.update(self.cluster_environment())
            self._start_coordinator()
            self._start_workers()
            print(f"zmr slurm: coordinator on {self.alloc.nodes[0]}, "
                  f"{self.expected_workers} worker(s) on {len(self.alloc.nodes)} node(s); "
                  f"scratch {self.scratch}", file=sys.stderr, flush=True)
            submit = self._spawn("submit", ["-m", "zmr", "submit", *submit_args, "--wait"])
            return submit.wait()
        finally:
            with _signals_deferred():        # a second scancel must not cut teardown short
                self.stop()

    # -- configuration ------------------------------------------------------------------

    def cluster_environment(self) -> dict[str, str]:
        """The settings every process of this cluster must agree on, as environment
        overrides (which win over ``ZMR_CONFIG``'s file). One node stays on loopback; on
        several, the coordinator listens on the first node's address and CurveZMQ is
        switched on, with fresh keys in the submit directory (shared, as input is)."""
        env = dict(ZMR_COORDINATOR_STATE_DIR=str(self.scratch / "coordinator"),
                   ZMR_DASHBOARD_PORT=os.environ.get("ZMR_DASHBOARD_PORT", "-1"))
        host = "127.0.0.1"
        if self.alloc.multi_node:
            host = os.environ.get("ZMR_COORDINATOR_HOST") or node_address(self.alloc.nodes[0])
            env.update(ZMR_WORKER_SHUFFLE_HOST="0.0.0.0", ZMR_SECURITY_CURVE="true",
                       ZMR_SECURITY_KEYS_DIR=self._make_keys())
        env["ZMR_COORDINATOR_HOST"] = host
        bind = "0.0.0.0" if self.alloc.multi_node else host
        for key in ("CONTROL", "HEARTBEAT", "REPORT"):
            env[f"ZMR_COORDINATOR_{key}_PORT"] = str(free_port(bind))
        if "ZMR_WORKER_SLOTS" not in os.environ:   # the CPUs Slurm gave us, not the host's
            env["ZMR_WORKER_SLOTS"] = str(max(1, self.alloc.cpus_on_node
                                              // self.workers_per_node))
        return env

    def _make_keys(self) -> str:
        keys = Path(os.environ.get("SLURM_SUBMIT_DIR") or ".") / f".zmr-slurm-{self.alloc.job_id}"
        subprocess.run([sys.executable, "-m", "zmr", "keygen", "--keys-dir", str(keys),
                        "--force"], check=True, stdout=subprocess.DEVNULL)
        return str(keys)

    # -- start --------------------------------------------------------------------------

    def _start_coordinator(self) -> None:
        self._spawn("coordinator", ["-m", "zmr.coordinator", "--log-level", self.log_level])
        self._wait(_answers, "answer requests")

    def _start_workers(self) -> None:
        """One step over the whole allocation; ``--overlap`` shares the CPUs with the batch
        step (the coordinator's), ``--kill-on-bad-exit=0`` keeps a lost worker's peers."""
        srun = shutil.which("srun")
        if srun is None:
            raise ConfigError("zmr slurm run: srun is not on PATH")
        self._spawn("workers", [
            "-m", "zmr", "--log-level", self.log_level, "slurm", "worker"], launcher=[
            srun, "--overlap", "--kill-on-bad-exit=0", f"--nodes={len(self.alloc.nodes)}",
            f"--ntasks-per-node={self.workers_per_node}",
            f"--cpus-per-task={max(1, self.alloc.cpus_on_node // self.workers_per_node)}",
            "--job-name=zmr-workers"])
        prefix = f"slurm{self.alloc.job_id}-"
        self._wait(lambda: _count_registered(prefix) >= self.expected_workers,
                   f"register {self.expected_workers} worker(s)")

    def _spawn(self, name: str, args: list[str],
               launcher: list[str] | None = None) -> subprocess.Popen[bytes]:
        # output goes where the batch script's goes (slurm-%j.out): one log per job
        command = [*(launcher or []), sys.executable, *args]
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.procs[name] = proc
        return proc

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while not ready():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise ZmrError(f"zmr slurm: {name} exited with status "
                                   f"{proc.returncode} during start-up (its output is "
                                   f"above in the job's output)")
            if time.monotonic() > deadline:
                raise ZmrError(f"zmr slurm: the cluster did not {what} within "
                               f"{self.startup_timeout_s:.0f} s")
            time.sleep(0.2)

    # -- stop ---------------------------------------------------------------------------

    def stop(self, grace_s: float = 30.0, term_s: float = 10.0) -> None:
        """The client first, then a graceful cluster shutdown (the coordinator stops its
        workers and exits), then SIGTERM (srun passes it to every task), then SIGKILL."""
        procs = dict(self.procs)
        if "submit" in procs:
            _end([procs.pop("submit")], 0.0, term_s)
        if "coordinator" in procs and procs["coordinator"].poll() is None:
            with contextlib.suppress(ZmrError):
                with Client(None, timeout_s=5.0) as client:
                    client.shutdown_cluster("zmr slurm: the allocation's job is over")
        _end(list(procs.values()), grace_s, term_s)
        self.procs.clear()
        if not self.keep_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            if self.alloc.multi_node:
                shutil.rmtree(os.environ.get("ZMR_SECURITY_KEYS_DIR", ""), ignore_errors=True)


def node_worker_command(log_level: str = "warning",
                        environ: dict[str, str] | None = None) -> list[str]:
    """What ``zmr slurm worker`` runs on each node under srun: a worker with this node's
    own scratch folder, a stable id and, across nodes, this node's address to advertise."""
    env = dict(os.environ if environ is None else environ)
    job_id = env.get("SLURM_JOB_ID", "")
    if not job_id:
        raise ConfigError("zmr slurm worker: SLURM_JOB_ID is not set (srun runs it)")
    node = env.get("SLURMD_NODENAME") or socket.gethostname().split(".")[0]
    task = env.get("SLURM_PROCID", "0")
    data = scratch_dir(job_id, env) / "workers"
    data.mkdir(parents=True, exist_ok=True)
    os.environ["ZMR_WORKER_DATA_DIR"] = str(data)
    command = [sys.executable, "-m", "zmr.worker", "--log-level", log_level,
               "--id", worker_id(job_id, node, task)]
    if env.get("ZMR_WORKER_SHUFFLE_HOST") == "0.0.0.0":
        command += ["--advertise", node_address(node)]
    return command


def node_address(node: str) -> str:
    """The address other nodes reach ``node`` at. Debian maps a host's own name to
    127.0.1.1 in /etc/hosts, which other nodes cannot reach: refuse it by name rather than
    start a cluster whose workers never find the coordinator."""
    try:
        address = socket.gethostbyname(node)
    except OSError as exc:
        raise ConfigError(f"zmr slurm: cannot resolve node {node!r}: {exc}") from None
    if address.startswith("127."):
        raise ConfigError(f"zmr slurm: node {node!r} resolves to the loopback address "
                          f"{address}, which the other nodes cannot reach; fix its name "
                          f"resolution (/etc/hosts) or set ZMR_COORDINATOR_HOST")
    return address


def _hostnames(nodelist: str) -> tuple[str, ...]:
    """``vm[1-3],gpu7`` as Slurm expands it (scontrol knows every form of the syntax)."""
    if not nodelist:
        return ()
    if shutil.which("scontrol") is None:
        return tuple(nodelist.split(",")) if "[" not in nodelist else ()
    out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True,
                         text=True, check=False)
    return tuple(out.stdout.split())


def _answers() -> bool:
    try:
        registered_workers(None)
    except ClusterUnreachableError:
        return False
    return True


def _count_registered(prefix: str) -> int:
    try:
        return sum(str(w["worker_id"]).startswith(prefix) for w in registered_workers(None))
    except ClusterUnreachableError:
        return 0


def _end(procs: list[subprocess.Popen[bytes]], grace_s: float, term_s: float) -> None:
    for signum, wait_s in ((None, grace_s), (signal.SIGTERM, term_s),
                           (signal.SIGKILL, 10.0)):
        live = [p for p in procs if p.poll() is None]
        for p in live:
            if signum is not None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signum)
        deadline = time.monotonic() + wait_s
        while any(p.poll() is None for p in live) and time.monotonic() < deadline:
            time.sleep(0.1)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ignore SIGTERM/SIGINT/SIGHUP/SIGUSR1 while tearing down: Slurm signals the whole
    job again at its kill deadline, and SIGKILL (KillWait later) is the backstop."""
    names = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1)
    before = {s: signal.signal(s, signal.SIG_IGN) for s in names}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
