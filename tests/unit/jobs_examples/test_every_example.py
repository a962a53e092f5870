"""Every example job in jobs/ gives visible output on the bundled data, run as its own
docstring says.

The way a job declares what it needs is its documented command line: the first line of its
module docstring of the form ``[VAR=value ...] zmr run jobs/NAME.py --input PATH ...``
(``PATH`` relative to the repository; environment variables before it are set for the run).
A job without one runs on ``data/sample``. So an example added later is covered as soon as
it exists, and a documented command that gives nothing (a pattern that matches nothing in
the sample) fails here.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

from tests.example_jobs import part_files, read_part
from zmr.runners.inline import run_inline

ROOT = Path(__file__).resolve().parents[3]
ALL_EXAMPLES = sorted((ROOT / "jobs").glob("[!_]*.py"))


def _is_driver(path: Path) -> bool:
    """A driver script (``python jobs/pagerank.py ...``: it runs jobs from Python), not a
    job module: no job hooks of its own at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    names |= {t.id for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name)}
    return not names & {"mapper", "map_batch", "reducer", "STEPS", "INPUTS"}


EXAMPLES = [path for path in ALL_EXAMPLES if not _is_driver(path)]
DRIVERS = [path for path in ALL_EXAMPLES if _is_driver(path)]
COMMAND = re.compile(r"^\s*((?:[A-Z_][A-Z0-9_]*=\S+\s+)*)zmr run (jobs/\S+\.py)(.*)$", re.M)
#: flags of the documented command that shape the run (others, --output, are ignored)
SHAPING = {"--reducers": ("reducers", int), "--split-size": ("split_size", str)}


def documented_run(job: Path) -> tuple[dict[str, str], list[str], dict[str, object]]:
    """(environment, inputs, options) of the job's documented command line."""
    doc = ast.get_docstring(ast.parse(job.read_text(encoding="utf-8"))) or ""
    found = COMMAND.search(doc)
    if found is None:
        return {}, [str(ROOT / "data" / "sample")], {}
    assert found.group(2) == f"jobs/{job.name}", f"{job.name} documents {found.group(2)}"
    env = dict(word.split("=", 1) for word in shlex.split(found.group(1)))
    words = shlex.split(found.group(3))
    inputs: list[str] = []
    options: dict[str, object] = {}
    for flag, value in zip(words[::2], words[1::2]):
        if flag == "--input":
            inputs.append(str(ROOT / value))
        elif flag == "--param":
            name, _, text = value.partition("=")
            options.setdefault("params", {})[name] = text      # type: ignore[union-attr]
        elif flag in SHAPING:
            name, kind = SHAPING[flag]
            options[name] = kind(value)
    # a job with INPUTS names its own (bundled) inputs
    assert inputs or "INPUTS" in job.read_text(encoding="utf-8"), \
        f"{job.name}: its documented command has no --input"
    return env, inputs, options


def test_every_driver_script_is_run_by_the_iteration_tests():
    """Drivers run whole jobs on a cluster, so tests/cluster/test_iteration.py runs them
    against their oracles instead of this file."""
    covered = (ROOT / "tests" / "cluster" / "test_iteration.py").read_text(encoding="utf-8")
    assert {path.stem for path in DRIVERS} == {"pagerank", "kmeans"}
    for path in DRIVERS:
        assert f"jobs/{path.name}" in covered or f'"{path.stem}"' in covered, path.name


def test_the_examples_are_found():
    assert {"wordcount.py", "grep.py", "max_temperature.py"} <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("job", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_gives_visible_output_on_the_bundled_data(job, tmp_path, monkeypatch):
    env, inputs, options = documented_run(job)
    for name, value in env.items():
        monkeypatch.setenv(name, value)       # read where the job is loaded, as zmr run does
    for path in inputs:
        assert Path(path).exists(), f"{job.name}: documented input {path} is not bundled"
    out = tmp_path / "out"
    run_inline(str(job), inputs or None, str(out), **options)
    assert (out / "_SUCCESS").exists()
    if re.search(r'^OUTPUT_FORMAT = "(fixed|value|key)"', job.read_text(), re.M):
        # one field per record, not key<TAB>value: visible output is non-empty part files
        assert sum(part.stat().st_size for part in map(Path, part_files(out))) > 0
        return
    rows = [row for part in part_files(out) for row in read_part(part)]
    assert rows, f"{job.name} wrote no output on {inputs} (env {env})"
    assert all(key != "" and value not in (None, "", [], {}) for key, value in rows), rows[:5]
