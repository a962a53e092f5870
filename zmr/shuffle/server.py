"""A worker's shuffle service: serves byte ranges of its map output files to reducers.

Requests arrive on a PULL socket (reducers' PUSH); data leaves through a PUSH socket
connected to the requesting reducer's PULL socket, in chunks. Flow control is credit-based
(ZeroMQ guide, chapter 7, "Transferring Files"): the service sends at most ``credit`` chunks
ahead of the reducer's ``ShuffleCredit`` acknowledgements, so neither side ever holds more
than a few chunks of a partition in memory. It runs in its own thread with its own sockets,
so it keeps serving while the worker's tasks run.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlparse

from zmr.core.errors import ZmrError
from zmr.protocol.messages import ShuffleChunk, ShuffleCredit, ShuffleRequest
from zmr.transport.security import CURVE_KEY_CHARS, Curve
from zmr.transport.sockets import (
    BEAT_FRAME_BYTES,
    PULL,
    PUSH,
    Channel,
    bound_channel,
    bound_endpoint,
    make_socket,
    poll,
)

log = logging.getLogger("zmr.shuffle")
CHUNK_BYTES = 1 << 20
#: Most chunks a reducer may ask to have in flight (it asks for 4).
MAX_CREDIT = 64
#: How long a closed reply socket keeps trying to deliver its last chunks.
REPLY_LINGER_S = 5.0
#: A transfer whose reducer sends no credit for this long is abandoned (the reducer died).
IDLE_TIMEOUT_S = 60.0
BIND_HINT = ("another worker on this host using the same ports? give each its own "
             "range, or \"\" for any free port")


@dataclass
class _Transfer:
    request: ShuffleRequest
    file: IO[bytes]
    sent: int
    seq: int
    credit: int
    last_activity: float


class ShuffleServer(threading.Thread):
    """Serves the map outputs published to it (:meth:`publish`), bound to ``bind``
    (``tcp://host:*`` for any free port, ``tcp://host:LOW-HIGH`` for the first free one in
    a range). Nothing else under ``root`` is served: not another job's outputs, not task
    logs with user output, not a map output still being written."""

    def __init__(self, bind: str, root: str, curve: Curve | None = None,
                 setting: str = "") -> None:
        super().__init__(name="zmr-shuffle", daemon=True)
        self.bind = bind
        self.setting = setting or f"shuffle endpoint {bind}"   # what a bind error names
        self.curve = curve
        self.error: ZmrError | None = None
        self.root = os.path.realpath(root)
        self.endpoint = ""
        self.served_bytes = 0
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._pushes: dict[str, Channel] = {}
        self._transfers: dict[str, _Transfer] = {}
        self._published: dict[str, set[str]] = {}    # job id -> committed map outputs
        self._lock = threading.Lock()                # publish() runs in the worker's thread

    def publish(self, job_id: str, path: str) -> None:
        """Serve ``path``, a committed map output of ``job_id``, from now on."""
        with self._lock:
            self._published.setdefault(job_id, set()).add(os.path.realpath(path))

    def withdraw(self, job_id: str) -> None:
        """Serve nothing more of ``job_id`` (it ended)."""
        with self._lock:
            self._published.pop(job_id, None)

    def _is_published(self, job_id: str, path: str) -> bool:
        with self._lock:
            return path in self._published.get(job_id, ())

    def start_serving(self) -> str:
        """Start the thread; returns the endpoint once bound (ZmrError if it cannot bind)."""
        self.start()
        self._ready.wait()          # set by the thread whether it could bind or not
        if self.error is not None:
            raise self.error
        return self.endpoint

    def stop(self) -> None:
        self._stopping.set()
        self.join(5)

    @property
    def reply_sockets(self) -> int:
        """Sockets open to reducers: one per reducer being served, none when idle."""
        return len(self._pushes)

    def run(self) -> None:
        try:
            # requests and credits are a few hundred bytes: a bigger frame is garbage
            requests = bound_channel(PULL, self.bind, "shuffle", curve=self.curve,
                                     setting=self.setting, hint=BIND_HINT,
                                     max_frame=BEAT_FRAME_BYTES)
            self.endpoint = bound_endpoint(requests.sock)
        except ZmrError as exc:
            self.error = exc
            return
        finally:
            self._ready.set()
        try:
            while not self._stopping.is_set():
                busy = any(t.credit > 0 for t in self._transfers.values())
                for _ in poll([requests], 0.0 if busy else 0.05):
                    received, address = requests.recv_with_address()
                    if received is not None:
                        self._handle_safely(received[1], address)
                self._pump()
        finally:
            requests.close()
            for push in self._pushes.values():
                push.close(linger_s=1.0)

    def _handle_safely(self, msg: object, address: str) -> None:
        """One request that trips something unforeseen is dropped; the service, which the
        worker's every map output depends on, keeps serving."""
        try:
            self._handle(msg, address)
        except (ValueError, OSError, OverflowError) as exc:
            log.warning("shuffle request from %s dropped: %s: %s", address,
                        type(exc).__name__, exc)

    def _handle(self, msg: object, address: str) -> None:
        if isinstance(msg, ShuffleRequest):
            self._start(msg, address)
        elif isinstance(msg, ShuffleCredit) and msg.request_id in self._transfers:
            transfer = self._transfers[msg.request_id]
            transfer.credit += msg.chunks
            transfer.last_activity = time.monotonic()

    def _start(self, req: ShuffleRequest, address: str) -> None:
        if not _same_host(req.reply_to, address):
            # answering would make us connect wherever the request says (a reflection
            # attack): only ever answer the host the request came from
            log.warning("shuffle request %s from %s dropped: reply_to %r is not tcp:// on "
                        "that host", req.request_id[:64], address, req.reply_to[:64])
            return
        if self.curve is not None and len(req.reply_key) != CURVE_KEY_CHARS:
            log.warning("shuffle request %s dropped: no CURVE key to answer it with",
                        req.request_id[:64])
            return
        problem = self._request_problem(req)
        if problem:
            self._send_error(req, problem)
            return
        try:
            f = open(os.path.realpath(req.path), "rb")  # noqa: SIM115 - closed at its end
            f.seek(req.offset)
        except OSError as exc:
            self._send_error(req, f"cannot read {req.path}: {exc}")
            return
        self._transfers[req.request_id] = _Transfer(req, f, 0, 0, req.credit, time.monotonic())

    def _request_problem(self, req: ShuffleRequest) -> str:
        if "\0" in req.path or not req.path:
            return "a path must be non-empty and hold no NUL byte"
        real = os.path.realpath(req.path)
        if not real.startswith(self.root + os.sep) or not self._is_published(req.job_id, real):
            return f"{req.path} is not a map output of job {req.job_id[:64]} on this worker"
        if req.offset < 0 or req.length < 0:
            return f"offset {req.offset} and length {req.length} must not be negative"
        if not 1 <= req.credit <= MAX_CREDIT:
            return f"credit {req.credit} is not within 1..{MAX_CREDIT}"
        if req.request_id in self._transfers:
            return f"request {req.request_id[:64]} is already being served"
        return ""

    def _pump(self) -> None:
        now = time.monotonic()
        for request_id, t in list(self._transfers.items()):
            if t.credit <= 0:
                if now - t.last_activity > IDLE_TIMEOUT_S:
                    self._end(request_id)
                continue
            data, last, error = self._read_chunk(request_id, t)
            t.sent += len(data)
            self.served_bytes += len(data)   # before sending: the reducer may be done first
            self._push(t.request).send(
                ShuffleChunk(request_id, t.seq, last, error), data)
            t.seq += 1
            t.credit -= 1
            if last:
                self._end(request_id)

    def _read_chunk(self, request_id: str, t: _Transfer) -> tuple[bytes, bool, str]:
        """The next chunk of a transfer, as (data, last, error)."""
        try:
            data = t.file.read(min(CHUNK_BYTES, t.request.length - t.sent))
        except OSError as exc:      # a failing disk ends this transfer, not the service
            log.error("shuffle request %s: reading %s failed: %s", request_id,
                      t.request.path, exc)
            return b"", True, f"cannot read {t.request.path}: {exc}"
        if t.sent + len(data) >= t.request.length:
            return data, True, ""
        return (data, False, "") if data else (b"", True, "file truncated")

    def _end(self, request_id: str) -> None:
        transfer = self._transfers.pop(request_id)
        transfer.file.close()
        self._release(transfer.request.reply_to)

    def _release(self, reply_to: str) -> None:
        """Close the reply socket once no transfer uses it: every fetch replies to a fresh
        ephemeral endpoint, and a socket kept open would retry connecting to it forever."""
        if any(t.request.reply_to == reply_to for t in self._transfers.values()):
            return
        push = self._pushes.pop(reply_to, None)
        if push is not None:
            push.close(linger_s=REPLY_LINGER_S)

    def _push(self, req: ShuffleRequest) -> Channel:
        if req.reply_to not in self._pushes:
            server_key = req.reply_key.encode() if self.curve is not None else None
            self._pushes[req.reply_to] = Channel(
                make_socket(PUSH, connect=req.reply_to, hwm=64, curve=self.curve,
                            server_key=server_key), "shuffle-out")
        return self._pushes[req.reply_to]

    def _send_error(self, req: ShuffleRequest, error: str) -> None:
        log.warning("shuffle request %s refused: %s", req.request_id, error)
        self._push(req).send(ShuffleChunk(req.request_id, 0, True, error), b"")
        self._release(req.reply_to)


def _same_host(reply_to: str, address: str) -> bool:
    """``reply_to`` is ``tcp://ADDRESS:PORT`` with the requester's own IP address."""
    try:
        parsed = urlparse(reply_to)
        return (parsed.scheme == "tcp" and parsed.port is not None and bool(address)
                and ipaddress.ip_address(parsed.hostname or "") == ipaddress.ip_address(address))
    except ValueError:
        return False
