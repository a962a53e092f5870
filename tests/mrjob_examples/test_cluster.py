"""mrjob's examples on a real embedded cluster (coordinator and worker processes on
loopback), against mrjob's own inline runner: ``zmr run`` as a command, with the job's
own options among zmr's flags, and ``zmr submit``-style submission through a client. The
inline comparisons of every example: tests/unit/job/test_mrjob_examples.py."""

from __future__ import annotations

import glob
import os
import subprocess
import sys

import pytest

pytest.importorskip("mrjob")

from tests.helpers import ROOT  # noqa: E402
from tests.mrjob_examples.compare import example, part_lines, run_mrjob  # noqa: E402
from zmr.job.loader import load_runnable  # noqa: E402
from zmr.runners.local import LocalCluster  # noqa: E402

DOCS = sorted(glob.glob(os.path.join(ROOT, "tests", "mrjob_examples", "docs-to-classify",
                                     "*.txt")))


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    d = tmp_path_factory.mktemp("text")
    for i in range(3):         # mrjob's sample documents, a third in each file
        (d / f"part{i}.txt").write_bytes(b"".join(open(doc, "rb").read() for doc in DOCS[i::3]))
    return sorted(str(p) for p in d.iterdir())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("mrjob"))) as c:
        yield c


@pytest.mark.parametrize("name, args", [
    ("mr_word_freq_count", []),
    pytest.param("mr_next_word_stats", [], marks=pytest.mark.slow),  # SORT_VALUES, 2 steps
    ("mr_count_lines_by_file", []),
    ("mr_wc", []),
])
def test_examples_on_a_cluster_equal_mrjobs_inline_runner(cluster, text, tmp_path, name,
                                                          args):
    expected = run_mrjob(name, text, str(tmp_path / "mrjob"), args)
    # one reducer, as mrjob's inline runner (Hadoop's default): the same part, line for line
    handle = cluster.client.submit(load_runnable(example(name), args), text,
                                   str(tmp_path / "zmr"), split_size="8KB", reducers=1)
    handle.wait(timeout_s=120)
    assert expected and part_lines(str(tmp_path / "zmr")) == expected


@pytest.mark.slow
def test_zmr_run_takes_the_jobs_own_options(tmp_path):
    """mapper_raw (a whole file per map task), four steps, passthrough options given
    with zmr's flags, on the embedded cluster of ``zmr run``."""
    args = ["--max-ngram-size", "1", "--min-df", "1"]
    expected = run_mrjob("mr_text_classifier", DOCS, str(tmp_path / "mrjob"), args)
    out = tmp_path / "zmr"
    done = subprocess.run(
        [sys.executable, "-m", "zmr", "run", example("mr_text_classifier"), "--max-ngram-size",
         "1", "--input", *DOCS, "--output", str(out), "--min-df", "1", "--workers", "2",
         "-q"], capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert os.path.exists(out / "_SUCCESS")
    got = part_lines(str(out))
    assert len(got) == len(expected) > 500
    assert {line.split(b"\t")[0] for line in got} == {line.split(b"\t")[0] for line in expected}


def test_zmr_run_passes_options_on_and_refuses_a_shell_step_with_exit_code_2(tmp_path):
    sample = subprocess.run(
        # mr_log_sampler's --sample-size is spelled like zmr's own flag: after "--"
        [sys.executable, "-m", "zmr", "run", example("mr_log_sampler"), "--input", DOCS[0],
         "--output", str(tmp_path / "sample"), "--inline", "-q", "--", "--sample-size", "3"],
        capture_output=True, text=True, timeout=120)
    assert sample.returncode == 0, sample.stderr
    assert len(part_lines(str(tmp_path / "sample"))) == 3
    done = subprocess.run(
        [sys.executable, "-m", "zmr", "run", example("mr_grep"), "-e", "zmr", "--input",
         DOCS[0], "--output", str(tmp_path / "out"), "--inline"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "step 1: mapper_cmd runs the shell command" in done.stderr
