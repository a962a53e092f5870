"""Jobs with several inputs (``INPUTS = [zmr.Input(...)]``) and the input settings of
``zmr.Step``: loading, planning, ``--input NAME=PATH``, and inline runs against
plain-Python answers."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import zmr
from tests.helpers import read_output
from zmr.cli.main import main
from zmr.core.errors import ConfigError, InputError, JobDefinitionError
from zmr.core.jsonable import to_json
from zmr.core.plan import JobPlan
from zmr.job.loader import load_runnable
from zmr.job.planning import plan_job

JOB = """\
import zmr

def by_url(key, row):
    yield row[0], ("rank", row[1])

def visit(key, row):
    yield row["url"], ("visit", row["ip"])

def reducer(url, values):
    yield url, sorted(values)

INPUTS = [
    zmr.Input({ranks!r}, name="ranks", format="parquet", records="tuple", mapper=by_url,
              columns=["url", "rank"]),
    zmr.Input({visits!r}, name="visits", format="csv", mapper=visit,
              column_types={{"ip": "string"}}{extra}),
]
"""


@pytest.fixture()
def tables(tmp_path):
    """(rankings dir, visits dir) with 3 ranked URLs and 4 visits (one of an unranked URL)."""
    ranks, visits = tmp_path / "ranks", tmp_path / "visits"
    ranks.mkdir()
    visits.mkdir()
    pq.write_table(pa.table({"url": ["a", "b"], "rank": [10, 20], "junk": [0, 0]}),
                   ranks / "r1.parquet")
    pq.write_table(pa.table({"url": ["c"], "rank": [30], "junk": [0]}), ranks / "r2.parquet")
    (visits / "v1.csv").write_text("ip,url\n1.1.1.1,a\n2.2.2.2,a\n")
    (visits / "v2.csv").write_text("ip,url\n3.3.3.3,c\n4.4.4.4,zzz\n")
    return str(ranks), str(visits)


def _job(tmp_path, tables, extra="", text=JOB):
    ranks, visits = tables
    path = tmp_path / "join.py"
    path.write_text(text.format(ranks=ranks, visits=visits + "/*.csv", extra=extra))
    return str(path)


EXPECTED = {"a": [["rank", 10], ["visit", "1.1.1.1"], ["visit", "2.2.2.2"]],
            "b": [["rank", 20]], "c": [["rank", 30], ["visit", "3.3.3.3"]],
            "zzz": [["visit", "4.4.4.4"]]}


def test_each_input_is_read_in_its_format_by_its_mapper(tmp_path, tables):
    result = zmr.run_inline(_job(tmp_path, tables), None, str(tmp_path / "out"))
    assert read_output(str(tmp_path / "out")) == EXPECTED
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] == 7
    # splits of different inputs are never packed together, so 2 map tasks at least
    assert result.num_maps == 2


def test_splits_carry_their_input_and_the_plan_each_inputs_options(tmp_path, tables):
    job = load_runnable(_job(tmp_path, tables))
    plan = plan_job(job, [], str(tmp_path / "out"), None)
    assert [(s.format, s.input) for s in plan.splits] == [("parquet", 0), ("csv", 1)]
    assert plan.input_options == [{"columns": ["url", "rank"], "records": "tuple"},
                                  {"records": "dict", "column_types": {"ip": "string"}}]
    assert plan.map_spec("j", 1, 1, "/w").format_options["column_types"] == {"ip": "string"}
    again = JobPlan.from_dict(to_json(plan))
    assert again == plan and "input" not in to_json(plan.splits[0])
    broken = to_json(plan)
    broken["splits"][1]["input"] = 5
    with pytest.raises(ConfigError, match="reads input 5, but the plan has 2"):
        JobPlan.from_dict(broken)


def test_input_name_equals_path_replaces_one_inputs_paths(tmp_path, tables):
    other = tmp_path / "other"
    other.mkdir()
    (other / "v.csv").write_text("ip,url\n9.9.9.9,b\n")
    job = _job(tmp_path, tables)
    zmr.run_inline(job, [f"visits={other}"], str(tmp_path / "o1"))
    assert read_output(str(tmp_path / "o1")) == {
        "a": [["rank", 10]], "b": [["rank", 20], ["visit", "9.9.9.9"]], "c": [["rank", 30]]}
    zmr.run_inline(job, {"visits": [str(other), tables[1]]}, str(tmp_path / "o2"))
    assert read_output(str(tmp_path / "o2"))["b"] == [["rank", 20], ["visit", "9.9.9.9"]]


def test_an_input_that_reads_nothing_is_named(tmp_path, tables):
    job = _job(tmp_path, tables)
    with pytest.raises(InputError, match=r"join.py: input 'visits': input pattern .*nope\*"
                                         r" matches no files"):
        zmr.run_inline(job, {"visits": str(tmp_path / "nope*")}, str(tmp_path / "o"))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match=r"input 'visits': the input is empty"):
        zmr.run_inline(job, {"visits": str(tmp_path / "empty.csv")}, str(tmp_path / "o"))


def test_the_command_line_names_inputs_and_refuses_bare_paths(tmp_path, tables, capsys):
    job = _job(tmp_path, tables)
    out = str(tmp_path / "out")
    assert main(["run", "--inline", "-q", job, "-i", tables[1], "-o", out]) == 2
    err = capsys.readouterr().err
    assert "defines INPUTS (ranks, visits), so --input takes NAME=PATH" in err
    assert main(["run", "--inline", "-q", job, "-i", f"nope={tables[1]}", "-o", out]) == 2
    assert main(["run", "--inline", "-q", job, "--input-format", "csv", "-o", out]) == 2
    assert "each input has its own format" in capsys.readouterr().err
    assert main(["run", "--inline", "-q", job, "-o", out,
                 "-i", f"visits={tables[1]}/v1.csv", "-i", f"visits={tables[1]}/v2.csv"]) == 0
    assert read_output(out) == EXPECTED


def test_a_job_without_inputs_still_needs_input(tmp_path, capsys):
    (tmp_path / "wc.py").write_text("def mapper(k, line):\n    yield line, 1\n")
    assert main(["run", "--inline", str(tmp_path / "wc.py"), "-o", str(tmp_path / "o")]) == 2
    assert "no input: give --input PATH (or define INPUTS" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (", split_size='lots'", r"input 'visits': split_size: cannot read 'lots' as a size"),
    (", columns='ip'", r"input 'visits': columns = 'ip' has the wrong type"),
    (", name2='x'", r"Input\(\) got an unexpected keyword argument 'name2'"),
    (", map_batch=lambda batch: batch", r"input 'visits': define mapper or map_batch, not both"),
])
def test_bad_inputs_are_named_when_the_job_loads(tmp_path, tables, extra, message):
    with pytest.raises(JobDefinitionError, match=message):
        load_runnable(_job(tmp_path, tables, extra))


@pytest.mark.parametrize("inputs, message", [
    ("INPUTS = ['a/']", "INPUTS must be a non-empty list of zmr.Input"),
    ("INPUTS = [zmr.Input('a/', mapper=m), zmr.Input('b/', name='input1', mapper=m)]",
     "two inputs named 'input1'"),
    ("INPUTS = [zmr.Input('a/')]", "input 'input1' has no mapper, and the job defines none"),
])
def test_bad_inputs_lists_are_named(tmp_path, inputs, message):
    (tmp_path / "j.py").write_text(f"import zmr\ndef m(k, v):\n    yield k, v\n"
                                   f"def reducer(k, vs):\n    yield k, 1\n{inputs}\n")
    with pytest.raises(JobDefinitionError, match=message):
        load_runnable(str(tmp_path / "j.py"))


def test_input_checks_its_arguments_at_once():
    with pytest.raises(TypeError, match="takes a path"):
        zmr.Input([])
    with pytest.raises(TypeError, match="must be a name"):
        zmr.Input("x/", name="two words")
    source = zmr.Input(["a/", "b/*.csv"], format="csv", split_size="1MB")
    assert source.paths == ("a/", "b/*.csv")
    assert source.module_settings() == {"INPUT_FORMAT": "csv", "SPLIT_SIZE": "1MB"}


STEPS_JOB = """\
import zmr

def temps(key, row):
    yield row[0], row[1]

def top(year, values):
    yield year, max(values)

def by_max(year, best):
    yield best, year

def years(best, names):
    yield best, sorted(names)

STEPS = [zmr.Step(mapper=temps, reducer=top, input_format="csv",
                  input_columns=["year", "temp"], input_records="tuple",
                  csv_column_types={"temp": "int64"}),
         zmr.Step(mapper=by_max, reducer=years{later})]
"""


def test_steps_set_the_input_settings_without_flags(tmp_path):
    (tmp_path / "t.csv").write_text("station,year,temp\nx,1990,5\ny,1990,7\nx,1991,7\n")
    (tmp_path / "steps.py").write_text(STEPS_JOB.replace("{later}", ""))
    zmr.run_inline(str(tmp_path / "steps.py"), str(tmp_path / "t.csv"), str(tmp_path / "o"))
    assert read_output(str(tmp_path / "o")) == {7: [1990, 1991]}
    (tmp_path / "bad.py").write_text(STEPS_JOB.replace("{later}", ", input_format='csv'"))
    with pytest.raises(JobDefinitionError, match="step 2: input_format is a setting of the "
                                                 "job's input, which step 1 reads"):
        load_runnable(str(tmp_path / "bad.py"))


def test_a_multi_step_job_reads_inputs_in_its_first_step(tmp_path, tables):
    text = JOB.replace("def reducer(url, values):\n    yield url, sorted(values)\n", """
def visits(url, values):
    values = sorted(values)
    if values[0][0] == "rank":
        for _, ip in values[1:]:
            yield ip, values[0][1]

def total(ip, ranks):
    yield ip, sum(ranks)

STEPS = [zmr.Step(reducer=visits), zmr.Step(reducer=total)]
""")
    zmr.run_inline(_job(tmp_path, tables, text=text), None, str(tmp_path / "o"))
    assert read_output(str(tmp_path / "o")) == {"1.1.1.1": 10, "2.2.2.2": 10, "3.3.3.3": 30}
