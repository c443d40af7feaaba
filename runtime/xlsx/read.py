"""Reading .xlsx workbooks the way plants fill them in.

Cell values come from python-calamine (fast, Rust). What calamine does not
say comes from one streaming pass over the sheet XML (``scan.py``): error
cells, formulas without a saved result, merged ranges and data validations,
the last two parsed by openpyxl's own classes. Sheets whose used range is far
larger than their rows (a stray value in row 1,048,576) are streamed with
openpyxl's read-only reader instead, so no dense grid of empty rows is built.

Rows come out as ``(excel_row_number, values)`` with ``values[0]`` = column A,
blank cells as None, and cells a person must fix as ``BadCell``.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from xml.etree.ElementTree import ParseError

import python_calamine
from openpyxl.comments.comment_sheet import CommentSheet
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.datavalidation import DataValidationList
from openpyxl.xml.functions import fromstring

from .scan import SheetScan, column_number, scan_sheet

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
COMMENTS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
#: Blank rows in a row after which content counts as stray (far below the table).
STRAY_GAP = 1000
HEADER_SEARCH_ROWS = 30
_X14_LIST = re.compile(rb"<x14:dataValidation\b[^>]*type=\"list\".*?<xm:f>([^<]*)</xm:f>.*?<xm:sqref>([^<]*)</xm:sqref>",
                       re.S)


class XlsxError(ValueError):
    """A file or sheet a person must fix; the message says what and how."""


@dataclass(frozen=True, eq=False)
class BadCell:
    """A cell that cannot become a value (formula error, merged across columns, …)."""

    value: object
    reason: str

    def __str__(self):
        return str(self.value)


@dataclass(frozen=True)
class SheetPart:
    name: str
    state: str          # visible, hidden, veryHidden
    part: str           # xl/worksheets/sheet1.xml
    comments: str | None


def open_workbook(path) -> "Workbook":
    path = Path(path)
    _check_file(path)
    try:
        return Workbook(path)
    except XlsxError:
        raise
    except python_calamine.PasswordError:
        raise XlsxError(f"{path.name} is password-protected; remove the password in Excel and save again") from None
    except (zipfile.BadZipFile, python_calamine.CalamineError, ParseError, KeyError, OSError, ValueError) as err:
        raise XlsxError(f"{path.name} is damaged and cannot be read as an .xlsx workbook ({err}); "
                        "open it in Excel and save it again") from None


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise XlsxError(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if not head:
        raise XlsxError(f"{path.name} is empty (0 bytes)")
    if head.startswith(OLE_SIGNATURE):
        if "EncryptionInfo".encode("utf-16-le") in head:
            raise XlsxError(f"{path.name} is an encrypted (password-protected) workbook; "
                            "remove the password in Excel (File › Info › Protect Workbook) and save again")
        raise XlsxError(f"{path.name} is an old .xls workbook or a password-protected one; "
                        "save it as .xlsx (Excel Workbook) without a password")
    if not head.startswith(ZIP_SIGNATURE):
        raise XlsxError(f"{path.name} is not an .xlsx workbook ({_looks_like(head)}); "
                        "open it in Excel and save it as .xlsx (Excel Workbook)")


def _looks_like(head: bytes) -> str:
    text = head[:512].lstrip().lower()
    if text.startswith(b"%pdf"):
        return "it is a PDF"
    if text.startswith((b"<html", b"<!doctype", b"<table")) or b"<html" in text:
        return "it is a web page (HTML), as some systems export 'Excel' files"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "its content is not a spreadsheet"
    return "it is plain text, perhaps CSV"


class Workbook:
    def __init__(self, path: Path):
        self.path = path
        self._handle = path.open("rb")
        try:
            self._open()
        except BaseException:
            self._handle.close()
            raise

    def _open(self):
        path = self.path
        reader = ExcelReader(self._handle, read_only=True)
        self.archive = reader.archive
        names = set(self.archive.namelist())
        if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
            kind = "an OpenDocument spreadsheet (.ods)" if "content.xml" in names else "a ZIP file, not a workbook"
            raise XlsxError(f"{path.name} is {kind}; save it as .xlsx (Excel Workbook)")
        reader.read_manifest()
        reader.read_workbook()
        self.defined_names = {d.name: d.attr_text for d in reader.parser.defined_names.definedName}
        self.parts = [self._part(sheet, rel, names) for sheet, rel in reader.parser.find_sheets()
                      if rel.target in names and "worksheet" in rel.Type]
        self.calamine = python_calamine.CalamineWorkbook.from_path(str(path))
        self._sheets: dict = {}

    def _part(self, sheet, rel, names) -> SheetPart:
        rels_path = get_rels_path(rel.target)
        comments = None
        if rels_path in names:
            found = [r.target for r in get_dependents(self.archive, rels_path).find(COMMENTS_REL)]
            comments = found[0] if found else None
        return SheetPart(sheet.name, sheet.state or "visible", rel.target, comments)

    @property
    def sheet_names(self) -> list[str]:
        return [p.name for p in self.parts]

    @property
    def visible_sheet_names(self) -> list[str]:
        return [p.name for p in self.parts if p.state == "visible"]

    def sheet(self, name: str | None = None) -> "Sheet":
        """A worksheet by name; None means the first visible one."""
        if name is None:
            if not self.visible_sheet_names:
                raise XlsxError(f"{self.path.name} has no visible worksheet")
            name = self.visible_sheet_names[0]
        part = next((p for p in self.parts if p.name == name), None)
        if part is None:
            raise XlsxError(f"{self.path.name} has no sheet '{name}' (sheets: {', '.join(self.sheet_names)})")
        if name not in self._sheets:
            self._sheets[name] = Sheet(self, part)
        return self._sheets[name]

    def close(self) -> None:
        self.archive.close()
        self._handle.close()
        try:
            self.calamine.close()
        except python_calamine.WorkbookClosed:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Sheet:
    def __init__(self, book: Workbook, part: SheetPart):
        self.book, self.part, self.name = book, part, part.name
        with book.archive.open(part.part) as stream:
            self.scan: SheetScan = scan_sheet(stream)

    @property
    def estimated_rows(self) -> int:
        return self.scan.rows_present

    @cached_property
    def merges(self) -> list[tuple[int, int, int, int]]:
        """(min_col, min_row, max_col, max_row) of each merged range."""
        return [range_boundaries(ref) for ref in self.scan.merges]

    def rows(self):
        """Non-blank rows as (row number, values from column A)."""
        bad = self._bad_cells()
        source = self._streamed_rows() if self.scan.sparse else self._calamine_rows()
        for number, values in source:
            fixes = bad.get(number)
            if fixes:
                values = _apply(values, fixes)
            if values.count(None) != len(values):
                yield number, values

    def _bad_cells(self) -> dict:
        bad: dict = {}
        for (row, col), code in self.scan.error_cells.items():
            bad.setdefault(row, {})[col] = BadCell(code, f"the cell shows the formula error {code}; "
                                                         "fix the formula or type the value")
        for row, col in self.scan.unsaved_formulas:
            bad.setdefault(row, {})[col] = BadCell("(formula)", "a formula without a saved result (the file was not "
                                                               "saved by Excel); open it in Excel and save it, or type the value")
        return bad

    def _calamine_rows(self):
        sheet = self.book.calamine.get_sheet_by_name(self.name)
        if sheet.start is None:
            return
        # python-calamine 0.9 yields rows from row 1 of the sheet but columns from the first used
        # one (a table in C4:D5 gives 5 rows of 2 cells); test_read pins this down.
        first_col = sheet.start[1]
        pad = [None] * first_col
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if "" in row:
                row = [None if v == "" else v for v in row]
            yield number, (pad + row if first_col else row)

    def _streamed_rows(self):
        from openpyxl import load_workbook
        book = load_workbook(self.book.path, read_only=True, data_only=True)
        try:
            for number, row in enumerate(book[self.name].iter_rows(values_only=True), start=1):
                if row.count(None) != len(row):
                    yield number, [None if v == "" else v for v in row]
        finally:
            book.close()

    # -- what openpyxl alone gives -------------------------------------------
    def list_validations(self) -> list[tuple[list[tuple[int, int, int, int]], list[str]]]:
        """List dropdowns: ([(min_col, min_row, max_col, max_row)…], options)."""
        found = []
        start, end = self.scan.tail.find(b"<dataValidations"), self.scan.tail.find(b"</dataValidations>")
        if start >= 0 and end > start:
            fragment = self.scan.tail[start:end + len(b"</dataValidations>")]
            tree = fromstring(fragment.replace(b"<dataValidations", b'<dataValidations xmlns="http://schemas.'
                                               b'openxmlformats.org/spreadsheetml/2006/main"', 1)
                              if b"xmlns" not in fragment[:200] else fragment)
            for dv in DataValidationList.from_tree(tree).dataValidation:
                if dv.type == "list" and dv.formula1:
                    found.append((_ranges(str(dv.sqref)), self._options(dv.formula1)))
        for formula, sqref in _X14_LIST.findall(self.scan.tail):
            found.append((_ranges(sqref.decode()), self._options(formula.decode())))
        return [(ranges, options) for ranges, options in found if options]

    def _options(self, formula: str) -> list[str]:
        formula = formula.strip().lstrip("=")
        if formula.startswith('"'):
            return [o.strip() for o in formula.strip('"').split(",") if o.strip()]
        formula = self.book.defined_names.get(formula, formula)
        sheet_name, _, ref = formula.rpartition("!")
        sheet_name = sheet_name.strip("'") or self.name
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
            source = self.book.sheet(sheet_name)
        except (ValueError, XlsxError):
            return []
        options = []
        for number, values in source.rows():
            if min_row is not None and not (min_row <= number <= (max_row or number)):
                continue
            for value in values[(min_col or 1) - 1:max_col or len(values)]:
                if value is not None and not isinstance(value, BadCell):
                    options.append(cell_text(value))
        return list(dict.fromkeys(o for o in options if o))[:500]

    def comments(self) -> dict[tuple[int, int], str]:
        """(row, col) → comment text."""
        if not self.part.comments:
            return {}
        tree = fromstring(self.book.archive.read(self.part.comments))
        found = {}
        for ref, comment in CommentSheet.from_tree(tree).comments:
            min_col, min_row, _, _ = range_boundaries(ref)
            found[(min_row, min_col)] = comment.content.strip()
        return found


def _apply(values: list, fixes: dict) -> list:
    values = list(values)
    for col, bad in fixes.items():
        if col > len(values):
            values.extend([None] * (col - len(values)))
        values[col - 1] = bad
    return values


def _ranges(sqref: str) -> list[tuple[int, int, int, int]]:
    result = []
    for part in sqref.split():
        try:
            result.append(range_boundaries(part))
        except ValueError:
            continue
    return result


def cell_text(value) -> str:
    """A cell value as the text a person sees (whole numbers without '.0')."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") and hasattr(value, "day") else value.isoformat()
    return str(value).strip()


def column_letter(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


__all__ = ["XlsxError", "BadCell", "Workbook", "Sheet", "open_workbook", "cell_text", "column_letter", "column_number",
           "STRAY_GAP", "HEADER_SEARCH_ROWS"]
