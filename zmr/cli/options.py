"""The flags every way of running a job shares (``zmr run``, ``zmr submit``), generated from
the job settings table (:mod:`zmr.settings.job`); ``JobOptions.from_args`` reads them back."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from zmr.settings.job import OPTION_SETTINGS
from zmr.settings.setting import Setting

if TYPE_CHECKING:
    from zmr.job.api import JobSpec, Pipeline


def add_job_arguments(p: argparse.ArgumentParser) -> None:
    """The job, its input and output, and one flag per job setting that has one."""
    p.add_argument("job", help="job module: a path, or a bare name looked up in jobs/")
    p.add_argument("--input", "-i", nargs="+", action="extend", default=[], metavar="PATH",
                   help="input files, directories (recursive) or globs (repeatable); for a "
                        "job with INPUTS, NAME=PATH replaces the paths of input NAME")
    p.add_argument("--output", "-o", required=True, metavar="DIR",
                   help="output directory (must not exist unless --overwrite); zmr run "
                        "-o -: the output's lines to stdout")
    for setting in OPTION_SETTINGS:
        if setting.flag:
            p.add_argument(*setting.flag, **flag_arguments(setting))


def job_of(args: argparse.Namespace) -> str | JobSpec | Pipeline:
    """The job to run: its path, or with options of its own (``job_args``) the job loaded
    with them (only an mrjob job takes any)."""
    if not getattr(args, "job_args", None):
        return str(args.job)
    from zmr.job.loader import load_runnable     # pyarrow: only for a command that runs one

    return load_runnable(args.job, args.job_args)


def flag_arguments(setting: Setting) -> dict[str, Any]:
    """``add_argument`` keywords of a setting's flag. Every flag defaults to None (not
    given), so a job module's setting can tell it was not overridden."""
    if setting.types == (bool,):
        return dict(dest=setting.name, action="store_true", default=None, help=setting.help)
    if list in setting.types:     # repeatable: --param A=1 --param B=2
        return dict(dest=setting.name, action="append", default=None,
                    metavar=setting.metavar, help=setting.help)
    return dict(dest=setting.name, default=None, metavar=setting.metavar,
                choices=setting.choices, type=int if setting.types == (int,) else None,
                help=f"{setting.help} ({_one_of(setting)}default: {_default(setting)})")


def _one_of(setting: Setting) -> str:
    return f"{', '.join(setting.choices)}; " if setting.choices else ""


def _default(setting: Setting) -> str:
    shown = setting.shown_default()
    return f"{setting.module} or {shown}" if setting.module else shown
