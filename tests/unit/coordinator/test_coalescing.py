"""Coalescing reduce partitions in the state machine: decided once, when every map has
run and before any reduce is handed out, journaled at once, kept through lost map
outputs, retries and restarts; an explicit NUM_REDUCERS (``coalesce=False``) is left
alone."""

from __future__ import annotations

from tests.unit.coordinator.drive import ask, assigned, done, plan, reduce_result, register, submit
from zmr.coordinator import records
from zmr.coordinator.commands import Persist, SealOutput, Send
from zmr.coordinator.journal import Journal
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.states import TaskState
from zmr.coordinator.stimuli import AttemptFailed, AttemptSucceeded, Restored, Tick
from zmr.core.ids import AttemptId
from zmr.core.specs import MapManifest, PartitionIndexEntry
from zmr.protocol.messages import AssignTask, TaskFailed

MB = 1 << 20
PARTITIONS = 8


def output(index, sizes, attempt=1):
    """A map output whose partitions hold ``sizes`` bytes."""
    entries, offset = [], 0
    for size in sizes:
        entries.append(PartitionIndexEntry(offset, size, 1 if size else 0, 7))
        offset += size
    return MapManifest(index, attempt, f"/w/m{index}.arrow", tuple(entries))


def run_maps(s, job_id, sizes_per_map, worker="w1"):
    """Every map of the job succeeds on ``worker``, each report asking for as many
    attempts as the worker has slots: the commands of the last."""
    cmds = []
    for index, sizes in enumerate(sizes_per_map):
        cmds = s.handle(AttemptSucceeded(1.0 + index, done(
            worker, "map", index, 1, output(index, sizes), job_id=job_id,
            free_slots=s.workers[worker].slots)))
    return cmds


def reduce_specs(cmds):
    return [c.msg.spec for c in cmds if isinstance(c, Send) and isinstance(c.msg, AssignTask)
            and c.msg.attempt.kind == "reduce"]


def started(partitions=8, maps=2, coalesce=True, slots=1):
    s = CoordinatorState()
    job_id, _ = submit(s, plan(maps=maps, reducers=partitions, coalesce=coalesce))
    register(s, "w1", slots=slots)
    return s, job_id


def test_tiny_outputs_make_one_reduce_task_reading_every_partition():
    s, job_id = started()
    cmds = run_maps(s, job_id, [[10, 0, 3, 0, 0, 5, 0, 1], [2, 0, 0, 0, 9, 0, 0, 0]])
    job = s.jobs[job_id]
    assert job.reduce_ranges == [(0, 8)] and len(job.reduces) == 1
    (spec,) = reduce_specs(cmds)
    assert spec.partition == 0
    # empty partitions are not fetched; each map's non-empty ones are
    assert sorted((g.map_index, g.partition) for g in spec.segments) == \
        [(0, 0), (0, 2), (0, 5), (0, 7), (1, 0), (1, 4)]
    # the decision is journaled before the reduce is handed out
    kinds = [type(c) for c in cmds]
    assert Persist in kinds and kinds.index(Persist) < kinds.index(Send)
    (persist,) = [c for c in cmds if isinstance(c, Persist)]
    assert '"reduce_ranges":[[0,8]]' in persist.changes[0].header
    cmds = s.handle(AttemptSucceeded(5.0, done("w1", "reduce", 0, 1, job_id=job_id)))
    assert cmds == [SealOutput(job_id, "/out")]


def test_big_outputs_keep_a_task_per_slot_in_adjacent_ranges():
    s, job_id = started(slots=2)
    cmds = run_maps(s, job_id, [[4 * MB] * 8, [4 * MB] * 8])
    job = s.jobs[job_id]
    assert job.reduce_ranges == [(0, 4), (4, 8)]
    assert [spec.partition for spec in reduce_specs(cmds)] == [0, 1]
    assert {g.partition for g in reduce_specs(cmds)[1].segments} == {4, 5, 6, 7}


def test_an_explicit_number_of_reducers_is_never_coalesced():
    s, job_id = started(coalesce=False, slots=8)
    cmds = run_maps(s, job_id, [[1] * 8, [1] * 8])
    job = s.jobs[job_id]
    assert job.reduce_ranges == [] and len(job.reduces) == 8
    assert [spec.partition for spec in reduce_specs(cmds)] == list(range(8))
    assert all(len(spec.segments) == 2 for spec in reduce_specs(cmds))
    assert not any(isinstance(c, Persist) for c in cmds)


def test_a_lost_map_output_reruns_the_map_and_the_coalesced_reduce_reads_its_range_again():
    s, job_id = started(slots=2)
    run_maps(s, job_id, [[4 * MB] * 8, [4 * MB] * 8])
    job = s.jobs[job_id]
    lost = AttemptId(job_id, "reduce", 1, 1)
    cmds = s.handle(AttemptFailed(6.0, TaskFailed("w1", lost, "fetch", "", lost_map=1,
                                                  free_slots=1)))
    assert assigned(cmds) == [("w1", "map", 1, 2)]
    assert job.reduces[1].failures == 0
    cmds = s.handle(AttemptSucceeded(7.0, done("w1", "map", 1, 2, output(1, [MB] * 8, 2),
                                               job_id=job_id, free_slots=1)))
    assert job.reduce_ranges == [(0, 4), (4, 8)]          # decided once: sizes changed, not it
    (spec,) = reduce_specs(cmds)
    assert spec.partition == 1 and spec.attempt == 2
    assert sorted((g.map_index, g.partition, g.attempt) for g in spec.segments) == \
        [(m, r, 1 + m) for m in (0, 1) for r in (4, 5, 6, 7)]


def test_a_failed_coalesced_reduce_is_retried_with_the_same_range():
    s, job_id = started()
    run_maps(s, job_id, [[10] * 8, [10] * 8])
    cmds = s.handle(AttemptFailed(6.0, TaskFailed("w1", AttemptId(job_id, "reduce", 0, 1),
                                                  "boom", "tb", free_slots=1)))
    (spec,) = reduce_specs(cmds)
    assert spec.attempt == 2 and len(spec.segments) == 16


def test_a_restarted_coordinator_resumes_with_the_same_reduce_tasks(tmp_path):
    s, job_id = started(slots=2)
    journal = Journal(str(tmp_path))
    journal.save([records.job_change(s.jobs[job_id], every_task=True)])   # 8 reduce rows
    cmds = run_maps(s, job_id, [[4 * MB] * 8, [4 * MB] * 8])
    for command in cmds:                       # as the server carries them out
        if isinstance(command, Persist):
            journal.save(command.changes)
    s.handle(AttemptSucceeded(6.0, done("w1", "reduce", 0, 1, reduce_result(0, 1),
                                        job_id=job_id)))
    # every task: this module's check after each event takes the changed ones, as the
    # journal would have
    journal.save([records.job_change(s.jobs[job_id], every_task=True)])
    journal.close()

    (loaded,) = Journal(str(tmp_path)).load()
    assert loaded.reduce_ranges == [(0, 4), (4, 8)]
    assert [t.state for t in loaded.reduces] == [TaskState.SUCCEEDED, TaskState.RUNNING]
    restarted = CoordinatorState()
    restarted.handle(Restored(10.0, (loaded,)))
    restarted.handle(Tick(30.0))                # w1 never came back: its attempt is lost
    cmds = register(restarted, "w2", slots=2, now=30.0)
    # map outputs lived on w1: the maps run again, then only reduce 1, with its range
    for index in (0, 1):
        cmds = restarted.handle(AttemptSucceeded(31.0, done(
            "w2", "map", index, 2, output(index, [MB] * 8, 2), job_id=job_id)))
        cmds += ask(restarted, "w2", slots=2, now=31.0)
    assert restarted.jobs[job_id].reduce_ranges == [(0, 4), (4, 8)]
    (spec,) = reduce_specs(cmds)
    assert spec.partition == 1 and {g.partition for g in spec.segments} == {4, 5, 6, 7}
    assert assigned(cmds) == [("w2", "reduce", 1, 2)]


def test_a_single_partition_has_nothing_to_coalesce_and_is_left_as_it_is():
    s, job_id = started(partitions=1)
    cmds = run_maps(s, job_id, [[10], [10]])
    assert s.jobs[job_id].reduce_ranges == [] and not any(isinstance(c, Persist) for c in cmds)
    assert [spec.partition for spec in reduce_specs(cmds)] == [0]


def test_a_slow_coalesced_reduce_gets_a_backup_reading_the_same_range():
    s = CoordinatorState(slow_factor=1.5, min_runtime_s=1.0)
    job_id, _ = submit(s, plan(maps=2, reducers=PARTITIONS, coalesce=True))
    register(s, "w1", slots=2)
    run_maps(s, job_id, [[4 * MB] * PARTITIONS] * 2)            # reduces start at 2.0
    s.handle(AttemptSucceeded(4.0, done("w1", "reduce", 0, 1, job_id=job_id)))
    assert assigned(register(s, "w2", now=4.5)) == []           # reduce 1: only 2.5 s
    cmds = s.handle(Tick(6.0))                                  # 4 s > 1.5 x median 2 s
    assert assigned(cmds) == [("w2", "reduce", 1, 2)]
    (spec,) = reduce_specs(cmds)
    assert {g.partition for g in spec.segments} == {4, 5, 6, 7}
    cmds = s.handle(AttemptSucceeded(7.0, done("w2", "reduce", 1, 2, job_id=job_id)))
    assert SealOutput(job_id, "/out") in cmds
