"""Jobs over many small files: packed into few map tasks, with the output, the counters and
every message about a record (its key, a skipped record, bad UTF-8) as if each file were
read alone; inline (on a real local cluster: tests/e2e/test_packed_input.py)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    EXAMPLES,
    JOBS,
    output_bytes,
    read_output,
    write_files_with_a_bad_line,
    write_small_files,
)
from zmr.core.errors import ConfigError, InputError, JobDefinitionError
from zmr.runners.inline import run_inline

WORDCOUNT = f"{EXAMPLES}/wordcount.py"
POSITIONS = f"{JOBS}/positions.py"
SKIPS_BAD = f"{JOBS}/skips_bad.py"


def reference_positions(root) -> dict[tuple[str, int], str]:
    """Every line of every file under (absolute path, byte offset), the naive way."""
    expected = {}
    for path in sorted(root.rglob("*.txt")):
        offset = 0
        for line in path.read_bytes().split(b"\n"):
            if line or offset < path.stat().st_size:
                expected[(str(path), offset)] = line.decode()
            offset += len(line) + 1
    return expected


def test_keys_are_the_real_files_path_and_offset(tmp_path):
    inputs = write_small_files(tmp_path / "in")
    result = run_inline(POSITIONS, [inputs], str(tmp_path / "out"), split_size="2KB")
    assert 1 < result.num_maps < 120 // 4         # packed: far fewer tasks than files
    assert read_output(str(tmp_path / "out")) == reference_positions(tmp_path / "in")


def test_packed_output_and_counters_equal_one_task_per_file(tmp_path):
    inputs = write_small_files(tmp_path / "in")
    packed = run_inline(WORDCOUNT, [inputs], str(tmp_path / "packed"), reducers=3)
    alone = run_inline(WORDCOUNT, [inputs], str(tmp_path / "alone"), reducers=3,
                       combine_files=False)
    assert packed.num_maps == 1 and alone.num_maps == 120 - _empty_files(tmp_path / "in")
    assert output_bytes(str(tmp_path / "packed")) == output_bytes(str(tmp_path / "alone"))
    for name in ("MAP_INPUT_RECORDS", "MAP_INPUT_BYTES", "MAP_OUTPUT_RECORDS"):
        assert packed.counters["zmr"][name] == alone.counters["zmr"][name], name


def _empty_files(root) -> int:
    return sum(1 for p in root.rglob("*.txt") if p.stat().st_size == 0)


def test_combine_files_setting_turns_packing_off(tmp_path):
    inputs = write_small_files(tmp_path / "in", count=10)
    (tmp_path / "off.py").write_text(open(WORDCOUNT).read() + "\nCOMBINE_FILES = False\n")
    result = run_inline(str(tmp_path / "off.py"), [inputs], str(tmp_path / "out"))
    assert result.num_maps == 10 - _empty_files(tmp_path / "in")
    (tmp_path / "bad.py").write_text(open(WORDCOUNT).read() + "\nCOMBINE_FILES = 'no'\n")
    with pytest.raises((ConfigError, JobDefinitionError), match="COMBINE_FILES"):
        run_inline(str(tmp_path / "bad.py"), [inputs], str(tmp_path / "out2"))


def test_skipped_records_and_bad_utf8_name_the_real_file(tmp_path, capfd):
    positions = write_files_with_a_bad_line(tmp_path / "in")
    result = run_inline(SKIPS_BAD, [str(tmp_path / "in")], str(tmp_path / "out"),
                        skip_bad_records=10)
    assert result.num_maps == 1 and result.counters["zmr"]["MAP_SKIPPED_RECORDS"] == 6
    err = capfd.readouterr().err
    for path, offset in positions:
        assert f"{path} at byte {offset}: ValueError: BAD record" in err
    (tmp_path / "in" / "in-3.txt").write_bytes(b"ok\nnot \xc3( utf-8\n")
    with pytest.raises(InputError, match=f"invalid UTF-8 in {tmp_path / 'in' / 'in-3.txt'} "
                                         "at byte 7"):
        run_inline(WORDCOUNT, [str(tmp_path / "in")], str(tmp_path / "out2"))
