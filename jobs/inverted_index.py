"""Inverted index: for each word, the sorted list of documents (input file names) holding it.

The combiner removes duplicate documents on the map side; the reducer merges the per-map
sets. Documents are file base names, so the index does not depend on where the input lives.
"""

import os
import re

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    path, _offset = key
    document = os.path.basename(path)
    for word in set(WORD.findall(line.lower())):
        yield word, [document]


def combiner(word, document_lists):
    yield word, sorted({d for docs in document_lists for d in docs})


def reducer(word, document_lists):
    yield word, sorted({d for docs in document_lists for d in docs})
