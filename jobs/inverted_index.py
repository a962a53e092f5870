"""Inverted index: for each word, the sorted list of documents that contain it.

    zmr run jobs/inverted_index.py --input data/sample --output out/index

A document is an input file, named by its base name (``chapter1.txt``), so the index does
not depend on where the input lives; two inputs with the same base name in different
directories count as one document. Output: ``word<TAB>["chapter1.txt", "chapter3.txt"]``.
Words are tokenised as in jobs/wordcount.py.
"""

import os
import re

WORD = re.compile(r"[a-z0-9']+")


def mapper(key, line):
    path, _offset = key
    document = os.path.basename(path)
    # set(): a word repeated on one line is one posting, not several
    for word in set(WORD.findall(line.lower())):
        yield word, [document]


def combiner(word, document_lists):
    # Collapses a map task's many one-document lists to one list per word. It must emit
    # the same shape it receives (a list) because the reducer may see combined and
    # uncombined values side by side.
    yield word, _merge(document_lists)


def reducer(word, document_lists):
    yield word, _merge(document_lists)


def _merge(document_lists):
    """Sorted distinct documents of an iterator of lists (memory: one entry per document)."""
    return sorted({document for documents in document_lists for document in documents})
