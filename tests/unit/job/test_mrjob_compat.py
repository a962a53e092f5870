"""The mrjob adapter on small jobs of its own: protocols, jobconf, init/final output,
counters and status, options; each compared with mrjob's inline runner where mrjob runs
it (the examples: test_mrjob_examples.py)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("mrjob")

from tests.mrjob_examples.compare import part_lines  # noqa: E402
from zmr.cli.main import parse_args  # noqa: E402
from zmr.core.errors import ConfigError, JobDefinitionError  # noqa: E402
from zmr.job.loader import load_runnable  # noqa: E402
from zmr.runners.inline import run_inline  # noqa: E402

PROTOCOLS_JOB = '''
from mrjob.job import MRJob
from mrjob.protocol import {internal}, {output}
from mrjob.step import MRStep


class MRProtocols(MRJob):
    INTERNAL_PROTOCOL = {internal}
    OUTPUT_PROTOCOL = {output}
    JOBCONF = {{"mapreduce.job.reduces": "3", "mapreduce.task.io.sort.mb": 8,
               "some.hadoop.property": "x"}}

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg("--suffix", default="")

    def mapper_init(self):
        yield ("init", 0), 5

    def mapper(self, _, line):
        for word in line.split():
            yield (word.lower() + self.options.suffix, len(word)), 1
            self.increment_counter("words, seen", "all", 1)

    def combiner(self, key, counts):
        yield key, sum(counts)

    def reducer(self, key, counts):
        self.set_status("reducing")
        # one ("init", 0) per map task, and mrjob cuts other splits than zmr
        yield key, (max(counts) if key[0] == "init" else sum(counts))

    def reducer_final(self):
        yield "final", None

    def to_total(self, key, count):
        yield None, [key, count]

    def top(self, _, items):
        for item in sorted(items, key=repr):
            yield item[0], item[1]

    def steps(self):
        return [MRStep(mapper_init=self.mapper_init, mapper=self.mapper,
                       combiner=self.combiner, reducer=self.reducer,
                       reducer_final=self.reducer_final),
                MRStep(mapper=self.to_total, reducer=self.top)]
'''


def write_job(tmp_path, internal="JSONProtocol", output="JSONProtocol"):
    path = tmp_path / f"mr_protocols_{internal}_{output}.py"
    path.write_text(PROTOCOLS_JOB.format(internal=internal, output=output))
    return str(path)


def mrjob_lines(path, inputs, output, args=()):
    import importlib.util
    import sys
    spec = importlib.util.spec_from_file_location(f"m{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    job = module.MRProtocols(args=["-r", "inline", "--no-conf", "--output-dir", output,
                                   "--no-cat-output", *args, *inputs])
    with job.make_runner() as runner:
        runner.run()
    return part_lines(output)


@pytest.fixture
def text(tmp_path):
    (tmp_path / "in.txt").write_text("The cat saw the Cat\n\nand a dog, the end\n" * 20)
    return [str(tmp_path / "in.txt")]


@pytest.mark.parametrize("internal, output", [
    ("JSONProtocol", "JSONProtocol"), ("PickleProtocol", "JSONValueProtocol"),
    ("ReprProtocol", "ReprValueProtocol"), ("JSONProtocol", "PickleProtocol")])
def test_protocols_init_final_and_steps_equal_mrjob(tmp_path, text, internal, output):
    path = write_job(tmp_path, internal, output)
    expected = mrjob_lines(path, text, str(tmp_path / "m"), ["--suffix", "!"])
    result = run_inline(load_runnable(path, ["--suffix", "!"]), text, str(tmp_path / "z"))
    assert part_lines(str(tmp_path / "z")) == expected and expected
    assert result.counters["words; seen"]["all"] == 20 * 10


def test_jobconf_becomes_settings_and_unknown_properties_are_reported(tmp_path, capsys):
    job = load_runnable(write_job(tmp_path), ["--jobconf", "mapreduce.job.reduces=2"])
    first = job.steps[0]
    assert first.settings["NUM_REDUCERS"] == 2          # --jobconf beats JOBCONF
    assert first.settings["MEMORY_BUDGET"] == "8MB"
    assert first.settings.get("OUTPUT_FORMAT") is None
    assert job.steps[1].settings["OUTPUT_FORMAT"] == "lines"
    assert "jobconf some.hadoop.property has no zmr equivalent" in capsys.readouterr().err


def test_bad_jobconf_values_name_the_property(tmp_path):
    with pytest.raises(JobDefinitionError, match=r"jobconf mapreduce.job.reduces='many'"):
        load_runnable(write_job(tmp_path), ["--jobconf", "mapreduce.job.reduces=many"])


def test_formats_of_an_mrjob_job_are_its_protocols(tmp_path, text):
    with pytest.raises(ConfigError, match="--output-format jsonl does not apply"):
        run_inline(load_runnable(write_job(tmp_path)), text, str(tmp_path / "z"),
                   output_format="jsonl")


def test_passthrough_options_come_with_zmrs_flags():
    args = parse_args(["run", "mr_job.py", "--suffix", "!", "--input", "a", "b",
                       "--output", "o", "--jobconf", "x=1", "-r", "2"])
    assert args.job_args == ["--suffix", "!", "--jobconf", "x=1"]
    assert args.input == ["a", "b"] and args.reducers == 2


def test_a_plain_zmr_job_takes_no_job_arguments(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("def mapper(k, v):\n    yield v, 1\n")
    with pytest.raises(JobDefinitionError, match="unrecognized arguments: --foo"):
        load_runnable(str(path), ["--foo"])


def test_file_args_reach_tasks_as_absolute_paths(tmp_path, text):
    (tmp_path / "words.txt").write_text("cat\n")
    job = tmp_path / "mr_filter.py"
    job.write_text('''
from mrjob.job import MRJob


class MRFilter(MRJob):
    def configure_args(self):
        super().configure_args()
        self.add_file_arg("--words")

    def mapper_init(self):
        with open(self.options.words) as f:
            self.words = set(f.read().split())

    def mapper(self, _, line):
        for word in line.lower().split():
            if word in self.words:
                yield word, 1

    def reducer(self, word, ones):
        yield word, sum(ones)
''')
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        spec = load_runnable(str(job), ["--words", "words.txt"])
    finally:
        os.chdir(cwd)
    run_inline(spec, text, str(tmp_path / "z"))
    assert part_lines(str(tmp_path / "z")) == [b'"cat"\t40']
