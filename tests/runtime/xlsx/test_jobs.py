"""xlsx_import / xlsx_export jobs: progress, cancel, result and error report kept with the job."""
from __future__ import annotations

import uuid
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from runtime import jobs
from runtime.models import Job, utcnow
from runtime.xlsx import jobs as xlsx_jobs
from tests.runtime.test_jobs import wait_for

from .books import PART_APP, add_products, sheet_book


@pytest.fixture
def demo(takt):
    takt.publish(PART_APP)
    add_products(takt.records())
    return takt


def many_rows(tmp_path, n=300, bad_row=None):
    rows = [[f"C{i:04d}", i, "1,5" if i == bad_row else 1.5] for i in range(n)]
    return sheet_book(tmp_path / "many.xlsx", rows, header=["Code", "Quantity", "Weight"])


def count(takt, table="part"):
    return takt.records().list(table).total


def test_import_job_reports_progress_and_result(demo, tmp_path):
    job_id = jobs.enqueue(demo.app, "xlsx_import", {"app": "demo", "table": "part", "path": str(many_rows(tmp_path))})
    status = wait_for(demo.app, job_id)
    assert status["status"] == "done", status
    assert (status["done"], status["total"]) == (300, 300)
    assert status["result"]["inserted"] == 300 and status["result"]["errors"] == []
    assert count(demo) == 300


def test_failed_import_job_keeps_the_problems_and_the_report(demo, tmp_path):
    path = many_rows(tmp_path, bad_row=7)
    job_id = jobs.enqueue(demo.app, "xlsx_import", {"app": "demo", "table": "part", "path": str(path)})
    status = wait_for(demo.app, job_id)
    assert status["status"] == "failed" and "nothing was imported" in status["error"]
    report = xlsx_jobs.report_path(status)
    assert Path(report).is_file() and openpyxl.load_workbook(report)["零件"]["C9"].comment is not None
    assert status["result"]["details"][1]["row"] == 9 and status["result"]["details"][1]["column"] == "C"
    assert count(demo) == 0


def test_valid_only_job_keeps_the_report_with_a_done_job(demo, tmp_path):
    params = {"app": "demo", "table": "part", "path": str(many_rows(tmp_path, bad_row=7)), "mode": "valid_only"}
    status = wait_for(demo.app, jobs.enqueue(demo.app, "xlsx_import", params))
    assert status["status"] == "done" and status["result"]["inserted"] == 299
    assert Path(xlsx_jobs.report_path(status)).is_file()


def test_cancelled_import_job_writes_nothing(demo, tmp_path):
    job_id = str(uuid.uuid4())
    params = {"app": "demo", "table": "part", "path": str(many_rows(tmp_path))}
    with demo.db.write() as conn:
        conn.execute(sa.insert(Job).values(id=job_id, kind="xlsx_import", status="queued", params=params,
                                           created_at=utcnow()))
    assert jobs.request_cancel(demo.app, job_id)
    jobs.run(demo.app, job_id)
    assert jobs.job_status(demo.app, job_id)["status"] == "cancelled" and count(demo) == 0


def test_export_job_writes_the_file(demo, tmp_path):
    params = {"app": "demo", "table": "product", "filters": [{"field": "code", "op": "eq", "value": "P-2"}]}
    status = wait_for(demo.app, jobs.enqueue(demo.app, "xlsx_export", params))
    assert status["status"] == "done" and status["result"]["rows"] == 1 and status["done"] == 1
    sheet = openpyxl.load_workbook(status["result"]["path"]).active
    assert list(sheet.values) == [("Product code", "Name"), ("P-2", None)]


def test_threshold_decides_inline_or_job(demo, tmp_path):
    small = xlsx_jobs.start_import(demo.app, "demo", "part", many_rows(tmp_path, n=3))
    assert small["result"]["inserted"] == 3
    demo.app.config["JOB_ROW_THRESHOLD"] = 2
    queued = xlsx_jobs.start_import(demo.app, "demo", "part", sheet_book(tmp_path / "b.xlsx", [["X1"], ["X2"], ["X3"]],
                                                                         header=["Code"]))
    assert wait_for(demo.app, queued["job_id"])["status"] == "done" and count(demo) == 6
    exported = xlsx_jobs.start_export(demo.app, "demo", "part", rows=6)
    assert wait_for(demo.app, exported["job_id"])["result"]["rows"] == 6


def test_column_mapping_is_remembered_per_table(demo, tmp_path):
    first = sheet_book(tmp_path / "a.xlsx", [["A1", 5]], header=["Teil-Nr.", "Menge"])
    xlsx_jobs.run_import(demo.app, "demo", "part", first, mapping={"Teil-Nr.": "code", "Menge": "qty"})
    second = sheet_book(tmp_path / "b.xlsx", [["A2", 6]], header=["Teil-Nr.", "Menge"], title_row="Liste")
    result = xlsx_jobs.run_import(demo.app, "demo", "part", second)
    assert result.issues == [] and result.header_row == 3 and result.mapping == {"Teil-Nr.": "code", "Menge": "qty"}
    assert count(demo) == 2
