"""Every line once, keyed by its (path, offset), whose mapper stops at the first line at
or after byte ``gate_at`` of its file (a job parameter; default 0: the first line it
maps) until the file ``gate`` exists, so a test can cut a map's split while the map
certainly runs and has read no further (it creates ``<gate>.waiting`` as it starts
waiting). Values of a key come out in input order."""

import os
import time

import zmr

_passed = False          # per task process: it waits once


def mapper(key, line):
    global _passed
    if not _passed and key[1] >= zmr.param("gate_at", 0, int):
        gate = zmr.param("gate", "")
        if gate:
            open(gate + ".waiting", "w").close()
        deadline = time.monotonic() + 600
        while gate and not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.02)
        _passed = True
    yield line[:2], f"{os.path.basename(key[0])}:{key[1]}"


def reducer(key, values):
    yield key, " ".join(values)
