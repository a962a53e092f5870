"""--skip-bad-records / SKIP_BAD_RECORDS (Hadoop's skip mode): records whose mapper call
raises are dropped, counted and logged with file and byte offset, up to a limit that holds
for the whole job; inline (on a real local cluster and from the command line:
tests/tasks/test_skip_bad_records_cluster.py)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import JOBS, output_pairs, write_with_bad_records
from zmr.core.errors import ConfigError, JobFailedError, TaskError
from zmr.job.loader import load_job, with_reducer_as_combiner
from zmr.runners.inline import run_inline

JOB = os.path.join(JOBS, "skips_bad.py")


@pytest.mark.parametrize("variant", ["reduce", "combiner", "map-only"])
def test_inline_skips_bad_records_and_logs_where(tmp_path, capfd, variant, map_loops):
    inputs, clean, positions = write_with_bad_records(tmp_path, bad=3)
    job = load_job(JOB)
    job = with_reducer_as_combiner(job) if variant == "combiner" else job
    reducers = 0 if variant == "map-only" else 2
    result = run_inline(job, [inputs], str(tmp_path / "out"), reducers=reducers,
                        split_size="1KB", skip_bad_records=5)
    run_inline(job, [clean], str(tmp_path / "expected"), reducers=reducers, split_size="1KB")
    assert output_pairs(str(tmp_path / "out")) == output_pairs(str(tmp_path / "expected"))
    assert result.counters["zmr"]["MAP_SKIPPED_RECORDS"] == 3
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] == 240
    err = capfd.readouterr().err
    for path, offset in positions:
        assert f"{path} at byte {offset}: ValueError: BAD record" in err


def test_no_flag_fails_at_the_first_bad_record(tmp_path):
    inputs, _, _ = write_with_bad_records(tmp_path, bad=1)
    with pytest.raises(ValueError, match="BAD record"):
        run_inline(JOB, [inputs], str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")


def test_one_task_over_the_limit_fails_naming_it(tmp_path):
    inputs, _, positions = write_with_bad_records(tmp_path, bad=6, files=1)
    with pytest.raises(TaskError, match="--skip-bad-records 5") as failed:
        run_inline(JOB, [inputs], str(tmp_path / "out"), skip_bad_records=5)
    assert f"at byte {positions[-1][1]}" in str(failed.value)
    assert not os.path.exists(tmp_path / "out")


def test_the_limit_is_for_the_whole_job(tmp_path):
    inputs, _, _ = write_with_bad_records(tmp_path, bad=6)    # 3 bad lines in each of two files
    with pytest.raises(JobFailedError, match="skipped 6 bad records in all, more than the "
                                             "limit of --skip-bad-records 5"):
        # two map tasks (not one packed split of both files), each under the limit
        run_inline(JOB, [inputs], str(tmp_path / "out"), skip_bad_records=5,
                   combine_files=False)
    assert not os.path.exists(tmp_path / "out")


def test_job_module_setting_and_its_validation(tmp_path):
    inputs, clean, _ = write_with_bad_records(tmp_path, bad=3)
    source = open(JOB).read()
    (tmp_path / "setting.py").write_text(source + "\nSKIP_BAD_RECORDS = 3\n")
    result = run_inline(str(tmp_path / "setting.py"), [inputs], str(tmp_path / "out"))
    assert result.counters["zmr"]["MAP_SKIPPED_RECORDS"] == 3
    with pytest.raises(ConfigError, match="skip_bad_records must be an integer >= 0"):
        run_inline(JOB, [inputs], str(tmp_path / "neg"), skip_bad_records=-1)
    (tmp_path / "batch.py").write_text(
        "def map_batch(batch):\n    return {'key': batch.column('line'), "
        "'value': batch.column('offset')}\n")
    with pytest.raises(ConfigError, match="not map_batch"):
        run_inline(str(tmp_path / "batch.py"), [inputs], str(tmp_path / "b"),
                   skip_bad_records=1)
