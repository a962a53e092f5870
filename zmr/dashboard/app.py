"""Routes of the dashboard: GET path -> (status, content type, body), from a snapshot."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from zmr.core.errors import ConfigError

from zmr.dashboard.metrics import prometheus_text
from zmr.dashboard.page import PAGE
from zmr.dashboard.snapshot import Snapshot

Response = tuple[int, str, bytes] | tuple[int, str, bytes, dict[str, str]]
JSON = "application/json"
#: Job fields left out of the jobs list (they can be large; the job's own URL has them).
DETAIL_ONLY = ("tasks", "counters")
#: What ``/api/jobs/ID/logs?task=`` takes: as ``zmr logs --task``.
TASK = re.compile(r"(map|reduce)(-\d{1,9})?")
#: A question to the coordinator's loop (``LoopQueries.ask``).
Ask = Callable[[str, dict[str, str]], Any]


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


def make_route(snapshot: Callable[[], Snapshot | None], ask: Ask | None = None
               ) -> Callable[[str], Response]:
    """The request handler for a coordinator whose state ``snapshot()`` returns, and that
    answers ``ask("logs", {"job_id": ..., "task": ...})`` with a job's attempt logs."""

    def route(url: str) -> Response:
        parts = urlsplit(url)
        path = unquote(parts.path).rstrip("/") or "/"
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", PAGE.encode(), PAGE_HEADERS
        state = snapshot()
        if state is None:
            return 503, "text/plain; charset=utf-8", b"coordinator starting\n"
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(
                state).encode()
        if path == "/api/jobs":
            jobs = [dict({k: v for k, v in j.items() if k not in DETAIL_ONLY},
                         lost_maps=len(lost_maps(j))) for j in state["jobs"]]
            return _json({"now": state["now"], "jobs": jobs})
        if path.startswith("/api/jobs/") and path.endswith("/logs") and ask is not None:
            return _logs(ask, path[len("/api/jobs/"):-len("/logs")], parts.query)
        if path.startswith("/api/jobs/") and path.endswith("/events") and ask is not None:
            return _events(ask, path[len("/api/jobs/"):-len("/events")])
        if path.startswith("/api/jobs/"):
            job = next((j for j in state["jobs"] if j["job_id"] == path[len("/api/jobs/"):]),
                       None)
            if job is None:
                return _json({"error": f"no such job: {path[len('/api/jobs/'):]}"}, 404)
            return _json(dict(job, now=state["now"], lost_maps=lost_maps(job)))
        if path == "/api/workers":
            return _json({"now": state["now"], "workers": state["workers"],
                          "departed": state.get("departed", [])})
        return 404, "text/plain; charset=utf-8", b"not found\n"

    return route


def lost_maps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Maps whose output was lost with the worker that made it, and that run again: a map
    not (or no longer) succeeded with a succeeded attempt. Its attempt and worker say
    where the output was; the map bar moved back by as many."""
    lost = []
    for task in job.get("tasks", ()):
        if task["task"] != "map" or task["state"] == "SUCCEEDED":
            continue
        done = [a for a in task["attempts"] if a[4] == "succeeded"]
        if done:
            lost.append({"index": task["index"], "attempt": done[-1][0],
                         "worker": done[-1][1], "state": task["state"]})
    return lost


def _logs(ask: Ask, job_id: str, query: str) -> Response:
    """A job's attempt logs from the coordinator's journal, as ``zmr logs --json``."""
    task = parse_qs(query).get("task", [""])[0]
    if task and not TASK.fullmatch(task):
        return _json({"error": f"task {task[:40]!r}: expected map, reduce, map-N or "
                               "reduce-N"}, 400)
    try:
        return _json({"job_id": job_id, "task": task,
                      "attempts": ask("logs", {"job_id": job_id, "task": task})})
    except ConfigError as exc:
        return _json({"error": str(exc)}, 404)
    except TimeoutError:
        return 503, "text/plain; charset=utf-8", b"coordinator busy: try again\n"


def _events(ask: Ask, job_id: str) -> Response:
    """A job's event log (its last events), as ``zmr history JOB --events`` reads it."""
    try:
        return _json({"job_id": job_id, **ask("events", {"job_id": job_id})})
    except ConfigError as exc:
        return _json({"error": str(exc)}, 404)
    except (TimeoutError, ValueError) as exc:
        return 503, "text/plain; charset=utf-8", f"event log unavailable: {exc}\n".encode()


def _json(body: Any, status: int = 200) -> Response:
    return status, JSON, json.dumps(body).encode()
