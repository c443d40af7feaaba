"""Andon rules as plain functions: response and resolution times, board colours,
which calls are due for escalation, and time statistics per call type.

Times are naive date-times on one clock (the plant's local time, as the
datetime fields hold them). No Flask and no database.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

GREEN, AMBER, RED = "green", "amber", "red"
WAITING = ("open", "acknowledged")  # states a call is still on the board in


def minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    """Minutes from start to end, to the second; None when either is missing."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def response_minutes(call: dict) -> float | None:
    """Raised → acknowledged. A call resolved without an acknowledgement was answered when resolved."""
    return minutes(call.get("raised_at"), call.get("acknowledged_at") or call.get("resolved_at"))


def resolution_minutes(call: dict) -> float | None:
    """Raised → resolved."""
    return minutes(call.get("raised_at"), call.get("resolved_at"))


def colour(elapsed: float, amber_after: float, red_after: float) -> str:
    """Green below ``amber_after`` minutes, amber below ``red_after``, red from then on."""
    if elapsed >= red_after:
        return RED
    return AMBER if elapsed >= amber_after else GREEN


def due_for_escalation(calls: Iterable[dict], now: dt.datetime, after_minutes: float, level: int = 1) -> list[dict]:
    """Open (not acknowledged) calls waiting ``after_minutes`` or longer and not yet escalated to ``level``."""
    return [c for c in calls if c.get("status") == "open" and (c.get("escalation_level") or 0) < level
            and minutes(c["raised_at"], now) >= after_minutes]


@dataclass(frozen=True)
class TimeStats:
    calls: int
    answered: int
    resolved: int
    mean_response: float | None
    max_response: float | None
    mean_resolution: float | None
    max_resolution: float | None


def time_stats(calls: Iterable[dict], key: str = "call_type") -> dict[str, TimeStats]:
    """Mean and longest response and resolution minutes per value of ``key`` (MTTA / MTTR)."""
    groups: dict[str, list[dict]] = {}
    for call in calls:
        groups.setdefault(call.get(key), []).append(call)
    return {name: _stats(group) for name, group in groups.items()}


def _stats(calls: list[dict]) -> TimeStats:
    response = [m for m in map(response_minutes, calls) if m is not None]
    resolution = [m for m in map(resolution_minutes, calls) if m is not None]
    return TimeStats(len(calls), len(response), len(resolution), _mean(response), max(response, default=None),
                     _mean(resolution), max(resolution, default=None))


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
