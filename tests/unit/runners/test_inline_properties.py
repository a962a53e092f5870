"""Property tests: for random corpora, split sizes and reducer counts, output == naive answer."""

from __future__ import annotations

import collections
import os
import shutil
import tempfile

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.helpers import EXAMPLES, JOBS, read_output, read_parts
from zmr.core.errors import InputError
from zmr.runners.inline import run_inline
from zmr.storage import codec

words = st.sampled_from(["a", "b", "ab", "the", "é", "x1", "Zeta", "a'b"])
line = st.lists(words, max_size=6).map(" ".join)
corpus = st.lists(st.lists(line, max_size=12), min_size=1, max_size=3)


def _write_files(tmp: str, files: list[list[str]], crlf: bool, final_newline: bool) -> str:
    """The files in ``tmp/in`` (the output goes beside it, never inside an input)."""
    root = os.path.join(tmp, "in")
    os.mkdir(root)
    for i, lines in enumerate(files):
        text = ("\r\n" if crlf else "\n").join(lines)
        if final_newline and lines:
            text += "\r\n" if crlf else "\n"
        with open(os.path.join(root, f"f{i}.txt"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return root


@settings(max_examples=40, deadline=None)
@given(corpus, st.integers(1, 40), st.integers(1, 7), st.booleans(), st.booleans(),
       st.sampled_from([64 << 20, 2000]))
def test_word_count_equals_naive(files, split_size, reducers, crlf, final_newline, budget):
    tmp = tempfile.mkdtemp()
    try:
        inputs = _write_files(tmp, files, crlf, final_newline)
        out = os.path.join(tmp, "out")
        if not any(os.path.getsize(os.path.join(inputs, n)) for n in os.listdir(inputs)):
            with pytest.raises(InputError, match="the input is empty"):
                run_inline(os.path.join(EXAMPLES, "wordcount.py"), [inputs], out)
            return
        run_inline(os.path.join(EXAMPLES, "wordcount.py"), [inputs], out,
                   reducers=reducers, split_size=split_size, memory_budget=budget)
        # the job's tokenizer is [a-z0-9']+ on lowercased text, so "é" is not a word
        expected = collections.Counter(w.lower() for f in files for ln in f
                                       for w in ln.split() if w != "é")
        assert read_output(out) == dict(expected)
        for part in read_parts(out):
            keys = [codec.encode_key(k) for k, _ in part]
            assert keys == sorted(keys)
        assert os.path.exists(os.path.join(out, "_SUCCESS"))
    finally:
        shutil.rmtree(tmp)


@settings(max_examples=25, deadline=None)
@given(corpus, st.integers(1, 30))
def test_every_line_read_once_at_its_offset(files, split_size):
    assume(any(files))              # an input of no bytes at all is an error (tested above)
    tmp = tempfile.mkdtemp()
    try:
        inputs = _write_files(tmp, files, crlf=False, final_newline=True)
        out = os.path.join(tmp, "out")
        run_inline(os.path.join(JOBS, "positions.py"), [inputs], out, reducers=2,
                   split_size=split_size)
        got = {(os.path.basename(k[0]), k[1]): v for part in read_parts(out) for k, v in part}
        expected = {}
        for i, lines in enumerate(files):
            offset = 0
            for ln in lines:
                expected[(f"f{i}.txt", offset)] = ln
                offset += len(ln.encode()) + 1
        assert got == expected
    finally:
        shutil.rmtree(tmp)


def test_mixed_key_types_are_sorted_by_type_then_value(tmp_path):
    (tmp_path / "in.txt").write_text("b aa c\nxyz q\n\nlonger words here\n")
    out = tmp_path / "out"
    run_inline(os.path.join(JOBS, "mixed_keys.py"), [str(tmp_path / "in.txt")], str(out),
               reducers=3, split_size=7, memory_budget=500)
    pairs = [p for part in read_parts(str(out)) for p in part]
    for part in read_parts(str(out)):
        assert [codec.encode_key(_tuple(k)) for k, _ in part] == sorted(
            codec.encode_key(_tuple(k)) for k, _ in part)
    counts = collections.Counter()
    for ln in (tmp_path / "in.txt").read_text().splitlines():
        for w in ln.split():
            counts.update(codec.encode_key(k)
                          for k in (w, len(w), (w[:1], len(w)), len(w) / 2, len(w) % 2 == 0))
    assert {codec.encode_key(_tuple(k)): v for k, v in pairs} == dict(counts)


def _tuple(k):
    return tuple(_tuple(i) for i in k) if isinstance(k, list) else k
