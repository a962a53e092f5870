"""Planning a total-order job in a fresh process (the client's situation): sampling and
cutting make no pyarrow conversion of Python objects, so pandas is never imported."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import PATIENT_S

MAPPER = "def mapper(w, line):\n    yield line[:3], line\n"


def test_planning_a_total_order_job_does_not_import_pandas(tmp_path):
    """pyarrow imports pandas (a third of a second) on its first conversion of Python
    objects; the client that plans and samples a job makes none, so it never pays it."""
    (tmp_path / "in.txt").write_text("".join(f"{i}\n" for i in range(500)))
    (tmp_path / "job.py").write_text("PARTITIONER = 'total_order'\n" + MAPPER)
    script = ("import sys\nfrom zmr.job.loader import load_job\n"
              "from zmr.settings.job import JobOptions\n"
              "from zmr.tasks.sampling import plan_sorted_job\n"
              f"job = load_job({str(tmp_path / 'job.py')!r})\n"
              f"plan = plan_sorted_job(job, [{str(tmp_path / 'in.txt')!r}], "
              f"{str(tmp_path / 'out')!r}, JobOptions(reducers=3))\n"
              "assert len(plan.ordering['cuts']) == 2, plan.ordering\n"
              "print('pandas' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=PATIENT_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
