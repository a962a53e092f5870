"""The output-safety rules on real files: path resolution (symlinks, ``..``, the current
directory, ``file://``, object-store URIs as strings), the refusals of an output among the
inputs, and what ``--overwrite`` may remove."""

from __future__ import annotations

import os

import pytest

from zmr.core.errors import OutputError
from zmr.storage import commit
from zmr.storage.output_safety import (
    check_existing,
    check_paths,
    contains,
    removal_refusal,
    resolve,
)


def test_resolve_follows_symlinks_dotdot_cwd_and_file_uris(tmp_path, monkeypatch):
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    os.symlink(real, tmp_path / "link")
    assert resolve(str(tmp_path / "link" / "sub")) == str(real / "sub")
    assert resolve(str(tmp_path / "real" / "sub" / ".." / "sub" / "new")) == \
        str(real / "sub" / "new")           # a part that does not exist yet is kept
    assert resolve(f"file://{tmp_path}/link") == str(real)
    monkeypatch.chdir(real / "sub")
    assert resolve(".") == str(real / "sub")
    assert resolve("..") == str(real)
    assert resolve("out") == str(real / "sub" / "out")


def test_resolve_normalizes_object_store_prefixes():
    assert resolve("s3://bucket/a/b/") == "s3://bucket/a/b"
    assert resolve("S3://bucket//a/./b") == "s3://bucket/a/b"
    assert resolve("s3://bucket/a/x/../b") == "s3://bucket/a/b"
    assert resolve("s3://bucket") == "s3://bucket"


def test_contains_respects_path_boundaries_and_schemes():
    assert contains("/data/out", "/data/out")
    assert contains("/data/out", "/data/out/part-00000")
    assert not contains("/data/out", "/data/output")       # a sibling, not a child
    assert contains("/", "/anything")
    assert contains("s3://b/out", "s3://b/out/x")
    assert not contains("s3://b/out", "s3://b/outer")
    assert not contains("s3://b/out", "/b/out/x")           # another filesystem


@pytest.fixture
def tree(tmp_path, monkeypatch):
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "a.txt").write_text("a\n")
    (tmp_path / "job.py").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _refusal(outputs, inputs, protected=()):
    with pytest.raises(OutputError) as caught:
        check_paths(outputs, inputs, protected)
    return str(caught.value)


def test_output_containing_an_input_or_the_current_directory_is_refused(tree):
    message = _refusal(["."], ["sample"])
    assert f"output . ({tree})" in message and f"input sample ({tree}/sample)" in message
    assert "contains the input" in message
    message = _refusal([str(tree.parent)], ["s3://bucket/in"])
    assert "contains the current directory" in message and str(tree) in message
    with pytest.raises(OutputError, match=f"contains the coordinator's working directory {tree}"):
        check_paths([str(tree.parent)], [], here="coordinator's working directory")


def test_output_that_is_an_input_or_inside_an_input_directory_is_refused(tree):
    assert "is also an input" in _refusal(["sample/a.txt"], ["sample/a.txt"])
    message = _refusal(["sample/out"], ["sample"])
    assert "lies inside the input directory" in message
    assert f"{tree}/sample/out" in message and f"{tree}/sample)" in message
    os.symlink(tree / "sample", tree / "alias")       # the same directory by another name
    assert "lies inside the input directory" in _refusal(["alias/out"], [f"file://{tree}/sample"])
    assert "is also an input" in _refusal(["sample/x/.."], ["alias"])


def test_a_glob_input_protects_what_it_matches_and_no_more(tree):
    check_paths(["sample/out"], ["sample/*.txt"])          # the glob reads only *.txt
    (tree / "sample" / "out").mkdir()
    assert "is also an input" in _refusal(["sample/out"], ["sample/*"])


def test_object_store_outputs_are_checked_as_strings(tree):
    assert "lies inside the input directory" in _refusal(["s3://b/in/out"], ["s3://b/in/"])
    assert "contains the input" in _refusal(["s3://b/data"], ["s3://b/data/x/../in"])
    check_paths(["s3://b/in2"], ["s3://b/in"])             # siblings
    check_paths(["s3://b/sample"], ["sample"])             # another filesystem


def test_output_holding_the_job_file_is_refused(tree):
    other = tree / "jobs"
    other.mkdir()
    os.replace(tree / "job.py", other / "job.py")
    message = _refusal([str(other)], ["sample"], [("job file", str(other / "job.py"))])
    assert f"contains the job file {other}/job.py" in message
    check_paths([str(tree / "out")], ["sample"], [("job file", str(other / "job.py"))])


def _output(tmp_path, *names, dirs=()):
    out = tmp_path / "out"
    out.mkdir(parents=True)
    for name in names:
        (out / name).write_text("")
    for name in dirs:
        (out / name).mkdir()
        (out / name / "part-00000").write_text("")
    return out


def test_overwrite_may_remove_what_zmr_wrote(tmp_path):
    assert removal_refusal(str(_output(tmp_path))) == ""                      # empty
    out = _output(tmp_path / "a", "part-00000", "part-00001.parquet", "_SUCCESS")
    assert removal_refusal(str(out)) == ""
    out = _output(tmp_path / "b", "part-00003", dirs=["_temporary"])          # partial
    assert removal_refusal(str(out)) == ""
    out = _output(tmp_path / "c", dirs=["_steps"])                            # multi-step
    assert removal_refusal(str(out)) == ""
    commit.clear_output(str(out), overwrite=True)
    assert not out.exists()


def test_overwrite_refuses_anything_else_and_says_why(tmp_path):
    out = _output(tmp_path / "a", "part-00000", "_SUCCESS", "notes.txt")
    assert "holds notes.txt, which zmr did not write" in removal_refusal(str(out))
    out = _output(tmp_path / "b", "part-00000", "part-00001")
    assert "neither _SUCCESS nor _temporary" in removal_refusal(str(out))
    out = _output(tmp_path / "c", "_SUCCESS", dirs=["part-00000"])    # a directory, not a part
    assert "holds part-00000" in removal_refusal(str(out))
    (tmp_path / "file").write_text("mine")
    assert "is a file" in removal_refusal(str(tmp_path / "file"))
    os.symlink(tmp_path / "a" / "out", tmp_path / "link")
    assert "symbolic link" in removal_refusal(str(tmp_path / "link"))
    with pytest.raises(OutputError, match="--overwrite will not remove it: it holds notes.txt"):
        commit.clear_output(str(tmp_path / "a" / "out"), overwrite=True)
    assert (tmp_path / "a" / "out" / "notes.txt").exists()


def test_existing_output_is_refused_without_overwrite(tmp_path):
    out = _output(tmp_path)
    with pytest.raises(OutputError, match="already exists"):
        check_existing(str(out), overwrite=False)
    assert check_existing(str(out), overwrite=True)
    assert not check_existing(str(tmp_path / "new"), overwrite=False)


def test_abort_leaves_a_users_file_and_the_directory(tmp_path):
    out = _output(tmp_path, "part-00000", "_SUCCESS.tmp", "keep.txt", dirs=["_temporary"])
    commit.abort_output(str(out))
    assert sorted(os.listdir(out)) == ["keep.txt"]

