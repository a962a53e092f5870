"""Routes of the dashboard: GET path -> (status, content type, body), from a snapshot."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from zmr.dashboard.metrics import prometheus_text
from zmr.dashboard.page import PAGE
from zmr.dashboard.snapshot import Snapshot

Response = tuple[int, str, bytes] | tuple[int, str, bytes, dict[str, str]]
JSON = "application/json"
#: Job fields left out of the jobs list (they can be large; the job's own URL has them).
DETAIL_ONLY = ("tasks", "counters")


def _inline_hash(tag: str) -> str:
    """The CSP source for the page's one inline ``<tag>`` element: its sha256."""
    body = PAGE.split(f"<{tag}>", 1)[1].split(f"</{tag}>", 1)[0]
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


#: The page may run its own script and style only (by hash), fetch the API of its own
#: origin, and set the widths of its progress bars (style attributes); nothing else.
PAGE_HEADERS = {"Content-Security-Policy": (
    f"default-src 'none'; script-src {_inline_hash('script')}; "
    f"style-src {_inline_hash('style')}; style-src-attr 'unsafe-inline'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")}


def make_route(snapshot: Callable[[], Snapshot | None]) -> Callable[[str], Response]:
    """The request handler for a coordinator whose state ``snapshot()`` returns."""

    def route(path: str) -> Response:
        path = unquote(urlsplit(path).path).rstrip("/") or "/"
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", PAGE.encode(), PAGE_HEADERS
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
