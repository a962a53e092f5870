"""A map task reports how much of its split it has read, across every file of a packed
split, never going back, and ending at the split's size."""

from __future__ import annotations

from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.settings.job import JobOptions
from zmr.tasks import progress
from zmr.tasks.map_task import run_map_task


def test_bytes_read_climb_across_the_files_of_a_packed_split(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for f in range(3):
        (inputs / f"f{f}.txt").write_text("".join(f"word{i} other\n" for i in range(1500)))
    job_file = tmp_path / "wc.py"
    job_file.write_text("def mapper(k, v):\n    yield v.split()[0], 1\n")
    job = load_job(str(job_file))
    plan = plan_job(job, [str(inputs)], str(tmp_path / "out"), JobOptions(reducers=1))
    assert plan.num_maps == 1 and len(plan.splits[0].pieces()) == 3
    reports: list[tuple[int, int]] = []
    progress.set_hook(None, lambda done, total: reports.append((done, total)))
    try:
        run_map_task(plan.map_spec("job-t", 0, 1, str(tmp_path / "work")), job)
    finally:
        progress.set_hook(None)
    total = sum(p.length for p in plan.splits[0].pieces())
    assert len(reports) >= 6 and {t for _, t in reports} == {total}
    done = [d for d, _ in reports]
    assert done == sorted(done) and done[-1] >= total - 20      # the last line's offset
    assert any(d > total // 3 for d in done[:len(done) // 2 + 1])  # moves file by file
