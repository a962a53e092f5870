"""A cluster of detached processes on this host, started and stopped by separate commands
(``zmr cluster start N`` / ``stop`` / ``status``), as Hadoop's ``start-yarn.sh`` or Spark's
``start-worker.sh`` do: each process runs in its own session (a closed terminal does not
stop it), writes its log to the run folder and has a pid file there, so ``stop`` ends
exactly the processes ``start`` began and nothing else."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zmr.client import Client
from zmr.core.errors import ClusterUnreachableError, ConfigError, ZmrError
from zmr.protocol.messages import StatusReply, StatusRequest

#: Where pid files and logs go unless ``--run-dir`` says otherwise (as run_cluster.sh).
RUN_DIR_ENV = "ZMR_RUN_DIR"
DEFAULT_RUN_DIR = ".zmr/run"
#: What a pid file's process must be running: guards against a recycled pid.
MODULES = {"coordinator": "zmr.coordinator", "worker": "zmr.worker"}


@dataclass(frozen=True)
class Member:
    """One process of the run folder: its name (``coordinator``, ``worker-3``), pid and
    whether that pid still runs the zmr process it was started as."""
    name: str
    pid: int
    alive: bool
    log: Path


def worker_id_of(name: str) -> str:
    """The id a member ``worker-N`` registers with: the host's name first, so workers
    started by ``zmr cluster start`` on two hosts of one cluster never share an id."""
    return f"{socket.gethostname()}-{name}"


def default_run_dir() -> str:
    return os.environ.get(RUN_DIR_ENV) or DEFAULT_RUN_DIR


class DetachedCluster:
    """The processes recorded in one run folder, and the config they were started with
    (kept in the folder, so ``stop`` and ``status`` need not be told it again)."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.run_dir = Path(run_dir)
        self.outside_pid = 0     # a coordinator start() found running, started elsewhere

    # -- what is there ------------------------------------------------------------------

    def config_path(self) -> str | None:
        """The config the processes were started with; None = built-in defaults."""
        saved = self.run_dir / "config"
        text = saved.read_text(encoding="utf-8").strip() if saved.exists() else ""
        return text or None

    def has_config(self) -> bool:
        """Whether ``start`` recorded a config here (empty: the built-in defaults)."""
        return (self.run_dir / "config").exists()

    def members(self) -> list[Member]:
        if not self.run_dir.is_dir():
            return []
        found = []
        for pid_file in sorted(self.run_dir.glob("*.pid"), key=_member_order):
            name = pid_file.stem
            pid = _read_pid(pid_file)
            found.append(Member(name, pid, _runs_zmr(pid, name), self.run_dir / f"{name}.log"))
        return found

    def alive(self) -> list[Member]:
        return [m for m in self.members() if m.alive]

    # -- start --------------------------------------------------------------------------

    def start(self, workers: int, config: str | None, coordinator: bool = True,
              timeout_s: float = 120.0) -> list[Member]:
        """Start the coordinator (unless told not to, or one of this folder runs already),
        then ``workers`` more workers; return once all of them have registered."""
        if workers < 0:
            raise ConfigError(f"zmr cluster start: number of workers must be >= 0, not "
                              f"{workers}")
        self._adopt_config(config)
        config = self.config_path()
        running = {m.name for m in self.alive()}
        started: list[tuple[str, subprocess.Popen[bytes]]] = []
        deadline = time.monotonic() + timeout_s
        if coordinator and "coordinator" not in running and \
                not self._coordinator_answers(config):
            proc = self._spawn("coordinator", ["-m", "zmr.coordinator", *_config_arg(config)])
            started.append(("coordinator", proc))
            self._wait(lambda: _answers(config), started, deadline, "answer requests")
        ids = []
        for number in self._next_worker_numbers(workers):
            worker_id = worker_id_of(f"worker-{number}")
            ids.append(worker_id)
            started.append((f"worker-{number}", self._spawn(
                f"worker-{number}", ["-m", "zmr.worker", *_config_arg(config),
                                     "--id", worker_id])))
        if ids:
            self._wait(lambda: set(ids) <= _registered(config), started, deadline,
                       f"register {len(ids)} worker(s) with the coordinator")
        return [m for m in self.members() if m.name in dict(started)]

    def _coordinator_answers(self, config: str | None) -> bool:
        """Whether a coordinator this folder did not start (``python -m zmr.coordinator``
        by hand) already answers at ``config``: a second one could not bind its ports,
        yet the first one's answers would make it look started. Its pid is kept in
        :attr:`outside_pid` for the command to say."""
        try:
            with Client(config, timeout_s=1.0) as client:
                self.outside_pid = client.expect(
                    StatusReply, StatusRequest("", brief=True)).coordinator_pid
        except ZmrError:
            return False
        return True

    def _adopt_config(self, config: str | None) -> None:
        """Record the config, refusing a different one while processes of the folder run:
        workers and coordinator started with different configs would not find each other."""
        current = self.config_path() or ""
        if config is None and self.alive():
            return                     # more workers for the running cluster, same config
        wanted = os.path.abspath(config) if config else ""
        if config and not os.path.isfile(config):
            raise ConfigError(f"zmr cluster start: cannot read config {config}")
        if self.alive() and wanted != current:
            raise ConfigError(f"zmr cluster start: {self.run_dir} already runs processes "
                              f"started with config {current or '(built-in defaults)'}; "
                              f"stop them first or use another --run-dir")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config").write_text(wanted + "\n", encoding="utf-8")

    def _next_worker_numbers(self, count: int) -> range:
        """Numbers no worker of the folder had: a dead one's (its pid file removed, its
        log kept) is not given to a new worker, whose lines would join its log."""
        numbers = [int(n[7:]) for n in self.worker_names() if n[7:].isdigit()]
        first = max(numbers, default=0) + 1
        return range(first, first + count)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.run_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, *args], stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)  # outlives this command
        (self.run_dir / f"{name}.pid").write_text(f"{proc.pid}\n", encoding="utf-8")
        return proc

    def _wait(self, ready: Callable[[], bool], started: list[tuple[str, subprocess.Popen[bytes]]],
              deadline: float, what: str) -> None:
        """Wait until ``ready()``; a process that exits meanwhile is an error quoting its
        log, and so is the deadline passing (the processes are left running to look at)."""
        while not ready():
            for name, proc in started:
                if proc.poll() is not None:
                    raise ZmrError(f"{name} exited with status {proc.returncode} during "
                                   f"start-up; its log {self.run_dir / (name + '.log')} "
                                   f"ends:\n{_tail(self.run_dir / (name + '.log'))}")
            if time.monotonic() > deadline:
                raise ZmrError(f"zmr cluster start: processes did not {what} in time; "
                               f"see the logs in {self.run_dir}")
            time.sleep(0.2)

    # -- stop ---------------------------------------------------------------------------

    def stop(self, grace_s: float = 30.0, term_s: float = 15.0,
             config: str | None = None) -> dict[str, str]:
        """Graceful first (the coordinator tells its workers to stop, then exits; workers
        alone get SIGTERM, their clean stop), then SIGTERM, then SIGKILL. Returns how each
        process ended: ``stopped``, ``terminated``, ``killed`` or ``gone`` (not running).

        A coordinator this folder did not start (``python -m zmr.coordinator CONFIG`` by
        hand, as the tutorial does, beside ``run_cluster.sh N``) is stopped too when it
        runs on this host and answers at the folder's config (or ``config``): it is asked
        to shut down, which stops its workers, and is listed with its pid."""
        members = self.members()
        outcome = {m.name: "gone" for m in members if not m.alive}
        live = [m for m in members if m.alive]
        if any(m.name == "coordinator" for m in live):
            with contextlib.suppress(ZmrError), Client(self.config_path(), timeout_s=5.0) as c:
                c.shutdown_cluster("zmr cluster stop")
        else:
            outside = self._stop_outside_coordinator(config, outcome)
            if outside is None:
                _signal_all(live, signal.SIGTERM)
            else:
                live.append(outside)
        live = self._outlast(live, grace_s, "stopped", outcome)
        self._terminate(live, term_s, "terminated", outcome)
        for m in members:
            (self.run_dir / f"{m.name}.pid").unlink(missing_ok=True)
        return outcome

    def _stop_outside_coordinator(self, config: str | None, outcome: dict[str, str]
                                  ) -> Member | None:
        """Ask the coordinator at ``config`` (else the folder's recorded one) to shut the
        cluster down if it runs on this host; return it as a member to outlast. Workers it
        has that this folder did not start are named in ``outcome`` as told to stop."""
        if config is None and not self.has_config():
            return None            # no cluster known: never stop whatever is on a port
        config = config or self.config_path()
        try:
            with Client(config, timeout_s=3.0) as client:
                reply = client.expect(StatusReply, StatusRequest("", brief=True))
                pid = reply.coordinator_pid
                if not _runs_zmr(pid, "coordinator"):
                    return None    # another host's: stop it there, not from here
                client.shutdown_cluster("zmr cluster stop")
        except ZmrError:
            return None
        ours = {worker_id_of(name) for name in self.worker_names()}
        for w in reply.workers:
            if w["worker_id"] not in ours:
                outcome[f"{w['worker_id']} (a worker of that coordinator)"] = "told to stop"
        name = f"coordinator (pid {pid}, not started by zmr cluster start)"
        return Member(name, pid, True, Path(os.devnull))

    # -- one worker ---------------------------------------------------------------------

    def member_name(self, name: str) -> str:
        """The folder's name of a worker given as ``worker-N``, ``N`` or the id it registers
        with (``HOST-worker-N``); a usage error naming the folder's workers otherwise."""
        known = self.worker_names()
        for candidate in (name, f"worker-{name}"):
            if candidate in known:
                return candidate
        by_id = {worker_id_of(k): k for k in known}
        if name in by_id:
            return by_id[name]
        raise ConfigError(f"zmr cluster: no worker {name!r} in {self.run_dir} (its workers: "
                          f"{', '.join(known) or 'none'})")

    def worker_names(self) -> list[str]:
        """Every worker the folder started: running, stopped or dead (its log stays)."""
        return sorted({p.stem for p in self.run_dir.glob("worker-*.pid")} |
                      {p.stem for p in self.run_dir.glob("worker-*.log")}, key=_name_order)

    def stop_workers(self, names: list[str], term_s: float = 15.0) -> dict[str, str]:
        """Stop some workers of the folder: SIGTERM (a worker's clean stop; the coordinator
        runs its tasks elsewhere), SIGKILL after ``term_s``. Returns how each ended."""
        wanted = [self.member_name(n) for n in names]
        members = [m for m in self.members() if m.name in wanted]
        outcome = {name: "gone" for name in wanted}
        self._terminate([m for m in members if m.alive], term_s, "stopped", outcome)
        for name in wanted:
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        return outcome

    def restart_workers(self, names: list[str], term_s: float = 15.0,
                        timeout_s: float = 120.0) -> list[Member]:
        """Stop these workers if they run (dead ones too: a ``kill -9``), start them again
        under the same names and ids on the folder's config, and return once they have
        registered."""
        wanted = [self.member_name(n) for n in names]
        self.stop_workers(wanted, term_s)
        config = self.config_path()
        started = [(name, self._spawn(name, ["-m", "zmr.worker", *_config_arg(config),
                                             "--id", worker_id_of(name)]))
                   for name in wanted]
        ids = {worker_id_of(name) for name in wanted}
        self._wait(lambda: ids <= _registered(config), started,
                   time.monotonic() + timeout_s,
                   f"register {len(ids)} worker(s) with the coordinator")
        return [m for m in self.members() if m.name in wanted]

    def forget(self, dead: list[Member]) -> None:
        """Remove the pid files of processes found not running (killed, crashed), so they
        are reported once and no longer listed. Their logs stay."""
        for m in dead:
            (self.run_dir / f"{m.name}.pid").unlink(missing_ok=True)

    def _terminate(self, live: list[Member], term_s: float, ended: str,
                   outcome: dict[str, str]) -> None:
        """SIGTERM, ``term_s`` for those to end (``ended``), then SIGKILL the rest."""
        _signal_all(live, signal.SIGTERM)
        live = self._outlast(live, term_s, ended, outcome)
        _signal_all(live, signal.SIGKILL)
        self._outlast(live, 10.0, "killed", outcome)

    def _outlast(self, live: list[Member], wait_s: float, ended: str,
                 outcome: dict[str, str]) -> list[Member]:
        deadline = time.monotonic() + wait_s
        while live:
            for m in [m for m in live if not _runs_zmr(m.pid, m.name)]:
                outcome[m.name] = ended
                live.remove(m)
            if not live or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return live


def registered_workers(config: str | None) -> list[dict[str, object]]:
    """The coordinator's live workers; ClusterUnreachableError when it does not answer."""
    with Client(config, timeout_s=5.0) as client:
        return client.workers()


def _config_arg(config: str | None) -> list[str]:
    return [config] if config else []


def _answers(config: str | None) -> bool:
    try:
        registered_workers(config)
    except ClusterUnreachableError:
        return False
    return True


def _registered(config: str | None) -> set[str]:
    try:
        return {str(w["worker_id"]) for w in registered_workers(config)}
    except ClusterUnreachableError:
        return set()


def _signal_all(members: list[Member], signum: int) -> None:
    for m in members:
        if _runs_zmr(m.pid, m.name):
            with contextlib.suppress(ProcessLookupError):
                os.kill(m.pid, signum)


def _member_order(pid_file: Path) -> tuple[int, int]:
    return _name_order(pid_file.stem)


def _name_order(name: str) -> tuple[int, int]:
    if name.startswith("worker-") and name[7:].isdigit():
        return (1, int(name[7:]))
    return (0, 0)


def _read_pid(pid_file: Path) -> int:
    try:
        return int(pid_file.read_text(encoding="utf-8").split()[0])
    except (ValueError, IndexError, OSError):
        return 0


def _runs_zmr(pid: int, name: str) -> bool:
    """Whether ``pid`` is alive (not a zombie) and runs the zmr module ``name`` was started
    as: a pid file left by a crash may name a pid the system has since given to another
    process, which must not be signalled."""
    if pid <= 0:
        return False
    if not os.path.isdir("/proc/self"):       # no /proc (macOS): trust the pid file
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    module = MODULES["coordinator" if name.startswith("coordinator") else "worker"]
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return module in f.read().decode(errors="replace").split("\0")
    except (OSError, IndexError):
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace")
                         .splitlines()[-lines:])
    except OSError:
        return "(no log)"
