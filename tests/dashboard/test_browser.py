"""The dashboard in a real headless Chromium (Debian's package) driven by Playwright: the
job page's progress advances while a job runs, a failed task's traceback opens, and a
screenshot is kept as a test artifact (test-artifacts/, or $ZMR_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.dashboard.scenario import LostOutput
from tests.helpers import JOBS, PATIENT_S, write_inputs
from zmr.core.errors import JobFailedError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATIENT_MS = PATIENT_S * 1000                  # Playwright counts in milliseconds
ARTIFACTS = os.environ.get("ZMR_TEST_ARTIFACTS", os.path.join(ROOT, "test-artifacts"))
#: Chromium on a machine without internet: no background connections, no sandbox (root).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    """Debian's chromium: found, or installed with apt-get when we are root."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("no chromium, and apt-get as root is not available to install it")
    done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not shutil.which("chromium"):
        pytest.skip(f"chromium could not be installed: {done.stderr.strip()[-300:]}")
    return str(shutil.which("chromium"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra has it")
    executable = _chromium()
    with sync_api.sync_playwright() as p:
        profile = str(tmp_path_factory.mktemp("chromium-profile"))
        context = p.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield context
        context.close()


GATED_JOB = """
import os, time
GATE = {gate!r}

def mapper(key, line):
    yield line, 1

def mapper_final():          # every map waits for the test to open the gate
    deadline = time.monotonic() + 600
    while not os.path.exists(GATE) and time.monotonic() < deadline:
        time.sleep(0.05)

def reducer(key, values):
    yield key, sum(values)
"""


def test_live_progress_and_a_failed_tasks_traceback(dashboard, browser, tmp_path):
    # The maps wait at a gate until the page is showing the job, so the page sees progress
    # move however long the browser takes to start on a busy machine.
    gate = tmp_path / "gate"
    job = tmp_path / "gated_job.py"
    job.write_text(GATED_JOB.format(gate=str(gate)))
    client = dashboard.cluster.client
    running = client.submit(str(job), [write_inputs(tmp_path / "a", 6)],
                            str(tmp_path / "out-a"), reducers=1, combine_files=False)
    page = browser.new_page()
    page.goto(f"{dashboard.url}/#/jobs/{running.job_id}")
    progress = page.locator('[data-testid="map-progress"]')
    progress.wait_for(timeout=PATIENT_MS)
    first = int(progress.get_attribute("data-done"))
    assert first == 0
    gate.touch()
    page.wait_for_function(  # the page polls: progress moves without a reload
        f"() => Number(document.querySelector('[data-testid=map-progress]').dataset.done)"
        f" > {first}", timeout=PATIENT_MS)
    page.wait_for_selector('[data-testid="job-state"]:text("SUCCEEDED")', timeout=PATIENT_MS)
    assert page.locator('[data-testid="timeline"] rect').count() >= 7   # 6 maps + 1 reduce
    usage = page.locator('[data-testid="usage"]').inner_text()
    assert re.search(r"slots busy \d+%", usage) and "splits 6" in usage, usage

    failing = client.submit(os.path.join(JOBS, "fails_on_boom.py"),
                            [write_inputs(tmp_path / "b", 2, boom=True)], str(tmp_path / "o"))
    with pytest.raises(JobFailedError):
        failing.wait(timeout_s=PATIENT_S)
    page.goto(f"{dashboard.url}/#/jobs/{failing.job_id}")
    page.wait_for_selector('[data-testid="job-state"]:text("FAILED")', timeout=PATIENT_MS)
    traceback = page.locator('[data-testid="traceback"]').first
    assert not traceback.is_visible()                  # folded until asked for
    page.locator("details summary").first.click()
    traceback.wait_for(state="visible", timeout=PATIENT_MS)
    assert "ValueError: bad record at" in traceback.inner_text()
    page.wait_for_timeout(1500)                        # survives the next refresh
    assert traceback.is_visible()
    events = page.locator('[data-testid="events"]')    # the event log's timeline
    assert events.locator('tr[data-event="job_submitted"]').count() == 1
    assert "ValueError: bad record at" in \
        events.locator('tr[data-event="task_failed"]').first.inner_text()
    assert "FAILED" in events.locator('tr[data-event="job_ended"]').inner_text()
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "dashboard-failed-job.png")
    page.screenshot(path=shot, full_page=True)
    assert os.path.getsize(shot) > 10_000

    page.goto(f"{dashboard.url}/#/workers")
    page.wait_for_selector("text=local-2", timeout=PATIENT_MS)
    page.goto(f"{dashboard.url}/#/")
    page.wait_for_selector(f"text={failing.job_id}", timeout=PATIENT_MS)
    cell = page.locator(f'tr[data-job="{running.job_id}"] [data-testid="utilisation"]')
    assert re.fullmatch(r"\d+%", cell.inner_text().strip()), cell.inner_text()
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-jobs.png"), full_page=True)


def test_lost_map_outputs_task_logs_lost_workers_and_submit_times(dashboard, browser,
                                                                   tmp_path):
    lost = LostOutput(dashboard, tmp_path)
    index = lost.detail()["lost_maps"][0]["index"]
    page = browser.new_page()
    page.goto(f"{dashboard.url}/#/")
    row = page.locator(f'tr[data-job="{lost.job_id}"]')
    row.wait_for(timeout=PATIENT_MS)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
                        row.locator('[data-testid="submitted"]').inner_text().strip())
    assert re.fullmatch(r"\d+ map outputs? lost: re-running",
                        row.locator('[data-testid="lost-note"]').inner_text().strip())

    page.goto(f"{dashboard.url}/#/jobs/{lost.job_id}")
    task = page.locator(f'tr[data-task="map-{index}"]')
    task.locator('[data-testid="output-lost"]').wait_for(timeout=PATIENT_MS)
    assert " ".join(task.locator('[data-testid="output-lost"]').inner_text().split()) == \
        f"output lost with worker {lost.killed}, re-running"
    assert "re-running" in page.locator('section [data-testid="lost-note"]').inner_text()
    task.locator('[data-testid="task-logs"]').click()
    page.wait_for_selector('[data-testid="attempt-log"]', timeout=PATIENT_MS)
    first = page.locator('[data-testid="attempt-log"]').first.inner_text()
    assert f"map-{index:05d} attempt 1" in first and "mapped my split" in first, first

    page.goto(f"{dashboard.url}/#/workers")
    departed = page.locator('[data-testid="departed"]', has_text=lost.killed)
    departed.wait_for(timeout=PATIENT_MS)
    assert "declared dead" in departed.inner_text() and "not back" in departed.inner_text()
    assert page.locator('[data-testid="cpus"]').first.inner_text().strip().isdigit()
    assert "iB" in page.locator('[data-testid="memory"]').first.inner_text()
    os.makedirs(ARTIFACTS, exist_ok=True)
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-workers.png"), full_page=True)

    assert lost.finish()["state"] == "SUCCEEDED"
    page.goto(f"{dashboard.url}/#/jobs/{lost.job_id}")
    page.wait_for_selector('[data-testid="job-state"]:text("SUCCEEDED")', timeout=PATIENT_MS)
    assert "(output lost with its worker)" in task.inner_text()     # the first attempt
    assert page.locator('[data-testid="output-lost"]').count() == 0
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-lost-output.png"), full_page=True)
