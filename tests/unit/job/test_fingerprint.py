"""The digest of a job's map-side code (``--reuse``): the same in every process, and changed
by every change to what the map computes with, not by the reducer or where code sits."""

from __future__ import annotations

import os
import threading

from tests.reuse_jobs import edit, forget_helpers, write_job_dir
from zmr.job.api import JobSpec
from zmr.job.fingerprint import map_code_digest
from zmr.job.loader import load_job


def _load(job: str) -> JobSpec:
    forget_helpers(os.path.dirname(job))
    return load_job(job)


def test_the_digest_leaves_out_the_reducer_and_follows_the_helpers(tmp_path):
    job = write_job_dir(tmp_path)
    side = {"stop.txt": str(tmp_path / "stop.txt")}
    base = map_code_digest(_load(job), side)
    assert map_code_digest(_load(job), side) == base
    edit(job, "def reducer(word, counts):\n    yield word, sum(counts)",
         "def reducer(word, counts):\n    yield word, max(counts)")
    assert map_code_digest(_load(job), side) == base
    edit(str(tmp_path / "reuse_helper.py"), "lower()", "upper()")
    assert map_code_digest(_load(job), side) != base


def _closure_mapper(scale):
    def mapper(key, line):
        yield line, scale
    return mapper


def test_functions_of_a_session_are_digested_by_value():
    """``zmr.run(mapper=...)``: closures and lambdas, with their captured values."""
    def digest(mapper, combiner=None):
        return map_code_digest(JobSpec("f", "<session>", mapper, combiner=combiner), {})

    assert digest(_closure_mapper(1)) == digest(_closure_mapper(1))
    assert digest(_closure_mapper(1)) != digest(_closure_mapper(2))
    assert digest(lambda k, v: [(v, 1)]) != digest(lambda k, v: [(v, 2)])
    assert digest(_closure_mapper(1), combiner=sum) != digest(_closure_mapper(1))


def test_a_value_it_cannot_read_is_never_equal_to_itself():
    """A global that neither pickles nor has parts the digest knows: never reused."""
    lock = threading.Lock()

    def mapper(key, line):
        with lock:
            yield line, 1

    first = map_code_digest(JobSpec("f", "<session>", mapper), {})
    assert map_code_digest(JobSpec("f", "<session>", mapper), {}) != first


def test_recursive_functions_and_self_referencing_values_are_digested():
    table: dict = {}
    table["self"] = table

    def walk(n):
        return 0 if n == 0 else walk(n - 1) + len(table)

    def mapper(key, line):
        yield line, walk(2)

    assert map_code_digest(JobSpec("f", "<s>", mapper), {}) == \
        map_code_digest(JobSpec("f", "<s>", mapper), {})


def test_an_mrjob_jobs_methods_are_digested_by_value(tmp_path):
    """An mrjob job runs through zmr's adapter objects, which hold the user's class: a
    change to its mapper must change the digest though a pickle would only name it."""
    source = os.path.join(os.path.dirname(__file__), "..", "..", "mrjob_examples",
                          "mr_word_freq_count.py")
    job = str(tmp_path / "mr_wfc.py")
    with open(source, encoding="utf-8") as f, open(job, "w", encoding="utf-8") as out:
        out.write(f.read())
    base = map_code_digest(_load(job), {})
    assert map_code_digest(_load(job), {}) == base
    edit(job, "yield (word.lower(), 1)", "yield (word.upper(), 1)")
    assert map_code_digest(_load(job), {}) != base


class _Scaler:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    def scale(self, n: int) -> int:
        return n * self.factor


def test_common_globals_are_digested_the_same_each_time_and_follow_their_state():
    """A logger, a compiled regex, an array, an object of the job's own class: a mapper
    using them is reused (not made unreadable by a lock in a logger's handlers), and a
    change of their state is a change of the digest."""
    import logging
    import re

    import numpy as np

    log = logging.getLogger("tests.fingerprint")
    word = re.compile(r"\w+")
    table = np.arange(5)
    scaler = _Scaler(3)

    def mapper(key, line):
        log.debug("line %s", key)
        for w in word.findall(line):
            yield w, scaler.scale(int(table.sum()))

    def digest():
        return map_code_digest(JobSpec("f", "<session>", mapper), {})

    first = digest()
    assert digest() == first
    scaler.factor = 4
    assert digest() != first
    scaler.factor = 3
    assert digest() == first
    table[0] = 7
    assert digest() != first
