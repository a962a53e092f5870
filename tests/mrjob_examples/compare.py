"""Run an mrjob example with mrjob's own inline runner and with zmr; both outputs as the
lines of their part files, concatenated in part order (mrjob's inline runner cuts its
sorted reducer input into contiguous ranges, so with one zmr reducer the two agree line
for line)."""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def example(name: str) -> str:
    return os.path.join(HERE, f"{name}.py")


def job_class(name: str) -> type:
    """The MRJob class of a vendored example, imported as mrjob would run it."""
    spec = importlib.util.spec_from_file_location(f"mrjob_example_{name}", example(name))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    from mrjob.job import MRJob
    (cls,) = [v for v in vars(module).values() if isinstance(v, type)
              and issubclass(v, MRJob) and v.__module__ == module.__name__]
    return cls


def part_lines(output_dir: str) -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(glob.glob(os.path.join(output_dir, "part-*"))):
        with open(path, "rb") as f:
            lines += f.read().splitlines()
    return lines


def run_mrjob(name: str, inputs: list[str], output: str, args: list[str] = ()) -> list[bytes]:
    """mrjob's inline runner, in this process, writing part files to ``output``."""
    job = job_class(name)(args=["-r", "inline", "--no-conf", "--output-dir", output,
                                "--no-cat-output", *args, *inputs])
    with job.make_runner() as runner:
        runner.run()
    return part_lines(output)
