"""Every map and reduce task records when it really ran and in which worker (MIT 6.824's
mtiming/rtiming apps): one JSON file per task in MARKS_DIR, which a test bakes in."""

import json
import os
import time
import uuid

MARKS_DIR = "/tmp/zmr-timing-marks"       # replaced by the test with its own directory
DELAY_S = 1.0
_started = {}


def _begin(kind):
    _started[kind] = time.time()


def _end(kind):
    time.sleep(DELAY_S)                   # long enough that parallel tasks must overlap
    record = {"kind": kind, "worker": os.environ.get("ZMR_WORKER_PID", ""),
              "pid": os.getpid(), "start": _started[kind], "end": time.time()}
    with open(os.path.join(MARKS_DIR, f"{kind}-{uuid.uuid4().hex}.json"), "w") as f:
        json.dump(record, f)


def mapper_init():
    _begin("map")


def mapper(key, line):
    yield line.split()[0], 1


def mapper_final():
    _end("map")


def reducer_init():
    _begin("reduce")


def reducer(key, values):
    yield key, sum(values)


def reducer_final():
    _end("reduce")
