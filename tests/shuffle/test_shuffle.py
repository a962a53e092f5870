"""The shuffle over real PUSH/PULL sockets: chunked transfer with credit, checksums, refusals."""

from __future__ import annotations

import os
import threading
import zlib

import pytest

from tests.helpers import PATIENT_S, wait_until
from zmr.core.errors import FetchFailedError
from zmr.core.specs import Segment
from zmr.protocol.messages import ShuffleRequest
from zmr.shuffle import server as shuffle_server
from zmr.shuffle.fetcher import fetch_remote, make_fetch
from zmr.shuffle.server import ShuffleServer
from zmr.transport.sockets import PULL, PUSH, Channel, bound_endpoint, make_socket, poll

JOB = "job-0001"


@pytest.fixture()
def service(tmp_path):
    root = tmp_path / "worker"
    root.mkdir()
    server = ShuffleServer("tcp://127.0.0.1:*", str(root))
    server.start_serving()
    yield server, root
    server.stop()


def _segment(path, data, offset, length, endpoint, crc=None):
    crc = zlib.crc32(data[offset:offset + length]) if crc is None else crc
    return Segment(3, 1, str(path), 0, offset, length, 1, crc, endpoint)


def test_multi_chunk_segment_arrives_intact(service, tmp_path):
    server, root = service
    data = os.urandom(3 * shuffle_server.CHUNK_BYTES + 12345)
    (root / "m.arrow").write_bytes(b"head" + data)
    server.publish(JOB, str(root / "m.arrow"))
    seg = _segment(root / "m.arrow", b"head" + data, 4, len(data), server.endpoint)
    fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    assert (tmp_path / "got").read_bytes() == data
    assert server.served_bytes == len(data)


def test_checksum_mismatch_names_the_map(service, tmp_path):
    server, root = service
    (root / "m.arrow").write_bytes(b"x" * 1000)
    server.publish(JOB, str(root / "m.arrow"))
    seg = _segment(root / "m.arrow", b"x" * 1000, 0, 1000, server.endpoint, crc=1234)
    with pytest.raises(FetchFailedError, match="task 3") as failure:
        fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    assert failure.value.map_index == 3 and not (tmp_path / "got").exists()


def test_files_outside_the_workers_data_are_refused(service, tmp_path):
    server, _ = service
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"private")
    seg = _segment(secret, b"private", 0, 7, server.endpoint)
    with pytest.raises(FetchFailedError, match="not a map output of job job-0001 on this"):
        fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)


def test_only_published_map_outputs_of_the_asking_job_are_served(service, tmp_path):
    """Inside the worker's own directory too: a task log with user output, a map output
    not (yet) committed, another job's output and an ended job's are all refused."""
    server, root = service
    for name in ("log.txt", "unpublished.arrow", "other.arrow", "ended.arrow"):
        (root / name).write_bytes(b"private")
    server.publish("job-0002", str(root / "other.arrow"))
    server.publish(JOB, str(root / "ended.arrow"))
    server.withdraw(JOB)
    for name in ("log.txt", "unpublished.arrow", "other.arrow", "ended.arrow"):
        seg = _segment(root / name, b"private", 0, 7, server.endpoint)
        with pytest.raises(FetchFailedError, match="is not a map output of job job-0001"):
            fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    seg = _segment(root / "other.arrow", b"private", 0, 7, server.endpoint)
    fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id="job-0002")
    assert (tmp_path / "got").read_bytes() == b"private"


def test_truncated_file_is_a_fetch_failure(service, tmp_path):
    server, root = service
    (root / "m.arrow").write_bytes(b"y" * 100)
    server.publish(JOB, str(root / "m.arrow"))
    seg = _segment(root / "m.arrow", b"y" * 500, 0, 500, server.endpoint)
    with pytest.raises(FetchFailedError):
        fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)


def test_silent_holder_times_out(tmp_path):
    from zmr.transport.sockets import free_port

    seg = _segment(tmp_path / "m", b"z", 0, 1, f"tcp://127.0.0.1:{free_port()}")
    with pytest.raises(FetchFailedError, match="sent nothing"):
        fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=0.5, job_id=JOB)


def test_own_segments_are_read_in_place(tmp_path):
    fetch = make_fetch("tcp://127.0.0.1:5999", JOB, timeout_s=5.0)
    seg = Segment(0, 1, "/data/m.arrow", 0, 10, 5, 1, 0, "tcp://127.0.0.1:5999")
    assert fetch(seg, str(tmp_path / "unused")) == ("/data/m.arrow", 10)


def _drain(inbox, wait_s: float) -> list:
    """Every chunk that arrives within ``wait_s``."""
    from zmr.transport.sockets import poll

    chunks = []
    while poll([inbox], wait_s):
        received = inbox.recv()
        chunks.append((received[1], len(received[2][0])))
    return chunks


def test_credit_bounds_the_chunks_in_flight(service):
    """Credit-based flow control (ZeroMQ guide ch. 7): with no acknowledgements, the service
    sends exactly ``credit`` chunks and waits; each credit releases exactly one more."""
    from zmr.protocol.messages import ShuffleCredit, ShuffleRequest
    from zmr.transport.sockets import PULL, PUSH, Channel, bound_endpoint, make_socket

    server, root = service
    chunk = shuffle_server.CHUNK_BYTES
    (root / "m.arrow").write_bytes(os.urandom(5 * chunk))
    server.publish(JOB, str(root / "m.arrow"))
    inbox = Channel(make_socket(PULL, bind="tcp://127.0.0.1:*"), "in")
    outbox = Channel(make_socket(PUSH, connect=server.endpoint), "out")
    try:
        outbox.send(ShuffleRequest("r1", JOB, str(root / "m.arrow"), 0, 5 * chunk,
                                   bound_endpoint(inbox.sock), 2))
        first = _drain(inbox, 1.0)
        assert [(c.seq, c.last, size) for c, size in first] == [(0, False, chunk),
                                                                 (1, False, chunk)]
        outbox.send(ShuffleCredit("r1", 1))
        assert [c.seq for c, _ in _drain(inbox, 0.5)] == [2]
        outbox.send(ShuffleCredit("r1", 10))
        rest = _drain(inbox, 0.5)
        assert [(c.seq, c.last) for c, _ in rest] == [(3, False), (4, True)]
    finally:
        inbox.close()
        outbox.close()
    assert server.served_bytes == 5 * chunk


def test_finished_transfers_leave_no_reply_socket_open(service, tmp_path):
    """Each fetch replies to a fresh ephemeral endpoint: a reply socket kept after its
    transfer would, for the life of the worker, retry connecting to a port nobody owns."""
    server, root = service
    data = os.urandom(100_000)
    (root / "m.arrow").write_bytes(data)
    server.publish(JOB, str(root / "m.arrow"))
    for i in range(5):
        seg = _segment(root / "m.arrow", data, 1000 * i, 5000, server.endpoint)
        fetch_remote(seg, str(tmp_path / f"got{i}"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    seg = _segment(root / "gone.arrow", b"", 0, 1, server.endpoint)
    with pytest.raises(FetchFailedError):
        fetch_remote(seg, str(tmp_path / "refused"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    wait_until(lambda: server.reply_sockets == 0, "reply sockets closed")


@pytest.mark.parametrize("offset,length,credit,reply_to,why", [
    (-1, 10, 4, None, "offset"),
    (0, -10, 4, None, "length"),
    (0, 10, 0, None, "credit"),
    (0, 10, 10_000, None, "credit"),
    (0, 10, 4, "ipc:///tmp/elsewhere", "reply_to"),
])
def test_requests_that_make_no_sense_are_refused(service, offset, length, credit, reply_to,
                                                 why):
    from zmr.protocol.messages import ShuffleChunk, ShuffleRequest
    from zmr.transport.sockets import PULL, PUSH, Channel, bound_endpoint, make_socket, poll

    server, root = service
    (root / "m.arrow").write_bytes(b"x" * 100)
    server.publish(JOB, str(root / "m.arrow"))
    inbox = Channel(make_socket(PULL, bind="tcp://127.0.0.1:*"), "in")
    outbox = Channel(make_socket(PUSH, connect=server.endpoint), "out")
    try:
        outbox.send(ShuffleRequest("r1", JOB, str(root / "m.arrow"), offset, length,
                                   reply_to or bound_endpoint(inbox.sock), credit))
        if reply_to is None:
            assert poll([inbox], 5.0)
            chunk = inbox.recv()[1]
            assert isinstance(chunk, ShuffleChunk) and chunk.last and why in chunk.error
        else:
            assert not poll([inbox], 0.5)          # nothing is sent to foreign endpoints
    finally:
        inbox.close()
        outbox.close()
    # the refusal reaches us before the service's thread closes its reply socket
    wait_until(lambda: server.reply_sockets == 0, "reply sockets closed")
    assert server.served_bytes == 0
    seg = _segment(root / "m.arrow", b"x" * 100, 0, 100, server.endpoint)
    fetch_remote(seg, str(root.parent / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    assert server.served_bytes == 100


def test_a_holder_sending_more_than_asked_is_a_fetch_failure(tmp_path):
    """A rogue holder (here: this test, on real sockets) streams more than the manifest's
    length: the fetch stops at once instead of filling the reducer's disk."""
    from zmr.protocol.messages import ShuffleChunk, ShuffleRequest
    from zmr.transport.sockets import PULL, PUSH, Channel, bound_endpoint, make_socket, poll

    holder = Channel(make_socket(PULL, bind="tcp://127.0.0.1:*"), "holder")
    result: dict = {}

    def serve() -> None:
        assert poll([holder], 10.0)
        request = holder.recv()[1]
        assert isinstance(request, ShuffleRequest)
        reply = Channel(make_socket(PUSH, connect=request.reply_to), "reply")
        for seq in range(50):
            reply.send(ShuffleChunk(request.request_id, seq, False), b"z" * 4096)
        result["sent"] = True
        reply.close(linger_s=1.0)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    seg = Segment(3, 1, "/data/m.arrow", 0, 0, 10, 1, 0, bound_endpoint(holder.sock))
    try:
        with pytest.raises(FetchFailedError, match="more than the 10 bytes"):
            fetch_remote(seg, str(tmp_path / "got"), "127.0.0.1", timeout_s=PATIENT_S, job_id=JOB)
    finally:
        thread.join(PATIENT_S)
        holder.close()
    assert result == {"sent": True}
    assert not (tmp_path / "got").exists() or (tmp_path / "got").stat().st_size <= 10


def test_service_binds_within_a_port_range_or_says_why_not(tmp_path):
    from zmr.core.errors import ZmrError
    from zmr.transport.sockets import free_port

    low = free_port()
    server = ShuffleServer(f"tcp://127.0.0.1:{low}-{low + 20}", str(tmp_path))
    try:
        assert low <= int(server.start_serving().rsplit(":", 1)[1]) <= low + 20
        port = server.endpoint.rsplit(":", 1)[1]
        blocked = ShuffleServer(f"tcp://127.0.0.1:{port}-{port}", str(tmp_path))
        with pytest.raises(ZmrError, match=f"cannot bind tcp://127.0.0.1:{port}-{port}"):
            blocked.start_serving()
    finally:
        server.stop()


def test_a_request_for_a_path_with_a_nul_byte_is_refused_not_fatal(tmp_path):
    """Found by the cluster fuzz test: os.path.realpath raises on NUL, which used to stop
    the whole shuffle service (and so the worker)."""
    server = ShuffleServer("tcp://127.0.0.1:*", str(tmp_path))
    endpoint = server.start_serving()
    inbox = Channel(make_socket(PULL, bind="tcp://127.0.0.1:*"), "in")
    outbox = Channel(make_socket(PUSH, connect=endpoint), "out")
    try:
        outbox.send(ShuffleRequest("r1", JOB, "/x\0y", 0, 1, bound_endpoint(inbox.sock), 1))
        assert poll([inbox], 10.0)
        chunk = inbox.recv()[1]
        assert "NUL" in chunk.error
        assert server.is_alive()
    finally:
        inbox.close()
        outbox.close()
        server.stop()

