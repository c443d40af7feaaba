"""Where the table is on a sheet: the header row under title rows, and the
data rows below it with merged cells resolved and stray content flagged.

Merged cells in the data — the decision:

- merged down one column (``产线`` over four work orders): *filled down* — every
  row gets the value, as the sheet shows it;
- merged across columns: the top-left cell keeps its value and every other
  covered cell becomes a ``BadCell`` saying to unmerge — the importer reports
  it when that column is imported, never guesses which field the value is for.

Rows separated from the table by ``STRAY_GAP`` blank rows or more (a value
typed into row 1,048,576) are not silently imported: their cells become
``BadCell`` with the reason.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .read import HEADER_SEARCH_ROWS, STRAY_GAP, BadCell, cell_text, column_letter

_SPACES = re.compile(r"\s+")


@dataclass
class Header:
    row: int                                   # Excel row number of the header
    columns: dict[int, str]                    # column number (1 = A) → header text
    duplicates: dict[str, list[int]] = field(default_factory=dict)

    def where(self, col: int) -> str:
        """'C 数量' — a column as the error report names it."""
        return f"{column_letter(col)} {self.columns.get(col, '')}".strip()


def header_text(value) -> str:
    if value is None or isinstance(value, BadCell):
        return ""
    return _SPACES.sub(" ", cell_text(value)).strip()


def match_key(text: str) -> str:
    """Header and label comparison ignores case, spaces and a trailing (unit)."""
    text = re.sub(r"[（(][^()（）]*[)）]\s*$", "", text.strip())
    return _SPACES.sub("", text).casefold()


def find_header(head: list[tuple[int, list]], known: set[str] | None = None) -> Header | None:
    """The header among the first non-blank rows; ``known``: match keys of field names and labels."""
    head = head[:HEADER_SEARCH_ROWS]
    if not head:
        return None
    if known:
        scored = [(sum(match_key(header_text(v)) in known for v in values), -i) for i, (_, values) in enumerate(head)]
        best, index = max(scored)
        if best >= 1:
            return header_of(*head[-index])
    width = max(sum(v is not None for v in values) for _, values in head)
    needed = 1 if width == 1 else max(2, math.ceil(width / 2))
    for number, values in head:
        filled = [v for v in values if v is not None]
        texts = [v for v in filled if isinstance(v, str)]
        if len(filled) >= needed and len(texts) * 10 >= len(filled) * 6 and not any(isinstance(v, BadCell) for v in filled):
            return header_of(number, values)
    return None


def header_of(number: int, values: list) -> Header:
    columns, seen = {}, {}
    for col, value in enumerate(values, start=1):
        text = header_text(value)
        if text:
            columns[col] = text
            seen.setdefault(match_key(text), []).append(col)
    duplicates = {columns[cols[0]]: cols for cols in seen.values() if len(cols) > 1}
    return Header(number, columns, duplicates)


def split_head(rows, limit: int = HEADER_SEARCH_ROWS):
    """(the first ``limit`` rows as a list, an iterator over the rest)."""
    iterator = iter(rows)
    head = []
    for item in iterator:
        head.append(item)
        if len(head) >= limit:
            break
    return head, iterator


def data_rows(rows, header: Header, merges: list[tuple[int, int, int, int]]):
    """Rows below the header with merges resolved and stray rows flagged (see the module doc)."""
    fills, tops, covered = _merge_plan(header.row, merges)
    top_values: dict = {}
    last, stray = header.row, None
    for number, values in rows:
        if number <= header.row:
            continue
        if number in fills or number in tops or number in covered:
            values = _resolve(number, list(values), fills, tops, covered, top_values)
        if stray is None and number - last - 1 >= STRAY_GAP:
            stray = (number - last - 1, last)
        if stray is not None:
            values = [_stray(v, *stray) for v in values]
        last = number
        yield number, values


def _merge_plan(header_row, merges):
    fills: dict = {}     # row → [(col, top_row)]
    tops: dict = {}      # row → [col] whose value later rows take
    covered: dict = {}   # row → {col: ref} refused cells
    for min_col, min_row, max_col, max_row in merges:
        if max_row <= header_row:
            continue
        if min_col == max_col and min_row > header_row:
            tops.setdefault(min_row, []).append(min_col)
            for row in range(min_row + 1, max_row + 1):
                fills.setdefault(row, []).append((min_col, min_row))
            continue
        ref = f"{column_letter(min_col)}{min_row}:{column_letter(max_col)}{max_row}"
        for row in range(max(min_row, header_row + 1), max_row + 1):
            for col in range(min_col, max_col + 1):
                if (row, col) != (min_row, min_col):
                    covered.setdefault(row, {})[col] = ref
    return fills, tops, covered


def _resolve(number, values, fills, tops, covered, top_values):
    def put(col, value):
        if col > len(values):
            values.extend([None] * (col - len(values)))
        values[col - 1] = value

    for col in tops.get(number, ()):
        top_values[(number, col)] = values[col - 1] if col <= len(values) else None
    for col, top in fills.get(number, ()):
        put(col, top_values.get((top, col)))
    for col, ref in covered.get(number, {}).items():
        put(col, BadCell("(merged)", f"part of the merged cells {ref} that span several columns; "
                                     "unmerge them and give each column its own value"))
    return values


def _stray(value, gap, last):
    if value is None or isinstance(value, BadCell):
        return value
    return BadCell(value, f"{gap:,} blank rows below row {last}: this looks like stray content far below the "
                          "table; delete it, or delete the blank rows if it belongs to the table")
