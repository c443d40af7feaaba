"""Inspection rules as plain functions: judging characteristics, units and whole
inspections against a plan, and first-pass yield.

No Flask and no database: ``actions.py`` reads the plan and the results, calls
these, and writes the verdicts through the record service.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from math import prod

NUMERIC, PASS_FAIL, ATTRIBUTE = "numeric", "pass_fail", "attribute"
PASS_WORDS = frozenset({"pass", "ok", "yes", "y", "true", "1", "go", "合格"})
FAIL_WORDS = frozenset({"fail", "ng", "no", "n", "false", "0", "nogo", "no go", "不合格"})


class InspectionRefused(ValueError):
    """Results that cannot be judged (missing, unknown or unreadable); the message says what to fix."""


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise InspectionRefused(f"'{value}' is not a number") from None


def _shown(number: Decimal) -> str:
    """10.0700 → '10.07': as a person would write the number."""
    return format(number.normalize(), "f")


def _words(text) -> tuple[str, ...]:
    """'A, B;C' → ('a', 'b', 'c'): lists typed into one text field, compared without case."""
    parts = str(text or "").replace(";", ",").replace("，", ",").split(",")
    return tuple(p.strip().casefold() for p in parts if p.strip())


@dataclass(frozen=True)
class Characteristic:
    name: str
    kind: str = NUMERIC
    nominal: Decimal | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()  # attribute: the values an inspector may pick (empty: any)
    accept: tuple[str, ...] = ()   # attribute: the values that pass (empty: every choice passes)

    @classmethod
    def from_row(cls, row: dict) -> "Characteristic":
        """From a plan's characteristic row (``qc_plan_char``)."""
        return cls(row["name"], row.get("kind") or NUMERIC, _decimal(row.get("nominal")),
                   _decimal(row.get("lower_limit")), _decimal(row.get("upper_limit")), row.get("unit") or "",
                   _words(row.get("choices")), _words(row.get("accept")))


@dataclass(frozen=True)
class Verdict:
    passed: bool
    detail: str = ""


def judge(char: Characteristic, measured=None, answer=None) -> Verdict:
    """One characteristic of one unit: inside the limits / 'pass' / an accepted attribute."""
    if char.kind == NUMERIC:
        return _judge_numeric(char, _decimal(measured))
    text = str(answer or "").strip().casefold()
    if not text:
        raise InspectionRefused(f"'{char.name}' needs an answer")
    if char.kind == PASS_FAIL:
        if text in PASS_WORDS:
            return Verdict(True)
        if text in FAIL_WORDS:
            return Verdict(False, f"{char.name}: {answer}")
        raise InspectionRefused(f"'{char.name}': answer pass or fail, not '{answer}'")
    if char.kind == ATTRIBUTE:
        if char.choices and text not in char.choices:
            raise InspectionRefused(f"'{char.name}': '{answer}' is not one of {', '.join(char.choices)}")
        passed = not char.accept or text in char.accept
        return Verdict(passed, "" if passed else f"{char.name}: {answer} (accepted: {', '.join(char.accept)})")
    raise InspectionRefused(f"'{char.name}' has an unknown kind '{char.kind}'")


def _judge_numeric(char: Characteristic, value: Decimal | None) -> Verdict:
    if value is None:
        raise InspectionRefused(f"'{char.name}' needs a measured value")
    unit = f" {char.unit}" if char.unit else ""
    if char.lower is not None and value < char.lower:
        return Verdict(False, f"{char.name}: {_shown(value)}{unit} < lower limit {_shown(char.lower)}")
    if char.upper is not None and value > char.upper:
        return Verdict(False, f"{char.name}: {_shown(value)}{unit} > upper limit {_shown(char.upper)}")
    return Verdict(True)


@dataclass(frozen=True)
class Judgement:
    verdicts: list[Verdict]    # one per result, in the order given
    units_inspected: int
    units_passed: int

    @property
    def units_failed(self) -> int:
        return self.units_inspected - self.units_passed

    @property
    def passed(self) -> bool:
        return self.units_failed == 0

    @property
    def findings(self) -> str:
        return "\n".join(v.detail for v in self.verdicts if not v.passed)


def judge_inspection(chars: list[Characteristic], results: list[dict], sample_size: int) -> Judgement:
    """Every characteristic of every unit 1..sample_size needs exactly one result
    ({unit_no, characteristic, measured, answer}); a unit passes when all its
    characteristics pass, the inspection when every unit passes."""
    if sample_size < 1:
        raise InspectionRefused("the sample size must be at least 1")
    by_name = {c.name.casefold(): c for c in chars}
    if not by_name:
        raise InspectionRefused("the inspection plan has no characteristics")
    seen, verdicts, failed_units = set(), [], set()
    for row in results:
        unit, char = row.get("unit_no") or 1, by_name.get(str(row.get("characteristic") or "").casefold())
        if char is None:
            raise InspectionRefused(f"'{row.get('characteristic')}' is not a characteristic of the plan "
                                    f"(characteristics: {', '.join(c.name for c in chars)})")
        if not 1 <= unit <= sample_size:
            raise InspectionRefused(f"unit {unit} is outside the sample of {sample_size}")
        if (unit, char.name) in seen:
            raise InspectionRefused(f"unit {unit}: '{char.name}' is given twice")
        seen.add((unit, char.name))
        verdict = judge(char, row.get("measured"), row.get("answer"))
        if not verdict.passed:
            failed_units.add(unit)
            verdict = Verdict(False, f"unit {unit}: {verdict.detail}")
        verdicts.append(verdict)
    missing = [f"unit {u}: {c.name}" for u in range(1, sample_size + 1) for c in chars if (u, c.name) not in seen]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InspectionRefused(f"results are missing for {', '.join(missing[:5])}{more}")
    return Judgement(verdicts, sample_size, sample_size - len(failed_units))


# -- first-pass yield ----------------------------------------------------------

@dataclass(frozen=True)
class Yield:
    inspected: int
    passed: int

    @property
    def fpy(self) -> float | None:
        return self.passed / self.inspected if self.inspected else None


def first_pass_yield(inspections: Iterable[dict], key: str) -> dict:
    """FPY = units passing first time / units inspected, per value of ``key``
    (operation, product, …). Re-inspections (``first_pass`` false: the units
    were reworked) do not count, so rework cannot raise the yield."""
    totals: dict = {}
    for row in inspections:
        if not row.get("first_pass", True):
            continue
        inspected, passed = totals.get(row[key], (0, 0))
        totals[row[key]] = (inspected + (row["units_inspected"] or 0), passed + (row["units_passed"] or 0))
    return {k: Yield(*v) for k, v in totals.items()}


def rolled_throughput_yield(yields: Iterable[float]) -> float:
    """The chance a unit passes every operation first time: the product of the operations' FPYs."""
    return prod(yields)
