"""``zmr replay JOB --record FILE:OFFSET`` (or ``--entry QUARANTINE_FILE[:N]``): the job's
mapper on one record, in this process (:mod:`zmr.runners.replay`); ``zmr replay JOB --key
KEY``: its reducer on one key's values (:mod:`zmr.runners.reduce_replay`); ``--pdb`` to
debug either.

Exit status: 0 the hook ran (its pairs on stdout, as text output lines), 1 it raised (the
user's traceback on stderr; ``--pdb`` opens the debugger at the raising frame first), 2 the
record, the key, the job or a flag is wrong.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from zmr.cli.options import flag_arguments
from zmr.core.errors import ZmrError
from zmr.settings.job import OPTION_SETTINGS, JobOptions


def add_replay_command(sub: Any) -> None:
    p = sub.add_parser("replay", help="run a job's mapper on one input record, or its "
                                      "reducer on one key, here (to debug it)")
    p.add_argument("job", help="job module: a path, or a bare name looked up in jobs/")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--record", metavar="FILE:OFFSET",
                       help="the record starting at this byte offset (a row number for CSV "
                            "and table formats) of FILE, as --skip-bad-records names it")
    which.add_argument("--entry", metavar="QUARANTINE_FILE[:N]",
                       help="the N-th record (from 1; default 1) of a file of "
                            "OUTPUT/_quarantine/")
    which.add_argument("--key", metavar="KEY",
                       help="run the reducer on this key's values: the key as the output "
                            "writes it (a string as it is, else JSON), as a reduce failure "
                            "names it")
    p.add_argument("--input", "-i", nargs="+", action="extend", default=[], metavar="PATH",
                   help="with --key: the job's input, whose maps run again here to find "
                        "the key's values (unless --map-outputs)")
    p.add_argument("--map-outputs", action="append", default=[], metavar="DIR",
                   help="with --key: read the values from the kept map outputs under DIR "
                        "(e.g. the workers' data_dir of a failed job) instead (repeatable)")
    p.add_argument("--of-job", default="", metavar="JOB",
                   help="with --map-outputs: the job whose map outputs to read, when DIR "
                        "holds several jobs'")
    p.add_argument("--partition", type=int, default=None, metavar="N",
                   help="with --key: look for the key in reduce partition N only (faster)")
    p.add_argument("--pdb", action="store_true",
                   help="open the Python debugger where the mapper (or reducer) raised")
    for setting in OPTION_SETTINGS:       # --param, --input-format, ...: as the job ran
        if setting.flag:
            p.add_argument(*setting.flag, **flag_arguments(setting))
    p.set_defaults(handler=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    if args.key is not None:
        return _replay_key(args)
    from zmr.core.errors import user_traceback
    from zmr.runners.replay import entry_record, locate, parse_record, run_mapper
    from zmr.storage.formats import format_line

    path, offset = entry_record(args.entry) if args.entry else parse_record(args.record)
    found = locate(args.job, path, offset, JobOptions.from_args(args))
    try:
        pairs = run_mapper(found)
    except Exception as exc:  # noqa: BLE001 - the user's mapper raised: that is the answer
        return _raised(exc, args.pdb, user_traceback(exc))
    for key, value in pairs:
        sys.stdout.write(format_line(key, value))
    print(f"zmr: the mapper yielded {len(pairs)} pairs for {found.record.path} at "
          f"{offset}", file=sys.stderr)
    return 0


def _replay_key(args: argparse.Namespace) -> int:
    from zmr.core.errors import user_traceback
    from zmr.runners.reduce_replay import prepare, run_reducer, scratch_dir
    from zmr.storage.formats import format_line

    with scratch_dir() as scratch:
        replay = prepare(args.job, args.input, args.map_outputs, scratch,
                         JobOptions.from_args(args), args.of_job)
        try:
            key, pairs = run_reducer(replay, args.key, args.partition)
        except Exception as exc:  # noqa: BLE001 - the user's reducer raised: the answer
            if isinstance(exc, ZmrError):
                raise
            return _raised(exc, args.pdb, user_traceback(exc))
    for out_key, value in pairs:
        sys.stdout.write(format_line(out_key, value))
    print(f"zmr: the reducer yielded {len(pairs)} pairs for key {args.key!r}",
          file=sys.stderr)
    return 0


def _raised(exc: BaseException, debug: bool, story: str) -> int:
    print(story.rstrip(), file=sys.stderr)
    if debug:
        import pdb

        pdb.post_mortem(exc.__traceback__)
    return 1
