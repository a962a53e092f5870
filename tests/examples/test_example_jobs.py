"""Every example job in jobs/ against a straightforward Python computation of its answer."""

from __future__ import annotations

import collections
import os
import re

import pytest

from tests.helpers import read_output, read_parts
from zmr.inline import run_inline
from zmr.storage import codec

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
WORD = re.compile(r"[a-z0-9']+")
TEXTS = {
    "a.txt": "The quick brown fox\njumps over the lazy dog\n\nthe END, the end.\n",
    "b.txt": "Fox and dog: an error here\nno problems there\r\nAnother ERROR line\n",
    "sub/c.txt": "déjà vu: the fox's den\nit's the dog's error\n" * 20,
}


@pytest.fixture()
def corpus(tmp_path):
    for name, text in TEXTS.items():
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_text(text, encoding="utf-8")
    return tmp_path


def _lines():
    for name, text in sorted(TEXTS.items()):
        offset = 0
        for line in text.split("\n")[:-1]:
            yield os.path.basename(name), offset, line.rstrip("\r")
            offset += len(line.encode()) + 1


def _run(corpus, job, sorted_keys=True, **kw):
    out = str(corpus / f"out-{job}-{kw.get('reducers')}-{kw.get('split_size')}")
    run_inline(os.path.join(ROOT, "jobs", f"{job}.py"), [str(corpus / "in")], out, **kw)
    assert os.path.exists(os.path.join(out, "_SUCCESS"))
    for part in read_parts(out):
        keys = [codec.encode_key(k) for k, _ in part]
        assert keys == sorted(keys) or not sorted_keys
    return out


def _word_counts():
    return collections.Counter(w for _, _, ln in _lines() for w in WORD.findall(ln.lower()))


@pytest.mark.parametrize("reducers,split_size", [(1, None), (3, 17), (7, 5)])
def test_wordcount(corpus, reducers, split_size):
    out = _run(corpus, "wordcount", reducers=reducers, split_size=split_size)
    assert read_output(out) == dict(_word_counts())


@pytest.mark.parametrize("reducers,split_size", [(1, None), (4, 23)])
def test_wordcount_vectorized_matches_record_path(corpus, reducers, split_size):
    out = _run(corpus, "wordcount_vectorized", reducers=reducers, split_size=split_size)
    assert read_output(out) == dict(_word_counts())


@pytest.mark.parametrize("reducers", [1, 3])
def test_inverted_index(corpus, reducers):
    out = _run(corpus, "inverted_index", reducers=reducers, split_size=31)
    expected = collections.defaultdict(set)
    for doc, _, line in _lines():
        for w in WORD.findall(line.lower()):
            expected[w].add(doc)
    assert read_output(out) == {w: sorted(d) for w, d in expected.items()}


def test_grep_is_map_only(corpus, monkeypatch):
    monkeypatch.setenv("ZMR_GREP_PATTERN", "err?or")
    out = _run(corpus, "grep", sorted_keys=False, split_size=40)
    parts = read_parts(out)
    assert len(parts) > 3          # one part file per map task that found something
    got = [(k, v) for part in parts for k, v in part]
    expected = [(f"{doc}:{off}", ln) for doc, off, ln in _lines()
                if re.search("err?or", ln, re.IGNORECASE)]
    assert sorted(got) == sorted(expected)


@pytest.mark.parametrize("reducers", [1, 5])
def test_bigram(corpus, reducers):
    out = _run(corpus, "bigram", reducers=reducers, split_size=50)
    expected = collections.Counter()
    for _, _, line in _lines():
        words = WORD.findall(line.lower())
        expected.update(f"{a} {b}" for a, b in zip(words, words[1:]))
    assert read_output(out) == dict(expected)


def test_topn(corpus, monkeypatch):
    monkeypatch.setenv("ZMR_TOPN", "4")
    out = _run(corpus, "topn", sorted_keys=False, split_size=64)   # ordered by count
    (part,) = read_parts(out)
    counts = _word_counts()
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    assert part == expected
