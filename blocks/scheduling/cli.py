"""``takt schedule jssp``: solve a job-shop file and write schedule.json.

The console wiring lives elsewhere; :func:`jssp` is the whole command as a
function returning an exit code, and :func:`solve_instance` is what the
benchmark measures, so both see exactly the same behaviour.
"""
from __future__ import annotations

import json
import os
import sys
import time

from blocks.scheduling import cpsat
from blocks.scheduling import dispatch as rules
from blocks.scheduling import jssp as fmt

EXIT_OK, EXIT_USAGE = 0, 2


def _ops(shop: rules.Shop, placed: list) -> list[fmt.Op]:
    """Placements as (job, op) records in job order."""
    return [fmt.Op(j, k, *placed[t]) for j, chain in enumerate(shop.chains)
            for k, t in enumerate(chain)]


def _gap(value: int, bound: int) -> float:
    """Relative distance to the lower bound: (makespan - LB) / LB."""
    return round((value - bound) / bound, 6) if bound > 0 else 0.0


def solve_instance(inst: fmt.Instance, time_limit: float, rule: str | None = None) -> dict:
    """The schedule.json document for ``inst``.

    With ``rule`` only that dispatching rule runs.  Otherwise every rule
    runs, the best one warm-starts CP-SAT for the rest of ``time_limit``,
    and ``lower_bound`` is max(solver bound, simple bound); the simple bound
    is strengthened with heads and tails (still valid, see dispatch.py).
    """
    t0 = time.monotonic()
    shop = rules.shop_from_instance(inst)
    simple = fmt.simple_lower_bound(inst)
    floor = max(simple, rules.makespan_lower_bound(shop))
    names = [rule.upper()] if rule else list(rules.RULES)
    runs = {name: rules.dispatch(shop, name) for name in names}
    spans = {name: rules.objective_value(shop, p, "makespan") for name, p in runs.items()}
    best = min(spans, key=spans.get)
    doc = {"instance": inst.name, "rule": best, "dispatch": spans,
           "dispatch_time": round(time.monotonic() - t0, 3), "simple_lower_bound": simple}
    if rule:
        value, bound, placed = spans[best], floor, runs[best]
        status = "optimal" if value <= bound else "feasible"
        doc.update(time_to_best=doc["dispatch_time"])
    else:
        res = cpsat.solve(shop, runs[best], spans[best], lower_bound=floor,
                          time_limit=time_limit - (time.monotonic() - t0))
        value, bound, placed, status = res.value, res.bound, res.placed, res.status
        offset = doc["dispatch_time"]
        doc.update(solver_bound=res.bound, time_to_best=round(offset + res.time_to_best, 3),
                   improvements=[[round(offset + t, 3), v] for t, v in res.history])
    doc.update(makespan=value, lower_bound=bound, status=status,
               gap=_gap(value, bound), wall_time=round(time.monotonic() - t0, 3),
               operations=[o.as_dict() for o in _ops(shop, placed)])
    return doc


def _fail(stderr, message: str) -> int:
    """Print a one-line error (no traceback) and return the usage exit code."""
    print(f"takt schedule jssp: error: {message}", file=stderr)
    return EXIT_USAGE


def jssp(file: str, out: str, time_limit: float, rule: str | None, stderr=sys.stderr) -> int:
    """Solve ``file`` and write the schedule JSON to ``out``; return an exit code.

    0 on success; 2 with a one-line message on stderr for a missing or
    malformed file, an unknown rule, a non-positive time limit or an
    unwritable output path.
    """
    if rule is not None and rule.upper() not in rules.RULES:
        return _fail(stderr, f"unknown rule {rule!r}; choose one of {', '.join(rules.RULES)}")
    if not rule and not time_limit > 0:
        return _fail(stderr, f"--time-limit must be a positive number of seconds, got {time_limit}")
    if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        return _fail(stderr, f"cannot write {out}: its folder does not exist")
    try:
        inst = fmt.load(file)
    except fmt.JsspFormatError as exc:
        return _fail(stderr, str(exc))
    except OSError as exc:
        return _fail(stderr, f"cannot read {file}: {exc.strerror or exc}")
    doc = solve_instance(inst, time_limit, rule)
    try:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
            fh.write("\n")
    except OSError as exc:
        return _fail(stderr, f"cannot write {out}: {exc.strerror or exc}")
    return EXIT_OK
