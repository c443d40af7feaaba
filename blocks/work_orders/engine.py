"""Work-order rules as plain functions: routing explosion, WIP, report checks, labour time.

No Flask and no database: ``actions.py`` reads rows, calls these, and writes
the result through the record service.
"""
from __future__ import annotations

from dataclasses import dataclass


class ReportRefused(ValueError):
    """A report the rules do not allow; the message is shown to the operator."""


@dataclass(frozen=True)
class OperationState:
    seq: int
    received: int
    good: int
    scrap: int
    status: str = "waiting"

    @property
    def wip(self) -> int:
        return self.received - self.good - self.scrap


def operations_from_routing(quantity: int, steps: list[dict]) -> list[dict]:
    """One operation per routing step in sequence order; the first receives the order quantity."""
    ordered = sorted(steps, key=lambda s: s["seq"])
    return [{"seq": step["seq"], "operation": step["operation"], "workstation": step.get("workstation"),
             "received_qty": quantity if i == 0 else 0}
            for i, step in enumerate(ordered)]


def check_report(op: OperationState, good: int, scrap: int, tolerance: int = 0) -> None:
    """An operation cannot report more than it received (plus the allowed over-run)."""
    if good < 0 or scrap < 0:
        raise ReportRefused("quantities cannot be negative")
    if op.status == "done":
        raise ReportRefused(f"operation {op.seq} is finished; reopen it before reporting")
    allowed = op.received + tolerance - op.good - op.scrap
    if good + scrap > allowed:
        raise ReportRefused(f"operation {op.seq} can report at most {max(allowed, 0)} more piece(s): "
                            f"received {op.received}, already reported {op.good + op.scrap}")


def check_start(op: OperationState, predecessor: OperationState | None, require_predecessor: bool = True) -> None:
    if require_predecessor and predecessor is not None and predecessor.status == "waiting":
        raise ReportRefused(f"operation {op.seq} cannot start before operation {predecessor.seq} has started")


def next_status(kind: str, current: str) -> str:
    """Status after a start / pause / report / finish event."""
    if kind == "start":
        return "running"
    if kind == "pause":
        return "paused"
    if kind == "finish":
        return "done"
    return "running" if current in ("waiting", "paused") else current


def parameter_out_of_limits(value, low, high) -> bool:
    if value is None:
        return False
    return (low is not None and value < low) or (high is not None and value > high)


def labour_minutes(events: list[tuple[str, str, float]]) -> dict[str, float]:
    """(operator, kind, minute) events in time order → minutes worked per operator.

    Each operator's clock runs from 'start' (or a 'report' while stopped) until
    'pause' or 'finish'; several operators on one operation each have their own clock.
    """
    running: dict[str, float] = {}
    worked: dict[str, float] = {}
    for operator, kind, minute in events:
        if kind in ("start", "report") and operator not in running:
            running[operator] = minute
        elif kind in ("pause", "finish") and operator in running:
            worked[operator] = worked.get(operator, 0) + minute - running.pop(operator)
    return worked
