"""The classic job-shop problem: text format, schedule checker, lower bound.

The standard format (Taillard/OR-Library style) is: optional ``#`` comment
lines, a line ``n m`` (jobs, machines), then one line per job listing ``m``
pairs ``machine time`` in processing order, machines numbered from 0.

Everything here is plain data and plain functions so the CLI, the benchmark
and the tests share one definition of "a valid schedule".
"""
from __future__ import annotations

import random
from dataclasses import dataclass


class JsspFormatError(ValueError):
    """A job-shop file that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Instance:
    """A job-shop instance: ``jobs[j][k] == (machine, duration)``."""

    name: str
    n_machines: int
    jobs: list[list[tuple[int, int]]]

    @property
    def n_jobs(self) -> int:
        """Number of jobs (rows of the file)."""
        return len(self.jobs)


@dataclass(frozen=True)
class Op:
    """One scheduled operation, the record written to ``schedule.json``."""

    job: int
    op: int
    machine: int
    start: int
    end: int

    def as_dict(self) -> dict:
        """The JSON form: keys exactly as in the CLI contract."""
        return {"job": self.job, "op": self.op, "machine": self.machine,
                "start": self.start, "end": self.end}


# --------------------------------------------------------------------- parse

def load(path: str) -> Instance:
    """Read an instance file; the instance is named after the file."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise JsspFormatError(f"{name}: not a text file ({exc.reason})") from None
    return parse(text, name)


def parse(text: str, name: str = "instance") -> Instance:
    """Parse the standard text format, raising JsspFormatError on bad input.

    Messages carry the file line number so a user can fix the file by hand.
    """
    rows = [(no, line.split()) for no, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise JsspFormatError(f"{name}: empty file (expected a line 'n m')")
    n_jobs, n_machines = _parse_header(name, *rows[0])
    body = rows[1:]
    if len(body) != n_jobs:
        raise JsspFormatError(
            f"{name}: header says {n_jobs} jobs but {len(body)} job lines follow")
    jobs = [_parse_job(name, no, fields, n_machines) for no, fields in body]
    return Instance(name, n_machines, jobs)


def _parse_header(name: str, line_no: int, fields: list[str]) -> tuple[int, int]:
    """Read the ``n m`` line; both must be positive integers."""
    if len(fields) < 2:
        raise JsspFormatError(
            f"{name} line {line_no}: missing header, expected 'n m' (jobs machines)"
            f" but got {' '.join(fields)!r}")
    n_jobs, n_machines = (_int(name, line_no, f, "header") for f in fields[:2])
    if n_jobs <= 0 or n_machines <= 0:
        raise JsspFormatError(f"{name} line {line_no}: jobs and machines must be positive")
    return n_jobs, n_machines


def _parse_job(name: str, line_no: int, fields: list[str],
               n_machines: int) -> list[tuple[int, int]]:
    """Read one job line of ``machine time`` pairs."""
    if len(fields) != 2 * n_machines:
        raise JsspFormatError(
            f"{name} line {line_no}: expected {n_machines} 'machine time' pairs"
            f" ({2 * n_machines} numbers), got {len(fields)} numbers")
    values = [_int(name, line_no, f, "job line") for f in fields]
    ops = list(zip(values[0::2], values[1::2]))
    for k, (machine, duration) in enumerate(ops):
        if not 0 <= machine < n_machines:
            raise JsspFormatError(
                f"{name} line {line_no}: operation {k} uses machine {machine},"
                f" outside 0..{n_machines - 1}")
        if duration < 0:
            raise JsspFormatError(
                f"{name} line {line_no}: operation {k} has negative time {duration}")
    return ops


def _int(name: str, line_no: int, field: str, where: str) -> int:
    """Convert one field, naming the line when it is not an integer."""
    try:
        return int(field)
    except ValueError:
        raise JsspFormatError(
            f"{name} line {line_no}: {field!r} in the {where} is not an integer") from None


def format_instance(inst: Instance) -> str:
    """Write an instance back in the standard format (round-trips with parse)."""
    lines = [f"# instance {inst.name}", f"{inst.n_jobs} {inst.n_machines}"]
    lines += [" ".join(f"{m} {d}" for m, d in job) for job in inst.jobs]
    return "\n".join(lines) + "\n"


def random_instance(n_jobs: int, n_machines: int, seed: int,
                    low: int = 1, high: int = 99) -> Instance:
    """Taillard-style random instance: each job visits every machine once."""
    rng = random.Random(seed)
    jobs = []
    for _ in range(n_jobs):
        order = list(range(n_machines))
        rng.shuffle(order)
        jobs.append([(m, rng.randint(low, high)) for m in order])
    return Instance(f"rand{n_jobs}x{n_machines}s{seed}", n_machines, jobs)


# ----------------------------------------------------------- bounds & checks

def simple_lower_bound(inst: Instance) -> int:
    """max(longest job, most loaded machine): cheap and always valid."""
    longest_job = max(sum(d for _, d in job) for job in inst.jobs)
    load = [0] * inst.n_machines
    for job in inst.jobs:
        for machine, duration in job:
            load[machine] += duration
    return max(longest_job, max(load))


def makespan(ops: list[Op]) -> int:
    """Latest end of any operation (0 for an empty schedule)."""
    return max((o.end for o in ops), default=0)


def check(inst: Instance, ops: list[Op]) -> list[str]:
    """Every way ``ops`` fails to be a schedule of ``inst``; [] when valid.

    Checks: each op scheduled exactly once, on its machine, with its exact
    duration, each job's ops in order, no two ops overlapping on a machine.
    """
    problems = _check_coverage(inst, ops)
    problems += _check_job_order(ops)
    problems += _check_machines(ops)
    return problems


def _check_coverage(inst: Instance, ops: list[Op]) -> list[str]:
    """Each (job, op) appears once, on the right machine, for the right time."""
    problems, seen = [], set()
    for o in ops:
        key = (o.job, o.op)
        if not (0 <= o.job < inst.n_jobs and 0 <= o.op < len(inst.jobs[o.job])):
            problems.append(f"job {o.job} op {o.op} does not exist")
            continue
        if key in seen:
            problems.append(f"job {o.job} op {o.op} is scheduled more than once")
        seen.add(key)
        machine, duration = inst.jobs[o.job][o.op]
        if o.machine != machine:
            problems.append(f"job {o.job} op {o.op} runs on machine {o.machine},"
                            f" must run on machine {machine}")
        if o.end - o.start != duration:
            problems.append(f"job {o.job} op {o.op} lasts {o.end - o.start},"
                            f" its duration is {duration}")
        if o.start < 0:
            problems.append(f"job {o.job} op {o.op} starts before time 0")
    missing = [(j, k) for j, job in enumerate(inst.jobs)
               for k in range(len(job)) if (j, k) not in seen]
    problems += [f"job {j} op {k} is not scheduled" for j, k in missing]
    return problems


def _check_job_order(ops: list[Op]) -> list[str]:
    """Operation k+1 of a job may start only when operation k has ended."""
    by_key = {(o.job, o.op): o for o in ops}
    problems = []
    for (job, k), o in sorted(by_key.items()):
        prev = by_key.get((job, k - 1))
        if prev is not None and o.start < prev.end:
            problems.append(f"job {job} op {k} starts at {o.start}"
                            f" before op {k - 1} ends at {prev.end}")
    return problems


def _check_machines(ops: list[Op]) -> list[str]:
    """No two operations share a machine at the same time."""
    problems = []
    last_on: dict[int, Op] = {}
    for o in sorted(ops, key=lambda o: (o.machine, o.start, o.end)):
        prev = last_on.get(o.machine)
        if prev is not None and o.start < prev.end and o.end > o.start:
            problems.append(f"machine {o.machine}: job {prev.job} op {prev.op}"
                            f" [{prev.start}, {prev.end}) overlaps job {o.job}"
                            f" op {o.op} [{o.start}, {o.end})")
        if prev is None or o.end >= prev.end:
            last_on[o.machine] = o
    return problems
