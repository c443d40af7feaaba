"""The downloadable error report: a copy of the input with every bad cell
filled red and commented with the reason, plus a first sheet listing all
problems (sheet, row, column, header, value, reason).

Inputs up to ``FULL_COPY_ROWS`` rows are copied whole with openpyxl (their
formatting, dropdowns and other sheets stay, so a person fixes the cells and
imports the same file again). Larger ones are written as a streamed copy of
the imported sheet's values (openpyxl write-only): a full openpyxl load of
100,000 rows would take minutes and gigabytes.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from .read import BadCell, open_workbook

RED = PatternFill("solid", fgColor="FFFFC7CE")
RED_FONT = Font(color="FF9C0006")
BOLD = Font(bold=True)
FULL_COPY_ROWS = 20_000
MAX_MARKED = 20_000           # cells filled and commented; the summary sheet lists every problem
SUMMARY = "Takt errors"
AUTHOR = "Takt"
COLUMNS = ("Sheet", "Row", "Column", "Header", "Value", "Reason")


def write_report(source, result, target, *, full_copy_rows: int = FULL_COPY_ROWS) -> str:
    """Write the report for ``result`` (an ImportResult) of ``source`` to ``target``; returns its path."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    marks = _marks(result)
    if result.rows + result.header_row <= full_copy_rows:
        _annotated_copy(source, result, marks, target)
    else:
        _streamed_copy(source, result, marks, target)
    return str(target)


def _marks(result) -> dict:
    """(row, column number) → reasons, for at most MAX_MARKED cells."""
    from .scan import column_number
    marks = defaultdict(list)
    for issue in result.issues:
        column = column_number(issue.column) if issue.column else 1
        if (issue.row, column) in marks or len(marks) < MAX_MARKED:
            marks[(issue.row, column)].append(issue.reason if issue.column else f"{issue.header or 'row'}: {issue.reason}")
    return marks


def _summary_rows(result):
    yield COLUMNS
    if len(result.issues) > MAX_MARKED:
        yield ("", "", "", "", "", f"{len(result.issues):,} problems; the first {MAX_MARKED:,} cells are marked red")
    for issue in result.issues:
        value = issue.value if isinstance(issue.value, (int, float, str, type(None))) else str(issue.value)
        yield issue.sheet, issue.row, issue.column, issue.header, value, issue.reason


def _comment(reasons) -> Comment:
    comment = Comment("\n".join(dict.fromkeys(reasons)), AUTHOR)
    comment.width, comment.height = 300, 120
    return comment


def _annotated_copy(source, result, marks, target):
    book = openpyxl.load_workbook(source)
    sheet = book[result.sheet]
    for (row, column), reasons in marks.items():
        cell = sheet.cell(row=row, column=column)
        cell.fill = RED
        cell.comment = _comment(reasons)
    summary = book.create_sheet(SUMMARY, 0)
    for values in _summary_rows(result):
        summary.append(list(values))
    for cell in summary[1]:
        cell.font = BOLD
    summary.freeze_panes = "A2"
    book.active = 0
    book.save(target)


def _streamed_copy(source, result, marks, target):
    book = openpyxl.Workbook(write_only=True)
    summary = book.create_sheet(SUMMARY)
    for values in _summary_rows(result):
        summary.append(list(values))
    copy = book.create_sheet(result.sheet[:31])
    with open_workbook(source) as original:
        last = 0
        for number, values in original.sheet(result.sheet).rows():
            for _ in range(last + 1, number):
                copy.append([])
            copy.append([_cell(copy, number, col, value, marks) for col, value in enumerate(values, start=1)])
            last = number
    book.save(target)


def _cell(sheet, row, column, value, marks):
    reasons = marks.get((row, column))
    if isinstance(value, BadCell):
        value = str(value.value)
    if reasons is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.fill, cell.font, cell.comment = RED, RED_FONT, _comment(reasons)
    return cell
