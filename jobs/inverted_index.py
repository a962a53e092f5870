"""Inverted index: for each word, the sorted list of documents that contain it.

    zmr run jobs/inverted_index.py --input data/sample --output out/index

A document is an input file, named by its base name (``chapter1.txt``), so the index does
not depend on where the input lives; two inputs with the same base name in different
directories count as one document. Output: ``word<TAB>["chapter1.txt", "chapter3.txt"]``.
Words are tokenised as in jobs/wordcount.py.

Two things keep it fast (docs/benchmarks.md, "Inverted index"):

- **In-mapper combining** (Lin and Dyer, *Data-Intensive Text Processing with
  MapReduce*, 3.1): the map task gathers each document's distinct words in a set and
  emits each ``(word, document)`` pair once, from ``mapper_final``, where a per-line
  mapper would emit a word once per line it is on. A document cut across two map tasks
  (a large file, or rebalancing) is emitted by both; the reduce side removes the repeat.
- **A built-in reducer**: ``REDUCE = "collect_set"`` is ``sorted(set(documents))`` per
  word, computed on Arrow columns on both sides (no Python call per word or value).
"""

import os
import re

WORD = re.compile(r"[a-z0-9']+")
REDUCE = "collect_set"

# document path -> its distinct words seen by this map task (one task per process)
_words = {}


def mapper_init():
    _words.clear()


def mapper(key, line):
    path, _offset = key
    words = _words.get(path)
    if words is None:
        words = _words[path] = set()
    words.update(WORD.findall(line.lower()))
    return ()


def mapper_final():
    for path, words in _words.items():
        document = os.path.basename(path)
        for word in words:
            yield word, document
    _words.clear()
