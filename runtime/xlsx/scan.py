"""One streaming pass over a worksheet's XML for what calamine does not tell.

python-calamine returns error cells (``#DIV/0!``) and formulas that were never
calculated as empty strings, and it builds a dense grid of the whole used
range (a stray value in row 1,048,576 costs hundreds of MB). This pass reads
the decompressed XML in chunks with plain byte searches — no XML parser over
the cell data — and collects:

- error cells and formulas without a saved result (by cell reference),
- how many ``<row>`` elements there are and the last row number (sparse sheets),
- the part after ``</sheetData>``: merged ranges and data validations, which
  openpyxl's own classes then parse.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

CHUNK = 4 * 1024 * 1024
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d{1,7})"')
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')
_MERGE = re.compile(rb'<mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')
_EMPTY_VALUES = (b"<v/>", b"<v />", b"<v></v>")
_NO_VALUE_ENDS = (b"</f></c>", b"/></c>")


@dataclass
class SheetScan:
    error_cells: dict = field(default_factory=dict)      # (row, col) 1-based → '#DIV/0!'
    unsaved_formulas: set = field(default_factory=set)   # (row, col) of formulas without a result
    rows_present: int = 0
    last_row: int = 0
    width: int = 0                                        # columns of the <dimension>, 0 if unknown
    merges: list = field(default_factory=list)           # 'A5:B5' strings
    tail: bytes = b""                                     # the XML after </sheetData>

    @property
    def sparse(self) -> bool:
        """A used range far larger than its rows: calamine would build a huge empty grid."""
        cells = self.last_row * max(self.width, 1)
        return cells > 2_000_000 and self.rows_present * 4 < self.last_row


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def scan_sheet(stream) -> SheetScan:
    """``stream``: a binary file object over the worksheet XML (``ZipFile.open``)."""
    result = SheetScan()
    carry, first, in_tail = b"", True, False
    tail = []
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        if in_tail:
            tail.append(chunk)
            continue
        data = carry + chunk
        if first:
            _read_dimension(data, result)
            first = False
        end = data.find(b"</sheetData>")
        if end >= 0:
            _scan_cells(data[:end], result)
            tail.append(data[end:])
            in_tail = True
            continue
        cut = data.rfind(b"</row>")
        cut = cut + 6 if cut >= 0 else 0
        _scan_cells(data[:cut], result)
        carry = data[cut:]
    if not in_tail and carry:
        _scan_cells(carry, result)
    result.tail = b"".join(tail)
    result.merges = [m.decode() for m in _MERGE.findall(result.tail)]
    return result


def _read_dimension(data: bytes, result: SheetScan) -> None:
    body = data.find(b"<sheetData")
    match = _DIMENSION.search(data, 0, body if body >= 0 else len(data))
    if match and match.group(3):
        result.width = column_number(match.group(3).decode()) - column_number((match.group(1) or b"A").decode()) + 1
    elif match and match.group(1):
        result.width = 1


def _scan_cells(data: bytes, result: SheetScan) -> None:
    """Whole rows only: ``data`` ends at a ``</row>`` (or at ``</sheetData>``)."""
    if not data:
        return
    result.rows_present += data.count(b"<row ") + data.count(b"<row>")
    last = data.rfind(b"<row ")
    if last >= 0:
        match = _ROW_NUMBER.match(data, last)
        if match:
            result.last_row = max(result.last_row, int(match.group(1)))
    for anchor in _find_all(data, b't="e"'):
        ref = _cell_ref(data, anchor, in_start_tag=True)
        if ref is not None:
            value = _VALUE.search(data, anchor, data.find(b"</c>", anchor))
            result.error_cells[ref] = value.group(1).decode("utf-8", "replace") if value else "#ERROR"
    if b"<f" not in data:  # one pass instead of five when the rows hold no formula
        return
    for literal in _EMPTY_VALUES + _NO_VALUE_ENDS:
        for anchor in _find_all(data, literal):
            start = data.rfind(b"<c ", 0, anchor)
            if start >= 0 and b"<f" in data[start:anchor] and b"<v>" not in data[start:anchor]:
                ref = _cell_ref(data, anchor)
                if ref is not None and ref not in result.error_cells:
                    result.unsaved_formulas.add(ref)


def _find_all(data: bytes, literal: bytes):
    position = data.find(literal)
    while position >= 0:
        yield position
        position = data.find(literal, position + len(literal))


def _cell_ref(data: bytes, anchor: int, in_start_tag=False):
    """(row, col) of the ``<c>`` element around ``anchor``, or None."""
    start = data.rfind(b"<c ", 0, anchor)
    if start < 0 or data.find(b"</c>" if not in_start_tag else b">", start, anchor) >= 0:
        return None
    match = _REF.search(data, start, data.find(b">", start) + 1)
    if match is None:
        return None
    return int(match.group(2)), column_number(match.group(1).decode())
