"""``zmr cluster start N`` / ``stop [WORKER...]`` / ``restart WORKER...`` / ``status``: a
coordinator and N workers on this host as detached processes, with pid files and logs in a
run folder (zmr.runners.detached)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from zmr.core.errors import ClusterUnreachableError
from zmr.runners.detached import (
    RUN_DIR_ENV,
    DetachedCluster,
    default_run_dir,
    registered_workers,
    worker_id_of,
)


def add_daemon_commands(sub: Any) -> None:
    cluster = sub.add_parser("cluster", help="start, stop or list a coordinator and workers "
                                             "running detached on this host")
    actions = cluster.add_subparsers(dest="cluster_action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start the coordinator (unless running) and N "
                                             "workers; return once they have registered")
    start.add_argument("workers", type=int, metavar="N", help="how many workers to add")
    start.add_argument("--config", default=None,
                       help="cluster config (default: $ZMR_CONFIG, else built-in defaults)")
    start.add_argument("--no-coordinator", action="store_true",
                       help="workers only, for a coordinator running elsewhere")
    start.add_argument("--timeout", type=float, default=120.0, metavar="S",
                       help="how long to wait for them to come up (default: 120)")
    start.set_defaults(handler=cmd_start)
    stop = actions.add_parser("stop", help="stop the processes started from the run folder "
                                           "(and a coordinator of its config running on "
                                           "this host), or only the WORKERs named: graceful "
                                           "shutdown, then SIGTERM, then SIGKILL")
    stop.add_argument("workers", nargs="*", metavar="WORKER",
                      help="only these workers (worker-N, N or HOST-worker-N); the "
                           "coordinator runs their tasks elsewhere")
    stop.add_argument("--grace", type=float, default=30.0, metavar="S",
                      help="seconds for the graceful shutdown before SIGTERM (default: 30)")
    stop.add_argument("--kill-after", type=float, default=15.0, metavar="S",
                      help="seconds after SIGTERM before SIGKILL (default: 15)")
    stop.add_argument("--config", default=None,
                      help="the coordinator to stop when the run folder did not start it "
                           "(default: the folder's config, else $ZMR_CONFIG)")
    stop.set_defaults(handler=cmd_stop)
    restart = actions.add_parser("restart", help="stop WORKERs (if running: a killed one "
                                                 "too) and start them again under the same "
                                                 "ids; return once they have registered")
    restart.add_argument("workers", nargs="+", metavar="WORKER",
                         help="worker-N, N or HOST-worker-N, as zmr cluster status lists them")
    restart.add_argument("--kill-after", type=float, default=15.0, metavar="S",
                         help="seconds after SIGTERM before SIGKILL (default: 15)")
    restart.add_argument("--timeout", type=float, default=120.0, metavar="S",
                         help="how long to wait for them to register (default: 120)")
    restart.set_defaults(handler=cmd_restart)
    status = actions.add_parser("status", help="the run folder's processes (dead ones "
                                               "reported once, their pid files removed) and "
                                               "the workers registered with the coordinator")
    status.set_defaults(handler=cmd_status)
    for parser in (start, stop, restart, status):
        parser.add_argument("--run-dir", default=None,
                            help=f"pid files and logs (default: ${RUN_DIR_ENV}, else "
                                 f".zmr/run)")


def _cluster(args: argparse.Namespace) -> DetachedCluster:
    return DetachedCluster(args.run_dir or default_run_dir())


def cmd_start(args: argparse.Namespace) -> int:
    cluster = _cluster(args)
    config = args.config or os.environ.get("ZMR_CONFIG")
    started = cluster.start(args.workers, config, coordinator=not args.no_coordinator,
                            timeout_s=args.timeout)
    if cluster.outside_pid:
        print(f"coordinator already running (pid {cluster.outside_pid}, not started by "
              f"zmr cluster start): not started again")
    for m in started:
        print(f"started {m.name} (pid {m.pid}, log {m.log})")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    cluster = _cluster(args)
    if args.workers:
        outcome = cluster.stop_workers(args.workers, term_s=args.kill_after)
    else:
        # the folder's own config before $ZMR_CONFIG, which may name another cluster
        config = args.config or (None if cluster.has_config() else
                                 os.environ.get("ZMR_CONFIG"))
        outcome = cluster.stop(grace_s=args.grace, term_s=args.kill_after, config=config)
    if not outcome:
        print(f"nothing to stop in {cluster.run_dir}")
    for name, how in outcome.items():
        print(f"{name} {how}")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    for m in _cluster(args).restart_workers(args.workers, term_s=args.kill_after,
                                            timeout_s=args.timeout):
        print(f"restarted {m.name} as {worker_id_of(m.name)} (pid {m.pid}, log {m.log})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Exit 0 when every recorded process runs, 1 when some do not, 3 when the
    coordinator does not answer (as ``systemctl status`` tells a script what it found)."""
    cluster = _cluster(args)
    members = cluster.members()
    if not members:
        print(f"no processes recorded in {cluster.run_dir}")
    for m in members:
        registers = f"  as {worker_id_of(m.name)}" if m.name.startswith("worker-") else ""
        how = "running" if m.alive else "dead (not running; pid file removed)"
        print(f"{m.name:<12} pid {m.pid:<8} {how}{registers}  log {m.log}")
    dead = [m for m in members if not m.alive]
    cluster.forget(dead)                # reported once: a kill -9 must not stay listed
    if any(m.name.startswith("worker-") for m in dead):
        print("  (zmr cluster restart WORKER starts a dead worker again)")
    try:
        workers = registered_workers(cluster.config_path())
    except ClusterUnreachableError as exc:
        print(f"coordinator: not reachable ({exc})")
        return ClusterUnreachableError.exit_code
    print(f"coordinator: {len(workers)} worker(s) registered")
    running = {m.name for m in members if m.alive}
    stopped = {worker_id_of(n) for n in cluster.worker_names() if n not in running}
    for w in workers:
        # until its heartbeats are missed for the liveness timeout, the coordinator
        # still counts a killed worker
        gone = "  (its process is not running: dropped after the liveness timeout)" \
            if w["worker_id"] in stopped else ""
        print(f"  {w['worker_id']:<28} {w['host']:<16} slots {w['running']}/{w['slots']}"
              f" in use  heartbeat {w['heartbeat_age_s']:.1f}s ago{gone}")
    return 0 if all(m.alive for m in members) else 1
