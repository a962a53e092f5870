"""Built-in aggregations on an embedded cluster of 2 workers: ``REDUCE = "sum"`` (and
``collect_set``) with a Python generator mapper gives the bytes of ``--inline``, of the
Python reducer it replaces, and of the pure-Python map loops (``ZMR_PURE_PYTHON=1``)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import PATIENT_S, output_bytes, write_lines

MAPPER = '''
def mapper(key, line):
    words = line.split()
    for i, word in enumerate(words):
        yield word, len(word) * (i + 1)
    yield len(words), words[0] if words else ""
'''
JOBS = {
    "sum.py": 'REDUCE = "sum"\n' + MAPPER.replace('words[0] if words else ""', "1"),
    "sum_python.py": MAPPER.replace('words[0] if words else ""', "1") +
    "\ndef combiner(key, values):\n    yield key, sum(values)\n"
    "\ndef reducer(key, values):\n    yield key, sum(values)\n",
    "set.py": 'REDUCE = "collect_set"\n' + MAPPER,
    "set_python.py": MAPPER + "\ndef reducer(key, values):\n    yield key, sorted(set(values))\n",
}


def _zmr(tmp_path, job: str, out: str, *args: str, **env: str) -> str:
    environment = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), **env)
    os.makedirs(environment["TMPDIR"], exist_ok=True)
    target = str(tmp_path / out)
    proc = subprocess.run(
        [sys.executable, "-m", "zmr", "run", str(tmp_path / job), "--input",
         str(tmp_path / "in"), "--output", target, "--reducers", "3", "--split-size", "3KB",
         "--memory", "1MB", *args], capture_output=True, text=True, timeout=PATIENT_S,
        env=environment)
    assert proc.returncode == 0, proc.stderr
    return target


def _jobs(tmp_path):
    write_lines(tmp_path / "in", files=3, lines_per_file=400)
    for name, source in JOBS.items():
        (tmp_path / name).write_text(source)


def test_sum_on_two_workers_equals_inline_the_python_reducer_and_pure_python(tmp_path):
    _jobs(tmp_path)
    cluster = output_bytes(_zmr(tmp_path, "sum.py", "cluster", "--workers", "2"))
    assert any(cluster.values())
    assert output_bytes(_zmr(tmp_path, "sum.py", "inline", "--inline")) == cluster
    assert output_bytes(_zmr(tmp_path, "sum_python.py", "python", "--workers", "2")) == cluster
    pure = _zmr(tmp_path, "sum.py", "pure", "--workers", "2", ZMR_PURE_PYTHON="1")
    assert output_bytes(pure) == cluster


def test_collect_set_on_two_workers_equals_the_python_reducer(tmp_path):
    _jobs(tmp_path)
    cluster = output_bytes(_zmr(tmp_path, "set.py", "cluster", "--workers", "2"))
    assert output_bytes(_zmr(tmp_path, "set_python.py", "python", "--inline")) == cluster
