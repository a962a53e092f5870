"""The dashboard's JSON API and Prometheus metrics, against a real coordinator."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest

from tests.dashboard.scenario import LostOutput
from tests.helpers import JOBS, PATIENT_S, wait_until, write_inputs
from zmr.core.errors import JobFailedError
from zmr.dashboard.app import make_route
from zmr.dashboard.metrics import prometheus_text
from zmr.transport.http import HttpListener

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
    listed = jobs[good.job_id]                           # how busy it kept the slots
    assert (listed["splits"], listed["rebalanced"]) == (3, 0)
    assert 0 < listed["busy_s"] <= listed["slot_s"] and 0 < listed["utilisation"] <= 1
    assert 1 <= listed["slots"] <= 2                         # 2 workers of 1 slot
    detail = dashboard.json(f"/api/jobs/{good.job_id}")
    assert detail["counters"]["zmr"]["MAP_INPUT_RECORDS"] == 60
    assert {t["task"] for t in detail["tasks"]} == {"map", "reduce"}
    assert set(detail["worker_busy_s"]) <= {"local-1", "local-2"}
    assert sum(detail["worker_busy_s"].values()) == pytest.approx(detail["busy_s"], abs=0.01)
    assert all(a[2] >= detail["submitted_s"] for t in detail["tasks"] for a in t["attempts"])
    failed = dashboard.json(f"/api/jobs/{bad.job_id}")
    broken = [t for t in failed["tasks"] if t["state"] == "FAILED"]
    assert broken and "ValueError: bad record at" in broken[0]["traceback"]
    workers = dashboard.json("/api/workers")["workers"]
    assert sorted(w["worker_id"] for w in workers) == ["local-1", "local-2"]
    assert sum(w["tasks_done"] for w in workers) >= 4
    assert dashboard.get("/api/jobs/job-9999")[0] == 404
    assert dashboard.get("/nothing-here")[0] == 404
    # the event logs, as zmr history JOB --events reads them: the timeline of each job
    events = dashboard.json(f"/api/jobs/{good.job_id}/events")
    kinds = [e["event"] for e in events["events"]]
    assert events["total"] == len(kinds) and kinds[0] == "job_submitted"
    assert kinds.count("task_finished") == 4 and kinds[-1] == "job_ended"
    assert "SUCCEEDED" in events["events"][-1]["text"]
    failed_log = dashboard.json(f"/api/jobs/{bad.job_id}/events")["events"]
    assert any(e["event"] == "task_failed" and "ValueError: bad record at" in e["text"]
               for e in failed_log)
    assert dashboard.get("/api/jobs/job-9999/events")[0] == 404
    assert dashboard.get("/api/jobs/..%2Fx/events")[0] == 404

    status, content_type, body = dashboard.get("/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    assert 'zmr_jobs{state="SUCCEEDED"} 1' in text and 'zmr_jobs{state="FAILED"} 1' in text
    assert "zmr_workers 2" in text
    assert f'zmr_job_counter{{job="{good.job_id}",group="zmr",name="MAP_INPUT_RECORDS"}} 60' \
        in text
    assert f'zmr_job_splits{{job="{good.job_id}"}} 3' in text
    assert f'zmr_job_slot_utilisation{{job="{good.job_id}"}} {listed["utilisation"]!r}' in text

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


def test_errors_and_head_carry_them_too_and_the_server_names_no_python(dashboard):
    """The standard library's own answers (a URL or a header too long, a method it has no
    handler for) and HEAD get the same headers as the routes' answers."""
    port = dashboard.cluster.client.config.dashboard.port
    answers = {
        "HEAD /": _raw(port, b"HEAD / HTTP/1.0\r\n\r\n"),
        "HEAD /api/jobs": _raw(port, b"HEAD /api/jobs HTTP/1.0\r\n\r\n"),
        "POST": _raw(port, b"POST /api/jobs HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
        "long": _raw(port, b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n"),
        "header": _raw(port, b"GET / HTTP/1.0\r\nX: " + b"a" * 70_000 + b"\r\n\r\n"),
    }
    assert {what: a[0] for what, a in answers.items()} == {
        "HEAD /": 200, "HEAD /api/jobs": 200, "POST": 501, "long": 414, "header": 431}
    for what, (_, headers, body) in answers.items():
        assert headers["server"] == "zmr", what          # no "Python/3.x.y"
        assert headers["x-content-type-options"] == "nosniff", what
        assert headers["x-frame-options"] == "DENY", what
        assert headers["referrer-policy"] == "no-referrer", what
        assert headers["cache-control"] == "no-store", what
        assert "frame-ancestors 'none'" in headers["content-security-policy"], what
        assert b"<" not in body and b"Python" not in body, what   # plain text, if any
    assert answers["HEAD /"][2] == b"" and int(answers["HEAD /"][1]["content-length"]) > 1000
    assert "script-src 'sha256-" in answers["HEAD /"][1]["content-security-policy"]


def test_idle_connections_are_closed_and_their_number_is_bounded():
    """A client that connects and says nothing is hung up on; past ``max_connections``
    open at once, more are closed unanswered instead of each taking a thread."""
    idle = HttpListener("127.0.0.1", 0, make_route(lambda: None), idle_timeout_s=0.5)
    try:
        with socket.create_connection(idle.address, timeout=PATIENT_S) as silent:
            assert silent.recv(1) == b""          # closed by the listener, not our timeout
    finally:
        idle.close()
    threads_before = threading.active_count()
    bounded = HttpListener("127.0.0.1", 0, make_route(lambda: None),
                           idle_timeout_s=PATIENT_S, max_connections=2)
    held = [socket.create_connection(bounded.address, timeout=PATIENT_S) for _ in range(20)]
    try:
        # accepted in order by one thread: once the last is closed, all before it were seen
        assert _raw(bounded.address[1], b"GET / HTTP/1.0\r\n\r\n") is None
        assert threading.active_count() <= threads_before + 1 + 2   # serve loop + 2 handlers
        for sock in held:
            sock.close()
        wait_until(lambda: _raw(bounded.address[1], b"GET / HTTP/1.0\r\n\r\n") is not None,
                   "the listener to serve again once its connections closed")
    finally:
        for sock in held:
            sock.close()
        bounded.close()


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """Send a raw request and read the answer to the end (HTTP/1.0: the server closes);
    None if the connection was closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENT_S) as sock:
        try:
            sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionError:                 # reset, or closed before we wrote
            return None
    if not received:
        return None
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _open(url):
    import urllib.error
    import urllib.request
    try:
        return urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as error:     # 404 has headers too
        return error


def test_task_logs_lost_map_outputs_lost_workers_and_worker_machines(dashboard, tmp_path):
    """Issue 26: the dashboard had no task logs, no lost workers, no word of a map whose
    output was lost (it showed PENDING beside a succeeded attempt), no CPUs or memory."""
    lost = LostOutput(dashboard, tmp_path)
    maps = lost.detail()["lost_maps"]
    assert maps and all(m["worker"] == lost.killed and m["attempt"] == 1 for m in maps)
    assert all(m["state"] in ("PENDING", "RUNNING") for m in maps)
    listed = {j["job_id"]: j for j in dashboard.json("/api/jobs")["jobs"]}[lost.job_id]
    assert listed["lost_maps"] == len(maps) and listed["submitted_s"] > 0
    workers = dashboard.json("/api/workers")
    [departed] = [w for w in workers["departed"] if w["worker_id"] == lost.killed]
    assert "declared dead" in departed["why"] and departed["back_s"] is None
    assert departed["lost_s"] >= listed["submitted_s"] and departed["tasks_done"] >= 1
    [alive] = workers["workers"]
    assert alive["cpus"] >= 1 and alive["memory_mb"] > 0

    logs = dashboard.json(f"/api/jobs/{lost.job_id}/logs?task=map-{maps[0]['index']}")
    first = [a for a in logs["attempts"] if a["attempt"] == 1]
    assert first and first[0]["outcome"] == "succeeded" and first[0]["worker"] == lost.killed
    assert "mapped my split" in first[0]["log"]
    assert dashboard.get(f"/api/jobs/{lost.job_id}/logs?task=mapp")[0] == 400
    assert dashboard.get("/api/jobs/job-9999/logs")[0] == 404

    assert lost.finish()["state"] == "SUCCEEDED"
    # the dashboard shows the state of its last snapshot, refreshed on the loop's turns
    wait_until(lambda: lost.detail()["state"] == "SUCCEEDED", "the dashboard to see it end")
    done = lost.detail()
    assert done["lost_maps"] == []            # run again: no longer lost
    again = [t for t in done["tasks"] if t["task"] == "map" and t["index"] == maps[0]["index"]]
    assert [a[4] for a in again[0]["attempts"]].count("succeeded") == 2
    every = dashboard.json(f"/api/jobs/{lost.job_id}/logs")["attempts"]
    assert {a["task"] for a in every} == {"map", "reduce"}


def test_loop_queries_are_answered_on_the_loops_thread_or_time_out():
    """The dashboard's task logs come from the coordinator's loop (it owns the journal):
    an HTTP thread's question waits for the loop's turn; a loop too busy is a timeout."""
    from zmr.dashboard.snapshot import LoopQueries

    def answer(what, args):
        if what == "bad":
            raise ValueError("refused")
        return (what, args["n"], threading.current_thread().name)

    queries = LoopQueries(answer, wait_s=PATIENT_S)
    answers: list[object] = []

    def ask(what: str) -> None:
        try:
            answers.append(queries.ask(what, {"n": "1"}))
        except ValueError as exc:
            answers.append(str(exc))

    threads = [threading.Thread(target=ask, args=(w,), name=f"http-{w}")
               for w in ("logs", "bad")]
    for t in threads:
        t.start()
    def loop_turn() -> bool:           # this thread plays the coordinator's loop
        queries.serve()
        return not any(t.is_alive() for t in threads)

    wait_until(loop_turn, "both questions answered")
    assert sorted(map(str, answers)) == sorted(
        [str(("logs", "1", threading.current_thread().name)), "refused"])
    with pytest.raises(TimeoutError):       # nobody serves: the thread does not hang
        LoopQueries(answer, wait_s=0.2).ask("logs", {"n": "2"})
