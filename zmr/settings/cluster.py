"""Cluster settings (``conf/cluster.toml``): one frozen dataclass per section, each field a
setting (type from its annotation; default, help and rule from :func:`entry`), read as
``config.worker.slots``.

:class:`ClusterConfig` holds one instance of each section; :meth:`ClusterConfig.from_tables`
builds it from parsed TOML, refusing an unknown section or key, or a value of the wrong
type, with an error naming the file and the key. Adding a cluster setting is one field here
and the code that uses it; an environment override (``ZMR_<SECTION>_<KEY>``) would be one
loop over :data:`CLUSTER_SETTINGS` feeding :meth:`ClusterConfig.with_values`.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zmr.core.errors import ConfigError
from zmr.core.retention import Policy
from zmr.settings.setting import Setting, entry, settings_of
from zmr.settings.values import at_least, port_range, positive


@dataclass(frozen=True)
class CoordinatorSettings:
    """``[coordinator]``: where the coordinator listens and keeps its state."""

    host: str = entry("127.0.0.1", "where the coordinator binds and is reached")
    control_port: int = entry(5570, "ROUTER socket: worker registration, tasks, client "
                                     "requests")
    heartbeat_port: int = entry(5571, "PUB socket: coordinator heartbeats and broadcasts")
    report_port: int = entry(5572, "SUB socket the workers' PUB sockets connect to")
    state_dir: str = entry(".zmr/coordinator", "coordinator state")
    restore_grace_s: float = entry(0.0, "after a restart, how long the coordinator waits for "
                                        "workers to re-register with the attempts and map "
                                        "outputs they hold before re-running them elsewhere; "
                                        "0 = four heartbeat timeouts "
                                        "(`4 * interval_s * liveness`)", shown="0.0 (auto)")
    no_worker_warning_s: float = entry(30.0, "a queued or running job with no live worker "
                                             "for this long is flagged in `zmr status`, the "
                                             "log and the dashboard")


@dataclass(frozen=True)
class DashboardSettings:
    """``[dashboard]``: the coordinator's HTTP views."""

    host: str = entry("127.0.0.1", "where the HTTP dashboard binds (see \"Dashboard\")")
    port: int = entry(5580, "dashboard, JSON API and `/metrics`; -1 = off")


@dataclass(frozen=True)
class WorkerSettings:
    """``[worker]``: a worker process, its task slots and its shuffle service."""

    data_dir: str = entry(".zmr/workers", "map outputs and task logs, one subdirectory per "
                                          "worker")
    slots: int = entry(0, "concurrent tasks per worker", shown="0 (= CPUs)")
    prefetch: int = entry(1, "attempts assigned beyond the slots and queued, so a slot never "
                             "waits for the coordinator between short tasks (offered only "
                             "while attempts average under 1 s; maps only, once no other "
                             "worker has an idle slot)")
    executor_max_tasks: int = entry(1000, "attempts one task process runs before it is "
                                          "replaced (guards against leaks in user code)")
    shuffle_host: str = entry("127.0.0.1", "the shuffle service binds here")
    shuffle_ports: str = entry("", "e.g. `\"7000-7099\"`: the shuffle service takes the first "
                                   "free port of the range (for firewalls); \"\" = any free "
                                   "port", check=port_range)
    advertise: str = entry("", "address other hosts should use for this worker")
    give_up_after_s: float = entry(0.0, "a worker exits after its coordinator has been "
                                        "unreachable this long; 0 = keep retrying forever "
                                        "(any start order, any restart delay)",
                                   shown="0.0 (never)")
    reconnect_backoff_max_s: float = entry(8.0, "longest wait between a worker's "
                                                "registration attempts (the wait doubles from "
                                                "the heartbeat interval up to this)")
    fetch_timeout_s: float = entry(15.0, "a reducer gives up on a map output whose worker "
                                         "sends nothing for this long (the map is re-run)")
    reuse_dir: str = entry("~/.cache/zmr/map-outputs", "where map outputs are kept for "
                                                       "`--reuse` (one cache per host, shared "
                                                       "by its workers and by `--inline` runs)")
    reuse_max_bytes: int = entry(10 << 30, "size bound of `reuse_dir`: the least recently "
                                           "used outputs go first", check=at_least(1),
                                 shown="10737418240 (10 GiB)")
    unhealthy_pause_s: float = entry(30.0, "a worker whose disk failed takes no tasks for "
                                           "this long before checking it again")


@dataclass(frozen=True)
class HeartbeatSettings:
    """``[heartbeat]``: liveness of every peer."""

    interval_s: float = entry(1.0, "seconds between heartbeats")
    liveness: int = entry(3, "missed beats before a peer is declared dead")


@dataclass(frozen=True)
class TasksSettings:
    """``[tasks]``: retries, timeouts, blacklisting and backup attempts."""

    max_attempts: int = entry(4, "attempts per task before the job fails (Hadoop's default)")
    task_timeout_s: float = entry(600.0, "kill an attempt whose progress stalls this long")
    blacklist_after: int = entry(3, "failed tasks of a job before a worker gets no more of "
                                    "its tasks")
    speculative: bool = entry(True, "backup attempts for stragglers")
    speculative_slow_factor: float = entry(1.5, "a straggler runs this many times the "
                                                "phase's median")
    speculative_min_runtime_s: float = entry(5.0, "never back up a younger attempt")
    rebalance: bool = entry(True, "dynamic work rebalancing: when a slot is idle and no task "
                                  "is pending, cut the unread half off a running map's split "
                                  "and run it as a new map task (a job's `REBALANCE = False` "
                                  "opts out)")
    rebalance_min_bytes: int = entry(1 << 20, "a remainder this large (1 MiB) is always worth "
                                     "cutting off", check=at_least(1),
                                     shown="1048576 (1 MiB)")
    rebalance_min_s: float = entry(0.25, "a smaller one (down to 16 KiB) only if reading it at "
                                   "the attempt's rate so far takes this long", check=positive)
    max_files_size: int = entry(64 << 20, "most bytes of side files (`--file`, `FILES`) one "
                                "job may ship (64 MiB); a job over it is refused at submit. "
                                "Also sizes the control sockets: they take frames of at most "
                                "this plus 16 MiB (job code), and drop a peer sending more",
                                check=at_least(1))


_DAY_S = 86400.0


@dataclass(frozen=True)
class RetentionSettings:
    """``[retention]``: what a long-lived cluster keeps of finished jobs (see "Running a
    cluster for a long time"): each worker's attempt logs, and the coordinator's history
    (``zmr status``/``logs``/``history``, the journal's rows). Newest first, within a
    count, an age and a size; running jobs, and the newest job, are always kept."""

    worker_log_jobs: int = entry(200, "finished jobs whose attempt logs a worker keeps",
                                 check=at_least(1))
    worker_log_age_s: float = entry(7 * _DAY_S, "a worker deletes attempt logs of jobs "
                                                "finished longer ago", shown="604800.0 (7 days)",
                                    check=positive)
    worker_log_bytes: int = entry(1 << 30, "attempt logs a worker keeps, in all (oldest jobs' "
                                           "go first)", check=at_least(1),
                                  shown="1073741824 (1 GB)")
    history_jobs: int = entry(1000, "finished jobs the coordinator remembers",
                              check=at_least(1))
    history_age_s: float = entry(30 * _DAY_S, "the coordinator forgets jobs finished longer "
                                              "ago", shown="2592000.0 (30 days)", check=positive)
    history_log_bytes: int = entry(256 << 20, "attempt log tails the coordinator's journal "
                                              "keeps, in all (oldest jobs' go first)",
                                   check=at_least(1), shown="268435456 (256 MB)")
    every_s: float = entry(60.0, "how often workers and coordinator apply these limits",
                           check=positive)


@dataclass(frozen=True)
class ClientSettings:
    """``[client]``: `zmr submit`, `status`, `wait`, ... and `zmr.Client`."""

    timeout_s: float = entry(10.0, "how long a client waits for the coordinator to answer "
                                   "one request before it reports the cluster unreachable "
                                   "(exit code 3); raise it for a coordinator on a busy "
                                   "machine")


@dataclass(frozen=True)
class SecuritySettings:
    """``[security]``: CurveZMQ and which addresses may be used without it."""

    curve: bool = entry(False, "CurveZMQ on every socket (see \"Security\")")
    keys_dir: str = entry("conf/keys", "key pairs and `authorized/`, written by `zmr keygen`")
    worker_key: str = entry("worker", "key pair workers on this host use "
                                      "(`keys_dir/NAME.key_secret`)")
    client_key: str = entry("client", "key pair clients on this host use")
    allow_insecure: bool = entry(False, "let a cluster without curve listen beyond loopback "
                                        "(logged as a warning)")


@dataclass(frozen=True)
class ClusterConfig:
    """The cluster settings in force, with defaults filled in, and the file they came
    from (for error messages)."""

    coordinator: CoordinatorSettings = field(default_factory=CoordinatorSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    heartbeat: HeartbeatSettings = field(default_factory=HeartbeatSettings)
    tasks: TasksSettings = field(default_factory=TasksSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    client: ClientSettings = field(default_factory=ClientSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    path: str = "<defaults>"

    @classmethod
    def from_tables(cls, tables: Mapping[str, Any], path: str) -> ClusterConfig:
        """A config from parsed TOML (section -> table), every key checked."""
        for section, table in tables.items():
            if section not in SECTIONS or not isinstance(table, dict):
                raise ConfigError(f"{path}: unknown section [{section}]")
        values = {(section, key): value for section, table in tables.items()
                  for key, value in table.items()}
        return cls(path=path).with_values(values)

    def with_values(self, values: Mapping[tuple[str, str], Any]) -> ClusterConfig:
        """This config with some settings replaced (``{("worker", "advertise"): host}``:
        a file's keys, command-line overrides)."""
        by_section: dict[str, dict[str, Any]] = {}
        for (section, key), value in values.items():
            setting = _setting(self.path, section, key)
            by_section.setdefault(section, {})[key] = setting.parse(
                value, f"{self.path}: [{section}] {key}")
        replaced = {section: dataclasses.replace(getattr(self, section), **keys)
                    for section, keys in by_section.items()}
        return dataclasses.replace(self, **replaced)

    def endpoint(self, port_key: str) -> str:
        """``tcp://host:port`` of one of the coordinator's sockets (``control_port``, ...)."""
        return f"tcp://{self.coordinator.host}:{getattr(self.coordinator, port_key)}"

    def log_retention(self) -> Policy:
        """How much of its attempt logs a worker keeps."""
        r = self.retention
        return Policy(r.worker_log_jobs, r.worker_log_age_s, r.worker_log_bytes)

    def history_retention(self) -> Policy:
        """How much history the coordinator keeps."""
        r = self.retention
        return Policy(r.history_jobs, r.history_age_s, r.history_log_bytes)

    @property
    def worker_slots(self) -> int:
        return self.worker.slots or os.cpu_count() or 1

    @property
    def shuffle_bind(self) -> str:
        """Where a worker's shuffle service binds: a port range, or any free port."""
        return f"tcp://{self.worker.shuffle_host}:{self.worker.shuffle_ports or '*'}"


#: Section name -> its dataclass, in file order (the fields of ClusterConfig).
SECTIONS: dict[str, type] = {name: kind for name, kind in
                             typing.get_type_hints(ClusterConfig).items() if name != "path"}
CLUSTER_SETTINGS: tuple[Setting, ...] = tuple(
    setting for name, kind in SECTIONS.items() for setting in settings_of(kind, section=name))
_BY_KEY = {(s.section, s.name): s for s in CLUSTER_SETTINGS}
#: Keys that were settings once -> what to write instead (an old config gets told).
RETIRED = {("worker", "coordinator_timeout_s"):
           "workers now keep retrying their coordinator; [worker] give_up_after_s = N makes "
           "them exit after N seconds without it"}


def _setting(path: str, section: str, key: str) -> Setting:
    if section not in SECTIONS:
        raise ConfigError(f"{path}: unknown section [{section}]")
    if (section, key) in RETIRED:
        raise ConfigError(f"{path}: [{section}] {key} is no longer a setting: "
                          f"{RETIRED[section, key]}")
    if (section, key) not in _BY_KEY:
        raise ConfigError(f"{path}: unknown key {key!r} in [{section}]")
    return _BY_KEY[section, key]
