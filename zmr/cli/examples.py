"""``zmr examples [DIR]``: copy the example jobs and their sample data to a folder, so a
user who installed zmr from a wheel can run the commands the jobs' docstrings show.

The source stays at the repository's top level (``jobs/``, ``data/sample``,
``data/weather``); the wheel carries a copy as ``zmr/_examples`` (setup.py puts it there),
and a checkout or editable install reads the top-level folders directly."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from zmr.core.errors import ConfigError

#: What is copied, as paths relative to the examples' root (the same in the wheel and in
#: the checkout).
PARTS = ("jobs", "data/sample", "data/weather")


def add_examples_command(sub: Any) -> None:
    examples = sub.add_parser("examples", help="copy the example jobs and sample data to "
                                               "a folder")
    examples.add_argument("dir", nargs="?", default="zmr-examples",
                          help="where to copy them (default: zmr-examples)")
    examples.add_argument("--force", action="store_true",
                          help="copy into a folder that is not empty, replacing files")
    examples.set_defaults(handler=cmd_examples)


def examples_root() -> Path:
    """The folder holding ``jobs/`` and ``data/``: inside the installed package, else the
    checkout zmr was imported from."""
    package = Path(__file__).resolve().parents[1]      # zmr/
    for root in (package / "_examples", package.parent):
        if all((root / part).is_dir() for part in PARTS):
            return root
    raise ConfigError(f"zmr examples: this installation of zmr ({package}) has no example "
                      f"jobs (neither {package / '_examples'} nor a checkout's jobs/)")


def cmd_examples(args: argparse.Namespace) -> int:
    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"zmr examples: {target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not args.force:
        raise ConfigError(f"zmr examples: {target} is not empty (pass --force to copy "
                          f"into it anyway)")
    root = examples_root()
    for part in PARTS:
        shutil.copytree(root / part, target / part, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    jobs = sorted(p.name for p in (target / "jobs").glob("*.py"))
    print(f"copied {len(jobs)} example jobs and their data to {target}; try:\n"
          f"  cd {target} && zmr run jobs/wordcount.py --input data/sample "
          f"--output out/wordcount")
    return 0
