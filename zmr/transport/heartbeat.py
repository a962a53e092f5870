"""Liveness by expiry (ZeroMQ guide, Paranoid Pirate): a peer is alive while it has been
heard from within ``interval_s * liveness``; *any* message from it counts, not only beats.
Clocks are injected so the logic is tested without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class Liveness:
    """Tracks when each peer was last heard from."""

    def __init__(self, interval_s: float, liveness: int, clock: Clock = time.monotonic) -> None:
        self.timeout_s = interval_s * liveness
        self.clock = clock
        self.last_seen: dict[str, float] = {}
        self.last_seq: dict[str, int] = {}
        self.gaps = 0

    def heard(self, peer: str, seq: int | None = None) -> None:
        self.last_seen[peer] = self.clock()
        if seq is not None:
            previous = self.last_seq.get(peer)
            if previous is not None and seq > previous + 1:
                self.gaps += seq - previous - 1     # beats lost (PUB drops at its HWM)
            self.last_seq[peer] = seq

    def forget(self, peer: str) -> None:
        self.last_seen.pop(peer, None)
        self.last_seq.pop(peer, None)

    def expired(self) -> list[str]:
        """Peers silent for longer than the timeout."""
        deadline = self.clock() - self.timeout_s
        return [p for p, t in self.last_seen.items() if t < deadline]

    def age_s(self, peer: str) -> float:
        return self.clock() - self.last_seen.get(peer, self.clock())


class Beat:
    """Decides when the next heartbeat is due and numbers them."""

    def __init__(self, interval_s: float, clock: Clock = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.seq = 0
        self.next_at = clock()

    def due(self) -> bool:
        return self.clock() >= self.next_at

    def next_seq(self) -> int:
        self.seq += 1
        self.next_at = self.clock() + self.interval_s
        return self.seq

    def time_left_s(self) -> float:
        return max(0.0, self.next_at - self.clock())
