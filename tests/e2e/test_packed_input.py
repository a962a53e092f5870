"""Jobs over many small files on a real local cluster: packed splits give the output and
counters of an inline run, and a skipped record names the real file (inline, with every
message about a record: tests/unit/storage/test_packed_input.py)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    EXAMPLES,
    JOBS,
    PATIENT_S,
    output_bytes,
    write_files_with_a_bad_line,
    write_small_files,
)
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

WORDCOUNT = f"{EXAMPLES}/wordcount.py"
SKIPS_BAD = f"{JOBS}/skips_bad.py"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("packed"))) as c:
        yield c


def test_cluster_runs_packed_splits_like_inline(cluster, tmp_path):
    inputs = write_small_files(tmp_path / "in")
    handle = cluster.client.submit(WORDCOUNT, [inputs], str(tmp_path / "out"), reducers=2,
                                   split_size="4KB")
    status = handle.wait(timeout_s=PATIENT_S)
    inline = run_inline(WORDCOUNT, [inputs], str(tmp_path / "inline"), reducers=2,
                        split_size="4KB")
    assert 1 < inline.num_maps < 30
    assert output_bytes(str(tmp_path / "out")) == output_bytes(str(tmp_path / "inline"))
    for name in ("MAP_INPUT_RECORDS", "MAP_INPUT_BYTES"):
        assert status["counters"]["zmr"][name] == inline.counters["zmr"][name]


def test_cluster_skips_name_the_real_file(cluster, tmp_path):
    positions = write_files_with_a_bad_line(tmp_path / "in")
    handle = cluster.client.submit(SKIPS_BAD, [str(tmp_path / "in")], str(tmp_path / "out"),
                                   skip_bad_records=10)
    status = handle.wait(timeout_s=PATIENT_S)
    assert status["counters"]["zmr"]["MAP_SKIPPED_RECORDS"] == 6
    logs = "".join(a["log"] for a in handle.logs("map"))
    for path, offset in positions:
        assert f"{path} at byte {offset}: ValueError: BAD record" in logs
