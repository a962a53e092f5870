"""Sorting on real processes: TeraSort's output is byte-identical to ``LC_ALL=C sort`` of
the same records on an embedded cluster (``zmr run``) and on a standalone one (a client
submitting to coordinator and worker processes); secondary sort equals its Python oracle
there too."""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, load_bench, output_bytes, read_parts
from zmr.runners.local import LocalCluster

gen_terasort = load_bench("gen_terasort")
TERASORT = os.path.join(EXAMPLES, "terasort.py")
pytestmark = pytest.mark.skipif(shutil.which("sort") is None, reason="needs GNU sort")


@pytest.fixture(scope="module")
def cluster2(tmp_path_factory):
    with LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("cluster2"))) as c:
        yield c


def gnu_sorted(paths: list[str]) -> bytes:
    """The records as GNU sort orders them (each is one "\\r\\n"-ended line)."""
    return subprocess.run(["sort", *paths], capture_output=True, check=True,
                          env={**os.environ, "LC_ALL": "C"}, timeout=PATIENT_S).stdout


def concatenated(output: str) -> bytes:
    parts = sorted(p for p in os.listdir(output) if p.startswith("part-"))
    assert len(parts) == 4 and os.path.exists(os.path.join(output, "_SUCCESS"))
    return b"".join(Path(output, p).read_bytes() for p in parts)


def test_terasort_embedded_equals_gnu_sort(tmp_path):
    paths = gen_terasort.generate(20000, str(tmp_path / "in"), files=3, seed=11)
    out = str(tmp_path / "out")
    # the embedded cluster keeps its config, logs and worker data under $TMPDIR
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    os.makedirs(env["TMPDIR"])
    done = subprocess.run([sys.executable, "-m", "zmr", "run", TERASORT, "-i",
                           str(tmp_path / "in"), "-o", out, "--workers", "2",
                           "--split-size", "512k", "--quiet"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert concatenated(out) == gnu_sorted(paths)


def test_terasort_standalone_equals_gnu_sort(cluster2, tmp_path):
    paths = gen_terasort.generate(20000, str(tmp_path / "in"), files=2, seed=12)
    out = str(tmp_path / "out")
    handle = cluster2.client.submit(TERASORT, [str(tmp_path / "in")], out,
                                    split_size="512k")
    assert handle.wait(timeout_s=300)["state"] == "SUCCEEDED"
    assert concatenated(out) == gnu_sorted(paths)


def test_secondary_sort_standalone(cluster2, tmp_path):
    lines = [f"k{i % 13} {json.dumps((i * 7919) % 1000 - 500)}" for i in range(5000)]
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    expected = collections.defaultdict(list)
    for line in lines:
        key, value = line.split()
        expected[key].append(int(value))
    handle = cluster2.client.submit(os.path.join(JOBS, "sorted_values.py"),
                                    [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                                    reducers=3, split_size="8k", memory_budget="16k")
    assert handle.wait(timeout_s=300)["state"] == "SUCCEEDED"
    got = {k: v for part in read_parts(str(tmp_path / "out")) for k, v in part}
    assert got == {k: sorted(v) for k, v in expected.items()}


def test_columnar_paths_on_two_workers_equal_the_scalar_path(cluster2, tmp_path, monkeypatch):
    """TeraSort with spills (the columnar path end to end) and a SORT_VALUES job with text
    output of str keys and int values, on real workers, against inline runs with the
    columnar code switched off (the per-record reference path), byte for byte."""
    from zmr.runners.inline import run_inline
    from zmr.storage import columnar
    from zmr.tasks import reduce_task

    gen_terasort.generate(12000, str(tmp_path / "tera"), files=2, seed=13)
    lines = [f"k{(i * 31) % 17} {(i * 7919) % 1000 - 500}" for i in range(6000)]
    (tmp_path / "kv.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "sv.py").write_text("SORT_VALUES = True\nPARTITIONER = 'total_order'\n"
                                    "def mapper(_w, line):\n    k, v = line.split()\n"
                                    "    yield k, int(v)\n")
    jobs = [(TERASORT, str(tmp_path / "tera")), (str(tmp_path / "sv.py"), str(tmp_path / "kv.txt"))]
    for i, (job, data) in enumerate(jobs):
        handle = cluster2.client.submit(job, [data], str(tmp_path / f"out{i}"), reducers=4,
                                        split_size="400k", memory_budget="64k")
        assert handle.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        monkeypatch.setattr(columnar, "plain_column", lambda items: None)
        monkeypatch.setattr(reduce_task, "_is_identity", lambda job: False)
        run_inline(job, [data], str(tmp_path / f"ref{i}"), reducers=4, split_size="400k",
                   memory_budget="64k")
        monkeypatch.undo()
        assert output_bytes(str(tmp_path / f"out{i}")) == output_bytes(str(tmp_path / f"ref{i}"))
    assert concatenated(str(tmp_path / "out0")) == gnu_sorted(
        sorted(str(p) for p in (tmp_path / "tera").iterdir()))
