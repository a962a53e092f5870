"""The ``zmr`` command line: one module per command group (``run``, ``cluster``), shared job
flags in ``options``, progress display in ``progress``. Each subcommand registers its
function with ``set_defaults(handler=fn)``, ``fn(args) -> int``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from zmr.cli.cluster import add_cluster_commands
from zmr.cli.run import add_run_command
from zmr.core.errors import ZmrError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zmr", description="Fault-tolerant MapReduce for plain Python mappers and "
                                "reducers, on ZeroMQ and Apache Arrow.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_run_command(sub)
    add_cluster_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ZmrError as exc:
        print(f"zmr: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zmr: interrupted", file=sys.stderr)
        return 130
