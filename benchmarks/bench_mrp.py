"""Benchmark ``run_mrp`` on a large, seeded, deterministic plan.

Run from the repo root::

    .venv/bin/python benchmarks/bench_mrp.py            # 20,000 items, 100,000 demand lines
    .venv/bin/python benchmarks/bench_mrp.py --cli      # also time `takt mrp run` file to file

The plan: 20,000 items on 6 BOM levels (2,000 end items), every component
with one parent on the level above and up to two more on any higher level
(so shared components sit at several depths), ~10% fractional qty_per
(which puts the whole run in float mode, the slower path), a mix of L4L /
FOQ / POQ with some min_qty and multiples, 100,000 demand lines (90% on
end items, 10% service parts) over 52 weekly periods and 5,000 scheduled
receipts.

Baseline, measured in the same process: build every item's gross array
from the demand lines and run one lot-for-lot netting pass per item, with
no validation, BOM explosion, lot sizing, pegging or exceptions. It is
the floor any MRP over this data pays, so the ratio says how much the full
engine costs on top of touching the data once, independent of the machine.

Peak memory is the process's maximum resident set size (``ru_maxrss``),
which includes the interpreter, the generated plan and the result: the
same things the ``takt mrp run`` process holds.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from blocks.mrp import cli  # noqa: E402
from blocks.mrp.engine import run_mrp  # noqa: E402

LEVEL_SIZES = (2000, 2500, 3000, 3500, 4000, 5000)   # 20,000 items, level 0 = end items
HORIZON = 52
DEMAND_LINES = 100_000
RECEIPT_LINES = 5_000
FRACTIONAL_QTY_PER = (0.25, 0.5, 1.5)


def make_plan(seed: int = 20240601, fractional_share: float = 0.1) -> dict:
    """Build the benchmark plan; the same seed always gives the same plan."""
    rng = random.Random(seed)
    levels = _item_ids()
    items = [_item(rng, item_id) for level in levels for item_id in level]
    return {"horizon": HORIZON, "items": items,
            "bom": _bom(rng, levels, fractional_share),
            "scheduled_receipts": _lines(rng, levels, RECEIPT_LINES, (1, 8), (10, 300), 0.0),
            "demand": _lines(rng, levels, DEMAND_LINES, (1, HORIZON), (1, 100), 0.9)}


def _item_ids() -> list[list[str]]:
    """Name items by level: L0-00000 … L5-04999."""
    return [[f"L{level}-{n:05d}" for n in range(size)] for level, size in enumerate(LEVEL_SIZES)]


def _item(rng: random.Random, item_id: str) -> dict:
    """One item with a random lot-sizing rule, lead time and stock settings."""
    roll = rng.random()
    if roll < 0.5:
        lot = {"rule": "L4L"}
    elif roll < 0.75:
        lot = {"rule": "FOQ", "qty": rng.choice((50, 100, 250, 500))}
    else:
        lot = {"rule": "POQ", "periods": rng.randint(2, 4)}
    item = {"id": item_id, "lead_time": rng.randint(0, 3), "on_hand": rng.randint(0, 500),
            "lot_sizing": lot}
    if rng.random() < 0.2:
        item["safety_stock"] = rng.randint(10, 100)
    if rng.random() < 0.1:
        item["min_qty"] = rng.choice((20, 100))
    if rng.random() < 0.1:
        item["multiple"] = rng.choice((5, 10, 12))
    return item


def _bom(rng: random.Random, levels: list, fractional_share: float) -> list[dict]:
    """Give every component a parent one level up plus 0-2 parents on any higher level."""
    lines = []
    for depth in range(1, len(levels)):
        for child in levels[depth]:
            parents = {rng.choice(levels[depth - 1])}
            for _ in range(rng.randint(0, 2)):
                parents.add(rng.choice(levels[rng.randrange(depth)]))
            for parent in sorted(parents):
                qty_per = (rng.choice(FRACTIONAL_QTY_PER) if rng.random() < fractional_share
                           else rng.randint(1, 3))
                lines.append({"parent": parent, "child": child, "qty_per": qty_per})
    return lines


def _lines(rng: random.Random, levels: list, count: int, periods: tuple, qtys: tuple,
           end_item_share: float) -> list[dict]:
    """Random (item, period, qty) lines; ``end_item_share`` of them on level 0."""
    components = [item for level in levels[1:] for item in level]
    out = []
    for _ in range(count):
        pool = levels[0] if rng.random() < end_item_share else components
        out.append({"item": rng.choice(pool), "period": rng.randint(*periods),
                    "qty": rng.randint(*qtys)})
    return out


def baseline(plan: dict) -> float:
    """Time building gross arrays and one L4L netting pass per item (no explosion)."""
    start = time.perf_counter()
    horizon = plan["horizon"]
    index = {item["id"]: k for k, item in enumerate(plan["items"])}
    gross = [[0] * horizon for _ in index]
    for line in plan["demand"]:
        gross[index[line["item"]]][line["period"] - 1] += line["qty"]
    for k, item in enumerate(plan["items"]):
        stock, row = item.get("on_hand", 0), gross[k]
        net, poh = [0] * horizon, [0] * horizon
        for i in range(horizon):
            short = row[i] - stock
            if short > 0:
                net[i], stock = short, 0
            else:
                stock = -short
            poh[i] = stock
    return time.perf_counter() - start


def time_engine(plan: dict) -> tuple[float, float, dict, int]:
    """Time ``run_mrp``; return (wall s, CPU s, result, number of progress calls).

    CPU time is reported too because the machine is shared: wall time also
    counts waiting for the core while someone else's tests run.
    """
    calls = []
    start, cpu_start = time.perf_counter(), time.process_time()
    result = run_mrp(plan, progress=lambda done, total: calls.append(done))
    cpu = time.process_time() - cpu_start
    return time.perf_counter() - start, cpu, result, len(calls)


def time_cli(plan: dict) -> tuple[float, int]:
    """Time the console path: read plan JSON, run, write result JSON."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "plan.json"), os.path.join(folder, "result.json")
        with open(source, "w", encoding="utf-8") as handle:
            json.dump(plan, handle)
        start = time.perf_counter()
        code = cli.run(source, target)
        seconds = time.perf_counter() - start
        return seconds, code


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    """Generate the plan, time baseline and engine, print a small report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--fractional-share", type=float, default=0.1,
                        help="share of BOM lines with fractional qty_per (0 = integer run)")
    parser.add_argument("--cli", action="store_true", help="also time the file-to-file CLI")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    plan = make_plan(args.seed, args.fractional_share)
    print(f"plan: {len(plan['items']):,} items, {len(plan['bom']):,} BOM lines, "
          f"{len(plan['demand']):,} demand lines, {len(plan['scheduled_receipts']):,} "
          f"scheduled receipts, {plan['horizon']} periods "
          f"(generated in {time.perf_counter() - start:.1f} s)")
    rss_before = peak_rss_mb()
    base = baseline(plan)
    seconds, cpu, result, progress_calls = time_engine(plan)
    peak = peak_rss_mb()
    _report(result, base, (seconds, cpu), progress_calls, rss_before, peak)
    if args.cli:
        del result
        cli_seconds, code = time_cli(plan)
        print(f"cli run (read + run_mrp + write JSON): {cli_seconds:.2f} s, exit {code}, "
              f"peak RSS now {peak_rss_mb():.0f} MB")
    return 0


def _report(result: dict, base: float, timing: tuple, progress_calls: int,
            rss_before: float, peak: float) -> None:
    """Print the measured numbers in the form docs/benchmarks-mrp.md quotes."""
    kinds: dict[str, int] = {}
    for entry in result["exceptions"]:
        kinds[entry["type"]] = kinds.get(entry["type"], 0) + 1
    levels = max(item["low_level_code"] for item in result["items"].values()) + 1
    sources = sum(len(record["sources"]) for record in result["pegging"])
    print(f"result: {levels} low-level codes, {len(result['pegging']):,} planned orders, "
          f"{sources:,} pegging sources, exceptions {kinds}")
    print(f"baseline (gross arrays + one L4L netting pass, no explosion): {base:.2f} s")
    seconds, cpu = timing
    print(f"run_mrp: {seconds:.2f} s wall, {cpu:.2f} s CPU = {seconds / base:.1f} x baseline "
          f"({progress_calls} progress calls)")
    print(f"peak RSS: {peak:.0f} MB (plan built: {rss_before:.0f} MB)")


if __name__ == "__main__":
    sys.exit(main())
