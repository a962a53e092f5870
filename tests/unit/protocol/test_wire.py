"""Wire format: round trips, and anything malformed is a ProtocolError, never a crash."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zmr.core.errors import ProtocolError
from zmr.core.ids import AttemptId
from zmr.core.plan import JobPlan
from zmr.core.specs import MapManifest, PartitionIndexEntry, ReduceResult, Segment, Split
from zmr.protocol import wire
from zmr.protocol.messages import (
    ALL_MESSAGES,
    AssignTask,
    AttemptProgress,
    Heartbeat,
    HeldOutput,
    KillTask,
    Register,
    ShrinkAnswer,
    ShrinkAttempt,
    ShuffleChunk,
    SubmitJob,
    TaskDone,
    TaskFailed,
)

PLAN = JobPlan([Split("/in/a", 0, 10, hosts=("h1",)), Split("/in/b", 0, 5)], 2, 1 << 20,
               "strict", "/out", resources={"cpus": 1})
MAP_ATTEMPT = AttemptId("job-0001", "map", 1, 2)
REDUCE_ATTEMPT = AttemptId("job-0001", "reduce", 0, 1)
MANIFEST = MapManifest(1, 2, "/w/m1.arrow", (PartitionIndexEntry(0, 10, 2, 99),) * 2,
                       {"zmr": {"MAP_INPUT_RECORDS": 5}})
SEGMENT = Segment(1, 2, "/w/m1.arrow", 0, 0, 10, 2, 99, "tcp://h:1")
TYPED = [
    AssignTask(MAP_ATTEMPT, PLAN.map_spec("job-0001", 1, 2, ""), True),
    AssignTask(REDUCE_ATTEMPT, PLAN.reduce_spec("job-0001", 0, 1, [SEGMENT], ""), False),
    TaskDone("w", MAP_ATTEMPT, MANIFEST, 0.5, 1.5, "log", 2),
    TaskDone("w", REDUCE_ATTEMPT, ReduceResult(0, 1, "/out/part-00000", True), 0.0, 1.0),
    TaskFailed("w", MAP_ATTEMPT, "E", "tb", lost_map=3),
    KillTask(REDUCE_ATTEMPT),
    SubmitJob("wc", PLAN, overwrite=True),
    Register("w", "h", "tcp://h:1", 2, 2, 100, [HeldOutput("job-0001", MANIFEST)],
             [MAP_ATTEMPT, REDUCE_ATTEMPT]),
    Heartbeat("w", 7, 1, [AttemptProgress(MAP_ATTEMPT, 10, 512, 1024)]),
    ShrinkAttempt(MAP_ATTEMPT, 1 << 40),                    # dynamic work rebalancing
    ShrinkAnswer("w", MAP_ATTEMPT, 1 << 40, False, "it has read past byte 5", final=False),
]


@pytest.mark.parametrize("msg", TYPED, ids=lambda m: type(m).__name__)
def test_typed_messages_round_trip_as_the_same_values(msg):
    sent = [b"code"] * msg.MAX_BLOBS
    decoded, blobs = wire.decode(wire.encode(msg, *sent))
    assert decoded == msg and blobs == sent
    assert type(decoded.attempt if hasattr(decoded, "attempt") else msg) is type(
        msg.attempt if hasattr(msg, "attempt") else msg)


def test_only_the_kinds_that_ship_code_or_data_carry_blobs():
    # a heartbeat or a worker's control message with a blob is garbage, however small
    with pytest.raises(ProtocolError, match="HEARTBEAT carries 1 blobs, at most 0"):
        wire.decode(wire.encode(Heartbeat("w", 1), b"x"))
    with pytest.raises(ProtocolError, match="SUBMIT carries 2 blobs, at most 1"):
        wire.decode(wire.encode(SubmitJob("wc", PLAN), b"code", b"more"))
    assert wire.decode(wire.encode(SubmitJob("wc", PLAN), b"code"))[1] == [b"code"]


def test_ids_and_held_outputs_keep_their_list_shapes_on_the_wire():
    register, heartbeat = TYPED[7], TYPED[8]
    fields = json.loads(wire.encode(register)[2])
    assert fields["running"][0] == ["job-0001", "map", 1, 2]
    assert fields["holds"][0][0] == "job-0001" and fields["holds"][0][1]["map_index"] == 1
    assert json.loads(wire.encode(heartbeat)[2])["running"] == [
        [["job-0001", "map", 1, 2], 10, 512, 1024]]


def _payload(msg, **changes):
    """The frames of ``msg`` with fields of its JSON payload changed (``a__b``: nested)."""
    frames = wire.encode(msg)
    fields = json.loads(frames[2])
    for path, value in changes.items():
        *outer, last = path.split("__")
        target = fields
        for step in outer:
            target = target[int(step)] if isinstance(target, list) else target[step]
        target[int(last) if isinstance(target, list) else last] = value
    return [frames[0], frames[1], json.dumps(fields).encode()]


@pytest.mark.parametrize("frames,error", [
    (_payload(TYPED[0], spec__split__start="0"), r"AssignTask\.spec\.split\.start: expected int"),
    (_payload(TYPED[0], spec__split__more=[["b", 0, "x"]]),
     r"AssignTask\.spec\.split\.more\[0\]\[2\]: expected int, got str"),
    (_payload(TYPED[1], spec__segments__0__crc32=None),
     r"AssignTask\.spec\.segments\[0\]\.crc32: expected int, got NoneType"),
    (_payload(TYPED[0], attempt=["job-0001", "shuffle", 1, 2]),
     r"AssignTask\.attempt\[1\]: expected 'map' or 'reduce', got 'shuffle'"),
    (_payload(TYPED[0], attempt="job-0001/map/1/2"), r"AssignTask\.attempt: expected list"),
    (_payload(TYPED[0], attempt=["job-0001", "map", 1, 3]),
     r"AssignTask\.spec: names another attempt than job-0001/map/1/3"),
    (_payload(TYPED[2], result__partitions__1=[10, "5", 1, 1]),
     r"TaskDone\.result\.partitions\[1\]\[1\]: expected int, got str"),
    (_payload(TYPED[2], result__counters={"zmr": {"X": 1.5}}),
     r"TaskDone\.result\.counters\['zmr'\]\['X'\]: expected int, got float"),
    (_payload(TYPED[2], result={"map_index": 1}),
     r"TaskDone\.result: expected MapManifest or ReduceResult, got an object with fields "
     r"map_index"),
    (_payload(TYPED[6], plan__splits__1__length=True),
     r"SubmitJob\.plan\.splits\[1\]\.length: expected int, got bool"),
    (_payload(TYPED[7], holds__0__1__path=7), r"Register\.holds\[0\]\[1\]\.path: expected str"),
    (_payload(TYPED[7], running__1=["job-0001", "reduce", 0]),
     r"Register\.running\[1\]: expected list of 4\.\.4"),
    (_payload(TYPED[8], running__0__3="1024"), r"Heartbeat\.running\[0\]\[3\]: expected int"),
    (_payload(TYPED[2], started_s=10 ** 400),
     r"TaskDone\.started_s: expected float, got an int of 401 digits"),
])
def test_a_nested_field_of_the_wrong_shape_is_refused_naming_its_path(frames, error):
    with pytest.raises(ProtocolError, match=error):
        wire.decode(frames)


def test_a_map_result_sent_for_a_reduce_attempt_is_refused():
    frames = _payload(TYPED[2], attempt=list(REDUCE_ATTEMPT))
    with pytest.raises(ProtocolError, match=r"TaskDone\.result: expected ReduceResult for "
                                            r"reduce attempt job-0001/reduce/0/1, got MapManifest"):
        wire.decode(frames)
    reduce_result = json.loads(wire.encode(TYPED[3])[2])["result"]
    with pytest.raises(ProtocolError, match="expected MapManifest for map attempt"):
        wire.decode(_payload(TYPED[2], result=reduce_result))
    with pytest.raises(ValueError, match="expected MapManifest"):     # nor can one be made
        TaskDone("w", MAP_ATTEMPT, ReduceResult(1, 2, "/o", True), 0.0, 1.0)


def test_a_spec_of_the_other_kind_is_refused():
    reduce_spec = json.loads(wire.encode(TYPED[1])[2])["spec"]
    with pytest.raises(ProtocolError, match="expected MapTaskSpec for map attempt"):
        wire.decode(_payload(TYPED[0], spec=reduce_spec))


def test_a_peer_of_the_version_before_typed_messages_is_refused():
    frames = [b"ZMR1", b"KILL", b'{"job_id": "j", "task": "map", "index": 0, "attempt": 1}']
    with pytest.raises(ProtocolError, match="unknown protocol version b'ZMR1'"):
        wire.decode(frames)
    assert wire.encode(TYPED[5])[0] == b"ZMR2"


def test_every_message_kind_is_unique():
    kinds = [m.KIND for m in ALL_MESSAGES]
    assert len(kinds) == len(set(kinds))


@pytest.mark.parametrize("frames,error", [
    ([b"ZMR0", b"REGISTER", b"{}"], "version"),
    ([b"ZMR2", b"NOPE", b"{}"], "unknown message kind"),
    ([b"ZMR2", b"HEARTBEAT", b"not json"], "not JSON"),
    ([b"ZMR2", b"HEARTBEAT", b"[1]"], "JSON object"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x"}'], "missing field seq"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": "1"}'], "expected int"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": true}'], "expected int"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": 9223372036854775808}'], "expected int"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": 1, "evil": 1}'], "unknown fields"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": 1, "running": [1]}'],
     r"running\[0\]: expected list"),
    ([b"ZMR2"], "frames"),
    ([b"ZMR2", b"HEARTBEAT", b"[" * 100_000], "nested too deeply"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": 1, "load": ' + b"[" * 50_000],
     "nested too deeply"),
    ([b"ZMR2", b"DONE", b'{"started_s": NaN}'], "not a JSON value"),
    ([b"ZMR2", b"DONE", b'{"started_s": -Infinity}'], "not a JSON value"),
    ([b"ZMR2", b"DONE", b'{"started_s": 1e999}'], "out of range"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "w\\udf2f", "seq": 1}'], "lone surrogate"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "x", "seq": ' + b"9" * 5000 + b"}"], "not JSON"),
    # UTF-8 only: no UTF-16, and no lone surrogate spelt as raw (CESU-style) bytes either
    ([b"ZMR2", b"HEARTBEAT", '{"sender": "x", "seq": 1}'.encode("utf-16")], "not JSON"),
    ([b"ZMR2", b"HEARTBEAT", b'{"sender": "w\xed\xa0\x80", "seq": 1}'], "not JSON"),
])
def test_malformed_messages_are_refused(frames, error):
    with pytest.raises(ProtocolError, match=error):
        wire.decode(frames)


examples = [*TYPED, ShuffleChunk("r", 0, True)]


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
    msg = Heartbeat("w\U0001F600", 1, 0, [AttemptProgress(
        AttemptId("job\U0001F600", "map", 0, 1), 0, 0, 0)])
    assert wire.decode(wire.encode(msg))[0] == msg
