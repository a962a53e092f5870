"""A job directory for the ``--reuse`` tests: a job file whose every map-side input
(mapper, combiner, partitioner, hooks, a helper module it imports, a global it reads, a side
file) can be edited by name, and its input files; see tests/unit/tasks/test_reuse.py and
tests/cluster/test_reuse.py."""

from __future__ import annotations

import os
import random
import sys

JOB = '''\
import zmr
import reuse_helper

FILES = ["stop.txt"]
PARAMS = {"bonus": 0}
STOP = set()
SCALE = 1


def mapper_init():
    STOP.update(open("stop.txt").read().split())


def mapper(key, line):
    for word in reuse_helper.words(line):
        if word not in STOP:
            yield word, SCALE + zmr.param("bonus")


def mapper_final():
    yield "~final", 1


def combiner(word, counts):
    yield word, sum(counts)


def partitioner(word, n):
    return len(word) % n


def reducer(word, counts):
    yield word, sum(counts)
'''

#: The same job without combiner and partitioner: what SORT_VALUES and total order need.
PLAIN_JOB = '''\
def mapper(key, line):
    for word in line.split():
        yield word, len(word)


def reducer(word, lengths):
    yield word, list(lengths)
'''

HELPER = '''\
def words(line):
    return line.lower().split()
'''

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]


def write_job_dir(root, job: str = JOB) -> str:
    """The job file (``job.py``, with ``reuse_helper.py`` and ``stop.txt`` beside it) in
    ``root``; its path."""
    os.makedirs(root, exist_ok=True)
    for name, text in (("job.py", job), ("reuse_helper.py", HELPER), ("stop.txt", "eta\n")):
        with open(os.path.join(root, name), "w", encoding="utf-8") as f:
            f.write(text)
    return os.path.join(root, "job.py")


def edit(path: str, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in the file ``path``."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(old, new))


def write_text(path: str, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(lines):
            f.write(" ".join(rng.choice(WORDS) for _ in range(8)) + "\n")


def write_inputs(root, files: int = 3, lines: int = 3000) -> str:
    """``files`` text files of ``lines`` lines (about 150 kB each: two splits each with
    the automatic split size of one slot) in ``root``; the directory."""
    os.makedirs(root, exist_ok=True)
    for n in range(files):
        write_text(os.path.join(root, f"part{n}.txt"), lines, seed=n)
    return str(root)


def forget_helpers(root) -> None:
    """Drop the job directory's helper module from ``sys.modules``, so that the next load
    of the job imports its (edited) file again, as a new ``zmr run`` process would."""
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(str(root) + os.sep) or name == "reuse_helper":
            del sys.modules[name]     # (another test's job directory has one too)
