"""A map attempt whose split is cut while it runs (dynamic work rebalancing) maps exactly
the head's lines: the same records, counters and output identity as an attempt given the
head from the start, and the remainder then maps the rest. The worker's side of the claim
(shared memory under a lock) is played here by a plain function with the same rule."""

from __future__ import annotations

import pytest

from zmr.core.specs import OutputIdentity
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions
from zmr.storage import cutting
from zmr.tasks import claims as claims_module
from zmr.tasks import progress
from zmr.tasks.map_task import run_map_task


class Worker:
    """What the executor's shared memory does: claims up to the agreed end, and a cut
    accepted once, when the attempt has claimed ``after`` bytes or more, at ``keep``."""

    def __init__(self, keep: int, after: int) -> None:
        self.keep, self.after = keep, after
        self.claimed, self.end = 0, -1
        self.answer = ""

    def claim(self, upto: int) -> int:
        if self.end < 0 and self.claimed >= self.after and not self.answer:
            self.answer = "refused" if self.claimed > self.keep else "accepted"
            if self.answer == "accepted":
                self.end = self.keep
        self.claimed = max(self.claimed, upto if self.end < 0 else min(upto, self.end))
        return self.end


@pytest.fixture()
def plan_and_job(tmp_path):
    (tmp_path / "in.txt").write_text("".join(f"w{i % 13} {'y' * (i % 17)}\n"
                                             for i in range(20000)))
    job_file = tmp_path / "ident.py"
    job_file.write_text("def mapper(k, v):\n    yield list(k), v\n")
    job = load_job(str(job_file))
    plan = plan_job(job, [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                    JobOptions(reducers=0, split_size="64MB"))      # one split
    assert plan.num_maps == 1
    return plan, job


def _run(tmp_path, plan, job, index, name, worker=None):
    spec = plan.map_spec("job-t", index, 1, str(tmp_path / name), "inc")
    spec = type(spec)(**{**{f: getattr(spec, f) for f in spec.__dataclass_fields__},
                         "output_dir": str(tmp_path / name / "out")})
    if worker is not None:
        progress.set_hook(None, None, worker.claim)
    try:
        return run_map_task(spec, job)
    finally:
        progress.set_hook(None)


def _part(tmp_path, name, index=0):
    committed = tmp_path / name / "out" / "_temporary" / "committed"   # before the job's
    return (committed / f"part-{index:05d}").read_text()


@pytest.mark.parametrize("keep", [1, 5000, 123457])
def test_a_cut_accepted_mid_run_reads_exactly_the_head(tmp_path, plan_and_job, keep):
    plan, job = plan_and_job
    worker = Worker(keep, after=0)
    cut_run = _run(tmp_path, plan, job, 0, "cut", worker)
    assert worker.answer == "accepted"
    head, rest = cutting.cut(plan.splits[0], keep)
    plan.splits[0] = head
    head_run = _run(tmp_path, plan, job, 0, "head")
    assert _part(tmp_path, "cut") == _part(tmp_path, "head")
    assert cut_run.counters == head_run.counters
    assert cut_run.counters["zmr"]["MAP_INPUT_BYTES"] == keep
    assert cut_run.identity == OutputIdentity("inc", "job-t", 0, head.fingerprint())
    plan.splits.append(rest)
    rest_run = _run(tmp_path, plan, job, 1, "rest")
    whole = (tmp_path / "in.txt").read_text().splitlines()
    mapped = _part(tmp_path, "cut").splitlines() + _part(tmp_path, "rest", 1).splitlines()
    assert [line.split("\t", 1)[1] for line in mapped] == whole
    assert cut_run.counters["zmr"]["MAP_INPUT_RECORDS"] + \
        rest_run.counters["zmr"]["MAP_INPUT_RECORDS"] == len(whole)


def test_a_cut_behind_what_was_claimed_is_refused_and_changes_nothing(tmp_path, plan_and_job):
    plan, job = plan_and_job
    worker = Worker(keep=100, after=50000)          # asked once 50 kB are claimed
    run = _run(tmp_path, plan, job, 0, "late", worker)
    assert worker.answer == "refused"
    assert run.identity == OutputIdentity("inc", "job-t", 0, plan.splits[0].fingerprint())
    assert run.counters["zmr"]["MAP_INPUT_RECORDS"] == 20000
    assert worker.claimed >= progress.ALL               # read all: no cut accepted after


def test_an_uncuttable_split_claims_everything_at_once(tmp_path):
    (tmp_path / "in.csv").write_text("a,b\n1,2\n3,4\n")
    job_file = tmp_path / "rows.py"
    job_file.write_text("def mapper(k, v):\n    yield 1, 1\n")
    job = load_job(str(job_file))
    plan = plan_job(job, [str(tmp_path / "in.csv")], str(tmp_path / "out"),
                    JobOptions(reducers=1, input_format="csv"))
    worker = Worker(keep=1, after=1 << 62)
    _run(tmp_path, plan, job, 0, "csv", worker)
    assert worker.claimed >= progress.ALL and worker.end == -1


def test_a_packed_split_with_a_file_that_has_no_line_of_its_own_is_cut_right(tmp_path):
    """Claims count split-relative bytes over every file of a packed split, also one that
    yields no line (a tail whose only line started in the range before it)."""
    from zmr.core.specs import Piece, Split
    from zmr.storage.splits import iter_split_records

    a, b, c = (tmp_path / n for n in ("a.txt", "b.txt", "c.txt"))
    a.write_text("".join(f"a{i}\n" for i in range(400)))
    b.write_text("x" * 5000 + "\n")                     # its tail from 100 has no line start
    c.write_text("".join(f"c{i}\n" for i in range(400)))
    split = Split(str(a), 0, a.stat().st_size,
                  more=(Piece(str(b), 100, 4901), Piece(str(c), 0, c.stat().st_size)))
    job_file = tmp_path / "ident.py"
    job_file.write_text("def mapper(k, v):\n    yield list(k), v\n")
    job = load_job(str(job_file))
    plan = plan_job(job, [str(a)], str(tmp_path / "out"), JobOptions(reducers=0))
    plan.splits[0] = split
    keep = a.stat().st_size + 4901 + 600                # in c.txt, at byte 600
    worker = Worker(keep, after=0)
    run = _run(tmp_path, plan, job, 0, "cut", worker)
    head, rest = cutting.cut(split, keep)
    assert run.counters["zmr"]["MAP_INPUT_RECORDS"] == len(list(iter_split_records(head)))
    assert run.identity.split == head.fingerprint()
    assert [line.split("\t", 1)[1] for line in _part(tmp_path, "cut").splitlines()] == \
        [line for _, line in iter_split_records(head)]


def test_the_pace_claims_about_20ms_of_a_slow_mappers_work_and_grows_for_a_fast_one(monkeypatch):
    """A claim is also a progress report: a mapper taking 5 ms a line claims ~4 lines, so
    the worker knows where it is; a fast one doubles up to the most (512); 0 is whole
    batches."""
    clock = [0.0]
    monkeypatch.setattr(claims_module.time, "perf_counter", lambda: clock[0])
    slow = claims_module.Pace(512)
    assert slow.lines() == claims_module.Pace.FIRST
    for _ in range(5):
        clock[0] += 0.005 * slow.lines()
        slow.mapped(slow.lines())
    assert slow.lines() == round(claims_module.CLAIM_S / 0.005) == 4
    fast, sizes = claims_module.Pace(512), []
    for _ in range(10):
        clock[0] += 1e-6 * fast.lines()
        fast.mapped(fast.lines())
        sizes.append(fast.lines())
    assert sizes[:3] == [16, 32, 64] and sizes[-1] == 512
    whole = claims_module.Pace(0)
    whole.mapped(100)
    assert whole.lines() == 0
