"""Built-in aggregations on the record path (a Python generator mapper): each gives the
bytes the equivalent Python reducer gives, with map-side partials and without, over many
spills (a tiny memory budget), several reducers, values numpy cannot hold and empty input."""

from __future__ import annotations

import os

import pytest

from tests.helpers import JOBS, output_bytes, read_output
from zmr.core.errors import JobContractError, JobDefinitionError
from zmr.job.loader import load_job
from zmr.runners.inline import run_inline

JOB = os.path.join(JOBS, "agg_record.py")
EXACT_KINDS = ["int", "dyadic", "str", "bool", "bigint", "mixed", "tuple"]
NUMERIC = {"sum", "mean"}
NAMES = ["sum", "count", "min", "max", "mean", "first", "collect_list", "collect_set"]


def _fits(name, kind):
    return name not in NUMERIC or kind not in ("str", "tuple")


def _run(tmp_path, monkeypatch, name, mode, kind, inputs, out, **options):
    monkeypatch.setenv("ZMR_TEST_AGG", name)
    monkeypatch.setenv("ZMR_TEST_AGG_MODE", mode)
    monkeypatch.setenv("ZMR_TEST_AGG_VALUES", kind)
    target = str(tmp_path / out)
    run_inline(JOB, [str(inputs)], target, reducers=3, split_size=900, memory_budget=1500,
               **options)
    return target


def _input(tmp_path, lines=400):
    path = tmp_path / "in.txt"
    path.write_text("".join(f"line {i}\n" for i in range(lines)))
    return path


@pytest.mark.parametrize("keys", ["mixed", "str"])
@pytest.mark.parametrize(("name", "kind"), [(name, kind) for name in NAMES
                                            for kind in EXACT_KINDS if _fits(name, kind)])
def test_each_built_in_gives_the_python_reducers_bytes(tmp_path, monkeypatch, name, kind,
                                                       keys):
    """Mixed keys buffer (key, value) pairs; str keys are grouped as they come."""
    monkeypatch.setenv("ZMR_TEST_AGG_KEYS", keys)
    inputs = _input(tmp_path)
    python = output_bytes(_run(tmp_path, monkeypatch, name, "python", kind, inputs, "py"))
    assert any(python.values())
    for mode in ("reduce", "reduce_only", "combiner"):
        if mode == "combiner" and name not in ("sum", "min", "max", "first"):
            continue
        got = output_bytes(_run(tmp_path, monkeypatch, name, mode, kind, inputs, mode))
        assert got == python, (mode, name, kind)


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_float_sums_are_pythons_without_partials_and_close_with_them(tmp_path, monkeypatch,
                                                                      name):
    inputs = _input(tmp_path, 2000)
    python = _run(tmp_path, monkeypatch, name, "python", "float", inputs, "py")
    alone = _run(tmp_path, monkeypatch, name, "reduce_only", "float", inputs, "alone")
    assert output_bytes(alone) == output_bytes(python)   # left to right, as sum() adds
    combined = read_output(_run(tmp_path, monkeypatch, name, "reduce", "float", inputs, "c"))
    expected = read_output(python)
    assert combined.keys() == expected.keys()
    for key, value in expected.items():
        assert type(combined[key]) is float and combined[key] == pytest.approx(value)


@pytest.mark.parametrize("name", NAMES)
def test_no_map_output_gives_empty_parts(tmp_path, monkeypatch, name):
    (tmp_path / "empty.txt").write_text("# nothing\n" * 30)
    out = _run(tmp_path, monkeypatch, name, "reduce", "int", tmp_path / "empty.txt", "o")
    assert set(output_bytes(out).values()) == {b""}


def test_int_sums_beyond_int64_stay_exact(tmp_path, monkeypatch):
    inputs = _input(tmp_path)
    out = read_output(_run(tmp_path, monkeypatch, "sum", "reduce", "bigint", inputs, "o"))
    assert any(abs(v) >= 2 ** 63 for v in out.values())


def test_a_value_sum_cannot_take_names_key_value_and_setting(tmp_path, monkeypatch):
    inputs = _input(tmp_path, 50)
    for mode in ("reduce", "reduce_only"):
        with pytest.raises(JobContractError, match=r"REDUCE = 'sum' needs numbers \(int, "
                           r"float or bool\), but key .+ has the value '.+' \(str\)"):
            _run(tmp_path, monkeypatch, "sum", mode, "str", inputs, mode)
    with pytest.raises(JobContractError, match=r"COMBINER = 'sum' needs numbers"):
        _run(tmp_path, monkeypatch, "sum", "combiner", "str", inputs, "c")
    with pytest.raises(JobContractError, match=r"REDUCE = 'mean' needs numbers .+ \(tuple\)"):
        _run(tmp_path, monkeypatch, "mean", "reduce", "tuple", inputs, "t")


@pytest.mark.parametrize(("source", "message"), [
    ("REDUCE = 'summ'", r"REDUCE = 'summ' is not one of sum, count, .*collect_set: did you "
                        r"mean 'sum'\?"),
    ("COMBINER = 'mx'", r"COMBINER = 'mx' is not one of reducer, none, sum, min, max, first: "
                        r"did you mean 'max'\?"),
    ("COMBINER = 'mean'\ndef reducer(k, vs): yield k, 1",
     r"COMBINER = 'mean' would hand the reducer mean partials"),
    ("REDUCE = 'sum'\nCOMBINER = 'max'", r"COMBINER = 'max' with REDUCE = 'sum'"),
    ("REDUCE = 'sum'\ndef combiner(k, vs): yield k, 1", r"REDUCE = 'sum' replaces reducer"),
])
def test_bad_declarations_are_definition_errors(tmp_path, source, message):
    (tmp_path / "j.py").write_text(f"{source}\ndef mapper(k, v): yield v, 1\n")
    with pytest.raises(JobDefinitionError, match=message) as caught:
        load_job(str(tmp_path / "j.py"))
    assert caught.value.exit_code == 2


MAP_BATCH = '''
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def map_batch(batch):
    words = pc.list_flatten(pc.split_pattern(batch.column("line"), " "))
    return {"key": words, "value": pa.array(np.arange(len(words)) % 7)}
'''


@pytest.mark.parametrize("reduction", [
    "def combiner(k, vs):\n    yield k, sum(vs)\n", "COMBINER = 'sum'\n", "COMBINER = 'none'\n"])
def test_map_batch_output_is_combined_not_lost(tmp_path, reduction):
    """A map_batch job with a combiner spills its Arrow output (it was dropped: the grouping
    buffer, empty for map_batch, was spilled instead, so the job wrote nothing)."""
    (tmp_path / "in.txt").write_text("".join(f"w{i % 13} w{i % 5} x\n" for i in range(300)))
    reducer = "def reducer(k, vs):\n    yield k, sum(vs)\n"
    outputs = []
    for name, source in (("plain", MAP_BATCH + reducer),
                         ("combined", MAP_BATCH + reducer + reduction),
                         ("built_in", MAP_BATCH + "REDUCE = 'sum'\n")):
        (tmp_path / f"{name}.py").write_text(source)
        run_inline(str(tmp_path / f"{name}.py"), [str(tmp_path / "in.txt")],
                   str(tmp_path / name), reducers=2, split_size=500, memory_budget=1500)
        outputs.append(output_bytes(str(tmp_path / name)))
    assert any(outputs[0].values())
    assert outputs[1] == outputs[0] == outputs[2]


@pytest.mark.parametrize("reduction", [
    "REDUCE = 'sum'\n",
    "def combiner(k, vs):\n    yield k, sum(vs)\n\ndef reducer(k, vs):\n    yield k, sum(vs)\n"])
def test_total_order_with_a_combiner_cuts_parts_by_key_range(tmp_path, reduction):
    """Part i holds keys below part i+1's (map-side combining partitioned by hash before)."""
    (tmp_path / "in.txt").write_text("".join(
        " ".join(f"w{(i * 7 + j * 13) % 500:03d}" for j in range(8)) + "\n" for i in range(1500)))
    (tmp_path / "j.py").write_text("PARTITIONER = 'total_order'\n" + reduction +
                                   "def mapper(k, line):\n    for w in line.split():\n"
                                   "        yield w, 1\n")
    run_inline(str(tmp_path / "j.py"), [str(tmp_path / "in.txt")], str(tmp_path / "out"),
               reducers=3, split_size=4000, memory_budget=20000)
    parts = [[line.split("\t")[0] for line in data.decode().splitlines()]
             for _, data in sorted(output_bytes(str(tmp_path / "out")).items())]
    assert len(parts) == 3 and all(parts)
    keys = [key for part in parts for key in part]
    assert keys == sorted(keys) and len(keys) == 500


@pytest.mark.parametrize("sequential", [True, False])
def test_float_run_sums_are_pythons_sum(monkeypatch, sequential):
    """Short and very long runs (the long tail is finished by sum() itself); on a Python
    whose sum() is compensated (3.12 on) the kernel calls sum() per run."""
    import numpy as np

    from zmr.tasks import aggregation_kernels
    monkeypatch.setattr(aggregation_kernels, "_SEQUENTIAL_SUM", sequential)
    rng = np.random.default_rng(7)
    lengths = np.concatenate((rng.integers(1, 5, 500), [3000, 40, 41, 900]))
    values = rng.normal(0, 1e6, int(lengths.sum())) * rng.choice([1, 1e-9], int(lengths.sum()))
    values[0] = -0.0
    ends = np.cumsum(lengths)
    starts = ends - lengths
    got = aggregation_kernels._sequential_sums(values, starts, ends).tolist()
    assert got == [sum(values[s:e].tolist()) for s, e in zip(starts.tolist(), ends.tolist())]
