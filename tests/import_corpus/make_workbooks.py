"""Build the Excel cases of the import corpus (run once; the small .xlsx files are committed).

Usage: ``python tests/import_corpus/make_workbooks.py``. Every workbook holds the baseline
orders (2024-03-04..07; 100.00 + 250.50 + 49.50 + 1000.00) written a different way. Serials were
worked out by hand: 2024-03-04 is day 45355 after 1899-12-30 and day 43893 after 1904-01-01.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904

CORPUS = Path(__file__).resolve().parent
HEADER = ["Order Date", "Customer", "Product", "Region", "Amount"]
NAMES = [
    ("Acme", "Widget", "East"),
    ("Bravo", "Widget", "East"),
    ("Acme", "Gadget", "East"),
    ("Cobalt", "Gadget", "West"),
]
FIXED_TIME = dt.datetime(2024, 1, 1)


def _save(workbook: openpyxl.Workbook, name: str) -> None:
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    workbook.save(CORPUS / name)


def _write(
    dates: list[object],
    amounts: list[object],
    name: str,
    epoch1904: bool = False,
    header: list[str] = HEADER,
    text_dates: bool = False,
) -> None:
    workbook = openpyxl.Workbook()
    if epoch1904:
        workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(header)
    for date, (customer, product, region), amount in zip(dates, NAMES, amounts, strict=True):
        row = [date, customer, product, region, amount]
        sheet.append([v for h, v in zip(HEADER, row, strict=True) if h in header])
    if text_dates:
        for cell in sheet["A"][1:]:
            cell.number_format = "@"
    workbook.create_sheet("Notes").append(["exported by hand"])
    _save(workbook, name)


def main() -> None:
    """Write the Excel corpus files."""
    days = [dt.datetime(2024, 3, 4 + i) for i in range(4)]
    _write(days, [100, 250.5, "49.50", "$1,000.00"], "workbook_ok.xlsx")
    _write(
        [days[0], days[1], 43895, 43896],
        [100, 250.5, 49.5, 1000],
        "workbook_1904.xlsx",
        epoch1904=True,
    )
    _write(
        ["45355", "45356", "45357", "45358"],
        [100, 250.5, 49.5, 1000],
        "workbook_serial_text.xlsx",
        text_dates=True,
    )
    _write(days, [100, 250.5, 49.5, 1000], "workbook_missing_column.xlsx", header=HEADER[:4])
    _write(
        [days[0], "2024-13-45", days[2], days[3]],
        [100, 250.5, 49.5, 1000],
        "workbook_bad_date.xlsx",
    )
    (CORPUS / "workbook_old_format.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 56)


if __name__ == "__main__":
    main()
