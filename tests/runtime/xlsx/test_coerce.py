"""Spreadsheet-isms become values the field types accept; the field types still decide."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from runtime.fieldtypes import FIELD_TYPES, FieldError, field_type
from runtime.xlsx.coerce import NORMALISERS, NOT_IMPORTABLE, normaliser
from runtime.xlsx.read import BadCell


def accepted(fdef, cell):
    """What the record service stores for ``cell`` after normalising (its own coerce decides)."""
    value = normaliser(fdef)(cell)
    return field_type(fdef).coerce(fdef, value)


def test_every_field_type_has_an_excel_coercion_or_is_declared_not_importable():
    assert set(FIELD_TYPES) == set(NORMALISERS) | NOT_IMPORTABLE
    assert not set(NORMALISERS) & NOT_IMPORTABLE


@pytest.mark.parametrize("text", ["2026/11/03", "2026-11-03", "3.11.2026", "2026年11月3日", " 2026/11/3 ", "２０２６年１１月３日"])
def test_text_dates_in_the_four_formats(text):
    assert accepted({"name": "due", "type": "date"}, text) == dt.date(2026, 11, 3)


def test_text_datetimes_and_dates_for_a_datetime_field():
    fdef = {"name": "at", "type": "datetime"}
    assert accepted(fdef, "2026/11/03 08:30") == dt.datetime(2026, 11, 3, 8, 30)
    assert accepted(fdef, "2026年11月3日 8时5分") == dt.datetime(2026, 11, 3, 8, 5)
    assert accepted(fdef, "3.11.2026") == dt.datetime(2026, 11, 3)


def test_excel_serial_dates_and_yyyymmdd_numbers():
    fdef = {"name": "due", "type": "date"}
    assert accepted(fdef, 46329.0) == dt.date(2026, 11, 3)
    assert accepted(fdef, 20261103) == dt.date(2026, 11, 3)
    assert accepted({"name": "at", "type": "datetime"}, 46329.5) == dt.datetime(2026, 11, 3, 12, 0)


def test_text_that_is_no_date_names_the_accepted_formats():
    bad = normaliser({"name": "due", "type": "date"})("next week")
    assert isinstance(bad, BadCell) and "2026年11月3日" in bad.reason
    impossible = normaliser({"name": "due", "type": "date"})("2026/02/30")
    assert isinstance(impossible, BadCell) and "not a real date" in impossible.reason


def test_thousands_separators_and_units():
    qty = {"name": "qty", "type": "integer"}
    weight = {"name": "weight", "type": "decimal", "scale": 2, "unit": "kg"}
    assert accepted(qty, "1,200") == 1200
    assert accepted(qty, "1 200") == 1200
    assert accepted(weight, "5 kg") == Decimal("5.00")
    assert accepted(weight, "1,234.5KG") == Decimal("1234.50")
    other_unit = normaliser(weight)("5 g")
    assert isinstance(other_unit, BadCell) and "takes kg" in other_unit.reason
    with pytest.raises(FieldError, match="not a whole number"):
        accepted(qty, "5 kg")  # no unit on the field: the field type refuses it


def test_whole_floats_become_integers_and_decimals_keep_excel_precision():
    assert accepted({"name": "qty", "type": "integer"}, 5.0) == 5
    assert accepted({"name": "p", "type": "decimal", "scale": 2}, 0.1 + 0.2) == Decimal("0.30")
    with pytest.raises(FieldError, match="whole number"):
        accepted({"name": "qty", "type": "integer"}, 5.5)


def test_leading_zero_codes_stay_text_and_numbers_lose_the_dot_zero():
    fdef = {"name": "code", "type": "text"}
    assert accepted(fdef, "00123") == "00123"
    assert accepted(fdef, 123.0) == "123"
    assert accepted(fdef, 1.5) == "1.5"


@pytest.mark.parametrize("cell,expected", [("是", True), ("否", False), ("Y", True), ("N", False), ("√", True),
                                           ("×", False), (1.0, True), (0.0, False), (True, True)])
def test_booleans(cell, expected):
    assert accepted({"name": "ok", "type": "boolean"}, cell) is expected


@pytest.mark.parametrize("code", ["#DIV/0!", "#REF!", "#N/A", "#VALUE!"])
def test_error_codes_typed_or_pasted_as_text_are_bad_cells_for_every_type(code):
    for kind in ("text", "integer", "decimal", "date", "boolean", "select", "link"):
        value = normaliser({"name": "f", "type": kind, "options": ["a"], "table": "t"})(code)
        assert isinstance(value, BadCell) and code in value.reason


def test_bad_cells_are_refused_by_every_field_type():
    bad = BadCell("#REF!", "formula error")
    for name in NORMALISERS:
        fdef = {"name": "f", "type": name, "options": ["a"], "table": "t"}
        value = normaliser(fdef)(bad)
        with pytest.raises(FieldError):
            field_type(fdef).converter(fdef)(value)


def test_select_accepts_values_and_labels_in_any_language_and_case():
    fdef = {"name": "prio", "type": "select",
            "options": [{"value": "rush", "label": {"en": "Rush", "zh": "加急"}}, "low", {"value": "1"}]}
    assert [accepted(fdef, v) for v in ("加急", "RUSH", "rush", " low ", 1.0)] == ["rush", "rush", "rush", "low", "1"]
    with pytest.raises(FieldError, match="not one of the options"):
        accepted(fdef, "mid")


def test_multi_select_splits_on_chinese_and_latin_separators():
    fdef = {"name": "tags", "type": "multi_select", "options": [{"value": "a", "label": {"zh": "甲"}}, "b", "c"]}
    assert accepted(fdef, "甲、b；c") == ["a", "b", "c"]


def test_durations_from_time_cells_and_text():
    fdef = {"name": "cycle", "type": "duration"}
    assert accepted(fdef, dt.time(1, 30)) == 5400
    assert accepted(fdef, dt.timedelta(minutes=2)) == 120
    assert accepted(fdef, "1:30:00") == 5400


def test_link_codes_stay_text_for_the_importer_to_resolve():
    convert = normaliser({"name": "product", "type": "link", "table": "product"})
    assert convert(1001.0) == "1001" and convert(" P-1 ") == "P-1"


def test_decimal_comma_is_refused_rather_than_read_as_thousands():
    bad = normaliser({"name": "w", "type": "decimal", "scale": 2})("1,5")
    assert isinstance(bad, BadCell) and "ambiguous" in bad.reason
