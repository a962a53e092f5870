"""Retention: which finished things a long-lived cluster forgets, by count, age and bytes.

One rule for a worker's attempt logs (per job) and the coordinator's history (per job):
newest first, keep at most ``max_count`` items, none older than ``max_age_s``, and no more
than ``max_bytes`` in all (the oldest go first), as YARN does with its log retention
(``yarn.log-aggregation.retain-seconds``) and Spark's history server with
``spark.history.fs.cleaner.maxAge`` / ``maxNum``. Protected items (a job still running,
the newest job) are never chosen, and do not count against the limits of the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """How much to keep: a count, an age in seconds and a size in bytes (each > 0)."""

    max_count: int
    max_age_s: float
    max_bytes: int


@dataclass(frozen=True)
class Item:
    """One thing that may be forgotten: its name, when it last changed, its size."""

    name: str
    time_s: float
    size: int


def to_forget(items: Iterable[Item], policy: Policy, now_s: float,
              protected: frozenset[str] = frozenset()) -> list[str]:
    """The names of ``items`` past the policy, oldest first."""
    newest_first = sorted((i for i in items if i.name not in protected),
                          key=lambda i: (-i.time_s, i.name))
    forget: list[str] = []
    total = 0
    for rank, item in enumerate(newest_first):
        total += item.size
        if (rank >= policy.max_count or now_s - item.time_s > policy.max_age_s
                or total > policy.max_bytes):
            forget.append(item.name)
            total -= item.size           # forgotten: it no longer takes room
    return forget[::-1]
