"""Who may register as which worker, and which workers are asked to register again.

A worker's id is its ROUTER identity, so any process that reaches the control port (any
local one without CURVE, any listed key with it) can claim an id. Each worker process
draws a random ``token`` at start and sends it in every ``Register``: the same process
registering again (it reconnected, or was declared dead while frozen) keeps its
registration; another process claiming an id whose registered process is still beating is
refused and logged. A worker restarted under the same ``--id`` is that other process: it is
accepted once the old one has been silent for ``STALE_BEATS`` heartbeat intervals (it died,
so that takes seconds, not the whole liveness timeout), and retries until then.

The other way round: heartbeats from a worker the coordinator does not know come from one
it declared dead that is alive after all (frozen by ``SIGSTOP``, or cut off for a while).
Such a worker may have nothing else to send, and the coordinator's beats keep its own
silence timer quiet, so it is told to register again (``RegisterAgain``), at most once per
liveness timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from zmr.coordinator import views
from zmr.protocol.messages import Register
from zmr.transport.heartbeat import Liveness

if TYPE_CHECKING:
    from zmr.coordinator.machine import CoordinatorState

#: Heartbeat intervals of silence after which a registered worker's id may be taken over.
STALE_BEATS = 2
#: Senders remembered for rate-limiting ``RegisterAgain`` (made-up ids cannot grow it).
MAX_ASKED = 10_000


class Admission:
    """The registration fence and the invitations to register again."""

    def __init__(self, liveness: Liveness, interval_s: float,
                 clock: Callable[[], float]) -> None:
        self.liveness = liveness
        self.clock = clock
        self.stale_after_s = STALE_BEATS * interval_s
        self.ask_every_s = liveness.timeout_s
        self.asked: dict[str, float] = {}        # worker id -> when last asked

    def refusal(self, state: CoordinatorState, msg: Register) -> str:
        """Why ``msg`` may not register ("" if it may): its id belongs to another process
        that is still beating."""
        token = views.worker_token(state, msg.worker_id)
        if token is None or token == msg.token:
            return ""
        silent_s = self.liveness.age_s(msg.worker_id)
        if silent_s > self.stale_after_s:
            return ""                 # the registered process is gone: a restart
        return (f"worker={msg.worker_id[:64]}: registration refused: that id belongs to "
                f"another worker process, heard {silent_s:.1f}s ago (host "
                f"{views.worker_host(state, msg.worker_id)}); a restarted worker is accepted "
                f"once the old one has been silent for {self.stale_after_s:g}s")

    def should_ask(self, worker_id: str) -> bool:
        """Whether to tell ``worker_id`` (heard beating, unknown) to register again now."""
        now = self.clock()
        if now - self.asked.get(worker_id, float("-inf")) < self.ask_every_s:
            return False
        if len(self.asked) >= MAX_ASKED:
            self.asked.clear()
        self.asked[worker_id] = now
        return True
