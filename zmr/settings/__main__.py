"""``python -m zmr.settings``: print the generated settings tables (``--markdown``, the
default), rewrite them in a file (``--write docs/reference/settings.md``) or check that a
file holds the current ones (``--check FILE``: exit status 1 if not)."""

from __future__ import annotations

import argparse
import sys

from zmr.settings import docs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m zmr.settings")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--markdown", action="store_true",
                        help="print every generated table, with its markers")
    action.add_argument("--write", metavar="FILE", help="rewrite the tables in FILE")
    action.add_argument("--check", metavar="FILE", help="exit 1 if FILE's tables are stale")
    args = parser.parse_args(argv)
    path = args.write or args.check
    if path is None:
        sys.stdout.write(docs.markdown())
        return 0
    with open(path, encoding="utf-8") as f:
        text = f.read()
    fresh = docs.rewrite(text)
    if args.check:
        if fresh != text:
            print(f"{path}: settings tables are stale; run {docs.COMMAND}", file=sys.stderr)
        return int(fresh != text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
