"""A small read-only HTTP listener (the standard library's threading server) for the
coordinator's dashboard. It knows nothing about zmr: it hands each GET's path to a function
that returns (status, content type, body), on the listener's own threads, so the
coordinator's ZeroMQ loop never waits for a browser."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger(__name__)

#: (status, content type, body), optionally with extra headers for that response
Response = tuple[int, str, bytes] | tuple[int, str, bytes, dict[str, str]]
Route = Callable[[str], Response]
#: Sent with every response (OWASP's secure headers): no MIME sniffing, no framing (no
#: clickjacking), no referrer, and a policy that allows nothing; a route that serves a page
#: replaces the policy with what that page needs.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class HttpListener:
    """Serves ``route(path)`` for GET requests on ``host:port`` (port 0: any free port)."""

    def __init__(self, host: str, port: int, route: Route) -> None:
        handler = type("Handler", (_Handler,), {"route": staticmethod(route)})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.2}, daemon=True,
                                       name="http-listener")
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    route: Route
    server_version = "zmr"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        try:
            status, content_type, body, *extra = self.route(self.path)
        except Exception:      # a bug in a page must not take the listener down
            log.exception("dashboard: error serving %s", self.path)
            status, content_type, body, extra = (500, "text/plain; charset=utf-8",
                                                 b"internal error\n", [])
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in {**SECURITY_HEADERS, **(extra[0] if extra else {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("dashboard: " + format, *args)
