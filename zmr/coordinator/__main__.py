"""``python -m zmr.coordinator [CONFIG] [--log-level L]``: run a coordinator until stopped."""

from __future__ import annotations

import argparse
import sys

from zmr.config import load_config
from zmr.coordinator.server import CoordinatorServer
from zmr.core.errors import ConfigError, ZmrError
from zmr.core.process import add_process_arguments, setup_logging, stop_on_signals


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zmr.coordinator",
                                     description="Run a zmr coordinator until stopped "
                                                 "(SIGTERM or SIGINT stop it cleanly).")
    add_process_arguments(parser)
    parser.add_argument("--owner-token-file", metavar="PATH",
                        help="set by the runner of an embedded cluster (zmr run, "
                             "LocalCluster): a shutdown request that carries a token is "
                             "obeyed only if it is this file's")
    return parser


def _owner_token(path: str | None) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError as exc:
        raise ConfigError(f"--owner-token-file {path}: {exc}") from None


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        server = CoordinatorServer(load_config(args.config),
                                   owner_token=_owner_token(args.owner_token_file))
    except ZmrError as exc:
        print(f"zmr.coordinator: error: {exc}", file=sys.stderr)
        return exc.exit_code
    stop_on_signals(server)
    server.serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
