"""Run one command and report its wall time and the peak RSS of its largest process.

Run in a fresh process per measurement: Linux's RUSAGE_CHILDREN ``ru_maxrss`` is the
largest RSS among all waited-for descendants, so it must start from zero each time.
Prints one JSON line: {"wall_s": ..., "peak_rss_mb": ..., "returncode": ...}.
"""

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    started = time.perf_counter()
    proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak_kb / 1024,
                      "returncode": proc.returncode,
                      "stderr": proc.stderr.decode(errors="replace")[-2000:]}))


if __name__ == "__main__":
    main()
