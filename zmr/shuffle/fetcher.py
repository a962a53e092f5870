"""The reducer's side of the shuffle: pull one map output segment from its holder.

The reduce task binds a PULL socket, asks the holder's shuffle service (PUSH -> its PULL) to
send the segment there, writes chunks to a local file as they arrive, returns credit one
chunk at a time, and checks the CRC-32 recorded in the map's manifest. Anything that goes
wrong (holder silent, refused, short, corrupt) is a :class:`FetchFailedError` naming the map,
which the coordinator turns into a re-run of that map.
"""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import Callable
from urllib.parse import urlparse

from zmr.core.errors import FetchFailedError, ZmrError
from zmr.core.specs import Segment
from zmr.protocol.messages import ShuffleChunk, ShuffleCredit, ShuffleRequest
from zmr.shuffle.server import CHUNK_BYTES
from zmr.tasks.reduce_task import local_fetch
from zmr.transport.security import Curve
from zmr.transport.sockets import PULL, PUSH, Channel, bound_endpoint, make_socket, poll

CREDIT = 4
#: A chunk is at most the holder's ``CHUNK_BYTES``: a bigger frame is garbage, dropped by
#: libzmq before it is buffered.
CHUNK_FRAME_BYTES = 2 * CHUNK_BYTES

Fetch = Callable[[Segment, str], tuple[str, int]]


def make_fetch(own_endpoint: str, job_id: str, timeout_s: float,
               curve: Curve | None = None) -> Fetch:
    """Segments this worker produced are read in place; the rest come over the shuffle,
    given up on after ``timeout_s`` of silence (``[worker] fetch_timeout_s``, which the
    executor's ``ExecutorConfig`` carries)."""
    host = urlparse(own_endpoint).hostname or "127.0.0.1"

    def fetch(segment: Segment, scratch_path: str) -> tuple[str, int]:
        if not segment.endpoint or segment.endpoint == own_endpoint:
            return local_fetch(segment, scratch_path)
        fetch_remote(segment, scratch_path, host, timeout_s, curve, job_id=job_id)
        return scratch_path, 0

    return fetch


def fetch_remote(segment: Segment, dest: str, host: str, timeout_s: float,
                 curve: Curve | None = None, *, job_id: str) -> None:
    """Copy one segment from its holder into ``dest``, verifying length and checksum.
    With CURVE both directions are authenticated: we expect the holder's key, and the
    holder answers a socket that serves with ours."""
    inbox = Channel(make_socket(PULL, bind=f"tcp://{host}:*", hwm=CREDIT * 2, curve=curve,
                                max_frame=CHUNK_FRAME_BYTES), "fetch-in")
    try:
        outbox = Channel(make_socket(PUSH, connect=segment.endpoint, curve=curve,
                                     server_key=segment.endpoint_key.encode() or None),
                         "fetch-out")
    except ZmrError as exc:           # the holder's address is unusable: re-run its map
        inbox.close()
        raise FetchFailedError(segment.map_index, f"map output of task {segment.map_index}: "
                               f"{exc}") from None
    request_id = uuid.uuid4().hex
    try:
        outbox.send(ShuffleRequest(request_id, job_id, segment.path, segment.offset, segment.length,
                                   bound_endpoint(inbox.sock), CREDIT,
                                   curve.public.decode() if curve else ""))
        crc, size = _receive(segment, dest, inbox, outbox, request_id, timeout_s)
    finally:
        inbox.close()
        outbox.close()
    if size != segment.length or crc != segment.crc32:
        os.unlink(dest)
        raise FetchFailedError(segment.map_index,
                               f"map output of task {segment.map_index} from "
                               f"{segment.endpoint}: got {size} bytes with CRC {crc:08x}, "
                               f"expected {segment.length} with {segment.crc32:08x}")


def _receive(segment: Segment, dest: str, inbox: Channel, outbox: Channel, request_id: str,
             timeout_s: float) -> tuple[int, int]:
    crc = size = 0
    expected_seq = 0
    with open(dest, "wb") as out:
        while True:
            if not poll([inbox], timeout_s):
                raise FetchFailedError(segment.map_index, f"map output of task "
                                       f"{segment.map_index}: {segment.endpoint} sent nothing "
                                       f"for {timeout_s:.0f}s")
            received = inbox.recv()
            if received is None:
                continue
            _, chunk, blobs = received
            if not isinstance(chunk, ShuffleChunk) or chunk.request_id != request_id:
                continue
            if chunk.error or chunk.seq != expected_seq or len(blobs) != 1:
                raise FetchFailedError(segment.map_index, f"map output of task "
                                       f"{segment.map_index} from {segment.endpoint}: "
                                       f"{chunk.error or 'chunks out of order'}")
            size += len(blobs[0])
            if size > segment.length:       # never store more than the manifest promised
                raise FetchFailedError(segment.map_index, f"map output of task "
                                       f"{segment.map_index} from {segment.endpoint}: more "
                                       f"than the {segment.length} bytes asked for")
            out.write(blobs[0])
            crc = zlib.crc32(blobs[0], crc)
            expected_seq += 1
            if chunk.last:
                return crc, size
            outbox.send(ShuffleCredit(request_id, 1))
