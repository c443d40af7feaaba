"""A process killed in the middle of an import leaves the table exactly as it was (SQLite and PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl

from .books import PART_APP

ROWS = 12_000  # six batches of 2,000: the first progress report comes long before the commit

CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from runtime.app import create_app
    from runtime.xlsx.jobs import run_import

    app = create_app({{"DATABASE_URL": {url!r}, "INSTANCE_PATH": {instance!r}, "SECRET_KEY": "t", "REDIS_URL": ""}})

    def progress(done, total):
        print(f"progress {{done}}/{{total}}", flush=True)
        time.sleep(600)  # hold the open transaction until the test kills us

    run_import(app, "demo", "part", {path!r}, progress=progress)
    print("finished", flush=True)
""")


def big_sheet(path: Path) -> Path:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("零件")
    sheet.append(["编码", "数量", "重量"])
    for i in range(ROWS):
        sheet.append([f"K{i:06d}", i, i / 4])
    book.save(path)
    return path


def snapshot(records):
    fields = list(records.table("part").fields)
    return sorted(tuple(r[f] for f in fields) for r in records.list("part").rows)


def test_killed_import_leaves_the_table_as_before(takt, database_url, tmp_path):
    takt.publish(PART_APP)
    records = takt.records()
    for i in range(3):
        records.create("part", {"code": f"OLD{i}", "qty": i})
    before = snapshot(records)
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=str(Path(__file__).resolve().parents[3]), url=database_url,
                                   instance=str(tmp_path / "instance"), path=str(big_sheet(tmp_path / "big.xlsx"))))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        assert line.startswith("progress 2000/"), (line, child.stderr.read() if child.poll() is not None else "")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert snapshot(takt.records()) == before
    assert takt.records().list("part").total == 3
