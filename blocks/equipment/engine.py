"""Equipment rules as plain functions: shift calendars, OEE, and care check lists.

OEE = availability × performance × quality, from
- planned production time: the shift's length less its breaks and planned stops,
- downtime: unplanned stops inside the shift, so run time = planned − downtime,
- ideal cycle time (minutes per part) and the total and good counts:
  A = run / planned, P = ideal × total / run, Q = good / total.
Times are naive date-times on the plant's clock; durations are minutes.
No Flask and no database.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- shift calendars ------------------------------------------------------------

@dataclass(frozen=True)
class ShiftWindow:
    name: str
    day: dt.date            # the day the shift starts on; a night shift belongs to it
    start: dt.datetime
    end: dt.datetime
    break_minutes: float = 0

    @property
    def planned_minutes(self) -> float:
        return max((self.end - self.start).total_seconds() / 60 - self.break_minutes, 0)


def _clock(text: str) -> dt.time:
    try:
        hours, minutes = (int(p) for p in str(text).split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise ValueError(f"'{text}' is not a time of day such as 06:00") from None


def shift_windows(shifts: Iterable[dict], day: dt.date) -> list[ShiftWindow]:
    """The shifts worked on ``day`` ({name, start 'HH:MM', end, break_minutes, weekdays}),
    in start order; a shift ending at or before its start ends the next day."""
    windows = []
    for shift in shifts:
        if shift.get("weekdays") and WEEKDAYS[day.weekday()] not in shift["weekdays"]:
            continue
        start = dt.datetime.combine(day, _clock(shift["start"]))
        end = dt.datetime.combine(day, _clock(shift["end"]))
        if end <= start:
            end += dt.timedelta(days=1)
        windows.append(ShiftWindow(shift["name"], day, start, end, float(shift.get("break_minutes") or 0)))
    return sorted(windows, key=lambda w: w.start)


def shift_at(shifts: list[dict], when: dt.datetime) -> ShiftWindow | None:
    """The shift running at ``when`` (a night shift may have started the day before), or None."""
    for day in (when.date(), when.date() - dt.timedelta(days=1)):
        for window in shift_windows(shifts, day):
            if window.start <= when < window.end:
                return window
    return None


def overlap_minutes(start: dt.datetime, end: dt.datetime, window_start: dt.datetime, window_end: dt.datetime) -> float:
    """Minutes of [start, end) inside [window_start, window_end)."""
    seconds = (min(end, window_end) - max(start, window_start)).total_seconds()
    return max(seconds, 0) / 60


# -- OEE ---------------------------------------------------------------------------

def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Oee:
    planned_minutes: float
    downtime_minutes: float
    ideal_cycle_minutes: float
    total: int
    good: int

    @property
    def run_minutes(self) -> float:
        return max(self.planned_minutes - self.downtime_minutes, 0)

    @property
    def availability(self) -> float | None:
        return _ratio(self.run_minutes, self.planned_minutes)

    @property
    def performance(self) -> float | None:
        """Not capped at 1: above 1 means the ideal cycle time is set too slow."""
        return _ratio(self.ideal_cycle_minutes * self.total, self.run_minutes)

    @property
    def quality(self) -> float | None:
        return _ratio(self.good, self.total)

    @property
    def oee(self) -> float | None:
        parts = (self.availability, self.performance, self.quality)
        return None if None in parts else parts[0] * parts[1] * parts[2]

    def as_dict(self) -> dict:
        names = ("planned_minutes", "downtime_minutes", "run_minutes", "total", "good",
                 "availability", "performance", "quality", "oee")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class Stop:
    start: dt.datetime
    end: dt.datetime | None   # None: still going on
    planned: bool = False     # planned stops (maintenance, no orders) shorten planned time instead


def shift_oee(window: ShiftWindow, stops: Iterable[Stop], ideal_cycle: float, total: int, good: int,
              now: dt.datetime | None = None) -> Oee:
    """OEE of one shift; a stop still going on counts until ``now`` (or the shift's end)."""
    planned_stop = downtime = 0.0
    for stop in stops:
        end = stop.end or min(now or window.end, window.end)
        inside = overlap_minutes(stop.start, end, window.start, window.end)
        if stop.planned:
            planned_stop += inside
        else:
            downtime += inside
    planned = max(window.planned_minutes - planned_stop, 0)
    return Oee(planned, min(downtime, planned), float(ideal_cycle), int(total), int(good))


def day_oee(windows: list[ShiftWindow], stops: list[Stop], ideal_cycle: float, counts: dict,
            now: dt.datetime | None = None) -> dict:
    """{"shifts": {shift: Oee}, "day": Oee}: the day sums the shifts' times and counts
    (it is not the mean of the shifts' OEEs). ``counts``: {shift: (total, good)}."""
    shifts = {w.name: shift_oee(w, stops, ideal_cycle, *counts.get(w.name, (0, 0)), now=now) for w in windows}
    day = Oee(sum(s.planned_minutes for s in shifts.values()), sum(s.downtime_minutes for s in shifts.values()),
              float(ideal_cycle), sum(s.total for s in shifts.values()), sum(s.good for s in shifts.values()))
    return {"shifts": shifts, "day": day}


# -- care check lists (点检) ----------------------------------------------------------

PASS_WORDS = frozenset({"ok", "pass", "yes", "y", "true", "1", "正常", "合格", "√"})
FAIL_WORDS = frozenset({"ng", "fail", "no", "n", "false", "0", "异常", "不合格", "×"})


class CheckRefused(ValueError):
    """Check results that cannot be judged; the message says what to fix."""


def _shown(number) -> str:
    """7.000 → '7', 6.50 → '6.5': as a person would write the number."""
    return format(Decimal(str(number)).normalize(), "f")


def judge_check_item(item: dict, answer=None, reading=None) -> tuple[bool, str]:
    """One check-list item ({item, kind pass_fail|reading, lower, upper, unit}) → (passed, finding)."""
    name = item["item"]
    if item.get("kind") == "reading":
        if reading is None:
            raise CheckRefused(f"'{name}' needs a reading")
        value, low, high = Decimal(str(reading)), item.get("lower"), item.get("upper")
        unit = f" {item['unit']}" if item.get("unit") else ""
        if low is not None and value < Decimal(str(low)):
            return False, f"{name}: {_shown(value)}{unit} below {_shown(low)}"
        if high is not None and value > Decimal(str(high)):
            return False, f"{name}: {_shown(value)}{unit} above {_shown(high)}"
        return True, ""
    text = str(answer or "").strip().casefold()
    if text in PASS_WORDS:
        return True, ""
    if text in FAIL_WORDS:
        return False, f"{name}: {answer}"
    raise CheckRefused(f"'{name}': answer OK or NG" + (f", not '{answer}'" if text else ""))


def judge_check(items: list[dict], results: list[dict]) -> tuple[list[bool], list[str]]:
    """Every item of the list needs one result ({item, answer, reading}); returns
    (passed per result in the order given, findings)."""
    by_name = {i["item"].casefold(): i for i in items}
    given = {str(r.get("item") or "").casefold() for r in results}
    missing = [i["item"] for i in items if i["item"].casefold() not in given]
    if missing:
        raise CheckRefused(f"no result for {', '.join(missing)}")
    verdicts, findings = [], []
    for row in results:
        item = by_name.get(str(row.get("item") or "").casefold())
        if item is None:
            raise CheckRefused(f"'{row.get('item')}' is not on the check list")
        passed, finding = judge_check_item(item, row.get("answer"), row.get("reading"))
        verdicts.append(passed)
        findings += [finding] if finding else []
    return verdicts, findings
