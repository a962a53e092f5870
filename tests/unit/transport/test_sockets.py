"""Socket factories and Channel over real loopback sockets: the ZeroMQ pitfalls the cluster
relies on being handled (unroutable peers, malformed frames, finite polls)."""

from __future__ import annotations

import time

import pytest

from zmr.core.errors import ZmrError
from zmr.protocol import wire
from zmr.protocol.messages import Heartbeat, Registered, RequestTask
from zmr.transport.sockets import (
    DEALER,
    PULL,
    PUSH,
    ROUTER,
    Channel,
    PeerGone,
    bound_endpoint,
    free_port,
    make_socket,
    poll,
)


@pytest.fixture()
def router():
    channel = Channel(make_socket(ROUTER, bind="tcp://127.0.0.1:*"), "router")
    yield channel
    channel.close()


def _recv(channel: Channel, timeout_s: float = 5.0):
    assert poll([channel], timeout_s) == [channel], "nothing arrived"
    return channel.recv()


def test_dealer_and_router_talk_by_identity(router):
    dealer = Channel(make_socket(DEALER, connect=bound_endpoint(router.sock), identity="w1"),
                     "dealer")
    try:
        dealer.send(RequestTask("w1", 2))
        peer, msg, blobs = _recv(router)
        assert (peer, msg, blobs) == (b"w1", RequestTask("w1", 2), [])
        router.send(Registered("w1"), to=peer)
        assert _recv(dealer)[1:] == (Registered("w1"), [])
    finally:
        dealer.close()


def test_router_refuses_to_send_to_an_unknown_peer(router):
    # without ROUTER_MANDATORY this message would vanish silently
    with pytest.raises(PeerGone, match="not connected"):
        router.send(Registered("ghost"), to=b"ghost")


def test_malformed_messages_are_counted_and_dropped_not_raised(router):
    raw = make_socket(DEALER, connect=bound_endpoint(router.sock), identity="evil")
    try:
        raw.send_multipart([wire.VERSION, b"HEARTBEAT", b"{not json"])
        raw.send_multipart([b"HTTP/1.1", b"GET /"])
        raw.send_multipart(wire.encode(Heartbeat("evil", 1)))
        received = [router.recv() for _ in range(3) if poll([router], 5.0)]
    finally:
        raw.close()
    assert received[:2] == [None, None]
    assert received[2] == (b"evil", Heartbeat("evil", 1), [])
    assert router.dropped == 2


def test_poll_with_nothing_to_read_returns_after_its_timeout(router):
    started = time.monotonic()
    assert poll([router], 0.2) == []
    assert 0.15 < time.monotonic() - started < 2.0


def test_closing_with_undelivered_messages_never_hangs():
    # nobody listens on this port: with LINGER 0 close() drops the queued messages at once
    push = Channel(make_socket(PUSH, connect=f"tcp://127.0.0.1:{free_port()}"), "push")
    for seq in range(5):
        push.send(Heartbeat("x", seq))
    started = time.monotonic()
    push.close()
    assert time.monotonic() - started < 1.0


def test_bind_failure_is_a_zmr_error_naming_the_endpoint():
    first = make_socket(PULL, bind="tcp://127.0.0.1:*")
    try:
        endpoint = bound_endpoint(first)
        with pytest.raises(ZmrError, match=f"cannot bind {endpoint}"):
            make_socket(PULL, bind=endpoint)
    finally:
        first.close()


def test_binding_to_a_port_range_takes_the_first_free_port():
    low = free_port()
    squatter = make_socket(PULL, bind=f"tcp://127.0.0.1:{low}")
    taken = []
    try:
        for _ in range(2):
            taken.append(make_socket(PULL, bind=f"tcp://127.0.0.1:{low}-{low + 50}"))
        ports = [int(bound_endpoint(s).rsplit(":", 1)[1]) for s in taken]
        assert low < ports[0] < ports[1] <= low + 50
    finally:
        for s in [squatter, *taken]:
            s.close()


def test_a_port_range_with_no_free_port_is_an_error_naming_it():
    squatter = make_socket(PULL, bind="tcp://127.0.0.1:*")
    port = int(bound_endpoint(squatter).rsplit(":", 1)[1])
    try:
        with pytest.raises(ZmrError, match=f"cannot bind tcp://127.0.0.1:{port}-{port}"):
            make_socket(PULL, bind=f"tcp://127.0.0.1:{port}-{port}")
    finally:
        squatter.close()
