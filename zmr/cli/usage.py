"""How a job's slot usage reads in ``zmr run``, ``zmr status`` and ``zmr history``: one
line from the usage keys of a status reply (or a JobResult's), "-" for what is not known
(a job still running in a brief reply, one journaled by an older coordinator)."""

from __future__ import annotations

from typing import Any

from zmr.job.counters import BUILTIN_GROUP, MAPS_REUSED


def usage_line(usage: dict[str, Any]) -> str:
    """``slots 78% busy (3.1s busy of 4.0 slot-s, 2 slots)  splits 4  rebalanced 0``."""
    utilisation, busy_s, slot_s = (usage.get(k) for k in ("utilisation", "busy_s", "slot_s"))
    busy = "slots - busy" if utilisation is None else (
        f"slots {utilisation:.0%} busy ({busy_s:.1f}s busy of {slot_s:.1f} slot-s"
        f"{_average_slots(usage.get('slots'))})")
    return f"{busy}  splits {_or_dash(usage.get('splits'))}  rebalanced " \
           f"{_or_dash(usage.get('rebalanced'))}"


def reused_note(counters: dict[str, dict[str, int]], maps: int) -> str:
    """`` (map 28/30 reused)`` when ``--reuse`` took kept outputs, else ""."""
    reused = counters.get(BUILTIN_GROUP, {}).get(MAPS_REUSED, 0)
    return f" (map {reused}/{maps} reused)" if reused else ""


def _average_slots(slots: float | None) -> str:
    return f", {slots:g} slot{'' if slots == 1 else 's'}" if slots else ""


def worker_shares(usage: dict[str, Any]) -> str:
    """Each worker's share of the busy time, busiest first ("" if none is known)."""
    per_worker = usage.get("worker_busy_s") or {}
    total = sum(per_worker.values())
    if total <= 0:
        return ""
    ranked = sorted(per_worker.items(), key=lambda item: (-item[1], item[0]))
    return "  ".join(f"{worker} {seconds / total:.0%}" for worker, seconds in ranked)


def _or_dash(value: Any) -> str:
    return "-" if value is None else str(value)
