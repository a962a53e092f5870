"""The dashboard's JSON API and Prometheus metrics, against a real coordinator."""

from __future__ import annotations

import os
import re

import pytest

from tests.helpers import JOBS, PATIENT_S, write_inputs
from zmr.core.errors import JobFailedError
from zmr.dashboard.app import make_route
from zmr.dashboard.metrics import prometheus_text

SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')


def test_api_reports_jobs_tasks_counters_workers_and_failures(dashboard, tmp_path):
    client = dashboard.cluster.client
    good = client.submit(os.path.join(JOBS, "slow.py"), [write_inputs(tmp_path / "a", 3)],
                         str(tmp_path / "out-a"), reducers=1, combine_files=False)
    bad = client.submit(os.path.join(JOBS, "fails_on_boom.py"),
                        [write_inputs(tmp_path / "b", 2, boom=True)], str(tmp_path / "out-b"))
    assert good.wait(timeout_s=PATIENT_S)["state"] == "SUCCEEDED"
    with pytest.raises(JobFailedError, match="bad record"):
        bad.wait(timeout_s=PATIENT_S)

    jobs = {j["job_id"]: j for j in dashboard.json("/api/jobs")["jobs"]}
    assert jobs[good.job_id]["maps_done"] == jobs[good.job_id]["maps_total"] == 3
    assert "tasks" not in jobs[good.job_id]              # the list stays small
    detail = dashboard.json(f"/api/jobs/{good.job_id}")
    assert detail["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 60
    assert {t["task"] for t in detail["tasks"]} == {"map", "reduce"}
    assert all(a[2] >= detail["submitted_s"] for t in detail["tasks"] for a in t["attempts"])
    failed = dashboard.json(f"/api/jobs/{bad.job_id}")
    broken = [t for t in failed["tasks"] if t["state"] == "FAILED"]
    assert broken and "ValueError: bad record at" in broken[0]["traceback"]
    workers = dashboard.json("/api/workers")["workers"]
    assert sorted(w["worker_id"] for w in workers) == ["local-1", "local-2"]
    assert sum(w["tasks_done"] for w in workers) >= 4
    assert dashboard.get("/api/jobs/job-9999")[0] == 404
    assert dashboard.get("/nothing-here")[0] == 404

    status, content_type, body = dashboard.get("/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    assert 'zmr_jobs{state="SUCCEEDED"} 1' in text and 'zmr_jobs{state="FAILED"} 1' in text
    assert "zmr_workers 2" in text
    assert f'zmr_job_counter{{job="{good.job_id}",group="zmr",name="MAP_INPUT_RECORDS"}} 60' \
        in text

    status, content_type, page = dashboard.get("/")
    assert status == 200 and content_type.startswith("text/html")
    assert b"<script>" in page and b"http://" not in page and b"https://" not in page


def test_metrics_escape_label_values_and_routes_wait_for_a_first_snapshot():
    job = {"job_id": 'j"1\\\n', "state": "RUNNING", "elapsed_s": 1.5, "tasks": [],
           "counters": {"user": {'odd "name"': 3}}}
    text = prometheus_text({"now": 0.0, "jobs": [job], "workers": []})
    assert 'zmr_job_elapsed_seconds{job="j\\"1\\\\\\n"} 1.5' in text
    assert 'name="odd \\"name\\""} 3' in text
    assert make_route(lambda: None)("/api/jobs")[0] == 503
    assert make_route(lambda: None)("/")[0] == 200


def test_every_response_carries_the_security_headers(dashboard):
    """No sniffing, no framing, no referrer; the page may run only its own inline script
    and style (by hash) and fetch its own origin; the API allows nothing at all."""
    for path in ("/", "/api/jobs", "/metrics", "/nope"):
        with _open(dashboard.url + path) as response:
            headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and csp.startswith("default-src 'none'"), path
    with _open(dashboard.url + "/") as page:
        csp = page.headers["Content-Security-Policy"]
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]{44}'", csp)
    assert "connect-src 'self'" in csp and "unsafe-eval" not in csp


def _open(url):
    import urllib.error
    import urllib.request
    try:
        return urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as error:     # 404 has headers too
        return error
