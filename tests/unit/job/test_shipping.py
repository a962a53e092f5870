"""The job archive: which sources go in, checksums, the pickled path for jobs built from
functions (and its error for a global that cannot be pickled), side files resolved at
submit, and side files seen by tasks run inline."""

from __future__ import annotations

import io
import os
import sys
import traceback
import zipfile

import pytest

from tests.helpers import read_output
from zmr.core.errors import ConfigError, DataCorruptionError, JobDefinitionError
from zmr.job.api import JobSpec
from zmr.job.loader import load_job
from zmr.job.planning import side_files
from zmr.job.shipping import MANIFEST, local_sources, pack_job, unpack_job
from zmr.runners.inline import run_inline
from zmr.settings.job import JobOptions


@pytest.fixture()
def job_dir(tmp_path, monkeypatch):
    """A job importing a sibling module and a sibling package (one submodule imported only
    inside a hook), with an unrelated module beside it that it never imports."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("")
    (tmp_path / "lib" / "a.py").write_text("A = 'a'\n")
    (tmp_path / "lib" / "late.py").write_text("LATE = 'late'\n")
    (tmp_path / "helper_x.py").write_text("X = 'x'\n")
    (tmp_path / "unrelated.py").write_text("raise SystemExit('never imported')\n")
    (tmp_path / "job.py").write_text(
        "import helper_x\nfrom lib import a\n\ndef mapper(k, v):\n"
        "    from lib import late\n    yield v, helper_x.X + a.A + late.LATE\n")
    monkeypatch.chdir(tmp_path)
    for name in ("helper_x", "lib", "lib.a", "lib.late"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_the_job_file_and_the_local_modules_it_imports_are_shipped(job_dir):
    load_job(str(job_dir / "job.py"))
    assert local_sources(str(job_dir / "job.py")) == sorted([
        "helper_x.py", os.path.join("lib", "__init__.py"), os.path.join("lib", "a.py"),
        os.path.join("lib", "late.py"), "job.py"])


def test_an_unpacked_job_imports_its_shipped_copy(job_dir, tmp_path_factory):
    blob = pack_job(load_job(str(job_dir / "job.py")))
    for name in ("helper_x", "lib", "lib.a"):
        del sys.modules[name]
    for path in ("job.py", "helper_x.py", "lib/a.py", "lib/late.py"):
        (job_dir / path).unlink()
    job = unpack_job(blob, str(tmp_path_factory.mktemp("work")), {})
    assert list(job.mapper(None, "k")) == [("k", "xalate")]
    assert job.source == str(job_dir / "job.py")     # errors name the user's file


def test_a_damaged_archive_is_refused(job_dir, tmp_path_factory):
    blob = pack_job(load_job(str(job_dir / "job.py")))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data if info.filename == MANIFEST else data + b"#")
    with pytest.raises(DataCorruptionError, match="job archive member .*checksum mismatch"):
        unpack_job(out.getvalue(), str(tmp_path_factory.mktemp("work")), {})


def test_a_job_of_functions_is_pickled_and_an_unpicklable_global_is_named(tmp_path,
                                                                          monkeypatch):
    session = {"__name__": "notebook_session"}     # not importable: pickled by value
    exec("import threading\nlock = threading.Lock()\n"
         "def mapper(k, v):\n    with lock:\n        yield v, 1\n"
         "def fine(k, v):\n    yield v, 2\n", session)
    with pytest.raises(JobDefinitionError, match=r"<session>: global 'lock' \(lock\) used by "
                                                 r"mapper cannot be pickled .*mapper_init"):
        pack_job(JobSpec("s", "<session>", session["mapper"]))
    blob = pack_job(JobSpec("s", "<session>", session["fine"]))
    monkeypatch.chdir(tmp_path)              # unpacking moves into the job's files
    job = unpack_job(blob, str(tmp_path / "work"), {})
    assert list(job.mapper(None, "v")) == [("v", 2)]


def test_pickled_code_keeps_its_file_name_for_tracebacks_on_workers(tmp_path, monkeypatch):
    """cloudpickle 3 names all by-value code ``<dynamic-code>``; a worker's traceback must
    name the user's own file and line instead, for the hooks, the functions they call and
    the code nested in them."""
    source = str(tmp_path / "driver.py")
    session = {"__name__": "driver_session"}
    exec(compile("def helper(v):\n    return [1 / 0 for _ in v]\n"
                 "def mapper(k, v):\n    yield v, helper(v)\n", source, "exec"), session)
    blob = pack_job(JobSpec("s", "<session>", session["mapper"]))
    monkeypatch.chdir(tmp_path)
    job = unpack_job(blob, str(tmp_path / "work"), {})
    with pytest.raises(ZeroDivisionError) as failed:
        list(job.mapper(None, "v"))
    frames = traceback.extract_tb(failed.value.__traceback__)[1:]
    assert [(f.filename, f.lineno, f.name) for f in frames] == [
        (source, 4, "mapper"), (source, 2, "helper"), (source, 2, "<listcomp>")]


def test_side_files_are_resolved_at_submit_with_renames_and_named_errors(tmp_path,
                                                                         monkeypatch):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "stop.txt").write_text("a\n")
    (tmp_path / "here.txt").write_text("b\n")
    (tmp_path / "jobs" / "job.py").write_text(
        "FILES = ['stop.txt', 'stop.txt#words']\ndef mapper(k, v):\n    yield v, 1\n")
    monkeypatch.chdir(tmp_path)
    job = load_job(str(tmp_path / "jobs" / "job.py"))
    assert side_files(job, ["here.txt#h"]) == {
        "stop.txt": str(tmp_path / "jobs" / "stop.txt"),
        "words": str(tmp_path / "jobs" / "stop.txt"), "h": str(tmp_path / "here.txt")}
    with pytest.raises(ConfigError, match=r"--file gone.txt: no such file"):
        side_files(job, ["gone.txt"])
    with pytest.raises(ConfigError, match=r"--file here.txt#stop.txt: a side file named "
                                          r"'stop.txt' is already shipped"):
        side_files(job, ["here.txt#stop.txt"])
    with pytest.raises(ConfigError, match=r"--file here.txt#a/b: 'a/b' is not a file name"):
        side_files(job, ["here.txt#a/b"])
    with pytest.raises(ConfigError, match=r"files must be list, got str 'here.txt'"):
        JobOptions(files="here.txt")     # type: ignore[arg-type]
    (tmp_path / "jobs" / "stop.txt").unlink()
    with pytest.raises(ConfigError, match=r"jobs/job.py: FILES stop.txt: no such file"):
        side_files(job, [])


def test_inline_tasks_see_side_files_in_their_working_directory(tmp_path, monkeypatch):
    (tmp_path / "table.txt").write_text("a=1\nb=2\n")
    (tmp_path / "job.py").write_text(
        "def mapper_init():\n    global T\n"
        "    T = dict(l.split('=') for l in open('lookup').read().split())\n"
        "def mapper(k, v):\n    yield v, int(T[v])\n")
    (tmp_path / "in.txt").write_text("a\nb\na\n")
    monkeypatch.chdir(tmp_path)
    run_inline("job.py", ["in.txt"], "out", files=["table.txt#lookup"])
    assert read_output(str(tmp_path / "out")) == {"a": 1, "b": 2}
    assert os.getcwd() == str(tmp_path)
