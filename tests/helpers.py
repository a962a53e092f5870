"""Plain helpers shared by tests of every tier: where things are, writing inputs, reading
job output back. Fixtures live in ``tests/conftest.py`` (shared) or a folder's
``conftest.py`` (that folder's only); no test imports from a ``conftest.py``."""

from __future__ import annotations

import collections
import glob
import importlib.util
import os
import random
import time
from collections.abc import Callable

from zmr.storage.formats import parse_field

#: The repository's root, its example jobs (``jobs/``) and the tests' fixture jobs.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
EXAMPLES = os.path.join(ROOT, "jobs")
JOBS = os.path.join(ROOT, "tests", "jobs")
#: Whether the C map loops (``zmr._speedups``) were built at install.
BUILT = importlib.util.find_spec("zmr._speedups") is not None

#: How long a test waits for something that should happen (a worker registering, a job
#: finishing, a reply). Generous on purpose: the suite must pass on a 2-core machine that
#: also carries other work (``tests/stress.py``), where a step that takes 50 ms when quiet
#: can take many seconds. A deadline is only a guard against a hang, never a speed check.
#: ``ZMR_TEST_PATIENCE=3`` multiplies every such deadline on an even busier machine.
PATIENCE = float(os.environ.get("ZMR_TEST_PATIENCE", "1"))
PATIENT_S = 120.0 * PATIENCE


def wait_until(condition: Callable[[], object], what: str = "the condition",
               timeout_s: float = PATIENT_S, interval_s: float = 0.05) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(interval_s)


def write_lines(directory, files: int, lines_per_file: int, prefix: str = "w") -> str:
    """``files`` text files of ``lines_per_file`` lines of a few repeating words."""
    os.makedirs(directory, exist_ok=True)
    for f in range(files):
        with open(os.path.join(directory, f"in-{f}.txt"), "w") as out:
            for i in range(lines_per_file):
                out.write(f"{prefix}{(f * 7 + i) % 13} {prefix}{i % 5} line {i}\n")
    return str(directory)


def write_inputs(directory, files: int, boom: bool = False) -> str:
    """``files`` files of 20 short lines; with ``boom`` the first also holds a line that
    ``tests/jobs/fails_on_boom.py`` fails on."""
    os.makedirs(directory, exist_ok=True)
    for f in range(files):
        with open(os.path.join(directory, f"in-{f}.txt"), "w") as out:
            for i in range(20):
                out.write(f"w{i % 7} w{(f + i) % 5}\n")
            if boom and f == 0:
                out.write("boom goes the record\n")
    return str(directory)


def read_parts(output_dir: str) -> list[list[tuple[object, object]]]:
    """The (key, value) pairs of each part file, in file order."""
    parts = []
    for path in sorted(glob.glob(os.path.join(output_dir, "part-*"))):
        with open(path, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t", 1) for line in f]
        parts.append([(parse_field(k), parse_field(v)) for k, v in rows])
    return parts


def read_output(output_dir: str) -> dict[object, object]:
    """All pairs of a job output as a dict (keys made hashable)."""
    out = {}
    for part in read_parts(output_dir):
        for k, v in part:
            out[_hashable(k)] = v
    return out


def _hashable(x):
    return tuple(_hashable(i) for i in x) if isinstance(x, list) else x


def output_bytes(output_dir: str) -> dict[str, bytes]:
    """Every part file's exact bytes (for byte-for-byte comparisons of two runs)."""
    return {os.path.basename(p): open(p, "rb").read()
            for p in sorted(glob.glob(os.path.join(output_dir, "part-*")))}


# -- inputs with bad records (tests/jobs/skips_bad.py raises on lines holding BAD) --------

def write_with_bad_records(directory, bad: int, files: int = 2, lines: int = 120):
    """Input with ``bad`` BAD lines dealt round-robin to ``files`` files, and the same input
    without them; returns (input dir, clean dir, [(path, byte offset) of each bad line])."""
    dirty, clean = directory / "in", directory / "clean"
    dirty.mkdir()
    clean.mkdir()
    positions = []
    for f in range(files):
        path = dirty / f"in-{f}.txt"
        left = len(range(f, bad, files))
        with open(path, "wb") as out, open(clean / f"in-{f}.txt", "wb") as ok:
            for i in range(lines):
                if i % 17 == 5 and left:
                    left -= 1
                    positions.append((str(path), out.tell()))
                    out.write(f"w{i % 4} BAD w{i % 3} line {i}\n".encode())
                    continue
                line = f"w{i % 7} w{i % 3} line {i}\n".encode()
                out.write(line)
                ok.write(line)
    assert len(positions) == bad
    return str(dirty), str(clean), positions


def output_pairs(output_dir: str) -> collections.Counter:
    """The output as a multiset of pairs (map-only part files depend on the splits)."""
    return collections.Counter(p for part in read_parts(output_dir) for p in part)


def write_files_with_a_bad_line(root, files: int = 6) -> list[tuple[str, int]]:
    """Small files, each with one line the skips_bad job raises on; their positions."""
    root.mkdir()
    positions = []
    for f in range(files):
        head = f"w{f} w1 ok\nw2 w{f} ok\n"
        (root / f"in-{f}.txt").write_text(head + f"w3 BAD w{f}\nw4 tail\n")
        positions.append((str(root / f"in-{f}.txt"), len(head)))
    return positions


# -- many small files (packed into few splits) ----------------------------------------------

_SMALL_FILE_WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def write_small_files(root, count: int = 120, seed: int = 13) -> str:
    """``count`` files of 0 to 40 lines (some without a final newline), in two folders."""
    rng = random.Random(seed)
    for i in range(count):
        folder = root / ("a" if i % 3 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        lines = [" ".join(rng.choices(_SMALL_FILE_WORDS, k=rng.randint(0, 6)))
                 for _ in range(rng.randint(0, 40))]
        end = "\n" if rng.random() < 0.8 else ""
        (folder / f"f{i:03}.txt").write_text("\n".join(lines) + (end if lines else ""))
    return str(root)


#: The benchmarks and peer programs.
BENCH = os.path.join(ROOT, "bench")


def load_bench(name: str):
    """Import ``bench/<name>.py`` (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}",
                                                  os.path.join(BENCH, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_through_restart(job, timeout_s: float = PATIENT_S) -> dict:
    """``job.wait()``, going on while its coordinator is down and coming back (the client's
    "did not answer" errors); any other error, or ``timeout_s``, fails the test."""
    from zmr.core.errors import ZmrError

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return job.wait(timeout_s=max(1.0, deadline - time.monotonic()))
        except ZmrError as exc:             # the coordinator is still coming back
            if "did not answer" not in str(exc):
                raise
    raise AssertionError("job did not finish")


def standalone_config(tmp_path, slots: int = 1) -> str:
    """A cluster config on free loopback ports with state and data under ``tmp_path``, for
    tests that start a standalone cluster (zmr cluster start, run_cluster.sh)."""
    from zmr.config import write_config
    from zmr.transport.sockets import free_port

    config = str(tmp_path / "cluster.toml")
    write_config(config, {
        ("coordinator", "control_port"): free_port(),
        ("coordinator", "heartbeat_port"): free_port(),
        ("coordinator", "report_port"): free_port(),
        ("coordinator", "state_dir"): str(tmp_path / "state"),
        ("worker", "data_dir"): str(tmp_path / "data"),
        ("worker", "slots"): slots,
    })
    return config


def marking_job(tmp_path, marks) -> str:
    """slow_reduce.py that also drops a file in ``marks`` per map execution (6.824's
    jobcount idea), so a test can count how often maps ran."""
    source = open(os.path.join(JOBS, "slow_reduce.py")).read()
    source += (f"\n\nimport uuid\n\ndef mapper_init():\n"
               f"    open(os.path.join({str(marks)!r}, uuid.uuid4().hex), 'w').close()\n")
    path = tmp_path / "marking.py"
    path.write_text("import os\n" + source)
    return str(path)


def snapshot(root) -> dict[str, bytes | None]:
    """Every file (with its bytes) and directory under ``root``: equal before and after
    means nothing there was deleted or changed."""
    found: dict[str, bytes | None] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(directory, name), root)] = None
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line or environment mentions ``text`` (a forked process
    shows its parent's command line, but has the environment it was given)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        for what in ("cmdline", "environ"):
            try:
                with open(f"/proc/{entry}/{what}", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(entry))
                        break
            except OSError:
                pass
    return found
