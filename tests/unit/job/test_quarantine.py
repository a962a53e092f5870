"""The entries a map attempt keeps of the records it skipped (zmr.job.quarantine) and where
they are committed (zmr.storage.quarantine)."""

from __future__ import annotations

import base64

import pytest

from zmr.core.errors import InputError
from zmr.job import quarantine as kept
from zmr.storage import quarantine


def _raise(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:  # noqa: BLE001
        return caught


def test_records_are_kept_as_text_base64_or_repr():
    q = kept.Quarantine()
    q.add(("a.txt", 10), "a line", _raise(ValueError("x")), "byte")
    q.add(("a.dat", 200), b"\x00\xffraw", _raise(KeyError("k")), "byte")
    q.add(("a.csv", 3), {"col": 1}, _raise(TypeError("t")), "byte")
    q.add(("step", ("key", 1)), 5, _raise(ValueError("v")), "key")
    text, raw, row, pair = q.entries
    assert (text.record, text.encoding, text.offset, text.error) == (
        "a line", "text", 10, "ValueError: x")
    assert base64.b64decode(raw.record) == b"\x00\xffraw" and raw.encoding == "base64"
    assert (row.record, row.encoding) == ("{'col': 1}", "repr")
    assert pair.offset is None and pair.where == "step at key ('key', 1)"
    assert "raise exc" in text.traceback and "ValueError: x" in text.traceback


def test_long_records_are_cut_and_past_the_budget_only_where_is_kept(monkeypatch):
    monkeypatch.setattr(kept, "BUDGET_BYTES", 150_000)
    q = kept.Quarantine()
    for i in range(4):
        q.add(("big.txt", i), "x" * 100_000, _raise(ValueError(str(i))), "byte")
    first, second, third, fourth = q.entries
    assert first.record.endswith(kept.CUT_MARK) and len(first.record) < 70_000
    assert not first.omitted and not second.omitted and not third.omitted
    assert fourth.omitted and fourth.record == "" and fourth.traceback == ""
    assert (fourth.path, fourth.offset, fourth.error) == ("big.txt", 3, "ValueError: 3")


def test_a_steps_quarantine_goes_to_the_jobs_own_output():
    assert quarantine.quarantine_dir("/o/out") == "/o/out/_quarantine"
    assert quarantine.file_name("/o/out", 3) == "part-m-00003.jsonl"
    assert quarantine.quarantine_dir("/o/out/_steps/step-2") == "/o/out/_quarantine"
    assert quarantine.file_name("/o/out/_steps/step-2", 0) == "step-2-part-m-00000.jsonl"
    assert quarantine.quarantine_dir("s3://b/out/_steps/step-1") == "s3://b/out/_quarantine"


def test_entries_round_trip_and_a_bad_line_is_named(tmp_path):
    q = kept.Quarantine()
    q.add(("a.txt", 10), "a line", _raise(ValueError("x")), "byte")
    assert quarantine.write(str(tmp_path), [(7, q.entries), (8, ())]) == 1
    path = tmp_path / "_quarantine" / "part-m-00007.jsonl"
    assert quarantine.read(str(path)) == q.entries
    assert sorted(p.name for p in (tmp_path / "_quarantine").iterdir()) == [path.name]
    path.write_text('{"path": "a"}\n')
    with pytest.raises(InputError, match="part-m-00007.jsonl: line 1 is not a quarantined"):
        quarantine.read(str(path))
