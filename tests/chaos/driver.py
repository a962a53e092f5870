"""Chaos helpers: keep a local cluster at strength while workers are killed or frozen."""

from __future__ import annotations

import collections
import os
import random
import signal
import threading
import time

from zmr.runners.local import LocalCluster


class Respawner(threading.Thread):
    """Starts a replacement whenever a worker process dies (crash jobs kill their worker)."""

    def __init__(self, cluster: LocalCluster, strength: int) -> None:
        super().__init__(daemon=True)
        self.cluster, self.strength = cluster, strength
        self.respawned = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            alive = [p for p in self.cluster.workers.values() if p.poll() is None]
            for _ in range(self.strength - len(alive)):
                self.cluster.add_worker()
                self.respawned += 1
            time.sleep(0.2)


class Chaos(threading.Thread):
    """Every ``period_s`` on average, kill -9 a random worker or SIGSTOP one (and SIGCONT
    it a little later): the MapReduce paper's failures, at random moments."""

    def __init__(self, cluster: LocalCluster, period_s: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.cluster = cluster
        self.period_s = period_s
        self.rng = random.Random(seed)
        self.events: collections.Counter[str] = collections.Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        # strike early once, so even a short run is never spared, then at random intervals
        wait = self.rng.uniform(0.1, 0.5)
        while not self.stop.wait(wait):
            wait = self.rng.expovariate(1 / self.period_s)
            alive = [p for p in self.cluster.workers.values() if p.poll() is None]
            if not alive:
                continue
            victim = self.rng.choice(alive)
            self._strike(victim)

    def _strike(self, victim) -> None:
        if self.rng.random() < 0.6:
            victim.send_signal(signal.SIGKILL)
            self.events["kill -9"] += 1
        else:
            self._freeze(victim)

    def _freeze(self, victim) -> None:
        victim.send_signal(signal.SIGSTOP)
        self.events["SIGSTOP"] += 1
        if self.stop.wait(self.rng.uniform(1.0, 4.0)):
            victim.send_signal(signal.SIGCONT)
            return
        if self.rng.random() < 0.5:
            victim.send_signal(signal.SIGCONT)      # comes back: its late results are stale
            self.events["SIGCONT"] += 1
        else:
            victim.send_signal(signal.SIGKILL)
            self.events["kill -9 while stopped"] += 1


def expected_word_counts(directory: str) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name)) as f:
            for line in f:
                counts.update(line.split())
    return dict(counts)
