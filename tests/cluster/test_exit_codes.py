"""The command line's exit codes, from real zmr processes: 0 success, 1 job failed, 2 usage
or job definition error, 3 cluster unreachable, 4 cancelled (130/143 for signals are in
test_embedded_run.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.helpers import EXAMPLES, JOBS, PATIENT_S, write_lines
from zmr.config import write_config
from zmr.runners.local import LocalCluster
from zmr.transport.sockets import free_port

WORDCOUNT = os.path.join(EXAMPLES, "wordcount.py")


def _zmr(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=180, env=env or dict(os.environ))


def test_success_usage_definition_and_failure(tmp_path):
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    (tmp_path / "bad.py").write_text("def mapper(k, v):\n    yield k v\n")
    (tmp_path / "boom").mkdir()
    (tmp_path / "boom" / "x.txt").write_text("fine\nboom\n")
    out = str(tmp_path / "out")
    assert _zmr("run", WORDCOUNT, "-i", inputs, "-o", out, "--inline").returncode == 0
    assert _zmr("run", WORDCOUNT, "-i", inputs, "--no-such-flag").returncode == 2
    assert _zmr("run", str(tmp_path / "bad.py"), "-i", inputs, "-o",
                str(tmp_path / "o2")).returncode == 2
    assert _zmr("run", WORDCOUNT, "-i", str(tmp_path / "missing"), "-o",
                str(tmp_path / "o3")).returncode == 2
    assert _zmr("run", WORDCOUNT, "-i", inputs, "-o", out).returncode == 2   # output exists
    assert _zmr("run", WORDCOUNT, "-i", inputs, "-o", str(tmp_path / "o4"),
                "--split-size", "lots").returncode == 2
    failed = _zmr("run", os.path.join(JOBS, "fails_on_boom.py"), "-i", str(tmp_path / "boom"),
                  "-o", str(tmp_path / "o5"), "--workers", "1")
    assert failed.returncode == 1 and "ValueError: bad record" in failed.stderr


def test_an_unreachable_cluster_exits_3(tmp_path):
    config = tmp_path / "cluster.toml"
    # nothing will answer, so a short [client] timeout_s only saves waiting out the default
    write_config(str(config), {("coordinator", "control_port"): free_port(),
                               ("client", "timeout_s"): 2.0})
    status = _zmr("status", env=dict(os.environ, ZMR_CONFIG=str(config)))
    assert status.returncode == 3 and "did not answer" in status.stderr


def test_asking_for_a_job_the_cluster_does_not_know_is_a_usage_error(tmp_path):
    """Exit 2, not the 1 of a failed job: a script polling ``zmr wait`` can tell a typo
    in the job id from a job that failed; likewise a task kind ``zmr logs`` does not
    know."""
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        env = dict(os.environ, ZMR_CONFIG=cluster.config_path)
        for command in (["wait", "job-9999"], ["status", "job-9999"], ["cancel", "job-9999"],
                        ["logs", "job-9999"]):
            proc = _zmr(*command, env=env)
            assert (proc.returncode, "no such job: job-9999" in proc.stderr) == (2, True), \
                (command, proc.stderr)
        cluster.run(WORDCOUNT, write_lines(tmp_path / "in", files=1, lines_per_file=5),
                    str(tmp_path / "out"), progress=False)
        proc = _zmr("logs", "job-0001", "--task", "mapp", env=env)
        assert proc.returncode == 2 and "expected map, reduce" in proc.stderr


def test_a_cancelled_job_exits_4(tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    monkeypatch.setenv("ZMR_TEST_GATE", str(gate))
    inputs = write_lines(tmp_path / "in", files=1, lines_per_file=20)
    gated = os.path.join(os.path.dirname(__file__), "..", "jobs", "gated.py")
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c")) as cluster:
        env = dict(os.environ, ZMR_CONFIG=cluster.config_path)
        waiting = subprocess.Popen([sys.executable, "-m", "zmr", "submit", gated, "-i", inputs,
                                    "-o", str(tmp_path / "out"), "--wait"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        job_id = waiting.stdout.readline().strip()
        deadline = time.monotonic() + PATIENT_S
        while cluster.client.job(job_id)["state"] != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cluster.client.cancel(job_id)
        _, err = waiting.communicate(timeout=PATIENT_S)
        assert waiting.returncode == 4, err
        assert f"{job_id} CANCELLED" in err


def _bad_inputs(tmp_path) -> tuple[str, int, str, int]:
    """A file with invalid UTF-8 and one with a 5000-byte line, both past the first bytes
    planning looks at (so only a map task meets them): (path, offset) of each."""
    good = b"".join(b"word%d other\n" % (i % 50) for i in range(2000))
    bad_utf8, long_line = tmp_path / "utf8" / "in.txt", tmp_path / "long" / "in.txt"
    for path in (bad_utf8, long_line):
        path.parent.mkdir()
    bad_utf8.write_bytes(good + b"caf\xe9 au lait\n" + good)
    long_line.write_bytes(good + b"x" * 5000 + b"\n" + good)
    return str(bad_utf8), len(good) + 3, str(long_line), len(good)


def test_input_a_task_cannot_read_exits_2_on_one_line_without_retries(tmp_path):
    """Issue 25 finding 8: invalid UTF-8 or a line over MAX_LINE_LENGTH is an input error
    on a cluster as inline: the job fails at the first attempt, `zmr run` and `zmr submit
    --wait` exit 2 with one line naming the file and offset, no traceback."""
    utf8, utf8_at, long, long_at = _bad_inputs(tmp_path)
    cases = [([utf8], f"invalid UTF-8 in {utf8} at byte {utf8_at}"),
             ([long, "--max-line-length", "1KB"],
              f"{long}: the line at byte {long_at} is longer than MAX_LINE_LENGTH")]
    for n, (args, message) in enumerate(cases):
        inline = _zmr("run", WORDCOUNT, "-i", *args, "-o", str(tmp_path / f"i{n}"), "--inline")
        embedded = _zmr("run", WORDCOUNT, "-i", *args, "-o", str(tmp_path / f"e{n}"),
                        "--workers", "1", "--split-size", "8KB")
        for run in (inline, embedded):
            assert run.returncode == 2, run.stderr
            assert "Traceback" not in run.stderr, run.stderr
            # the last line (progress lines come before it), and the only one of the error
            last = run.stderr.strip().splitlines()[-1]
            assert last.startswith("zmr: error: ") and message in last, run.stderr
            assert run.stderr.count("zmr: error") == 1, run.stderr
    with LocalCluster(workers=1, base_dir=str(tmp_path / "c"), max_attempts=4) as cluster:
        env = dict(os.environ, ZMR_CONFIG=cluster.config_path)
        submitted = _zmr("submit", WORDCOUNT, "-i", utf8, "-o", str(tmp_path / "out"),
                         "--split-size", "8KB", "--wait", env=env)
        assert submitted.returncode == 2, submitted.stderr
        assert cases[0][1] in submitted.stderr and "not retried" in submitted.stderr
        job_id = submitted.stdout.split()[0]
        status = cluster.client.job(job_id)
    assert status["state"] == "FAILED" and status["error_kind"] == "input"
    assert status["counters"]["zmr.job"]["FAILED_ATTEMPTS"] == 1        # no retry
    failed = [t for t in status["tasks"] if t["state"] == "FAILED"]
    assert len(failed) == 1 and len(failed[0]["attempts"]) == 1
