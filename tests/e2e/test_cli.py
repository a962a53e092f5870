"""The zmr command: clear errors naming the path, line or setting, and non-zero exits."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.helpers import PATIENT_S, ROOT

WORDCOUNT = os.path.join(ROOT, "jobs", "wordcount.py")


def zmr(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zmr", *args], capture_output=True,
                          text=True, timeout=PATIENT_S, cwd=cwd)


def test_run_inline_writes_sorted_output(tmp_path):
    (tmp_path / "in.txt").write_text("b a\na c\n")
    proc = zmr("run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "--output",
               str(tmp_path / "out"), "--inline")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "part-00000").read_text() == "a\t2\nb\t1\nc\t1\n"
    assert "MAP_INPUT_RECORDS" in proc.stderr


def test_an_embedded_run_says_its_dashboard_and_its_jobs_own_counters(tmp_path):
    """The embedded cluster is gone when ``zmr run`` ends: its summary is where the job's
    counters are seen, as an inline run's (and mrjob's) are; its dashboard's address is
    said as it starts."""
    (tmp_path / "in.txt").write_text("the a\nb\nthe c\n")
    (tmp_path / "job.py").write_text(
        "import zmr\n"
        "def mapper(key, line):\n"
        "    if 'the' in line:\n"
        "        zmr.increment_counter('demo', 'WITH_THE')\n"
        "    yield line, 1\n")
    proc = zmr("run", str(tmp_path / "job.py"), "--input", str(tmp_path / "in.txt"),
               "--output", str(tmp_path / "out"), "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    shown = dict(line.split() for line in proc.stderr.splitlines() if line.startswith("  "))
    assert shown["demo/WITH_THE"] == "2" and shown["MAP_INPUT_RECORDS"] == "3"
    # and where its dashboard was, while it ran
    assert re.search(r"^zmr: dashboard http://127\.0\.0\.1:\d+/ ", proc.stderr, re.M)


def test_existing_output_is_refused_and_overwrite_replaces_only_zmrs_own(tmp_path):
    (tmp_path / "in.txt").write_text("x\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("precious")
    args = ["run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "--output",
            str(tmp_path / "out"), "--inline"]
    proc = zmr(*args)
    assert proc.returncode == 2 and "already exists" in proc.stderr
    proc = zmr(*args, "--overwrite")          # a file zmr did not write is never deleted
    assert proc.returncode == 2 and "it holds keep, which zmr did not write" in proc.stderr
    assert (tmp_path / "out" / "keep").read_text() == "precious"
    os.unlink(tmp_path / "out" / "keep")
    assert zmr(*args, "--overwrite").returncode == 0            # an empty directory
    assert zmr(*args, "--overwrite").returncode == 0            # zmr's own output
    assert (tmp_path / "out" / "part-00000").read_text() == "x\t1\n"


def test_missing_input_names_the_path(tmp_path):
    proc = zmr("run", WORDCOUNT, "--input", str(tmp_path / "nope"), "--output",
               str(tmp_path / "out"), "--inline")
    assert proc.returncode == 2 and f"{tmp_path / 'nope'} does not exist" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_bad_job_module_names_file_and_line_before_any_work(tmp_path):
    (tmp_path / "job.py").write_text("import re\n\ndef mapper(k, v)\n    yield v, 1\n")
    (tmp_path / "in.txt").write_text("x\n")
    proc = zmr("run", str(tmp_path / "job.py"), "--input", str(tmp_path / "in.txt"),
               "--output", str(tmp_path / "out"))
    assert proc.returncode == 2 and f"{tmp_path / 'job.py'}:3: syntax error" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_invalid_utf8_names_file_and_offset_or_is_replaced(tmp_path):
    (tmp_path / "in.txt").write_bytes(b"good line\nbad \xff\n")
    base = ["run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "--inline"]
    proc = zmr(*base, "--output", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert f"invalid UTF-8 in {tmp_path / 'in.txt'} at byte 14" in proc.stderr
    assert not (tmp_path / "out").exists()
    assert zmr(*base, "--output", str(tmp_path / "out2"), "--on-bad-utf8",
               "replace").returncode == 0


def test_bad_sizes_name_the_setting(tmp_path):
    (tmp_path / "in.txt").write_text("x\n")
    proc = zmr("run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "--output",
               str(tmp_path / "out"), "--inline", "--split-size", "lots")
    assert proc.returncode == 2 and "--split-size" in proc.stderr and "'lots'" in proc.stderr
    proc = zmr("run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "--output",
               str(tmp_path / "out"), "--inline", "--task-memory", "lots")
    assert proc.returncode == 2 and "--task-memory" in proc.stderr and "'lots'" in proc.stderr


def test_bad_config_names_file_and_key(tmp_path):
    (tmp_path / "c.toml").write_text("[worker]\nslots = 'many'\n")
    proc = zmr("status", "--config", str(tmp_path / "c.toml"))
    assert proc.returncode == 2
    assert f"{tmp_path / 'c.toml'}: [worker] slots must be int" in proc.stderr
    (tmp_path / "c.toml").write_text("[worker]\nslotz = 2\n")
    assert "unknown key 'slotz'" in zmr("status", "--config", str(tmp_path / "c.toml")).stderr


def test_empty_input_is_an_error_naming_the_files(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(b"")
    (tmp_path / "in" / "b.txt").write_bytes(b"")
    run = subprocess.run([sys.executable, "-m", "zmr", "run", WORDCOUNT, "--inline",
                          "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "the input is empty" in run.stderr and "a.txt" in run.stderr
    assert not (tmp_path / "out").exists()


def test_an_inline_user_error_is_reported_with_the_users_frames_only(tmp_path):
    job = tmp_path / "job.py"
    job.write_text("def mapper(k, line):\n    raise ValueError(f'bad line {line!r}')\n\n"
                   "def reducer(k, vs):\n    yield k, sum(vs)\n")
    (tmp_path / "in.txt").write_text("x\n")
    run = subprocess.run([sys.executable, "-m", "zmr", "run", str(job), "--inline",
                          "--input", str(tmp_path / "in.txt"), "--output",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=PATIENT_S)
    assert run.returncode == 1
    assert run.stderr.startswith("zmr: error: ValueError: bad line 'x'\n")
    assert f'File "{job}", line 2, in mapper' in run.stderr
    assert "zmr/" not in run.stderr.replace(str(tmp_path), "")   # none of zmr's frames


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "1", "--quiet"]])
@pytest.mark.parametrize("hooks, message", [
    ("def mapper(k, line):\n    yield line\n",
     "JobContractError: mapper must yield (key, value) pairs, got 'x'"),
    ("def mapper(k, line):\n    yield line, 1\n\ndef reducer(k, vs):\n    yield k, 1, 2\n",
     "JobContractError: reducer must yield (key, value) pairs, got ('x', 1, 2)"),
])
def test_a_hook_breaking_its_contract_is_reported_by_its_message_alone(tmp_path, where, hooks,
                                                                       message):
    """Nothing of the user's is on the stack when zmr finds a mapper's bad pair (it checks
    pairs in bulk), and zmr's frames would only hide the message: inline and on a cluster
    alike, the error is the summary line and nothing else."""
    (tmp_path / "job.py").write_text(hooks)
    (tmp_path / "in.txt").write_text("x\n")
    run = subprocess.run([sys.executable, "-m", "zmr", "run", str(tmp_path / "job.py"),
                          *where, "--input", str(tmp_path / "in.txt"), "--output",
                          str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=PATIENT_S)
    assert run.returncode == 1, run.stderr
    assert message in run.stderr.splitlines()[-1 if where == ["--inline"] else 1]
    assert "Traceback" not in run.stderr and "zmr/" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_version_and_type_information_ship_with_the_package():
    import importlib.metadata
    import pathlib

    import zmr

    shown = subprocess.run([sys.executable, "-m", "zmr", "--version"], capture_output=True,
                           text=True, timeout=PATIENT_S)
    assert shown.returncode == 0
    assert shown.stdout.startswith(f"zmr {importlib.metadata.version('zmr')} (Python ")
    assert zmr.__version__ == importlib.metadata.version("zmr")
    assert (pathlib.Path(zmr.__file__).parent / "py.typed").exists()


def test_an_abbreviated_flag_is_refused_not_taken_for_the_flag_it_begins(tmp_path):
    """argparse's default takes --reducer 3 for --reducers 3: a typo would run."""
    (tmp_path / "in.txt").write_text("a\n")
    proc = zmr("run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "--output",
               str(tmp_path / "out"), "--inline", "--reducer", "3")
    assert proc.returncode == 2 and "unrecognized arguments: --reducer 3" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", [["--inline"], ["--workers", "2"]])
def test_output_dash_writes_the_outputs_lines_to_stdout(tmp_path, where):
    """mrjob's default: the output's lines on stdout, in part order, the summary on
    stderr; nothing named '-' is created."""
    (tmp_path / "in.txt").write_text("b a\na c\n")
    proc = subprocess.run([sys.executable, "-m", "zmr", "run", WORDCOUNT, "--input",
                           str(tmp_path / "in.txt"), "-o", "-", *where],
                          capture_output=True, text=True, timeout=PATIENT_S, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "a\t2\nb\t1\nc\t1\n" and "-> -" in proc.stderr
    assert not (tmp_path / "-").exists()
    parquet = zmr("run", WORDCOUNT, "--input", str(tmp_path / "in.txt"), "-o", "-",
                  "--inline", "--output-format", "parquet")
    assert parquet.returncode == 2 and "Parquet is not lines" in parquet.stderr
