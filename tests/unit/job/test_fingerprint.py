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
