"""Wire format: round trips, and anything malformed is a ProtocolError, never a crash."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.core.errors import ProtocolError
from zmr.protocol import wire
from zmr.protocol.messages import (
    ALL_MESSAGES,
    AssignTask,
    Heartbeat,
    Register,
    ShuffleChunk,
    TaskFailed,
)


def test_round_trip_with_blobs():
    msg = AssignTask("job-1", "map", 3, 2, {"split": {"path": "/x"}}, True)
    decoded, blobs = wire.decode(wire.encode(msg, b"code"))
    assert decoded == msg and blobs == [b"code"]


def test_every_message_kind_is_unique():
    kinds = [m.KIND for m in ALL_MESSAGES]
    assert len(kinds) == len(set(kinds))


@pytest.mark.parametrize("frames,error", [
    ([b"ZMR0", b"REGISTER", b"{}"], "version"),
    ([b"ZMR1", b"NOPE", b"{}"], "unknown message kind"),
    ([b"ZMR1", b"HEARTBEAT", b"not json"], "not JSON"),
    ([b"ZMR1", b"HEARTBEAT", b"[1]"], "JSON object"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x"}'], "missing field seq"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": "1"}'], "expected int"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": true}'], "expected int"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": 9223372036854775808}'], "expected int"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": 1, "evil": 1}'], "unknown fields"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": 1, "running": [1]}'],
     r"running\[0\]: expected str"),
    ([b"ZMR1"], "frames"),
    ([b"ZMR1", b"HEARTBEAT", b"[" * 100_000], "nested too deeply"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": 1, "load": ' + b"[" * 50_000],
     "nested too deeply"),
    ([b"ZMR1", b"DONE", b'{"started_s": NaN}'], "not a JSON value"),
    ([b"ZMR1", b"DONE", b'{"started_s": -Infinity}'], "not a JSON value"),
    ([b"ZMR1", b"DONE", b'{"started_s": 1e999}'], "out of range"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "w\\udf2f", "seq": 1}'], "lone surrogate"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "x", "seq": ' + b"9" * 5000 + b"}"], "not JSON"),
    # UTF-8 only: no UTF-16, and no lone surrogate spelt as raw (CESU-style) bytes either
    ([b"ZMR1", b"HEARTBEAT", '{"sender": "x", "seq": 1}'.encode("utf-16")], "not JSON"),
    ([b"ZMR1", b"HEARTBEAT", b'{"sender": "w\xed\xa0\x80", "seq": 1}'], "not JSON"),
])
def test_malformed_messages_are_refused(frames, error):
    with pytest.raises(ProtocolError, match=error):
        wire.decode(frames)


examples = [Register("w", "h", "tcp://h:1", 2, 2, 100, [["j", 1, 1]]),
            Heartbeat("w", 7, 1, ["a"]), TaskFailed("w", "j", "map", 1, 1, "e", "tb"),
            ShuffleChunk("r", 0, True)]


# 1000 cases hit each (message, mutation, frame) combination, of 64, about 15 times; the
# cluster tier sends 10,000 random and mutated messages to each socket of a running cluster
# (tests/cluster/test_fuzz.py)
@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(examples), st.data())
def test_fuzzed_frames_decode_or_raise_protocol_error(msg, data):
    frames = wire.encode(msg, b"blob")
    mutation = data.draw(st.sampled_from(["flip", "cut", "random", "swap"]))
    i = data.draw(st.integers(0, len(frames) - 1))
    if mutation == "flip" and frames[i]:
        j = data.draw(st.integers(0, len(frames[i]) - 1))
        frames[i] = frames[i][:j] + bytes([frames[i][j] ^ data.draw(st.integers(1, 255))]) \
            + frames[i][j + 1:]
    elif mutation == "cut":
        frames = frames[:i]
    elif mutation == "random":
        frames[i] = data.draw(st.binary(max_size=64))
    else:
        frames[2] = data.draw(st.sampled_from([b'{"sender": 1}', b"null", b"{}", b'{"a":[]}',
                                               b"[" * 20_000, b'{"seq": NaN}']))
    try:
        decoded, _ = wire.decode(frames)
    except ProtocolError:
        return
    assert dataclasses.is_dataclass(decoded)


def test_astral_characters_survive_the_surrogate_check():
    msg = Heartbeat("w\U0001F600", 1, 0, ["a\U0001F600"])
    assert wire.decode(wire.encode(msg))[0] == msg
