"""ZeroMQ sockets for zmr, created in one place with the options the ZeroMQ guide asks for.

* every socket has ``LINGER`` 0, so closing never hangs on undeliverable messages;
* ROUTER sockets set ``ROUTER_MANDATORY``: sending to an unknown or gone peer (or one whose
  queue is full because it stopped reading) raises ``PeerGone`` instead of silently dropping
  the message or blocking; and ``ROUTER_HANDOVER``, so a
  peer that reconnects with the same identity is not refused;
* every socket has a ``MAXMSGSIZE`` (per frame) fitted to what it legitimately receives, so
  libzmq drops a peer sending a bigger frame as soon as it reads the frame's length,
  before it is buffered: control sockets ``control_frame_bytes`` (job code with its side
  files), heartbeat subscribers ``BEAT_FRAME_BYTES``;
* a :class:`Channel` sends and receives :mod:`zmr.protocol` messages; a malformed message is
  logged, counted and dropped, never raised to the caller.
"""

from __future__ import annotations

import logging
import math
import os
import socket as pysocket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import zmq

from zmr.core.errors import ConfigError, ProtocolError, ZmrError
from zmr.core.process import worth_logging
from zmr.protocol import wire
from zmr.protocol.messages import Message
from zmr.transport.security import Curve, secure_client, secure_server

log = logging.getLogger(__name__)
#: No frame may be larger (the biggest legitimate one is a job's code or a shuffle chunk).
MAX_FRAME_BYTES = wire.MAX_BLOB
#: Heartbeat subscribers: a beat names each attempt its worker holds (~100 bytes each),
#: ``JobEnded`` a job id; nothing legitimate comes near this.
BEAT_FRAME_BYTES = 1 << 20
#: A job's code beyond its side files: its sources, or the pickled job.
CODE_MARGIN_BYTES = 16 << 20
#: Frames at least this large are sent without copying.
ZERO_COPY_MIN = 64 * 1024
ROUTER, DEALER, PUB, SUB, PUSH, PULL = (zmq.ROUTER, zmq.DEALER, zmq.PUB, zmq.SUB, zmq.PUSH,
                                        zmq.PULL)
Received = tuple[bytes, Message, list[bytes]]
Socket = zmq.Socket[bytes]


class PeerGone(ZmrError):
    """A ROUTER could not route a message: the peer is not (or no longer) connected."""


def context() -> zmq.Context[Any]:
    return zmq.Context.instance()


def make_socket(kind: int, *, bind: str | None = None, connect: str | None = None,
                identity: str | None = None, hwm: int = 10000, curve: Curve | None = None,
                server_key: bytes | None = None, max_frame: int = MAX_FRAME_BYTES) -> Socket:
    """A configured socket, bound or connected; with ``curve`` a CURVE server (binding)
    or a client of ``server_key`` (connecting; default the coordinator's key). A peer
    sending a frame over ``max_frame`` bytes is disconnected."""
    sock: Socket = context().socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    # libzmq drops a peer that sends a bigger frame before it is ever buffered
    sock.setsockopt(zmq.MAXMSGSIZE, max_frame)
    if curve is not None and bind is not None:
        secure_server(sock, curve)
    elif curve is not None:
        secure_client(sock, curve, server_key)
    sock.setsockopt(zmq.SNDHWM, hwm)
    sock.setsockopt(zmq.RCVHWM, hwm)
    if kind == zmq.ROUTER:
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # a worker reconnecting on a fresh socket keeps its identity: let the new
        # connection take it over instead of being refused while the old one lingers
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
    if kind == zmq.SUB:
        sock.setsockopt(zmq.SUBSCRIBE, b"")
    if identity is not None:
        sock.setsockopt(zmq.IDENTITY, identity.encode())
    try:
        if bind is not None:
            _bind(sock, bind)
        if connect is not None:
            sock.connect(connect)
    except zmq.ZMQError as exc:
        sock.close()
        raise ZmrError(f"cannot {'bind' if bind else 'connect'} {bind or connect}: {exc}") \
            from exc
    return sock


def _bind(sock: Socket, endpoint: str) -> None:
    """Bind; ``tcp://host:LOW-HIGH`` takes the first free port of that range (for
    firewalls that open a fixed range), ``tcp://host:*`` any free port."""
    prefix, _, ports = endpoint.rpartition(":")
    low, dash, high = ports.partition("-")
    if not dash:
        sock.bind(endpoint)
        return
    for port in range(int(low), int(high) + 1):
        try:
            sock.bind(f"{prefix}:{port}")
            return
        except zmq.ZMQError as exc:
            if exc.errno != zmq.EADDRINUSE:
                raise
    raise zmq.ZMQError(zmq.EADDRINUSE, f"every port in {ports} is in use")


def control_frame_bytes(max_files_size: int) -> int:
    """The largest frame a control socket takes: a job submission's (or first assignment's)
    code blob, its side files (``tasks.max_files_size``) and sources, or a job plan's
    payload with a great many splits, whichever is larger."""
    return min(MAX_FRAME_BYTES, max(wire.MAX_PAYLOAD, max_files_size + CODE_MARGIN_BYTES))


def bound_channel(kind: int, endpoint: str, name: str, *, setting: str, hint: str,
                  curve: Curve | None = None, max_frame: int = MAX_FRAME_BYTES) -> Channel:
    """A channel bound to ``endpoint``, the value of a setting a user chose. A port that
    cannot be bound (in use, most often) is a ConfigError naming ``setting`` (e.g.
    ``conf/cluster.toml: [coordinator] report_port = 5572``) with ``hint`` (what to do),
    so the user knows what to change: every listening socket of zmr binds through here."""
    try:
        return Channel(make_socket(kind, bind=endpoint, curve=curve, max_frame=max_frame),
                       name)
    except ZmrError as exc:
        raise ConfigError(f"{setting}: {exc} ({hint})") from None


def bound_endpoint(sock: Socket) -> str:
    """The endpoint a socket bound to (resolves port 0 / wildcard binds)."""
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


def is_tcp_endpoint(endpoint: str) -> bool:
    """``tcp://HOST:PORT`` with a plausible host and a port in range."""
    try:
        parsed = urlparse(endpoint)
        return (parsed.scheme == "tcp" and bool(parsed.hostname) and parsed.port is not None
                and 0 < parsed.port < 65536 and endpoint.isascii() and endpoint.isprintable())
    except ValueError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for configs written before binding)."""
    with pysocket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Channel:
    """A socket that speaks zmr messages. ``routed`` sockets carry a peer identity frame."""

    def __init__(self, sock: Socket, name: str) -> None:
        self.sock = sock
        self.name = name
        self.routed = sock.type == zmq.ROUTER
        self.dropped = 0

    def send(self, msg: Message, *blobs: bytes, to: bytes | None = None) -> None:
        frames = wire.encode(msg, *blobs)
        # zero-copy pays only for large frames (pyzmq's advice: above ~64 KB); control
        # messages are small and are sent faster copied
        copy = not blobs or all(len(b) < ZERO_COPY_MIN for b in blobs)
        try:
            if self.routed:
                # never block on one peer: a peer that stops reading (its queue is full)
                # must not stall the coordinator for everyone else
                self.sock.send_multipart([to or b"", *frames], copy=copy, flags=zmq.NOBLOCK)
            else:
                self.sock.send_multipart(frames, copy=copy)
        except zmq.ZMQError as exc:
            if exc.errno == zmq.EHOSTUNREACH:
                raise PeerGone(f"{self.name}: peer {to!r} is not connected") from exc
            if exc.errno == zmq.EAGAIN:
                raise PeerGone(f"{self.name}: peer {to!r} is not reading its messages") \
                    from exc
            raise ZmrError(f"{self.name}: send failed: {exc}") from exc

    def recv(self) -> Received | None:
        """One message, or None if what arrived was malformed (logged and counted)."""
        return self._decode(self.sock.recv_multipart(copy=True))

    def recv_with_address(self) -> tuple[Received | None, str]:
        """``recv``, plus the IP address the message came from (ZeroMQ's Peer-Address
        metadata), for replies that must go back to the sender's host only."""
        frames = self.sock.recv_multipart(copy=False)
        return self._decode([f.bytes for f in frames]), _peer_address(frames)

    def _decode(self, frames: list[bytes]) -> Received | None:
        peer = b""
        if self.routed:
            peer, frames = frames[0], frames[1:]
        try:
            msg, blobs = wire.decode(frames)
        except ProtocolError as exc:
            self.dropped += 1
            if worth_logging(self.dropped):
                log.warning("%s: dropped a malformed message from %r (%d so far): %s",
                            self.name, peer[:32], self.dropped, exc)
            return None
        return peer, msg, blobs

    def has_message(self) -> bool:
        """Whether a message is waiting (no wait; cheaper than ``poll`` on one channel)."""
        return bool(self.sock.poll(0, zmq.POLLIN))

    def close(self, linger_s: float = 0.0) -> None:
        self.sock.close(linger=int(linger_s * 1000))


def _peer_address(frames: Sequence[zmq.Frame]) -> str:
    """The sender's IP address, "" when no frame carries it: libzmq keeps no metadata on
    very small frames and answers EINVAL, which must not reach (and kill) the caller's
    loop just because a stranger sent a short message."""
    for frame in frames:
        try:
            return str(frame.get("Peer-Address") or "")
        except zmq.ZMQError:
            continue
    return ""


def poll(channels: Sequence[Channel], timeout_s: float) -> list[Channel]:
    """Channels with a message waiting, after at most ``timeout_s`` (always finite)."""
    return poll_with_files(channels, (), timeout_s)[0]


def poll_with_files(channels: Sequence[Channel], files: Sequence[Any],
                    timeout_s: float) -> tuple[list[Channel], list[Any]]:
    """``poll``, also waking for ``files`` (objects with ``fileno()``: pipes to child
    processes) that became readable, so one wait serves sockets and children alike."""
    poller = zmq.Poller()
    for ch in channels:
        poller.register(ch.sock, zmq.POLLIN)
    for f in files:
        poller.register(f.fileno(), zmq.POLLIN)
    # rounded up: a wait of 0.4 ms must not become a busy loop of zero-timeout polls
    ready = dict(poller.poll(max(0, math.ceil(timeout_s * 1000))))
    return ([ch for ch in channels if ch.sock in ready],
            [f for f in files if f.fileno() in ready])


def unix_listener() -> tuple[pysocket.socket, Any]:
    """A listening AF_UNIX socket at a fresh address only this user can reach, as
    multiprocessing's fork server listens (the worker starts its own: ``forkserver.py``)."""
    from multiprocessing import connection, util

    listener = pysocket.socket(pysocket.AF_UNIX)
    # a private helper (typeshed leaves it out): the same unique name the fork server uses
    address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
    listener.bind(address)
    if not util.is_abstract_socket_namespace(address):
        os.chmod(address, 0o600)
    listener.listen()
    return listener, address
