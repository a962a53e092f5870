"""The map side's grouping buffer (used with a combiner) must group exactly as zmr's key
encoding does, keep each key's values in emission order, and fall back cleanly."""

from __future__ import annotations

import collections
import os
import shutil
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import JOBS, read_output
from tests.jobs.grouped_mixed import key_of
from zmr.runners.inline import run_inline
from zmr.storage import codec

# every test here runs with the C map loops and with the pure-Python ones
pytestmark = pytest.mark.usefixtures("map_loops")
tokens = st.sampled_from(["s:a", "s:bb", "n:a", "i:x", "b:x", "f:x", "i:", "b:", "y:a",
                          "t:a", "l:a", "s:x"])


def _expected(lines: list[list[str]]) -> dict[str, list[list[int]]]:
    groups: dict[bytes, list[list[int]]] = collections.defaultdict(list)
    offset = 0
    for line in lines:
        for i, token in enumerate(line):
            groups[codec.encode_key(key_of(token))].append([offset, i])
        offset += len(" ".join(line).encode()) + 1
    return {_label(codec.decode_key(k)): v for k, v in groups.items()}


def _label(key: object) -> str:
    return f"{type(key).__name__}:{key!r}"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(tokens, max_size=8), min_size=1, max_size=40),
       st.sampled_from([64 << 20, 400]), st.integers(1, 3))
def test_grouping_keeps_zmr_key_equality_and_value_order(lines, budget, reducers):
    tmp = tempfile.mkdtemp()
    try:
        with open(os.path.join(tmp, "in.txt"), "w", encoding="utf-8") as f:
            f.write("".join(" ".join(line) + "\n" for line in lines))
        out = os.path.join(tmp, "out")
        run_inline(os.path.join(JOBS, "grouped_mixed.py"), [os.path.join(tmp, "in.txt")], out,
                   reducers=reducers, memory_budget=budget)
        assert read_output(out) == _expected(lines)
    finally:
        shutil.rmtree(tmp)


def test_str_keys_after_a_str_subclass_and_final_pairs(tmp_path):
    job = tmp_path / "job.py"
    job.write_text(
        "class Name(str):\n    pass\n"
        "def mapper(key, line):\n"
        "    yield Name(line), 1\n"
        "    yield line, 1\n"
        "def mapper_final():\n"
        "    yield 'final', 5\n"
        "combiner = reducer = lambda k, vs: [(k, sum(vs))]\n")
    (tmp_path / "in.txt").write_text("a\nb\na\n")
    run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "out"), reducers=2)
    assert read_output(str(tmp_path / "out")) == {"a": 4, "b": 2, "final": 5}


@pytest.mark.parametrize("bad", ["'abc'", "('a', 1, 2)", "None"])
def test_a_bad_pair_from_a_combiner_job_names_the_pair(tmp_path, bad):
    job = tmp_path / "job.py"
    job.write_text(
        "def mapper(key, line):\n"
        "    yield 'fine', 1\n"
        f"    yield {bad}\n"
        "combiner = reducer = lambda k, vs: [(k, sum(vs))]\n")
    (tmp_path / "in.txt").write_text("a\n")
    with pytest.raises(TypeError, match="mapper must yield \\(key, value\\) pairs"):
        run_inline(str(job), [str(tmp_path / "in.txt")], str(tmp_path / "out"))
