"""mrjob's own examples (vendored from the mrjob 0.7.4 wheel in tests/mrjob_examples/, with
their license headers), run by mrjob's inline runner and by zmr's inline runner: the part
files agree line for line; what cannot run is refused at load naming the step or the part.
The same examples on a real cluster: tests/mrjob_examples/test_cluster.py."""

from __future__ import annotations

import glob
import json
import os

import pytest

pytest.importorskip("mrjob")

from tests.helpers import ROOT  # noqa: E402
from tests.mrjob_examples.compare import example, part_lines, run_mrjob  # noqa: E402
from zmr.core.errors import JobDefinitionError  # noqa: E402
from zmr.job.loader import load_runnable  # noqa: E402
from zmr.runners.inline import run_inline  # noqa: E402

DOCS = sorted(glob.glob(os.path.join(ROOT, "tests", "mrjob_examples", "docs-to-classify",
                                     "*.txt")))


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    """Two files of prose, blank lines, CRLF endings and non-ASCII words."""
    d = tmp_path_factory.mktemp("text")
    (d / "a.txt").write_bytes(b"".join(open(doc, "rb").read() for doc in DOCS))
    (d / "b.txt").write_bytes("Ünïcode wörds here\r\n\r\nthe end, the END\nno newline"
                              .encode("utf-8"))
    return [str(d / "a.txt"), str(d / "b.txt")]


def zmr_lines(name, inputs, output, args=(), **options):
    job = load_runnable(example(name), list(args))
    result = run_inline(job, inputs, output, **options)
    return part_lines(output), result


@pytest.mark.parametrize("name, args", [
    ("mr_word_freq_count", []),
    ("mr_wc", []),
    ("mr_count_lines_right", []),
    ("mr_count_lines_by_file", []),     # jobconf_from_env('mapreduce.map.input.file')
    ("mr_next_word_stats", []),         # SORT_VALUES, two steps
    ("mr_most_used_word", []),          # FILES; its reducer yields max(pairs), a list
])
def test_example_output_equals_mrjobs_inline_runner(name, args, text, tmp_path):
    expected = run_mrjob(name, text, str(tmp_path / "mrjob"), args)
    got, _ = zmr_lines(name, text, str(tmp_path / "zmr"), args)
    assert expected and got == expected


def rounded(lines):
    """JSON lines with floats to 9 places: sums of floats over a key's values in another
    order differ in the last digits (zmr keeps no map-task order of a key's values, nor
    does Hadoop)."""
    def parse(text):
        return json.loads(text, parse_float=lambda x: round(float(x), 9))
    return [tuple(map(parse, line.split(b"\t"))) for line in lines]


def test_mapper_raw_passthrough_args_and_counters_text_classifier(tmp_path):
    args = ["--min-df", "1", "--max-ngram-size", "1"]
    expected = run_mrjob("mr_text_classifier", DOCS, str(tmp_path / "mrjob"), args)
    got, result = zmr_lines("mr_text_classifier", DOCS, str(tmp_path / "zmr"), args)
    assert len(expected) > 500 and rounded(got) == rounded(expected)
    assert len(result.steps) == 4
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] >= len(DOCS)   # one per whole file


def test_random_sampler_keeps_every_line_once(text, tmp_path):
    """mr_log_sampler orders lines by a random seed (SORT_VALUES, ReprProtocol inside,
    RawValueProtocol out): a sample as big as the input is the input, in some order."""
    args = ["--sample-size", "100000"]
    expected = run_mrjob("mr_log_sampler", text, str(tmp_path / "mrjob"), args)
    got, _ = zmr_lines("mr_log_sampler", text, str(tmp_path / "zmr"), args)
    assert sorted(got) == sorted(expected) and len(got) > 100


def test_count_lines_wrong_counts_per_map_task(text, tmp_path):
    """The example's point: mapper_final without a reducer gives a count per map task, so
    the lines depend on the splits; their sum does not."""
    expected = run_mrjob("mr_count_lines_wrong", text, str(tmp_path / "mrjob"))
    got, result = zmr_lines("mr_count_lines_wrong", text, str(tmp_path / "zmr"),
                            split_size="8KB")
    assert len(got) == result.num_maps > 1

    def total(lines):
        return sum(int(line.split(b"\t")[1]) for line in lines)
    assert total(got) == total(expected)


def test_a_failing_example_fails_as_in_mrjob(text, tmp_path):
    with pytest.raises(Exception, match="BOOM"):
        run_mrjob("mr_boom", text, str(tmp_path / "mrjob"))
    with pytest.raises(Exception, match="BOOM"):
        zmr_lines("mr_boom", text, str(tmp_path / "zmr"))
    assert not os.path.exists(tmp_path / "zmr" / "_SUCCESS")


@pytest.mark.parametrize("name, args, message", [
    ("mr_grep", ["-e", "zmr"], r"step 1: mapper_cmd runs the shell command"),
    ("mr_words_containing_u_freq_count", [], r"step 1: mapper_pre_filter runs the shell "
                                             r"command 'grep -i u'"),
    ("mr_jar_step_example", [], r"step 1 is a JarStep"),
    ("mr_spark_wordcount", [], r"step 1 is a SparkStep"),
    ("mr_spark_wordcount_script", [], r"step 1 is a SparkScriptStep"),
    ("mr_spark_most_used_word", [], r"step 1 is a SparkStep"),
    ("mr_sparkaboom", [], r"step 1 is a SparkStep"),
    ("mr_nick_nack", [], r"hadoop_output_format\(\) is 'nicknack.MultipleValueOutputFormat'"),
    ("mr_log_sampler", [], r"job arguments \[\]: You must specify the --sample-size"),
    ("mr_wc", ["--bogus", "1"], r"unrecognized arguments: --bogus"),
    ("mr_wc", ["extra-input.txt"], r"input paths go to --input"),
])
def test_what_cannot_run_is_refused_at_load_naming_it(name, args, message):
    with pytest.raises(JobDefinitionError, match=message) as info:
        load_runnable(example(name), args)
    assert example(name) in str(info.value)
