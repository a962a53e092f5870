"""Typed JSON of the core's value types: round trips, the shapes older journals hold, and
errors that say where a value went wrong."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zmr.core.ids import AttemptId, TaskId
from zmr.core.jsonable import ShapeError, from_json, to_json
from zmr.core.plan import JobPlan
from zmr.core.specs import (
    MapManifest,
    MapTaskSpec,
    PartitionIndexEntry,
    Piece,
    ReduceResult,
    ReduceTaskSpec,
    Segment,
    Split,
)

PACKED = Split("a.txt", 0, 10, hosts=("h1",), more=(Piece("b.txt", 0, 5), Piece("c.gz", 0, 7,
                                                                               True)))
SPEC = MapTaskSpec("job-0001", 3, 2, PACKED, 4, "/w", "/out", 1 << 20,
                   format_options={"columns": ["a", "b"], "schema": None})
MANIFEST = MapManifest(3, 2, "/w/map-00003-a2.arrow",
                       (PartitionIndexEntry(0, 10, 2, 99), PartitionIndexEntry(10, 0, 0, 0)),
                       {"zmr": {"MAP_INPUT_RECORDS": 5}})


def _through_json(value):
    return from_json(type(value), json.loads(json.dumps(to_json(value))))


@pytest.mark.parametrize("value", [
    PACKED, Split("x", 5, 6), SPEC, MANIFEST, ReduceResult(1, 1, "/out/part-00001", True),
    ReduceTaskSpec("job-0001", 1, 1, (MANIFEST.segment(0, "tcp://h:1", "k"),), "/w", "/o",
                   99, output_format="arrow"),
    JobPlan([PACKED, Split("y", 0, 1)], 2, 1 << 20, "strict", "/out",
            resources={"cpus": 1}, format_options={"delimiter": ","}),
])
def test_values_survive_a_trip_through_json(value):
    assert _through_json(value) == value


@given(st.lists(st.tuples(st.text(min_size=1), st.integers(0, 1 << 40),
                          st.integers(0, 1 << 40), st.booleans()), max_size=5))
def test_packed_splits_survive_json(pieces):
    split = Split("first", 0, 1, more=tuple(Piece(*p) for p in pieces))
    assert _through_json(split) == split


def test_empty_containers_are_left_out_so_big_plans_stay_small():
    assert to_json(Split("x", 0, 1)) == {"path": "x", "start": 0, "length": 1,
                                         "whole": False, "format": "text"}


def test_the_shapes_older_code_wrote_still_load():
    # Split.to_dict and MapManifest.to_dict of before the typed codec (journals, indexes)
    old_split = {"path": "a", "start": 0, "length": 3, "whole": False, "hosts": [],
                 "format": "text", "more": [["b", 0, 2, False]]}
    assert from_json(Split, old_split) == Split("a", 0, 3, more=(Piece("b", 0, 2),))
    old_manifest = {"map_index": 0, "attempt": 1, "path": "p",
                    "partitions": [[0, 10, 1, 5]], "counters": {}}
    assert from_json(MapManifest, old_manifest).partitions == (PartitionIndexEntry(0, 10, 1, 5),)


@pytest.mark.parametrize("data,where", [
    ({"path": "a", "start": "0", "length": 1}, "Split.start: expected int, got str"),
    ({"path": "a", "start": True, "length": 1}, "Split.start: expected int, got bool"),
    ({"path": "a", "start": 0}, "Split: missing field length"),
    ({"path": "a", "start": 0, "length": 1, "evil": 1}, "Split: unknown fields ['evil']"),
    ({"path": "a", "start": 0, "length": 1, "more": [["b", 0, "x"]]},
     "Split.more[0][2]: expected int, got str"),
    ({"path": "a", "start": 0, "length": 1, "more": [["b"]]}, "Split.more[0]: expected list"),
    ({"path": "a", "start": 0, "length": 1, "hosts": "h1"}, "Split.hosts: expected list"),
    ({"path": "a", "start": 1 << 64, "length": 1}, "Split.start: expected int"),
    ([], "Split: expected Split object, got list"),
])
def test_a_wrong_shape_says_where(data, where):
    with pytest.raises(ShapeError) as err:
        from_json(Split, data)
    assert where in str(err.value)


def test_a_union_takes_the_type_that_fits_and_names_both_when_none_does():
    kinds = MapTaskSpec | ReduceTaskSpec
    assert from_json(kinds, to_json(SPEC)) == SPEC
    with pytest.raises(ShapeError, match="expected MapTaskSpec or ReduceTaskSpec"):
        from_json(kinds, {"job_id": "j"})


def test_a_union_of_dataclasses_names_the_wrong_field_of_the_one_it_has_the_fields_of():
    bad = dict(to_json(SPEC), split=dict(to_json(PACKED), start="0"))
    with pytest.raises(ShapeError, match=r"^spec\.split\.start: expected int, got str$"):
        from_json(MapTaskSpec | ReduceTaskSpec, bad, "spec")


def test_a_literal_takes_only_its_values():
    assert from_json(AttemptId, ["j", "reduce", 0, 1]).kind == "reduce"
    with pytest.raises(ShapeError, match=r"AttemptId\[1\]: expected 'map' or 'reduce', "
                                         r"got 'shuffle'"):
        from_json(AttemptId, ["j", "shuffle", 0, 1])


def test_an_integer_too_large_for_a_float_is_a_shape_error_not_an_overflow():
    with pytest.raises(ShapeError, match=r"Segment\.offset: expected int"):
        from_json(Segment, {**to_json(MANIFEST.segment(0)), "offset": 10 ** 400})
    assert from_json(float, 10 ** 300) == 1e300
    with pytest.raises(ShapeError, match="expected float, got an int of 401 digits"):
        from_json(float, 10 ** 400)


def test_counters_must_be_named_integers():
    bad = dict(to_json(MANIFEST), counters={"zmr": {"X": 1.5}})
    with pytest.raises(ShapeError, match=r"counters\['zmr'\]\['X'\]: expected int"):
        from_json(MapManifest, bad)


def test_a_plan_is_checked_by_planning_rules_too():
    d = to_json(JobPlan([PACKED], 1, 1, "strict", "/o"))
    with pytest.raises(Exception, match="RESOURCES has unknown key"):
        JobPlan.from_dict(dict(d, resources={"gpus": 1}))
    with pytest.raises(Exception, match="output format must be one of"):
        JobPlan.from_dict(dict(d, output_format="xml"))


def test_attempt_and_task_ids_have_one_text_form():
    attempt = AttemptId("job-0003", "map", 17, 2)
    assert str(attempt) == "job-0003/map/17/2"
    assert AttemptId.parse(str(attempt)) == attempt
    assert attempt.task == TaskId("job-0003", "map", 17)
    assert TaskId.parse("job-0003/map/17") == attempt.task
    assert attempt.label == "map-00017 attempt 2"
    assert from_json(AttemptId, to_json(attempt)) == attempt


@pytest.mark.parametrize("text", ["", "job/map/1", "job/shuffle/1/1", "job/map/x/1",
                                  "/map/1/1", "job/map/1/1/1", "job/map/-1/1"])
def test_malformed_attempt_ids_are_refused(text):
    with pytest.raises(ValueError, match="id"):
        AttemptId.parse(text)
