"""MIT 6.824's crash app, as a zmr job: module-level state that cannot be pickled (a
``random.SystemRandom()``, a ``threading.Lock``), a task process that may die at once
(``--param crash=P``: the chance that a map task crashes), and local helpers beside it (a
module and a package), all shipped to workers as source and imported there."""

import os
import random
import threading

import wordsplit
from textlib.norm import normalise

import zmr

rng = random.SystemRandom()      # cloudpickle cannot pickle this: it must be made per worker
lock = threading.Lock()
LOADED_IN = os.getpid()          # which process imported the module


def mapper_init():
    with lock:
        if rng.random() < zmr.param("crash", 0.0, type=float):
            os._exit(1)          # like crash.go: the whole task process dies


def mapper(key, line):
    for word in wordsplit.words(line):
        yield normalise(word), 1
    zmr.increment_counter("imported", "here" if LOADED_IN == os.getpid() else "elsewhere")


def reducer(word, ones):
    yield word, sum(ones)
