"""Input and output on S3 through pyarrow.fs, against a real S3 API server on loopback
(moto's server mode): splits read with ranged GETs, part files committed by upload and
job-level copy with ``_SUCCESS`` last, existing output refused, failed jobs cleaned up;
inline and on a real cluster, with output equal to a local run."""

from __future__ import annotations

import os
import uuid

import pyarrow.fs as pafs
import pytest

from tests.helpers import EXAMPLES, PATIENT_S, output_bytes, write_lines
from tests.s3server import S3Server
from zmr.core.errors import JobFailedError, OutputError
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")
BOOM = os.path.join(os.path.dirname(__file__), "..", "jobs", "fails_on_boom.py")


@pytest.fixture(scope="module")
def s3():
    server = S3Server().start()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in server.environment().items():
            mp.setenv(key, value)
        server.make_bucket("zmr-test")
        yield server
    server.stop()


def _upload_dir(s3fs: pafs.FileSystem, local: str, prefix: str) -> None:
    for name in sorted(os.listdir(local)):
        with open(os.path.join(local, name), "rb") as f, \
                s3fs.open_output_stream(f"{prefix}/{name}") as out:
            out.write(f.read())


def _download(s3fs: pafs.FileSystem, prefix: str) -> dict[str, bytes]:
    files = s3fs.get_file_info(pafs.FileSelector(prefix, recursive=True, allow_not_found=True))
    result = {}
    for info in files:
        if info.type == pafs.FileType.File:
            with s3fs.open_input_stream(info.path) as f:
                result[info.path[len(prefix) + 1:]] = f.read()
    return result


def _inputs(tmp_path, s3) -> tuple[str, str]:
    local = write_lines(tmp_path / "in", files=3, lines_per_file=400)
    prefix = f"zmr-test/{uuid.uuid4().hex[:8]}"
    _upload_dir(s3.filesystem(), local, f"{prefix}/in")
    with s3.filesystem().open_output_stream(f"{prefix}/in/_ignored.txt") as out:
        out.write(b"hidden files are skipped, as in Hadoop\n")
    return local, prefix


def test_inline_job_reads_and_writes_s3(tmp_path, s3):
    local, prefix = _inputs(tmp_path, s3)
    run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/out", reducers=3,
               split_size=3000)
    run_inline(WORDCOUNT, [local], str(tmp_path / "local"), reducers=3)
    written = _download(s3.filesystem(), f"{prefix}/out")
    assert sorted(written) == ["_SUCCESS", "part-00000", "part-00001", "part-00002"]
    assert {k: v for k, v in written.items() if k.startswith("part-")} == \
        output_bytes(str(tmp_path / "local"))
    with pytest.raises(OutputError, match="already exists"):
        run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/out")
    run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/out", reducers=1,
               overwrite=True)
    assert sorted(_download(s3.filesystem(), f"{prefix}/out")) == ["_SUCCESS", "part-00000"]


def test_cluster_job_on_s3_and_a_failed_one_leaves_nothing(tmp_path, s3):
    local, prefix = _inputs(tmp_path, s3)
    with LocalCluster(workers=2, base_dir=str(tmp_path / "c")) as cluster:
        job = cluster.client.submit(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/out",
                                    reducers=4, split_size=2500)
        assert job.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
        with open(os.path.join(local, "boom.txt"), "w") as f:
            f.write("boom\n")
        _upload_dir(s3.filesystem(), local, f"{prefix}/bad")
        failing = cluster.client.submit(BOOM, [f"s3://{prefix}/bad"], f"s3://{prefix}/bad-out")
        with pytest.raises(JobFailedError, match="bad record"):
            failing.wait(timeout_s=PATIENT_S)
    os.unlink(os.path.join(local, "boom.txt"))
    run_inline(WORDCOUNT, [local], str(tmp_path / "local"), reducers=4)
    written = _download(s3.filesystem(), f"{prefix}/out")
    assert "_SUCCESS" in written and not any(k.startswith("_temporary") for k in written)
    assert {k: v for k, v in written.items() if k.startswith("part-")} == \
        output_bytes(str(tmp_path / "local"))
    assert _download(s3.filesystem(), f"{prefix}/bad-out") == {}


def test_missing_s3_input_is_named(tmp_path, s3):
    with pytest.raises(Exception, match="s3://zmr-test/nothing-here does not exist"):
        run_inline(WORDCOUNT, ["s3://zmr-test/nothing-here"], str(tmp_path / "o"))


def test_s3_overwrite_replaces_only_zmrs_prefixes_and_outputs_stay_out_of_inputs(tmp_path, s3):
    _, prefix = _inputs(tmp_path, s3)
    s3fs = s3.filesystem()
    with pytest.raises(OutputError, match=f"output s3://{prefix}/in/out lies inside the "
                                          f"input directory s3://{prefix}/in"):
        run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/in/out")
    with pytest.raises(OutputError, match="contains the input"):
        run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/", overwrite=True)
    with s3fs.open_output_stream(f"{prefix}/out/_temporary/reduce-00000-a1/part-00000") as f:
        f.write(b"a crashed run's upload\n")
    run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/out", overwrite=True)
    assert sorted(_download(s3fs, f"{prefix}/out")) == ["_SUCCESS", "part-00000"]
    with s3fs.open_output_stream(f"{prefix}/out/notes.txt") as f:
        f.write(b"mine\n")
    with pytest.raises(OutputError, match="it holds notes.txt, which zmr did not write"):
        run_inline(WORDCOUNT, [f"s3://{prefix}/in"], f"s3://{prefix}/out", overwrite=True)
    assert sorted(_download(s3fs, f"{prefix}/out")) == ["_SUCCESS", "notes.txt", "part-00000"]
    assert len(_download(s3fs, f"{prefix}/in")) == 4           # the input is all there
