"""The ``takt xlsx`` command functions: exit 0 when done, 1 with a message for bad input, no traceback."""
from __future__ import annotations

import io

import openpyxl
import pytest
import yaml

from runtime.xlsx import cli

from .books import PART_APP, add_products, good_rows, plant_book, sheet_book


@pytest.fixture
def demo(takt_sqlite):
    takt_sqlite.publish(PART_APP)
    add_products(takt_sqlite.records())
    return takt_sqlite


def test_new_app_dry_run_prints_the_schema_and_creates_nothing(takt_sqlite, tmp_path, capsys):
    assert cli.new_app(takt_sqlite.app, plant_book(tmp_path / "plant.xlsx"), "plant", dry_run=True) == 0
    out, err = capsys.readouterr()
    doc = yaml.safe_load(out.split("would create")[0])
    assert doc["slug"] == "plant" and [t["label"] for t in doc["tables"]] == ["产品", "生产工单"]
    assert "would create app plant with 2 table(s) and 18 row(s)" in out
    assert cli.import_file(takt_sqlite.app, tmp_path / "plant.xlsx", "plant", "sheet_1") == 1
    assert "no published app 'plant'" in capsys.readouterr().err


def test_new_app_creates_and_loads(takt_sqlite, tmp_path, capsys):
    assert cli.new_app(takt_sqlite.app, plant_book(tmp_path / "plant.xlsx"), "plant") == 0
    assert "created app plant with 2 table(s) and 18 row(s)" in capsys.readouterr().out
    assert takt_sqlite.records("plant").list("sheet_2").total == 12


@pytest.mark.parametrize("content", [b"", b"code,qty\n1,2\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)])
def test_unreadable_files_exit_1_with_a_message(takt_sqlite, tmp_path, capsys, content):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    assert cli.new_app(takt_sqlite.app, path, "plant", dry_run=True) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bad.xlsx ") and "Traceback" not in err


def test_import_prints_problems_report_and_exits_1_when_nothing_was_imported(demo, tmp_path, capsys):
    path = sheet_book(tmp_path / "in.xlsx", good_rows() + [["B1", "#DIV/0!"]])
    assert cli.import_file(demo.app, path, "demo", "part") == 1
    err = capsys.readouterr().err
    assert "零件!B6 (数量) '#DIV/0!': the cell shows the formula error #DIV/0!" in err
    assert "error report" in err and "nothing was imported" in err


def test_import_with_progress_bar_and_valid_only(demo, tmp_path, capsys):
    path = sheet_book(tmp_path / "in.xlsx", good_rows() + [["B1", "#DIV/0!"]])
    stream = io.StringIO()
    code = cli.import_file(demo.app, path, "demo", "part", mode="valid_only", progress_printer=cli.progress_bar(stream))
    assert code == 0 and "4 inserted, 0 updated, 1 row(s) skipped into demo.part" in capsys.readouterr().out
    assert stream.getvalue().endswith("[" + "#" * 30 + "] 5/5 rows")


def test_import_mistakes_exit_1(demo, tmp_path, capsys):
    path = sheet_book(tmp_path / "in.xlsx", good_rows())
    assert cli.import_file(demo.app, path, "demo", "nope") == 1
    assert "no table 'nope'" in capsys.readouterr().err
    assert cli.import_file(demo.app, path, "demo", "part", mode="sometimes") == 1
    assert "unknown mode" in capsys.readouterr().err


def test_export_and_template(demo, tmp_path, capsys):
    assert cli.export_table(demo.app, "demo", "product", tmp_path / "p.xlsx", filters=["code=P-1"], sort=["-code"]) == 0
    assert list(openpyxl.load_workbook(tmp_path / "p.xlsx").active.values) == [("Product code", "Name"), ("P-1", None)]
    assert cli.export_table(demo.app, "demo", "product", tmp_path / "p.xlsx", filters=["nope:eq:1"]) == 1
    assert "cannot filter: no field 'nope'" in capsys.readouterr().err
    assert cli.template(demo.app, "demo", "part", tmp_path / "t.xlsx", language="zh") == 0
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").worksheets[0]["A1"].value == "编码"
