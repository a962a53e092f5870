"""The command-line reference page (``docs/reference/cli.md``), generated from the argparse
parsers themselves so it cannot drift from the code.

``python -m zmr.cli.reference`` prints the page, ``--write FILE`` rewrites it and
``--check FILE`` exits 1 when FILE is stale (a test runs the check). The page is built from
each parser's actions, not from ``--help`` text, because argparse's help layout changes
between Python versions and terminal widths; the page must be the same everywhere.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from zmr.cli.main import build_parser
from zmr.coordinator.__main__ import build_parser as coordinator_parser
from zmr.worker.__main__ import build_parser as worker_parser

COMMAND = "python -m zmr.cli.reference --write docs/reference/cli.md"

HEADER = f"""# Command-line reference

Every command, subcommand and flag of `zmr`, `python -m zmr.coordinator` and
`python -m zmr.worker`. This page is generated from the parsers (`{COMMAND}`; a test fails
when it is stale). Exit codes and the environment are described in
[Command line](../operations/command-line.md).
"""


def page() -> str:
    """The whole reference page, Markdown."""
    parts = [HEADER]
    for parser in (build_parser(), coordinator_parser(), worker_parser()):
        parts.extend(_sections(parser, level=2))
    return "\n".join(parts)


def _sections(parser: argparse.ArgumentParser, level: int) -> Iterator[str]:
    yield f"{'#' * level} `{parser.prog}`\n"
    if parser.description:
        yield _one_line(parser.description) + "\n"
    yield f"```\n{_usage(parser)}\n```\n"
    rows = [_row(action) for action in parser._actions
            if not isinstance(action, argparse._SubParsersAction)
            and action.help != argparse.SUPPRESS]
    if rows:
        yield "| argument | meaning |\n| --- | --- |\n" + "\n".join(rows) + "\n"
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _sections(sub, level + 1)


def _usage(parser: argparse.ArgumentParser) -> str:
    """One-line usage, independent of the terminal's width."""
    formatter = argparse.HelpFormatter(parser.prog, width=10_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups,
                        prefix="")
    return formatter.format_help().strip()


def _row(action: argparse.Action) -> str:
    names = ", ".join(action.option_strings) or action.dest
    metavar = _metavar(action)
    cell = f"`{names}{' ' + metavar if metavar else ''}`"
    return f"| {cell} | {_one_line(action.help or '').replace('|', '/')} |"


def _metavar(action: argparse.Action) -> str:
    if not action.option_strings or action.nargs == 0:
        return ""
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest.upper()


def _one_line(text: str) -> str:
    return " ".join(str(text).replace("%%", "%").split())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m zmr.cli.reference",
                                     description="Print, write or check the command-line "
                                                 "reference page.")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", metavar="FILE", help="write the page to FILE")
    action.add_argument("--check", metavar="FILE", help="exit 1 if FILE is stale")
    args = parser.parse_args(argv)
    fresh = page()
    if args.write:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(fresh)
    elif args.check:
        with open(args.check, encoding="utf-8") as f:
            stale = f.read() != fresh
        if stale:
            print(f"{args.check}: stale; run {COMMAND}", file=sys.stderr)
        return int(stale)
    else:
        sys.stdout.write(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
