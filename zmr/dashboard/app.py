"""Routes of the dashboard: GET path -> (status, content type, body), from a snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from zmr.dashboard.metrics import prometheus_text
from zmr.dashboard.page import PAGE
from zmr.dashboard.snapshot import Snapshot

Response = tuple[int, str, bytes]
JSON = "application/json"
#: Job fields left out of the jobs list (they can be large; the job's own URL has them).
DETAIL_ONLY = ("tasks", "counters")


def make_route(snapshot: Callable[[], Snapshot | None]) -> Callable[[str], Response]:
    """The request handler for a coordinator whose state ``snapshot()`` returns."""

    def route(path: str) -> Response:
        path = unquote(urlsplit(path).path).rstrip("/") or "/"
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", PAGE.encode()
        state = snapshot()
        if state is None:
            return 503, "text/plain; charset=utf-8", b"coordinator starting\n"
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(
                state).encode()
        if path == "/api/jobs":
            jobs = [{k: v for k, v in j.items() if k not in DETAIL_ONLY} for j in state["jobs"]]
            return _json({"now": state["now"], "jobs": jobs})
        if path.startswith("/api/jobs/"):
            job = next((j for j in state["jobs"] if j["job_id"] == path[len("/api/jobs/"):]),
                       None)
            if job is None:
                return _json({"error": f"no such job: {path[len('/api/jobs/'):]}"}, 404)
            return _json(dict(job, now=state["now"]))
        if path == "/api/workers":
            return _json({"now": state["now"], "workers": state["workers"]})
        return 404, "text/plain; charset=utf-8", b"not found\n"

    return route


def _json(body: Any, status: int = 200) -> Response:
    return status, JSON, json.dumps(body).encode()
