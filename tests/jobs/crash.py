"""MIT 6.824's crash app for zmr: at the start of every map and reduce task, about one time
in three the whole worker dies (SIGKILL to the worker, then the task exits), one time in
three the task sleeps for up to ZMR_CRASH_MAX_SLEEP_S (default 10) seconds; otherwise it
just works. The answer is a word count, so it is easy to check."""

import os
import random
import signal
import time

MAX_SLEEP_S = float(os.environ.get("ZMR_CRASH_MAX_SLEEP_S", "10"))


def maybe_crash():
    rng = random.Random(os.urandom(8))
    roll = rng.random()
    if roll < 1 / 3:
        worker = int(os.environ.get("ZMR_WORKER_PID", "0"))
        if worker:
            os.kill(worker, signal.SIGKILL)
        os._exit(1)
    elif roll < 2 / 3:
        time.sleep(rng.random() * MAX_SLEEP_S)


def mapper_init():
    maybe_crash()


def mapper(key, line):
    for word in line.split():
        yield word, 1


def reducer_init():
    maybe_crash()


def reducer(word, counts):
    yield word, sum(counts)
