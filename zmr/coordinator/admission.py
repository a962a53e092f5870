"""Who may register as which worker, and which workers are asked to register again.

A worker's id is its ROUTER identity, so any process that reaches the control port (any
local one without CURVE, any listed key with it) can claim an id. Each worker process
draws a random ``token`` at start and sends it in every ``Register``: the same process
registering again (it reconnected, or was declared dead while frozen) keeps its
registration; another process claiming an id whose registered process is still beating is
refused and logged. A worker restarted under the same ``--id`` is that other process: it is
accepted once the old one has been silent for ``STALE_BEATS`` heartbeat intervals (it died,
so that takes seconds, not the whole liveness timeout), and retries until then.

The refused connection has taken over the ROUTER's route to that id (``ROUTER_HANDOVER``,
which lets a reconnecting worker in), so the live worker is told to register again on a
fresh connection, which takes the route back; what was sent to the impostor meanwhile is
reconciled by that registration (attempts it does not run are run again).

Heartbeats from a worker the coordinator does not know come from one it declared dead that
is alive after all (frozen by ``SIGSTOP``, or cut off for a while), or from one registered
with this coordinator's previous process that missed the restart (its subscription came
back only after the new process's beat numbers had passed the old one's, so they never
went back). Such a worker may have nothing else to send, and the coordinator's beats keep
its own silence timer quiet, so it is told to register again too: one declared dead at
once, one never heard of once it has beaten for a liveness timeout without registering (a
new worker's first beat may simply overtake its registration). ``RegisterAgain`` is published (PUB), since the worker's control
connection may be what is broken; at most once per liveness timeout per worker id.
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
#: Ids remembered for rate-limiting ``RegisterAgain`` (made-up ids cannot grow it).
MAX_ASKED = 10_000


class Admission:
    """The registration fence and the invitations to register again."""

    def __init__(self, liveness: Liveness, interval_s: float,
                 clock: Callable[[], float]) -> None:
        self.liveness = liveness
        self.stale_after_s = STALE_BEATS * interval_s
        self.dead = _Limiter(liveness.timeout_s, clock)      # declared dead: when last asked
        self.claimed = _Limiter(interval_s, clock)           # ids another process claimed

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

    def declared_dead(self, worker_id: str) -> None:
        self.dead.due_at_once(worker_id)     # asked as soon as it is heard

    def registered(self, worker_id: str) -> None:
        self.dead.remove(worker_id)

    def should_ask(self, worker_id: str) -> bool:
        """Whether to tell ``worker_id``, heard beating though unknown, to register again
        now: at once if we declared it dead, else after a liveness timeout of beats (a new
        worker's first beat may simply overtake its registration); then at most once per
        liveness timeout."""
        self.dead.start(worker_id)
        return self.dead.due(worker_id)

    def should_reclaim(self, worker_id: str) -> bool:
        """Whether to tell the live ``worker_id`` to reconnect, its id claimed by another
        connection (at most once per heartbeat interval: a forger may keep trying)."""
        self.claimed.add(worker_id)
        return self.claimed.due(worker_id)


class _Limiter:
    """Ids, each allowed something at most once per ``every_s``; bounded (made-up ids
    cannot grow it without end)."""

    def __init__(self, every_s: float, clock: Callable[[], float]) -> None:
        self.every_s, self.clock = every_s, clock
        self.last: dict[str, float] = {}       # id -> when last allowed (-inf: never)

    def add(self, key: str) -> None:
        if len(self.last) >= MAX_ASKED:
            self.last.clear()
        self.last.setdefault(key, float("-inf"))

    def due_at_once(self, key: str) -> None:
        self.add(key)
        self.last[key] = float("-inf")

    def start(self, key: str) -> None:
        """Count ``key``'s wait from now, unless it is already counted (or due at once)."""
        if key not in self.last:
            self.add(key)
            self.last[key] = self.clock()

    def remove(self, key: str) -> None:
        self.last.pop(key, None)

    def due(self, key: str) -> bool:
        if key not in self.last or self.clock() - self.last[key] < self.every_s:
            return False
        self.last[key] = self.clock()
        return True
