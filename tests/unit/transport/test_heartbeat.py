"""Liveness by expiry and numbered beats, on an injected clock (no sleeping)."""

from __future__ import annotations

from zmr.transport.heartbeat import Beat, Liveness


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def test_peer_expires_after_interval_times_liveness_of_silence():
    clock = FakeClock()
    live = Liveness(interval_s=1.0, liveness=3, clock=clock)
    live.heard("w1")
    clock.now_s += 2.9
    assert live.expired() == []
    clock.now_s += 0.2                      # 3.1 s of silence > 1.0 * 3
    assert live.expired() == ["w1"]


def test_any_message_refreshes_liveness_not_only_beats():
    clock = FakeClock()
    live = Liveness(1.0, 3, clock)
    live.heard("w1", seq=1)
    for _ in range(10):                      # 20 s of task traffic without a single beat
        clock.now_s += 2.0
        live.heard("w1")                     # e.g. a TaskDone on the ROUTER
    assert live.expired() == [] and live.age_s("w1") == 0.0


def test_only_silent_peers_expire_and_forgotten_peers_never_do():
    clock = FakeClock()
    live = Liveness(0.5, 2, clock)
    live.heard("quiet")
    live.heard("gone")
    live.forget("gone")
    clock.now_s += 0.8
    live.heard("chatty")
    clock.now_s += 0.5
    assert live.expired() == ["quiet"]


def test_sequence_gaps_count_lost_beats():
    live = Liveness(1.0, 3, FakeClock())
    for seq in (1, 2, 5, 6, 9):
        live.heard("w1", seq)
    assert live.gaps == 4                    # 3, 4, 7, 8 never arrived
    live.forget("w1")
    live.heard("w1", 1)                      # a restarted peer counts from 1 again
    assert live.gaps == 4


def test_age_of_a_peer():
    clock = FakeClock()
    live = Liveness(1.0, 3, clock)
    live.heard("w1")
    clock.now_s += 1.25
    assert live.age_s("w1") == 1.25
    assert live.age_s("never-heard") == 0.0


def test_beat_is_due_every_interval_and_numbered():
    clock = FakeClock()
    beat = Beat(0.5, clock)
    assert beat.due()                        # the first beat goes out at once
    assert beat.next_seq() == 1
    assert not beat.due() and beat.time_left_s() == 0.5
    clock.now_s += 0.3
    assert not beat.due() and abs(beat.time_left_s() - 0.2) < 1e-9
    clock.now_s += 0.2
    assert beat.due() and beat.next_seq() == 2
    clock.now_s += 10
    assert beat.time_left_s() == 0.0         # never negative: poll timeouts stay valid
