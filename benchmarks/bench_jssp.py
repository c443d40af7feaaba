"""Job-shop benchmark: CP-SAT vs the dispatching rules on the classic instances.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_jssp.py [--time-limit 10] [--instances ft06 ft10 ...]
        [--large-time-limit 30] [--no-large] [--bench-dir /work/shared/bench/jssp]

Each instance is solved exactly as ``takt schedule jssp`` does (``cli.solve_instance``)
and the schedule is verified with the checker.  Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from blocks.scheduling import dispatch, jssp  # noqa: E402
from blocks.scheduling.cli import solve_instance  # noqa: E402

LARGE = ((100, 20, 1), (100, 20, 2), (300, 20, 1), (300, 20, 2))  # (jobs, machines, seed)


def read_optima(bench_dir: Path) -> dict[str, int]:
    """Instance name -> proven optimal makespan."""
    rows = (bench_dir / "optima.csv").read_text().split()[1:]
    return {r.split(",")[0]: int(r.split(",")[3]) for r in rows}


def verified(inst: jssp.Instance, doc: dict) -> dict:
    """Fail loudly if the schedule is not feasible or misreports its makespan."""
    ops = [jssp.Op(**o) for o in doc["operations"]]
    problems = jssp.check(inst, ops)
    if problems or jssp.makespan(ops) != doc["makespan"]:
        raise SystemExit(f"{inst.name}: invalid schedule: {problems[:3]}")
    return doc


def classic_row(inst: jssp.Instance, optimum: int, time_limit: float) -> list:
    """One Markdown row: optimum, CP-SAT result, each rule, ratio to best rule."""
    doc = verified(inst, solve_instance(inst, time_limit))
    rules = doc["dispatch"]
    best_rule = min(rules.values())
    gap = 100 * (doc["makespan"] - optimum) / optimum
    return [inst.name, f"{inst.n_jobs}x{inst.n_machines}", optimum, doc["makespan"],
            f"{gap:.1f}%", doc["status"], doc["lower_bound"], f"{doc['time_to_best']:.2f}",
            f"{doc['wall_time']:.2f}"] + [rules[r] for r in dispatch.RULES] + [
            f"{doc['makespan'] / best_rule:.3f}"]


def value_at(doc: dict, seconds: float) -> int | None:
    """Best makespan known ``seconds`` after the start (dispatch counts at its time)."""
    known = [v for t, v in doc.get("improvements", []) if t <= seconds]
    if doc["dispatch_time"] <= seconds:
        known.append(min(doc["dispatch"].values()))
    return min(known) if known else None


def large_row(n: int, m: int, seed: int, time_limit: float) -> list:
    """One Markdown row for a generated instance: feasible time, gap to simple LB."""
    inst = jssp.random_instance(n, m, seed)
    doc = verified(inst, solve_instance(inst, time_limit))
    lb, best_rule = doc["simple_lower_bound"], min(doc["dispatch"].values())
    return [inst.name, n * m, lb, f"{doc['dispatch_time']:.2f}",
            f"{best_rule} ({doc['rule']})", value_at(doc, 5.0), doc["makespan"],
            f"{100 * (doc['makespan'] - lb) / lb:.2f}%",
            f"{100 * (best_rule - lb) / lb:.2f}%", f"{doc['time_to_best']:.1f}",
            f"{doc['makespan'] / best_rule:.3f}"]


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_classic(bench_dir: Path, names: list[str], time_limit: float) -> None:
    """Print the classic-instance table, one row as soon as it is measured."""
    optima = read_optima(bench_dir)
    header = ["instance", "size", "optimum", "CP-SAT", "gap", "status", "bound",
              "time to best (s)", "wall (s)"] + list(dispatch.RULES) + ["CP-SAT / best rule"]
    print(table(header, []), flush=True)
    solved = 0
    for name in names:
        row = classic_row(jssp.load(str(bench_dir / name)), optima[name], time_limit)
        solved += row[3] == row[2]
        print(table(header, [row]).split("\n", 2)[2], flush=True)
    print(f"\n{solved}/{len(names)} at the proven optimum within {time_limit:g} s each.\n")


def run_large(time_limit: float) -> None:
    """Print the generated large-instance table."""
    header = ["instance", "ops", "simple LB", "dispatch time (s)", "best rule",
              "best at 5 s", f"CP-SAT at {time_limit:g} s", "gap to LB",
              "best rule gap to LB", "time to best (s)", "CP-SAT / best rule"]
    print(table(header, []), flush=True)
    for n, m, seed in LARGE:
        print(table(header, [large_row(n, m, seed, time_limit)]).split("\n", 2)[2], flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the requested tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--large-time-limit", type=float, default=30.0)
    ap.add_argument("--instances", nargs="*", help="default: every instance in optima.csv")
    ap.add_argument("--no-large", action="store_true")
    ap.add_argument("--bench-dir", default=os.environ.get(
        "TAKT_JSSP_BENCH", "/work/shared/bench/jssp"))
    args = ap.parse_args(argv)
    bench_dir = Path(args.bench_dir)
    t0 = time.monotonic()
    names = args.instances if args.instances is not None else list(read_optima(bench_dir))
    if names:
        run_classic(bench_dir, names, args.time_limit)
    if not args.no_large:
        run_large(args.large_time_limit)
    print(f"\ntotal {time.monotonic() - t0:.0f} s on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
