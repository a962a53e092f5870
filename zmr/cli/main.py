"""The ``zmr`` command line: one module per command group (``run``, ``cluster``), shared job
flags in ``options``, progress display in ``progress``. Each subcommand registers its
function with ``set_defaults(handler=fn)``, ``fn(args) -> int``."""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from zmr.cli.cluster import add_cluster_commands
from zmr.cli.config_commands import add_config_commands
from zmr.cli.daemons import add_daemon_commands
from zmr.cli.examples import add_examples_command
from zmr.cli.replay import add_replay_command
from zmr.cli.run import add_run_command
from zmr.cli.slurm import add_slurm_commands
from zmr.core.errors import ZmrError, user_traceback
from zmr.core.process import LOG_LEVELS, flush_and_exit, setup_logging


class _Parser(argparse.ArgumentParser):
    """Long options only as spelled: by default argparse takes ``--reducer 3`` for
    ``--reducers 3``, so a typo runs (and a new flag can change what an abbreviation
    meant). Subcommands' parsers are of this class too (``add_subparsers`` makes them of
    the parent's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="zmr", description="Fault-tolerant MapReduce for plain Python mappers and "
                                "reducers, on ZeroMQ and Apache Arrow.")
    parser.add_argument("--version", action="version",
                        version=f"zmr {version('zmr')} (Python {platform.python_version()})")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default=None,
                        help="what zmr logs to stderr (default: warning); zmr run also shows "
                             "its embedded cluster's coordinator and worker log lines at "
                             "this level, each prefixed with its process")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_run_command(sub)
    add_cluster_commands(sub)
    add_config_commands(sub)
    add_daemon_commands(sub)
    add_examples_command(sub)
    add_replay_command(sub)
    add_slurm_commands(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as an exception like Ctrl-C's, so every ``with`` block on the way
    out (the embedded cluster's, above all) stops its processes and removes its files."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


#: Commands that take a job, whose own options (an mrjob job's) come with zmr's flags.
JOB_COMMANDS = ("run", "submit")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """zmr's flags; what zmr does not know is, for ``run`` and ``submit``, the job's own
    options (``job_args``: an mrjob job's ``configure_args``), as mrjob takes them after
    the script, and an error otherwise."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command not in JOB_COMMANDS:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.job_args = [a for a in unknown if a != "--"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # the zmr command itself, not a caller's main([...]): this process is zmr's own
    args.own_process = argv is None
    setup_logging(args.log_level or "warning")
    signal.signal(signal.SIGTERM, _raise_terminated)
    status = _handle(args)
    if args.own_process and getattr(args, "exit_at_once", False):
        _exit_at_once(status)
    return status


def _exit_at_once(status: int) -> None:
    """End the process with ``status`` after the ``atexit`` handlers, without the
    interpreter's teardown of every module and object: 0.1 to 0.15 s of CPU with pyarrow
    and numpy loaded, and nothing of zmr's needs it (its files are closed by then). Only
    for commands that ran no task code in this process (``--inline`` does: a mapper's
    file left unclosed is flushed by that teardown)."""
    atexit._run_exitfuncs()
    flush_and_exit(status)


def _handle(args: argparse.Namespace) -> int:
    try:
        return int(args.handler(args))
    except ZmrError as exc:
        print(f"zmr: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print("zmr: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("zmr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as exc:   # the user's code raised in this process (--inline), or a bug
        print(f"zmr: error: {type(exc).__name__}: {exc}\n{user_traceback(exc)}",
              end="", file=sys.stderr)
        return 1


def _quiet_broken_pipe() -> int:
    """The reader went away (``zmr history | head``): stop quietly, as a C tool killed by
    SIGPIPE would, instead of a traceback; stdout is pointed at /dev/null so the
    interpreter's own flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE
