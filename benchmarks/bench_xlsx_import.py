"""Excel import: the whole import vs. bare reads of the same workbook.

Generates a workbook of N rows x 20 columns (mixed types, spreadsheet-isms such
as ``1,200``, ``5 kg``, text dates and 是/否, and 5% bad cells), then times in
the same run, each in its own process so peak memory is per phase:

  (a) python-calamine reading the values alone,
  (b) openpyxl ``read_only=True`` reading the values alone,
  (c) ``runtime.xlsx.importer.import_sheet`` in valid-only mode into SQLite
      (and PostgreSQL with ``--postgres URL``): scan, read, normalise, validate
      through ``bulk_write``, insert — one transaction.

    .venv/bin/python benchmarks/bench_xlsx_import.py [--rows 100000] [--postgres URL] [--keep FILE] [--bad-share 0.05]
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

APP = {"slug": "bench", "tables": [
    {"name": "product", "title_field": "code", "fields": [{"name": "code", "type": "text", "unique": True}]},
    {"name": "run", "fields": [
        {"name": "code", "type": "text", "required": True, "unique": True, "label": "工单号"},
        {"name": "product", "type": "link", "table": "product", "label": "产品"},
        {"name": "qty", "type": "integer", "min": 0, "label": "数量"},
        {"name": "weight", "type": "decimal", "scale": 3, "unit": "kg", "label": "重量"},
        {"name": "due", "type": "date", "label": "交期"},
        {"name": "started", "type": "datetime", "label": "开工时间"},
        {"name": "ok", "type": "boolean", "label": "合格"},
        {"name": "status", "type": "select", "label": "状态", "options": [
            {"value": "open", "label": {"zh": "待产"}}, {"value": "busy", "label": {"zh": "生产中"}},
            {"value": "done", "label": {"zh": "完工"}}]},
        {"name": "line", "type": "select", "options": ["L1", "L2", "L3", "L4"], "label": "产线"},
        {"name": "note", "type": "text", "label": "备注"},
        {"name": "lot", "type": "text", "label": "批号"},
        {"name": "temp", "type": "decimal", "scale": 1, "label": "温度"},
        {"name": "operator", "type": "text", "label": "操作员"},
        {"name": "shift", "type": "integer", "label": "班次"},
        {"name": "scrap", "type": "integer", "min": 0, "label": "报废数"},
        {"name": "station", "type": "text", "label": "工位"},
        {"name": "batch", "type": "text", "label": "批次"},
        {"name": "measured", "type": "decimal", "scale": 3, "label": "实测值"},
        {"name": "checked", "type": "date", "label": "检验日期"},
        {"name": "remark", "type": "long_text", "label": "说明"},
    ]},
]}
BAD = ["#DIV/0!", "#REF!", "abc", "someday", "unknown", "P-999", "-5", "2026/02/30", "1,5", "5 g"]


def cell_values(i: int, rng: random.Random) -> list:
    day = dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)
    return [
        f"WO{i:07d}", f"P-{rng.randint(1, 100):03d}", "1,200" if i % 7 == 0 else rng.randint(0, 5000),
        f"{rng.randint(1, 900)} kg" if i % 5 == 0 else rng.randint(0, 10**6) / 1000,
        day.strftime("%Y/%m/%d") if i % 3 == 0 else day, dt.datetime(2026, 1, 1, 6) + dt.timedelta(minutes=i),
        "是" if i % 2 else "否", rng.choice(["待产", "生产中", "完工", "done"]), rng.choice(["L1", "L2", "L3", "L4"]),
        f"备注 {i} 测试", f"{rng.randint(0, 99999):05d}", rng.randint(150, 450) / 10, f"张{i % 40}",
        rng.randint(1, 3), rng.randint(0, 20), f"ST-{i % 12:02d}", f"B{i // 500:05d}",
        rng.randint(0, 10**5) / 1000, f"{day.day}.{day.month}.{day.year}", "一行说明文字" * 3,
    ]


def make_workbook(path: Path, rows: int, bad_share: float = 0.05, seed: int = 7) -> None:
    import openpyxl
    rng = random.Random(seed)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("生产记录")
    sheet.append(["2026年 生产记录"])
    sheet.append([])
    sheet.append([f["label"] for f in APP["tables"][1]["fields"]])
    for i in range(rows):
        values = cell_values(i, rng)
        for col in range(1, 20):  # never the key column
            if rng.random() < bad_share:
                values[col] = rng.choice(BAD)
        sheet.append(values)
    book.save(path)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_calamine(path) -> tuple:
    import python_calamine
    start = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    cells = sum(len(row) for row in book.get_sheet_by_index(0).iter_rows())
    return time.perf_counter() - start, peak_mb(), cells


def read_openpyxl(path) -> tuple:
    import openpyxl
    start = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    cells = sum(len(row) for row in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return time.perf_counter() - start, peak_mb(), cells


def full_import(path, url) -> tuple:
    from runtime import migrate
    from runtime.app import create_app
    from runtime.db import get_db
    from runtime.permissions import Actor
    from runtime.publish import publish
    from runtime.records import Records
    from runtime.records_bulk import bulk_write
    from runtime.store import live_app
    from runtime.xlsx.importer import import_sheet
    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": url or f"sqlite:///{folder}/bench.db", "INSTANCE_PATH": folder,
                      "SECRET_KEY": "bench", "REDIS_URL": ""})
    database = get_db(app)
    migrate.upgrade(database)
    publish(database, APP)
    records = Records(database, live_app(database, "bench"), Actor.system("bench"))
    bulk_write(records, "product", [{"code": f"P-{i:03d}"} for i in range(1, 101)])
    start = time.perf_counter()
    result = import_sheet(records, "run", path, mode="valid_only")
    seconds = time.perf_counter() - start
    database.dispose()
    return seconds, peak_mb(), (result.rows, result.inserted, len(result.issues))


def in_process(fn, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def pg_schema_url(base: str):
    import sqlalchemy as sa
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    return f"{base}?options=-csearch_path%3D{schema}", lambda: _drop(admin, schema)


def _drop(admin, schema):
    import sqlalchemy as sa
    with admin.begin() as conn:
        conn.execute(sa.schema.DropSchema(schema, cascade=True))
    admin.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default=None, help="SQLAlchemy URL of a PostgreSQL database")
    parser.add_argument("--keep", default=None, help="write (or reuse) the workbook at this path")
    parser.add_argument("--bad-share", type=float, default=0.05, help="share of bad cells (default 5%%)")
    args = parser.parse_args()
    path = Path(args.keep or Path(tempfile.mkdtemp()) / "bench.xlsx")
    if not path.exists():
        start = time.perf_counter()
        make_workbook(path, args.rows, args.bad_share)
        print(f"generated {path} ({args.rows:,} rows x 20 columns, {args.bad_share:.0%} bad cells, "
              f"{path.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - start:.1f} s")
    calamine = in_process(read_calamine, path)
    print(f"(a) calamine read        {calamine[0]:7.2f} s   peak {calamine[1]:6.0f} MB   {calamine[2]:,} cells")
    pyxl = in_process(read_openpyxl, path)
    print(f"(b) openpyxl read_only   {pyxl[0]:7.2f} s   peak {pyxl[1]:6.0f} MB   {pyxl[2]:,} cells")
    targets = [("SQLite", None)]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    for name, url in targets:
        cleanup = None
        if url:
            url, cleanup = pg_schema_url(url)
        try:
            seconds, peak, (rows, inserted, issues) = in_process(full_import, path, url)
        finally:
            if cleanup:
                cleanup()
        print(f"(c) import into {name:10s} {seconds:7.2f} s   peak {peak:6.0f} MB   {rows:,} rows read, "
              f"{inserted:,} inserted, {issues:,} cell problems")
        print(f"    vs openpyxl read: {seconds / pyxl[0]:.2f}x (target < 1)   "
              f"vs calamine read: {seconds / calamine[0]:.2f}x (target <= 3)   peak < 1024 MB: {peak < 1024}")


if __name__ == "__main__":
    main()
