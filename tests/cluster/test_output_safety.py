"""A standalone cluster (``zmr cluster start``) never deletes what a user owns: ``zmr
submit`` and ``Client.submit`` refuse an output among the inputs before submitting, and the
coordinator refuses it too when a client submits it anyway (any client may), as well as an
``overwrite`` of a directory zmr did not write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import EXAMPLES, PATIENT_S, ROOT, snapshot, standalone_config
from zmr.client import Client
from zmr.core.errors import OutputError, ZmrError
from zmr.job.loader import runnable
from zmr.job.pipeline import plan_steps
from zmr.job.shipping import pack_job
from zmr.protocol.messages import JobAccepted, SubmitJob, SubmitPipeline
from zmr.settings.job import JobOptions
from zmr.tasks.sampling import plan_sorted_job

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")
TOP_WORDS = os.path.join(EXAMPLES, "top_words.py")
SAMPLE = os.path.join(ROOT, "data", "sample")


def _zmr(tmp_path, *args: str, cwd=None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zmr", *args], text=True,
                          capture_output=True, timeout=PATIENT_S, check=check, cwd=cwd)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A standalone coordinator and one worker, as separate processes."""
    base = tmp_path_factory.mktemp("standalone")
    config = standalone_config(base)
    run_dir = str(base / "run")
    _zmr(base, "cluster", "start", "1", "--config", config, "--run-dir", run_dir)
    try:
        yield config
    finally:
        _zmr(base, "cluster", "stop", "--run-dir", run_dir, check=False)


@pytest.fixture
def scratch(tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "scratch" / "sample")
    shutil.copy(WORDCOUNT, tmp_path / "scratch" / "wordcount.py")
    return tmp_path / "scratch"


def _submit_unchecked(client: Client, job: str, inputs: list[str], output: str,
                      overwrite: bool) -> None:
    """Submit as a client that skips zmr's own checks would: straight to the coordinator."""
    spec = runnable(job, JobOptions())
    plan = plan_sorted_job(spec, inputs, output, JobOptions())
    client.expect(JobAccepted, SubmitJob(spec.name, plan, overwrite), pack_job(spec))


def test_zmr_submit_and_client_submit_refuse_before_submitting(cluster, scratch):
    before = snapshot(scratch)
    proc = _zmr(scratch, "submit", "wordcount.py", "-i", "sample", "-o", ".", "--overwrite",
                "--config", cluster, cwd=scratch, check=False)
    assert proc.returncode == 2, proc.stderr
    assert f"output {scratch} contains the input {scratch / 'sample'}" in proc.stderr
    with Client(cluster) as client:
        for job in (WORDCOUNT, TOP_WORDS):
            with pytest.raises(OutputError, match="lies inside the input directory") as caught:
                client.submit(job, [str(scratch / "sample")], str(scratch / "sample" / "out"))
            assert str(scratch / "sample" / "out") in str(caught.value)
        assert not any(job["output"].startswith(str(scratch)) for job in client.history())
    assert snapshot(scratch) == before


def test_the_coordinator_refuses_what_a_client_did_not_check(cluster, scratch):
    """The coordinator's refusal reaches the client as the OutputError it is (exit 2),
    not as a plain ZmrError."""
    before = snapshot(scratch)
    with Client(cluster) as client:
        with pytest.raises(OutputError, match="contains the input") as caught:
            _submit_unchecked(client, WORDCOUNT, [str(scratch / "sample")], str(scratch),
                              overwrite=True)
        assert f"output {scratch} contains the input {scratch / 'sample'}" in str(caught.value)
        with pytest.raises(OutputError, match="lies inside the input directory"):
            _submit_unchecked(client, WORDCOUNT, [str(scratch / "sample")],
                              str(scratch / "sample" / "out"), overwrite=False)
        pipeline = runnable(TOP_WORDS, JobOptions())
        steps = plan_steps(pipeline, [str(scratch / "sample")], str(scratch), JobOptions())
        codes = [pack_job(spec) for spec in pipeline.steps]
        with pytest.raises(OutputError, match=f"output {scratch} contains the input"):
            client.expect(JobAccepted, SubmitPipeline(
                pipeline.name, steps, [len(c) for c in codes], True), b"".join(codes))
    assert snapshot(scratch) == before


def test_overwrite_on_a_cluster_replaces_only_zmrs_own_output(cluster, scratch):
    out = scratch / "out"
    with Client(cluster) as client:
        for _ in range(2):      # the second run replaces the first one's output
            job = client.submit(WORDCOUNT, [str(scratch / "sample")], str(out),
                                overwrite=True)
            assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        assert sorted(os.listdir(out)) == ["_SUCCESS", "part-00000"]
        (out / "notes.txt").write_text("mine")
        before = snapshot(scratch)
        with pytest.raises(OutputError, match="it holds notes.txt, which zmr did not write"):
            client.submit(WORDCOUNT, [str(scratch / "sample")], str(out), overwrite=True)
        with pytest.raises(OutputError, match="it holds notes.txt, which zmr did not write"):
            _submit_unchecked(client, WORDCOUNT, [str(scratch / "sample")], str(out),
                              overwrite=True)
    assert snapshot(scratch) == before
