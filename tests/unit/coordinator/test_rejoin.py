"""Workers that come back: a worker declared dead while frozen registers again with the same
process token and is told to stop the attempts that ran again elsewhere; a registration
for a live worker's id from another process is refused until that worker falls silent;
heartbeats from a worker declared dead are answered with an invitation to register again,
at most once per liveness timeout."""

from __future__ import annotations

from tests.unit.coordinator.drive import ask, assigned, join, plan, submit
from zmr.coordinator import views
from zmr.coordinator.admission import Admission
from zmr.coordinator.commands import Send
from zmr.coordinator.machine import CoordinatorState
from zmr.coordinator.states import AttemptState
from zmr.coordinator.stimuli import WorkerExpired
from zmr.core.ids import AttemptId
from zmr.protocol.messages import KillTask, Register
from zmr.transport.heartbeat import Liveness


def _kills(commands):
    return [c.msg.attempt for c in commands if isinstance(c, Send)
            and isinstance(c.msg, KillTask)]


def test_a_worker_declared_dead_rejoins_and_stops_what_ran_again_elsewhere():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=2))
    join(s, "w1", token="t1")
    assert assigned(ask(s, "w1")) == [("w1", "map", 0, 1)]
    s.handle(WorkerExpired(5.0, "w1"))                  # frozen: declared dead
    assert not views.knows_worker(s, "w1")
    first = AttemptId(job_id, "map", 0, 1)
    # thawed, told to register again: it still runs attempt 1, which we no longer count on
    commands = join(s, "w1", now=6.0, token="t1", running=[first])
    assert _kills(commands) == [first]
    assert s.jobs[job_id].maps[0].attempts[0].state == AttemptState.LOST
    assert assigned(ask(s, "w1", now=6.0)) == [("w1", "map", 0, 2)]     # and works again


def test_a_worker_registering_again_keeps_the_attempts_we_count_on():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=2))
    join(s, "w1", token="t1")
    assert assigned(ask(s, "w1")) == [("w1", "map", 0, 1)]
    first = AttemptId(job_id, "map", 0, 1)
    commands = join(s, "w1", now=1.0, token="t1", running=[first])    # it reconnected
    assert _kills(commands) == []
    assert s.jobs[job_id].maps[0].attempts[0].running
    (described,) = views.describe_workers(s, lambda _: 0.0)
    assert (described["running"], described["free_slots"]) == (1, 0)


def test_another_process_under_the_same_id_is_a_restart_once_let_in():
    s = CoordinatorState(speculative=False)
    job_id, _ = submit(s, plan(maps=2))
    join(s, "w1", token="t1")
    assert assigned(ask(s, "w1")) == [("w1", "map", 0, 1)]
    join(s, "w1", now=9.0, token="t2")                 # same shuffle endpoint, new process
    assert s.jobs[job_id].maps[0].attempts[0].state == AttemptState.LOST


def _admission(now):
    liveness = Liveness(1.0, 3, clock=lambda: now[0])
    return Admission(liveness, 1.0, lambda: now[0]), liveness


def test_a_registration_for_a_live_workers_id_from_another_process_is_refused():
    now = [0.0]
    admission, liveness = _admission(now)
    s = CoordinatorState()
    join(s, "w1", token="real")
    liveness.heard("w1")
    forged = Register("w1", "evil", "tcp://127.0.0.1:9", 1, 1, 1, token="forged")
    now[0] = 1.5                                           # w1 beat 1.5 s ago: live
    assert "registration refused" in admission.refusal(s, forged)
    same = Register("w1", "h", "tcp://w1:1", 1, 1, 1, token="real")
    assert admission.refusal(s, same) == ""              # itself, reconnecting
    assert admission.refusal(s, Register("w2", "h", "tcp://w2:1", 1, 1, 1)) == ""
    now[0] = 2.5                                           # silent for 2 beats: gone
    assert admission.refusal(s, forged) == ""


def test_workers_declared_dead_are_asked_to_register_at_most_once_per_timeout():
    now = [0.0]
    admission, _ = _admission(now)
    # a new worker's first beat may overtake its registration: it is not asked
    assert not admission.should_ask("w1")
    admission.declared_dead("w1")
    admission.declared_dead("w2")
    assert admission.should_ask("w1") and not admission.should_ask("w1")
    assert admission.should_ask("w2")
    now[0] = 2.9
    assert not admission.should_ask("w1")
    now[0] = 3.0                                           # one liveness timeout later
    assert admission.should_ask("w1")
    admission.registered("w1")                             # back: no more asking
    now[0] = 9.0
    assert not admission.should_ask("w1")
    # never registered with us (it missed our restart): asked once it has beaten unknown
    # for a liveness timeout
    now[0] = 11.9
    assert not admission.should_ask("w1")
    now[0] = 12.0
    assert admission.should_ask("w1") and not admission.should_ask("w1")


def test_a_live_worker_whose_id_was_claimed_is_told_to_reconnect_once_per_beat():
    now = [0.0]
    admission, _ = _admission(now)
    assert admission.should_reclaim("w1") and not admission.should_reclaim("w1")
    now[0] = 1.0
    assert admission.should_reclaim("w1")
