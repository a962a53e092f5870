"""Run pytest on a busy machine: ``python3 tests/stress.py --stress N [--times K] -- ARGS``.

Keeps N processes spinning on the CPU (plain Python loops, like the other work that shares
a developer's or CI's cores) for as long as pytest runs, and runs the suite K times in a
row, stopping at the first failure. The suite must pass like this: a test that only passes
on a quiet machine waits on a fixed sleep or a short deadline somewhere (see
``tests/helpers.py``, ``wait_until`` and ``PATIENT_S``). Exit status: pytest's.

    python3 tests/stress.py --stress 4 --times 2            # the whole default suite, twice
    python3 tests/stress.py --stress 2 -- tests/cluster -x  # one folder
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time


def spin(stop: multiprocessing.synchronize.Event) -> None:
    """Burn CPU until told to stop (checking rarely, so the loop is almost all work)."""
    x = 0
    while not stop.is_set():
        for i in range(200_000):
            x ^= i * i


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 tests/stress.py",
                                     description="Run pytest under synthetic CPU load.")
    parser.add_argument("--stress", type=int, default=os.cpu_count() or 2, metavar="N",
                        help="busy processes to keep running (default: the CPU count)")
    parser.add_argument("--times", type=int, default=1, metavar="K",
                        help="run the suite K times in a row (default: 1)")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=spin, args=(stop,), daemon=True)
               for _ in range(args.stress)]
    for burner in burners:
        burner.start()
    code = 0
    try:
        for run in range(1, args.times + 1):
            started = time.monotonic()
            code = subprocess.call([sys.executable, "-m", "pytest", *args.pytest_args])
            print(f"stress.py: run {run}/{args.times} under {args.stress} busy processes: "
                  f"exit {code} in {time.monotonic() - started:.0f} s "
                  f"(load average {os.getloadavg()[0]:.1f})", flush=True)
            if code != 0:
                break
    finally:
        stop.set()
        for burner in burners:
            burner.join(5)
            if burner.is_alive():
                burner.kill()
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
