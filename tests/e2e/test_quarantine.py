"""Skipped records kept (``<output>/_quarantine/``) and replayed (``zmr replay``), through
real ``zmr`` processes, inline and on an embedded cluster of 2 workers (issue 28's "done
when": 12 planted bad records, ``--skip-bad-records 20``)."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import JOBS, PATIENT_S, ROOT, output_pairs, write_with_bad_records

JOB = os.path.join(JOBS, "skips_bad.py")


def _zmr(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, env=env, input=stdin)


def _entries(output: str) -> list[dict]:
    return [json.loads(line) for name in sorted(glob.glob(f"{output}/_quarantine/*.jsonl"))
            for line in open(name, encoding="utf-8")]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Input with 12 bad records, run inline and on 2 workers with --skip-bad-records 20."""
    root = tmp_path_factory.mktemp("quarantine")
    inputs, clean, positions = write_with_bad_records(root, bad=12, files=3, lines=240)
    runs = {}
    for name, where in (("inline", ["--inline"]), ("cluster", ["--workers", "2"])):
        out = str(root / name)
        runs[name] = _zmr("run", JOB, "-i", inputs, "-o", out, "--skip-bad-records", "20",
                          "--split-size", "1KB", *where)
        assert runs[name].returncode == 0, runs[name].stderr
    return root, inputs, clean, positions, runs


@pytest.mark.parametrize("mode", ["inline", "cluster"])
def test_the_quarantine_holds_exactly_the_skipped_records(planted, mode):
    root, _, clean, positions, runs = planted
    out = str(root / mode)
    entries = _entries(out)
    assert sorted((e["path"], e["offset"]) for e in entries) == sorted(positions)
    for entry in entries:
        with open(entry["path"], "rb") as f:
            f.seek(entry["offset"])
            assert entry["record"] == f.readline().decode().rstrip("\n")
        assert entry["error"].startswith("ValueError: BAD record")
        assert 'skips_bad.py", line' in entry["traceback"]     # the user's frame
        assert "zmr/job/runtime.py" not in entry["traceback"]   # not the skipper's
    assert f"skipped 12 bad records (--skip-bad-records), kept with their errors in " \
           f"{out}/_quarantine/" in runs[mode].stderr
    # the output is that of the input without them, and reads back without the quarantine
    expected = str(root / f"expected-{mode}")
    assert _zmr("run", JOB, "-i", clean, "-o", expected, "--inline").returncode == 0
    assert output_pairs(out) == output_pairs(expected)


def test_replay_of_an_entry_raises_the_users_exception_from_the_users_frame(planted):
    root, *_ = planted
    first = sorted(glob.glob(f"{root}/cluster/_quarantine/*.jsonl"))[0]
    proc = _zmr("replay", JOB, "--entry", f"{first}:1")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("ValueError: BAD record")
    assert "skips_bad.py" in lines[-3] and "in mapper" in lines[-3]
    assert "Traceback (most recent call last; zmr's own frames left out)" in proc.stderr


def test_replay_of_a_good_record_prints_its_pairs(planted):
    _, inputs, _, positions, _ = planted
    path = positions[0][0]
    proc = _zmr("replay", JOB, "--record", f"{path}:0")
    assert proc.returncode == 0, proc.stderr
    with open(path, encoding="utf-8") as f:
        words = f.readline().split()
    assert proc.stdout.splitlines() == [f"{w}\t1" for w in words]   # as text output


def test_replay_names_the_nearest_record_when_none_starts_there(planted):
    _, _, _, positions, _ = planted
    path, offset = positions[0]
    proc = _zmr("replay", JOB, "--record", f"{path}:{offset + 1}")
    assert proc.returncode == 2
    assert f"no record of {path} starts at offset {offset + 1}; the nearest record " \
           f"starts at {offset}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_replay_with_pdb_opens_the_debugger_at_the_raising_frame(planted):
    _, _, _, positions, _ = planted
    path, offset = positions[0]
    proc = _zmr("replay", JOB, "--record", f"{path}:{offset}", "--pdb",
                stdin="p i, word\nq\n")
    assert proc.returncode == 1
    assert "-> raise ValueError" in proc.stdout
    assert "(1, " in proc.stdout           # the mapper's own locals


STEPS_JOB = """\
from zmr import Step

def first(key, line):
    if "BAD" in line:
        raise ValueError("bad in step 1")
    for word in line.split():
        yield word, 1

def total(word, counts):
    yield word, sum(counts)

def by_count(word, count):
    yield count, word

def collect(count, words):
    yield count, sorted(words)

STEPS = [Step(mapper=first, reducer=total), Step(mapper=by_count, reducer=collect)]
"""


def test_a_multi_step_jobs_quarantine_is_in_its_output(tmp_path):
    inputs, _, positions = write_with_bad_records(tmp_path, bad=3)
    job = tmp_path / "steps.py"
    job.write_text(STEPS_JOB)
    out = str(tmp_path / "out")
    proc = _zmr("run", str(job), "-i", inputs, "-o", out, "--skip-bad-records", "5",
                "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(f"{out}/_quarantine")) == [
        n for n in sorted(os.listdir(f"{out}/_quarantine")) if n.startswith("step-1-part-m-")]
    assert sorted((e["path"], e["offset"]) for e in _entries(out)) == sorted(positions)
    assert not os.path.exists(f"{out}/_steps")
