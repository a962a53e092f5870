"""A mapper with module-level state: each task process counts the attempts it ran, and the
first attempt a process runs fails. Reusing a failed attempt's process for the retry would
let the retry "succeed" on the failed attempt's globals; a fresh process fails it again."""

import os

ATTEMPTS_IN_THIS_PROCESS = 0


def mapper_init():
    global ATTEMPTS_IN_THIS_PROCESS
    ATTEMPTS_IN_THIS_PROCESS += 1
    if ATTEMPTS_IN_THIS_PROCESS == 1:
        raise RuntimeError(f"first attempt in process {os.getpid()}")


def mapper(key, line):
    yield "attempts seen by this process", ATTEMPTS_IN_THIS_PROCESS


def reducer(key, values):
    yield key, max(values)
