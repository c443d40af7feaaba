"""Record service bulk path vs. a hand-written SQLAlchemy Core executemany.

Inserts the same N rows into the same published table twice per database —
once through ``records_bulk.bulk_write`` (coercion, defaults, required,
links, uniqueness, naming series, audit) and once with a plain
``conn.execute(table.insert(), rows)`` — and prints rows/s and the ratio.

    .venv/bin/python benchmarks/bench_bulk_insert.py [--rows 100000] [--postgres URL]
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime import migrate  # noqa: E402
from runtime.app import create_app  # noqa: E402
from runtime.db import get_db  # noqa: E402
from runtime.permissions import Actor  # noqa: E402
from runtime.publish import publish  # noqa: E402
from runtime.records import Records  # noqa: E402
from runtime.records_bulk import bulk_write  # noqa: E402
from runtime.store import live_app  # noqa: E402

APP = {
    "slug": "bench",
    "tables": [
        {"name": "product", "fields": [{"name": "code", "type": "text", "unique": True}]},
        {"name": "run", "fields": [
            {"name": "batch", "type": "text", "required": True},
            {"name": "product", "type": "link", "table": "product"},
            {"name": "qty", "type": "integer", "min": 0},
            {"name": "weight", "type": "decimal", "scale": 3},
            {"name": "ok", "type": "boolean"},
            {"name": "day", "type": "date"},
            {"name": "at", "type": "datetime"},
            {"name": "status", "type": "select", "options": ["open", "done", "hold"]},
            {"name": "note", "type": "text"},
        ]},
    ],
}


def make_rows(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1)
    return [{"batch": f"B{i:07d}", "product": rng.randint(1, 100), "qty": rng.randint(0, 5000),
             "weight": Decimal(rng.randint(0, 10**6)) / 1000, "ok": rng.random() < 0.9,
             "day": (start + dt.timedelta(days=i % 365)).date(), "at": start + dt.timedelta(minutes=i),
             "status": rng.choice(["open", "done", "hold"]), "note": f"测试 note {i}"} for i in range(n)]


def setup(url: str, folder: str):
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": folder, "SECRET_KEY": "bench", "REDIS_URL": ""})
    database = get_db(app)
    migrate.upgrade(database)
    publish(database, APP)
    records = Records(database, live_app(database, "bench"), Actor.system("bench"))
    bulk_write(records, "product", [{"code": f"P{i}"} for i in range(1, 101)])
    return database, records


def clear(database, table):
    with database.write() as conn:
        conn.execute(sa.delete(table))


def hand_written(database, table, rows) -> float:
    now = dt.datetime.now().replace(microsecond=0)
    payload = [{**row, "_version": 1, "_created_at": now, "_updated_at": now} for row in rows]
    began = time.perf_counter()
    with database.write() as conn:
        for start in range(0, len(payload), 2000):
            conn.execute(table.insert(), payload[start:start + 2000])
    return time.perf_counter() - began


def record_service(records, rows) -> float:
    began = time.perf_counter()
    result = bulk_write(records, "run", rows)
    elapsed = time.perf_counter() - began
    assert result.inserted == len(rows) and not result.errors
    return elapsed


def measure(label: str, url: str, n: int, folder: str) -> float:
    database, records = setup(url, folder)
    table = records.live.tables["run"]
    rows = make_rows(n)
    hand_written(database, table, rows[:2000])  # warm up both paths
    clear(database, table)
    record_service(records, [dict(r) for r in rows[:2000]])
    clear(database, table)
    baseline = hand_written(database, table, rows)
    clear(database, table)
    ours = record_service(records, [dict(r) for r in rows])
    ratio = baseline / ours
    print(f"{label:10s} rows={n}  hand-written executemany {n / baseline:9.0f} rows/s ({baseline:.2f} s)  "
          f"record service bulk {n / ours:9.0f} rows/s ({ours:.2f} s)  ratio {ratio:.2f}")
    database.dispose()
    return ratio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL URL ('' to skip)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        ratio = measure("sqlite", f"sqlite:///{folder}/bench.db", args.rows, folder)
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(sa.schema.CreateSchema(schema))
            try:
                measure("postgresql", f"{args.postgres}?options=-csearch_path%3D{schema}", args.rows, folder)
            finally:
                with admin.begin() as conn:
                    conn.execute(sa.schema.DropSchema(schema, cascade=True))
    print(f"target on SQLite: ratio >= 0.50 -> {'met' if ratio >= 0.5 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
