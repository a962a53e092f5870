"""--skip-bad-records / SKIP_BAD_RECORDS (Hadoop's skip mode): records whose mapper call
raises are dropped, counted and logged with file and byte offset, up to a limit that holds
for the whole job; inline, on a real local cluster and from the command line."""

from __future__ import annotations

import collections
import os
import subprocess
import sys

import pytest

from tests.helpers import JOBS, ROOT, read_parts
from zmr.core.errors import ConfigError, JobFailedError, TaskError
from zmr.job.loader import load_job, with_reducer_as_combiner
from zmr.runners.inline import run_inline
from zmr.runners.local import LocalCluster

JOB = os.path.join(JOBS, "skips_bad.py")


def write_input(directory, bad: int, files: int = 2, lines: int = 120):
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


def pairs(output_dir: str) -> collections.Counter:
    """The output as a multiset of pairs (map-only part files depend on the splits)."""
    return collections.Counter(p for part in read_parts(output_dir) for p in part)


@pytest.mark.parametrize("variant", ["reduce", "combiner", "map-only"])
def test_inline_skips_bad_records_and_logs_where(tmp_path, capfd, variant, map_loops):
    inputs, clean, positions = write_input(tmp_path, bad=3)
    job = load_job(JOB)
    job = with_reducer_as_combiner(job) if variant == "combiner" else job
    reducers = 0 if variant == "map-only" else 2
    result = run_inline(job, [inputs], str(tmp_path / "out"), reducers=reducers,
                        split_size="1KB", skip_bad_records=5)
    run_inline(job, [clean], str(tmp_path / "expected"), reducers=reducers, split_size="1KB")
    assert pairs(str(tmp_path / "out")) == pairs(str(tmp_path / "expected"))
    assert result.counters["zmr"]["MAP_SKIPPED_RECORDS"] == 3
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] == 240
    err = capfd.readouterr().err
    for path, offset in positions:
        assert f"{path} at byte {offset}: ValueError: BAD record" in err


def test_no_flag_fails_at_the_first_bad_record(tmp_path):
    inputs, _, _ = write_input(tmp_path, bad=1)
    with pytest.raises(ValueError, match="BAD record"):
        run_inline(JOB, [inputs], str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")


def test_one_task_over_the_limit_fails_naming_it(tmp_path):
    inputs, _, positions = write_input(tmp_path, bad=6, files=1)
    with pytest.raises(TaskError, match="--skip-bad-records 5") as failed:
        run_inline(JOB, [inputs], str(tmp_path / "out"), skip_bad_records=5)
    assert f"at byte {positions[-1][1]}" in str(failed.value)
    assert not os.path.exists(tmp_path / "out")


def test_the_limit_is_for_the_whole_job(tmp_path):
    inputs, _, _ = write_input(tmp_path, bad=6)       # 3 bad lines in each of two files
    with pytest.raises(JobFailedError, match="skipped 6 bad records in all, more than the "
                                             "limit of --skip-bad-records 5"):
        # two map tasks (not one packed split of both files), each under the limit
        run_inline(JOB, [inputs], str(tmp_path / "out"), skip_bad_records=5,
                   combine_files=False)
    assert not os.path.exists(tmp_path / "out")


def test_job_module_setting_and_its_validation(tmp_path):
    inputs, clean, _ = write_input(tmp_path, bad=3)
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


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(workers=2, base_dir=str(tmp_path_factory.mktemp("skip"))) as c:
        yield c


def test_cluster_skips_counts_and_logs(cluster, tmp_path):
    inputs, clean, positions = write_input(tmp_path, bad=3)
    handle = cluster.client.submit(JOB, [inputs], str(tmp_path / "out"), reducers=2,
                                   split_size="1KB", skip_bad_records=5)
    status = handle.wait(timeout_s=60)
    assert status["counters"]["zmr"]["MAP_SKIPPED_RECORDS"] == 3
    run_inline(JOB, [clean], str(tmp_path / "expected"), reducers=2)
    assert pairs(str(tmp_path / "out")) == pairs(str(tmp_path / "expected"))
    logs = "".join(a["log"] for a in handle.logs("map"))
    for path, offset in positions:
        assert f"{path} at byte {offset}: ValueError: BAD record" in logs
    assert logs.count("zmr: skipped bad record") == 3


def test_cluster_fails_a_job_over_the_limit_in_all(cluster, tmp_path):
    inputs, _, _ = write_input(tmp_path, bad=6)
    handle = cluster.client.submit(JOB, [inputs], str(tmp_path / "out"), reducers=2,
                                   split_size="1KB", skip_bad_records=5)
    with pytest.raises(JobFailedError, match="more than the limit of --skip-bad-records 5"):
        handle.wait(timeout_s=60)
    assert not os.path.exists(tmp_path / "out")


def test_cluster_fails_a_task_over_the_limit(cluster, tmp_path):
    inputs, _, _ = write_input(tmp_path, bad=6, files=1)
    proc = _zmr("submit", JOB, "--input", inputs, "--output", str(tmp_path / "out"),
                "--skip-bad-records", "5", "--wait", "--config", cluster.config_path)
    assert proc.returncode == 1
    assert "met more bad records than the limit of --skip-bad-records 5" in proc.stderr


@pytest.mark.parametrize("inline", [True, False])
def test_cli_run_with_the_flag(tmp_path, inline):
    inputs, _, _ = write_input(tmp_path, bad=3)
    where = ["--inline"] if inline else ["--workers", "2"]
    ok = _zmr("run", JOB, "--input", inputs, "--output", str(tmp_path / "ok"),
              "--skip-bad-records", "5", *where)
    assert ok.returncode == 0, ok.stderr
    if inline:
        assert "MAP_SKIPPED_RECORDS" in ok.stderr and "at byte" in ok.stderr
    else:
        assert "skipped 3 bad records" in ok.stderr
    too_few = _zmr("run", JOB, "--input", inputs, "--output", str(tmp_path / "bad"),
                   "--skip-bad-records", "2", "--split-size", "1KB", *where)
    assert too_few.returncode == 1
    assert "--skip-bad-records 2" in too_few.stderr


def _zmr(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(ROOT))
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=120, env=env)
