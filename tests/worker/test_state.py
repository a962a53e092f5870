"""The worker's state machine without sockets, processes or sleeping: events go in at any
simulated time, actions come out (dask's test_worker_state_machine.py). Registration,
re-registration, coordinator restarts, backoff over an hour of silence, the unhealthy
pause, heartbeats and stopping, each in microseconds; and every phase change of the
table is exercised."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from tests.helpers import EXAMPLES
from zmr.core.ids import AttemptId
from zmr.job.loader import load_job
from zmr.job.planning import plan_job
from zmr.protocol.messages import (
    AssignTask,
    ErrorReply,
    Heartbeat,
    JobEnded,
    KillTask,
    Registered,
    RegisterAgain,
    RequestTask,
    ShrinkAttempt,
    Shutdown,
)
from zmr.settings.job import JobOptions
from zmr.worker.events import (
    AskForWork,
    Connect,
    CutAttempt,
    DiskFailed,
    DiskProbed,
    EndJob,
    KillAttempt,
    ProbeDisk,
    PruneLogs,
    PublishBeat,
    Received,
    ShuffleStopped,
    StartAttempt,
    Started,
    StopRequested,
    Tick,
)
from zmr.worker.phases import TRANSITIONS, InvalidWorkerTransition, Timing, WorkerPhase
from zmr.worker.state import WorkerState

#: 1 s beats, silent after 3 missed; tries at most every 8 s; 30 s unhealthy pauses.
TIMING = Timing(interval_s=1.0, liveness=3, backoff_max_s=8.0, give_up_after_s=0.0,
                unhealthy_pause_s=30.0, prune_every_s=600.0)
KEY = AttemptId("job-1", "map", 0, 1)
WORDCOUNT = f"{EXAMPLES}/wordcount.py"


def _started(now: float = 0.0, **timing: float) -> WorkerState:
    state = WorkerState("w1", dataclasses.replace(TIMING, **timing), "tcp://c:1")
    assert state.handle(Started(), now) == [Connect()]
    assert state.phase is WorkerPhase.CONNECTING
    return state


def _registered(now: float = 0.0, **timing: float) -> WorkerState:
    state = _started(now, **timing)
    assert _receive(state, Registered("w1"), now) == [AskForWork()]
    assert state.phase is WorkerPhase.REGISTERED and state.registered
    return state


def _receive(state: WorkerState, message, now: float, *blobs: bytes) -> list:
    return state.handle(Received(message, blobs), now)


def _tick(state: WorkerState, now: float) -> list:
    """The tick's actions other than the routine beat and log pruning."""
    return [a for a in state.handle(Tick(), now) if not isinstance(a, PublishBeat | PruneLogs)]


def _beat(state: WorkerState, seq: int, now: float) -> list:
    return _receive(state, Heartbeat("coordinator", seq), now)


# -- registration ------------------------------------------------------------------------


def test_registered_forgets_the_jobs_the_coordinator_names_and_asks_for_work():
    state = _started()
    assert _receive(state, Registered("w1", ["job-7", "job-8"]), 0.1) == [
        EndJob("job-7"), EndJob("job-8"), AskForWork()]
    assert state.next_prune_s == 0.0             # their logs count against retention now


def test_an_unanswered_register_is_sent_again_each_liveness_window_while_it_beats():
    state = _started()
    for now in (1.0, 2.0, 3.0):                  # the coordinator beats; no answer comes
        assert _beat(state, int(now), now) == []
        assert _tick(state, now) == []
    _beat(state, 4, 3.5)
    assert _tick(state, 3.5) == [Connect()]      # one window (3 s) after the Register
    assert state.confirm_by == 6.5
    assert _receive(state, Registered("w1"), 3.6) == [AskForWork()]
    _beat(state, 5, 7.0)
    assert _tick(state, 7.0) == []               # answered: no more retries


def test_silence_retries_on_a_fresh_connection_with_a_doubling_wait_up_to_the_cap(caplog):
    """An hour without a coordinator: tries 2, 4, 8, 8, 8 ... s apart (never 16), the log
    names the wait the next try really comes after, and the worker never gives up; when
    the coordinator answers, the wait starts again from one interval."""
    caplog.set_level(logging.INFO, logger="zmr.worker")
    state = _registered()
    tenths = [t for t in range(0, 36_000) if _tick(state, t / 10) == [Connect()]]
    gaps = [b - a for a, b in zip(tenths, tenths[1:])]       # checked each 0.1 s
    assert gaps[:3] == [21, 41, 81]
    assert all(80 <= gap <= 81 for gap in gaps[3:])          # the cap (float rounding)
    assert len(tenths) > 400 and not state.stopped
    waits = [r.getMessage().rsplit("next try in ", 1)[1] for r in caplog.records
             if "next try in" in r.getMessage()]
    assert waits[:4] == ["2.0s at most)", "4.0s at most)", "8.0s at most)", "8.0s at most)"]
    assert set(waits[3:]) == {"8.0s at most)"}
    assert "coordinator at tcp://c:1 silent for 3.1s, registering again" in caplog.text
    _receive(state, Registered("w1"), 3600.0)
    assert state.backoff_s == TIMING.interval_s and state.registered
    assert "registered with the coordinator again" in caplog.text


def test_a_worker_gives_up_only_when_told_to():
    patient = _registered()
    assert _tick(patient, 86_400.0) == [Connect()] and not patient.stopped
    quitter = _registered(give_up_after_s=5.0)
    assert _tick(quitter, 4.0) == [Connect()]    # silent for 4 s: retried
    assert _tick(quitter, 5.5) == [] and quitter.stopped and not quitter.failed


def test_beat_numbers_going_back_mean_a_restarted_coordinator_so_register_again():
    state = _registered()
    for seq in (1, 2, 3):
        assert _beat(state, seq, seq * 1.0) == []
    assert _beat(state, 1, 4.0) == [Connect()]   # a new coordinator process
    assert state.phase is WorkerPhase.CONNECTING
    assert _beat(state, 2, 5.0) == []            # its numbers go up again: no repeat


def test_a_register_sent_during_the_silence_is_not_repeated_when_the_new_one_beats():
    """The old coordinator fell silent, we registered again (to the new one, as it turns
    out): its first beat starts again from 1, but our Register is already with it."""
    state = _registered()
    for seq in (1, 2, 3):
        _beat(state, seq, float(seq))
    assert _tick(state, 7.0) == [Connect()]      # silent since 3 s: try again at 7 s
    assert _beat(state, 1, 7.5) == []            # the restarted one: wait for its answer
    assert state.confirm_by == 10.5


def test_register_again_is_obeyed_once_registered_or_when_our_register_went_unanswered():
    state = _registered()
    assert _receive(state, RegisterAgain("w2", "declared dead"), 1.0) == []   # not us
    assert _receive(state, RegisterAgain("w1", "declared dead"), 1.0) == [Connect()]
    # our new Register is on its way: the invitation is for the process that holds our id
    assert _receive(state, RegisterAgain("w1", "declared dead"), 2.0) == []
    assert _receive(state, RegisterAgain("w1", "declared dead"), 4.5) == [Connect()]


def test_a_refused_registration_is_retried_after_the_backoff_not_at_once():
    state = _started()
    assert _receive(state, ErrorReply("worker id w1 is held by a live process"), 0.5) == []
    assert state.retry_register_at == 2.5 and state.confirm_by is None
    assert _tick(state, 2.0) == []
    assert _tick(state, 2.5) == [Connect()]
    assert _receive(state, ErrorReply("still held"), 2.6) == []
    assert state.retry_register_at == pytest.approx(6.6)      # 4 s this time


def test_an_error_answer_once_registered_means_the_coordinator_lost_us():
    state = _registered()
    assert _receive(state, ErrorReply("unknown worker w1"), 1.0) == [Connect()]
    assert state.phase is WorkerPhase.CONNECTING


# -- health -------------------------------------------------------------------------------


def test_a_failed_disk_stops_the_worker_taking_tasks_until_a_probe_passes(caplog):
    caplog.set_level(logging.INFO, logger="zmr.worker")
    state = _registered()
    assert state.handle(DiskFailed("worker w1: no space"), 10.0) == []
    assert state.phase is WorkerPhase.UNHEALTHY and not state.takes_work
    for now in (11.0, 25.0, 39.9):
        _beat(state, int(now), now)
        assert _tick(state, now) == []           # paused: no probe yet
    _beat(state, 40, 40.0)
    assert _tick(state, 40.0) == [ProbeDisk()]
    assert state.handle(DiskProbed(False), 40.0) == [AskForWork()]   # still "0 free"
    assert not state.takes_work and _tick(state, 41.0) == []
    _beat(state, 70, 70.0)
    assert _tick(state, 70.0) == [ProbeDisk()]   # another whole pause later
    assert state.handle(DiskProbed(True), 70.0) == [AskForWork()]
    assert state.phase is WorkerPhase.REGISTERED and state.takes_work
    assert "unhealthy, taking no tasks for 30s: worker w1: no space" in caplog.text
    assert "healthy again" in caplog.text


def test_a_disk_that_failed_while_connecting_makes_the_worker_unhealthy_once_answered():
    state = _started()
    state.handle(DiskFailed("worker w1: read-only"), 0.5)
    assert state.phase is WorkerPhase.CONNECTING and not state.takes_work
    assert _receive(state, Registered("w1"), 1.0) == [AskForWork()]
    assert state.phase is WorkerPhase.UNHEALTHY


# -- work, beats and stopping ----------------------------------------------------------


def test_work_messages_become_actions_on_the_slots(tmp_path):
    state = _registered()
    (tmp_path / "in.txt").write_text("a b\n")
    spec = plan_job(load_job(WORDCOUNT), [str(tmp_path / "in.txt")], str(tmp_path / "out"),
                    JobOptions(reducers=1)).map_spec("job-1", 0, 1, str(tmp_path / "w"))
    assign = AssignTask(KEY, spec, True)
    assert _receive(state, assign, 1.0, b"code") == [StartAttempt(assign, b"code")]
    again = AssignTask(KEY, spec, False)          # the job's code came with an earlier one
    assert _receive(state, again, 1.0, b"x") == [StartAttempt(again, None)]
    assert _receive(state, KillTask(KEY), 1.0) == [KillAttempt(KEY)]
    cut = ShrinkAttempt(KEY, 4096)
    assert _receive(state, cut, 1.0) == [CutAttempt(cut)]
    assert _receive(state, JobEnded("job-1", "SUCCEEDED"), 1.0) == [EndJob("job-1")]


def test_heartbeats_are_numbered_and_due_every_interval_and_logs_pruned_on_schedule():
    state = _registered()
    assert state.handle(Tick(), 0.0) == [PublishBeat(1), PruneLogs()]
    assert state.wait_s(0.4) == pytest.approx(0.6)
    assert state.handle(Tick(), 0.5) == []
    assert state.handle(Tick(), 1.0) == [PublishBeat(2)]
    assert state.wait_s(5.0) == 0.0
    _receive(state, JobEnded("job-1", "FAILED"), 1.5)
    assert PruneLogs() in state.handle(Tick(), 1.6)   # a job ended: prune at once


def test_any_message_counts_as_the_coordinator_being_alive():
    state = _registered()
    for now in range(1, 20):
        _receive(state, RequestTask("someone", 1), float(now))     # ignored, but heard
        assert _tick(state, float(now)) == []


def test_stopping_is_final_and_every_later_event_is_ignored():
    state = _registered()
    assert _receive(state, Shutdown("cluster stop"), 1.0) == []
    assert state.stopped and not state.failed
    for event in (Tick(), Received(Registered("w1")), DiskFailed("x"), ShuffleStopped(),
                  StopRequested("again")):
        assert state.handle(event, 100.0) == []
    assert state.phase is WorkerPhase.STOPPING


def test_a_dead_shuffle_service_stops_the_worker_as_failed():
    state = _registered()
    assert state.handle(ShuffleStopped(), 1.0) == [] and state.stopped and state.failed


def test_an_event_that_is_not_a_worker_event_is_a_clear_error():
    state = _registered()
    with pytest.raises(TypeError, match="no handler for RequestTask: not a worker event"):
        state.handle(RequestTask("w1", 1), 1.0)


def test_a_phase_change_outside_the_table_is_refused_with_the_story():
    state = _registered()
    state.handle(StopRequested("test"), 1.0)
    state.phase = WorkerPhase.STOPPING
    with pytest.raises(InvalidWorkerTransition) as caught:
        state._enter(WorkerPhase.REGISTERED, 2.0)
    assert "stopping -> registered is not allowed" in str(caught.value)
    assert "Registered: connecting -> registered" in str(caught.value)   # the story


# -- every transition of the table ----------------------------------------------------------

def _unhealthy() -> WorkerState:
    state = _registered()
    state.handle(DiskFailed("disk"), 1.0)
    return state


#: For each allowed phase change: a worker in the start phase, and the event moving it.
SCENARIOS = {
    (WorkerPhase.CONNECTING, WorkerPhase.REGISTERED):
        (_started, Received(Registered("w1"))),
    (WorkerPhase.CONNECTING, WorkerPhase.UNHEALTHY):
        (lambda: _after(_started(), DiskFailed("disk")), Received(Registered("w1"))),
    (WorkerPhase.CONNECTING, WorkerPhase.STOPPING):
        (_started, StopRequested("signal")),
    (WorkerPhase.REGISTERED, WorkerPhase.CONNECTING):
        (_registered, Received(RegisterAgain("w1", "declared dead"))),
    (WorkerPhase.REGISTERED, WorkerPhase.UNHEALTHY):
        (_registered, DiskFailed("disk")),
    (WorkerPhase.REGISTERED, WorkerPhase.STOPPING):
        (_registered, Received(Shutdown("bye"))),
    (WorkerPhase.UNHEALTHY, WorkerPhase.REGISTERED):
        (_unhealthy, DiskProbed(True)),
    (WorkerPhase.UNHEALTHY, WorkerPhase.CONNECTING):
        (_unhealthy, Received(ErrorReply("unknown worker"))),
    (WorkerPhase.UNHEALTHY, WorkerPhase.STOPPING):
        (_unhealthy, ShuffleStopped()),
}


def _after(state: WorkerState, event) -> WorkerState:
    state.handle(event, 0.5)
    return state


def test_the_scenarios_cover_the_whole_table():
    table = {(start, finish) for start, finishes in TRANSITIONS.items() for finish in finishes}
    assert set(SCENARIOS) == table


@pytest.mark.parametrize("change", list(SCENARIOS), ids=lambda c: f"{c[0].value}-{c[1].value}")
def test_every_allowed_phase_change(change):
    start, finish = change
    make, event = SCENARIOS[change]
    state = make()
    assert state.phase is start
    state.handle(event, 2.0)
    assert state.phase is finish
    assert state.story[-1].start is start and state.story[-1].finish is finish
