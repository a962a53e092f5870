"""Multi-step jobs (``STEPS``): inline and on a real local cluster, through the CLI too.

The reference answer of ``jobs/top_words.py`` is a plain ``collections.Counter``; a fixture
job (``tests/jobs/steps_types.py``) shows that a later step receives the objects the step
before yielded (ints, tuples, bytes, big ints, pickled objects), not text."""

from __future__ import annotations

import collections
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

import zmr
from tests.helpers import PATIENT_S
from zmr.core.errors import JobDefinitionError, JobFailedError
from zmr.job.loader import load_job, load_runnable, with_reducer_as_combiner
from zmr.job.pipeline import PipelineRun
from zmr.runners.inline import _run_plan, run_inline
from zmr.runners.local import LocalCluster
from zmr.settings.job import JobOptions
from zmr.storage.pairfile import iter_pair_batches

ROOT = Path(__file__).resolve().parents[2]
TOP_WORDS = str(ROOT / "jobs" / "top_words.py")
TYPES = str(ROOT / "tests" / "jobs" / "steps_types.py")
FAILS = str(ROOT / "tests" / "jobs" / "steps_fail.py")
WORD = re.compile(r"[a-z0-9']+")
VOCABULARY = "the of and to a in fox dog zoë café don't 2024 x y z river stone".split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Three files of Zipf-ish random words, with ties in the counts likely."""
    root = tmp_path_factory.mktemp("steps") / "in"
    rng = random.Random(5)
    weights = [1 / (i + 1) for i in range(len(VOCABULARY))]
    for f in range(3):
        lines = [" ".join(rng.choices(VOCABULARY, weights, k=rng.randint(0, 9)))
                 for _ in range(120)]
        (root / f"sub{f % 2}").mkdir(parents=True, exist_ok=True)
        (root / f"sub{f % 2}" / f"{f}.txt").write_text("\n".join(lines) + "\n")
    return root


def expected_top(root: Path, n: int = 10) -> list[tuple[str, int]]:
    counts = collections.Counter(w for p in sorted(root.rglob("*.txt"))
                                 for w in WORD.findall(p.read_text().lower()))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def read_output(out: Path) -> list[tuple[str, str]]:
    assert (out / "_SUCCESS").exists()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("_")) == ["_SUCCESS"]
    return [tuple(line.split("\t", 1)) for part in sorted(out.glob("part-*"))
            for line in part.read_text().splitlines()]


def as_counts(rows: list[tuple[str, str]]) -> list[tuple[str, int]]:
    return [(word, int(count)) for word, count in rows]


def expected_types() -> collections.Counter:
    pairs = load_module_pairs()
    return collections.Counter((f"{type(k).__name__}:{k!r}", f"{type(v).__name__}:{v!r}")
                               for k, v in pairs)


def load_module_pairs() -> list:
    namespace: dict = {}
    exec(compile(Path(TYPES).read_text(), TYPES, "exec"), namespace)
    return namespace["PAIRS"]


def write_go(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "go.txt").write_text("go\nstay\n")
    return directory


# -- inline --------------------------------------------------------------------------------

@pytest.mark.parametrize("reducers,split_size", [(None, None), (3, 150)])
def test_top_words_inline_equals_counter(corpus, tmp_path, reducers, split_size):
    out = tmp_path / "out"
    result = run_inline(TOP_WORDS, [str(corpus)], str(out), reducers=reducers,
                        split_size=split_size)
    assert as_counts(read_output(out)) == expected_top(corpus)
    assert len(result.steps) == 2 and result.output == str(out)
    distinct = len(set(WORD.findall(" ".join(p.read_text().lower()
                                              for p in corpus.rglob("*.txt")))))
    step2 = result.steps[1].counters["zmr"]
    assert step2["MAP_INPUT_RECORDS"] == distinct          # step 1's pairs, one per word
    assert result.counters["zmr"]["MAP_INPUT_RECORDS"] == (
        result.steps[0].counters["zmr"]["MAP_INPUT_RECORDS"] + distinct)


def test_later_step_receives_objects_not_text(tmp_path):
    out = tmp_path / "out"
    run_inline(TYPES, [str(write_go(tmp_path / "in"))], str(out))
    assert collections.Counter(read_output(out)) == expected_types()


def test_intermediate_output_is_arrow_pairs_and_is_removed(corpus, tmp_path):
    out = tmp_path / "out"
    run = PipelineRun(load_runnable(TOP_WORDS), [str(corpus)], str(out), JobOptions(reducers=2))
    step = run.next_step()
    assert step.name == "top_words[step 1/2]" and step.plan.output_format == "arrow"
    _run_plan(step.spec, step.plan, False, 0.0)
    parts = sorted((out / "_steps" / "step-1").glob("part-*"))
    pairs = dict(p for part in parts for keys, values in iter_pair_batches(str(part))
                 for p in zip(keys, values, strict=True))
    assert sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:10] == expected_top(corpus)
    assert all(type(count) is int for count in pairs.values())
    last = run.next_step()
    assert last.plan.output_format == "text" and {s.format for s in last.plan.splits} == {
        "arrow"}
    _run_plan(last.spec, last.plan, False, 0.0)
    assert run.next_step() is None
    run.finish()
    assert as_counts(read_output(out)) == expected_top(corpus)


def test_failing_step_fails_the_job_and_leaves_nothing(corpus, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="boom in step 2"):
        run_inline(FAILS, [str(corpus)], str(out))
    assert not out.exists()


def test_existing_output_is_refused_before_any_step_runs(corpus, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep").write_text("x")
    with pytest.raises(zmr.OutputError, match="already exists"):
        run_inline(TOP_WORDS, [str(corpus)], str(out))
    with pytest.raises(zmr.OutputError, match="holds keep, which zmr did not write"):
        run_inline(TOP_WORDS, [str(corpus)], str(out), overwrite=True)
    assert (out / "keep").exists() and not (out / "_steps").exists()
    (out / "keep").unlink()
    for _ in range(2):          # an empty directory, then the job's own output
        run_inline(TOP_WORDS, [str(corpus)], str(out), overwrite=True)
        assert as_counts(read_output(out)) == expected_top(corpus)


def test_reducer_only_step_aggregation_and_combiner_flag(tmp_path):
    job = tmp_path / "j.py"
    job.write_text(
        "from zmr import Step\n"
        "def words(k, line):\n    for w in line.split():\n        yield w, 1\n"
        "def by_count(word, totals):\n    for t in totals:\n        yield t, word\n"
        "def join(count, words):\n    yield count, sorted(words)\n"
        "STEPS = [Step(mapper=words, reduce='sum'), Step(mapper=lambda w, n: [(n, w)],\n"
        "         reducer=join), Step(reducer=join, num_reducers=1)]\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("a b a c\nb a\n")
    run_inline(str(job), [str(tmp_path / "in")], str(tmp_path / "out"))
    rows = read_output(tmp_path / "out")
    # step 3 has no mapper: it gets step 2's (count, [words]) pairs as they are
    assert rows == [("1", '[["c"]]'), ("2", '[["b"]]'), ("3", '[["a"]]')]
    combined = with_reducer_as_combiner(load_runnable(str(job)))
    assert [s.combiner is s.reducer for s in combined.steps] == [False, True, True]


# -- validation when the module is loaded -----------------------------------------------------

@pytest.mark.parametrize("source,message", [
    ("STEPS = []", r"STEPS must be a non-empty list of zmr.Step"),
    ("STEPS = [print]", r"STEPS must be a non-empty list of zmr.Step"),
    ("STEPS = Step(mapper=m)", r"STEPS must be a non-empty list of zmr.Step"),
    ("STEPS = [Step(mapper=m), Step(combiner=r)]", r"j\.py: step 2 defines neither"),
    ("STEPS = [Step()]", r"j\.py: step 1 defines neither a mapper nor a reducer"),
    ("mapper = m\nSTEPS = [Step(mapper=m)]", r"j\.py: a module with STEPS may not also "
                                             r"define mapper"),
    ("NUM_REDUCERS = 2\nSTEPS = [Step(mapper=m)]", r"may not also define NUM_REDUCERS"),
    ("STEPS = [Step(mapper=m), Step(map_batch=len)]", r"j\.py: step 2: map_batch reads"),
    ("STEPS = [Step(mapper=m, num_reducers='2')]", r"j\.py: step 1: setting NUM_REDUCERS"),
    ("STEPS = [Step(mapper=m, reduce='median')]", r"j\.py: step 1: REDUCE = 'median'"),
    ("STEPS = [Step(mapper=r)]", r"j\.py:\d+: mapper must accept 2 argument"),
])
def test_validation_errors_name_the_file_and_step(tmp_path, source, message):
    job = tmp_path / "j.py"
    job.write_text("from zmr import Step\ndef m(k, v):\n    yield k, v\n"
                   "def r(k):\n    return []\n" + source + "\n")
    with pytest.raises(JobDefinitionError, match=message):
        load_runnable(str(job))


def test_load_job_refuses_a_multi_step_module():
    with pytest.raises(JobDefinitionError, match="defines STEPS"):
        load_job(TOP_WORDS)


def test_cli_reports_a_bad_step(tmp_path):
    job = tmp_path / "bad.py"
    job.write_text("from zmr import Step\nSTEPS = [Step(mapper=lambda k, v: []), Step()]\n")
    (tmp_path / "in.txt").write_text("x\n")
    for extra in (["--inline"], ["--workers", "1"]):
        done = subprocess.run([sys.executable, "-m", "zmr", "run", str(job), *extra,
                               "--input", str(tmp_path / "in.txt"), "--output",
                               str(tmp_path / "out")], capture_output=True, text=True,
                              timeout=PATIENT_S, cwd=ROOT, env=_env())
        assert done.returncode == 2
        assert f"zmr: error: {job}: step 2 defines neither" in done.stderr
        assert not (tmp_path / "out").exists()


# -- a real local cluster ------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with LocalCluster(workers=2, max_attempts=2,
                      base_dir=str(tmp_path_factory.mktemp("steps-cluster"))) as c:
        yield c


def test_top_words_on_a_cluster(cluster, corpus, tmp_path):
    out = tmp_path / "out"
    seen: list[dict] = []
    job = cluster.client.submit(TOP_WORDS, [str(corpus)], str(out), split_size=200)
    status = job.wait(timeout_s=PATIENT_S, on_progress=seen.append)
    assert as_counts(read_output(out)) == expected_top(corpus)
    assert (status["state"], status["step"], status["steps"]) == ("SUCCEEDED", 2, 2)
    # one job, followed through both steps under its own id
    assert {(s["job_id"], s["name"], s["step"]) for s in seen} == {
        (job.job_id, "top_words", 1), (job.job_id, "top_words", 2)}
    listed = [j for j in cluster.client.history() if j["job_id"] == job.job_id]
    assert [(j["name"], j["steps"]) for j in listed] == [("top_words", 2)]
    assert not any("[step" in j["name"] for j in cluster.client.history())
    assert job.status()["step"] == 2 and job.job_id == status["job_id"]
    # the steps' counters add up: step 2 read one pair per distinct word of step 1
    assert status["counters"]["zmr"]["MAP_INPUT_RECORDS"] == sum(
        cluster.client.job(step)["counters"]["zmr"]["MAP_INPUT_RECORDS"]
        for step in status["step_jobs"])


def test_cluster_step_receives_objects_not_text(cluster, tmp_path):
    out = tmp_path / "out"
    cluster.client.submit(TYPES, str(write_go(tmp_path / "in")), str(out)).wait(timeout_s=PATIENT_S)
    assert collections.Counter(read_output(out)) == expected_types()


def test_cluster_failing_step_fails_the_job(cluster, corpus, tmp_path):
    out = tmp_path / "out"
    job = cluster.client.submit(FAILS, [str(corpus)], str(out))
    with pytest.raises(JobFailedError) as failed:
        job.wait(timeout_s=PATIENT_S)
    assert failed.value.traceback.startswith("step 2/2 of steps_fail: ")
    assert "ValueError: boom in step 2" in failed.value.traceback
    assert "steps_fail.py" in failed.value.traceback
    assert not out.exists()


def test_zmr_submit_wait_shows_the_steps(cluster, corpus, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "zmr", "submit", TOP_WORDS, "--config",
                           cluster.config_path, "--input", str(corpus), "--output", str(out),
                           "--wait"], capture_output=True, text=True, timeout=PATIENT_S, env=_env())
    assert done.returncode == 0, done.stderr
    job_id = done.stdout.strip()
    assert f"{job_id} step 1/2" in done.stderr and f"{job_id} step 2/2 SUCCEEDED" in done.stderr
    assert as_counts(read_output(out)) == expected_top(corpus)


# -- the command line ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", [["--workers", "2"], ["--inline"]])
def test_cli_runs_top_words(corpus, tmp_path, mode):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "zmr", "run", "jobs/top_words.py", *mode,
                           "--input", str(corpus), "--output", str(out)],
                          capture_output=True, text=True, timeout=PATIENT_S, cwd=ROOT, env=_env())
    assert done.returncode == 0, done.stderr
    assert as_counts(read_output(out)) == expected_top(corpus)
    if mode[0] == "--workers":
        assert re.search(r"job-\d+ step 1/2 (QUEUED|RUNNING)", done.stderr)
        assert re.search(r"job-\d+ step 2/2 SUCCEEDED", done.stderr)
    else:
        assert "step 1/2 done" in done.stderr and "step 2/2 done" in done.stderr


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get(
        "PYTHONPATH", "")}
