"""Excel workbooks read through the CSV parsing path (corpus cases live in import_corpus/).

Known answers are worked out by hand: serial 45355 is 2024-03-04 in the 1900 system and
2028-03-05 in the 1904 system (1462 days later); sheet rows are numbered as Excel shows them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from salesops_lib.sources.importer.excel import excel_spec, read_sheet
from salesops_lib.sources.importer.mapping import ColumnSpec, SourceSpec
from salesops_lib.sources.importer.parsing import parse_fields, read_source
from salesops_lib.sources.importer.quarantine import ImportDataError


def _spec(**extra: object) -> SourceSpec:
    columns = {
        "order_date": ColumnSpec(column="Order Date", type="date"),
        "amount": ColumnSpec(column="Amount", type="number"),
    }
    return SourceSpec(file="x.xlsx", columns=columns, **extra)


def _workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Cover"
    workbook.active.append(["nothing here"])
    sheet = workbook.create_sheet("Data")
    sheet.append(["Order Date", "Amount"])
    sheet.append([45355, "1 234.50"])
    sheet.append([])
    sheet.append([dt.datetime(2024, 3, 5, 14, 30), "twelve"])
    workbook.save(path)
    return path


def test_named_sheet_keeps_sheet_row_numbers(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "x.xlsx")
    raw = read_source(path, _spec(sheet="Data"))
    assert raw["_row"].tolist() == [2, 4]
    assert raw["order_date"].tolist() == ["45355", "2024-03-05"]


def test_bad_number_names_sheet_row_and_column(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "x.xlsx")
    spec = _spec(sheet="Data")
    parsed, issues = parse_fields(read_source(path, spec), excel_spec(path, spec), path.name)
    assert parsed["amount"].tolist() == [1234.5]
    assert parsed["order_date"].tolist() == [dt.datetime(2024, 3, 4)]
    assert issues[["file", "row", "column", "rule"]].to_dict("records") == [
        {"file": "x.xlsx", "row": 4, "column": "Amount", "rule": "unparseable_number"}
    ]


def test_mapping_date_system_overrides_workbook(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "x.xlsx")
    spec = _spec(sheet="Data", excel_dates=1904)
    parsed, _ = parse_fields(read_source(path, spec), excel_spec(path, spec), path.name)
    assert parsed["order_date"].iloc[0] == dt.datetime(2028, 3, 5)


def test_first_sheet_by_default_and_missing_sheet_error(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "x.xlsx")
    assert list(read_sheet(path).cells.columns) == ["nothing here"]
    with pytest.raises(ImportDataError, match=r"x\.xlsx: sheet 'Nope' not found; sheets: Cover"):
        read_source(path, _spec(sheet="Nope"))
