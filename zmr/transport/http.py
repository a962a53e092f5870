"""A small read-only HTTP listener (the standard library's threading server) for the
coordinator's dashboard. It knows nothing about zmr: it hands each GET's (or HEAD's) path
to a function that returns (status, content type, body), on the listener's own threads, so
the coordinator's ZeroMQ loop never waits for a browser.

Every response, the standard library's own errors (414, 431, 501, ...) included, carries the
security headers below and a ``Server: zmr`` header that names no Python version. A
connection that sends nothing for ``idle_timeout_s`` is closed, and at most
``max_connections`` are served at once (each takes a thread): one more is closed at once,
so a flood of slow clients costs the coordinator a bounded number of threads."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
    "Cache-Control": "no-store",
}
#: A connection silent this long (between any two reads or writes) is closed.
IDLE_TIMEOUT_S = 10.0
#: Connections served at once (a browser opens up to 6, a Prometheus server 1).
MAX_CONNECTIONS = 64


class HttpListener:
    """Serves ``route(path)`` for GET and HEAD requests on ``host:port`` (port 0: any free
    port)."""

    def __init__(self, host: str, port: int, route: Route,
                 idle_timeout_s: float = IDLE_TIMEOUT_S,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        handler = type("Handler", (_Handler,), {"route": staticmethod(route),
                                                "timeout": idle_timeout_s})
        self.server = _BoundedServer((host, port), handler, max_connections)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.2}, daemon=True,
                                       name="http-listener")
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    def close(self) -> None:
        """Stop serving, without waiting out the listener's poll interval: a connection of
        ours wakes its ``select()``, which then sees the stop request (a coordinator's exit
        would otherwise wait up to 0.2 s for it)."""
        stopping = threading.Thread(target=self.server.shutdown, daemon=True)
        stopping.start()
        while stopping.is_alive():
            self._wake()
            stopping.join(0.01)
        self.server.server_close()

    def _wake(self) -> None:
        host, port = self.address
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
        try:
            socket.create_connection((host, port), timeout=0.1).close()
        except OSError:
            pass                    # closed already, or full: the poll interval still ends it


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` of them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 max_connections: int) -> None:
        super().__init__(address, handler)
        self.max_connections = max_connections
        self.free = threading.BoundedSemaphore(max_connections)
        self.refused = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.free.acquire(blocking=False):
            self.refused += 1
            if self.refused % 1000 == 1:     # a flood must not fill the log either
                log.warning("dashboard: %d connections refused: %d already open",
                            self.refused, self.max_connections)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.free.release()                # no thread started: nobody else will
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.free.release()


class _Handler(BaseHTTPRequestHandler):
    route: Route
    server_version = "zmr"
    # the standard library's own error responses (400, 414, 501): plain text
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"
    _headers: dict[str, str] = SECURITY_HEADERS

    def version_string(self) -> str:
        return self.server_version          # not "zmr Python/3.x.y": nothing to fingerprint

    def end_headers(self) -> None:
        """Every response's headers end with the security headers (errors' too)."""
        for name, value in self._headers.items():
            self.send_header(name, value)
        super().end_headers()

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(with_body=False)

    def _respond(self, with_body: bool) -> None:
        try:
            status, content_type, body, *extra = self.route(self.path)
        except Exception:      # a bug in a page must not take the listener down
            log.exception("dashboard: error serving %s", self.path)
            status, content_type, body, extra = (500, "text/plain; charset=utf-8",
                                                 b"internal error\n", [])
        self._headers = {**SECURITY_HEADERS, **(extra[0] if extra else {})}
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def handle(self) -> None:
        try:
            super().handle()
        except (socket.timeout, ConnectionError):
            pass        # idle or gone in the middle of a response: just close

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("dashboard: " + format, *args)
