"""Run one command and report its wall time and the peak RSS of its largest process.

The process tree is sampled every 20 ms with psutil (task processes of a zmr worker are
grandchildren of a forkserver, which ``RUSAGE_CHILDREN`` does not always see); without
psutil, ``RUSAGE_CHILDREN``'s ``ru_maxrss`` is used. Run in a fresh process per
measurement. Prints one JSON line: {"wall_s", "peak_rss_mb", "returncode", "stderr"}.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

try:
    import psutil
except ImportError:  # the benchmark still runs, with the coarser measurement
    psutil = None


def _tree_peak(proc: subprocess.Popen) -> float:
    """Largest RSS (MB) seen in any process of ``proc``'s tree until it exits."""
    peak = 0.0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    peak = max(peak, p.memory_info().rss / (1 << 20))
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(0.02)
    return peak


def main() -> None:
    """Run ``sys.argv[1:]``, wait for it, print the figures as JSON."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:     # a file, not a pipe: it can never fill up
        proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=err)
        sampled = _tree_peak(proc) if psutil is not None else 0.0
        proc.wait()
        wall = time.perf_counter() - started
        err.seek(0)
        stderr = err.read()
    peak = max(sampled, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak, "returncode": proc.returncode,
                      "stderr": stderr.decode(errors="replace")[-2000:]}))


if __name__ == "__main__":
    main()
