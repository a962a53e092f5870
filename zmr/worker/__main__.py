"""``python -m zmr.worker conf/cluster.toml [--id ID]``: run one worker until stopped."""

from __future__ import annotations

import argparse
import os
import sys

from zmr.config import load_config
from zmr.core.errors import ZmrError
from zmr.core.process import add_process_arguments, setup_logging, stop_on_signals
from zmr.worker.agent import WorkerAgent
from zmr.worker.forkserver import start_fork_server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zmr.worker",
                                     description="Run one zmr worker until stopped (SIGTERM "
                                                 "or SIGINT stop it cleanly).")
    add_process_arguments(parser)
    parser.add_argument("--id", default=None, help="worker id (default: host-pid-random); "
                        "restarting with the same id reuses the worker's data directory")
    parser.add_argument("--advertise", default=None, metavar="HOST",
                        help="address other hosts reach this worker at (overrides "
                             "[worker] advertise; e.g. this host's IP when binding 0.0.0.0)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    # inherited by task processes (so set before their fork server starts): lets
    # fault-injection jobs take their worker down
    os.environ["ZMR_WORKER_PID"] = str(os.getpid())
    start_fork_server()          # first: forking is safe only before any socket or thread
    try:
        config = load_config(args.config)
        if args.advertise is not None:
            config = config.with_values({("worker", "advertise"): args.advertise})
        agent = WorkerAgent(config, args.id)
    except ZmrError as exc:
        print(f"zmr.worker: error: {exc}", file=sys.stderr)
        return exc.exit_code
    stop_on_signals(agent)
    try:
        agent.run()
    except ZmrError as exc:                 # e.g. no free port for the shuffle service
        print(f"zmr.worker: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 1 if agent.failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
