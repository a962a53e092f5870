"""The combiner's point: on Zipf-distributed words (natural text), word count's shuffle
shrinks by an order of magnitude, and the answer does not change."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from tests.helpers import EXAMPLES, read_output
from zmr.job.loader import load_job
from zmr.runners.inline import run_inline


def _zipf_corpus(path: str, lines: int = 20000, words_per_line: int = 10,
                 vocabulary: int = 5000, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocabulary + 1)
    p = 1.0 / ranks
    words = rng.choice(vocabulary, size=(lines, words_per_line), p=p / p.sum())
    with open(path, "w", encoding="utf-8") as f:
        for row in words:
            f.write(" ".join(f"w{w}" for w in row) + "\n")


def test_combiner_cuts_shuffle_bytes_tenfold_on_zipf_words(tmp_path):
    corpus = str(tmp_path / "corpus.txt")
    _zipf_corpus(corpus)
    with_combiner = load_job(os.path.join(EXAMPLES, "wordcount.py"))
    without = dataclasses.replace(with_combiner, combiner=None)
    results = {}
    for name, job in (("with", with_combiner), ("without", without)):
        out = str(tmp_path / name)
        results[name] = run_inline(job, [corpus], out, reducers=2, split_size="256KB")
        assert os.path.exists(os.path.join(out, "_SUCCESS"))
    assert read_output(str(tmp_path / "with")) == read_output(str(tmp_path / "without"))
    on, off = (results[n].counters["zmr"] for n in ("with", "without"))
    assert on["MAP_OUTPUT_RECORDS"] == off["MAP_OUTPUT_RECORDS"] == 200000
    assert on["COMBINE_INPUT_RECORDS"] >= on["MAP_OUTPUT_RECORDS"] > on["COMBINE_OUTPUT_RECORDS"]
    assert "COMBINE_INPUT_RECORDS" not in off
    assert off["REDUCE_SHUFFLE_BYTES"] >= 10 * on["REDUCE_SHUFFLE_BYTES"], (
        off["REDUCE_SHUFFLE_BYTES"], on["REDUCE_SHUFFLE_BYTES"])
    assert on["MAP_OUTPUT_MATERIALIZED_BYTES"] == on["REDUCE_SHUFFLE_BYTES"]
