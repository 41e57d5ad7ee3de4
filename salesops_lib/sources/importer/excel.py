"""Reading Excel workbooks (.xlsx/.xlsm) as text, so they follow the same parsing path as CSV.

Every cell becomes text: real dates become ISO dates, numbers their plain decimal form, text
stays text. Whole numbers in date columns are read as serial dates in the workbook's own date
system (1900 or 1904) unless the mapping names one. Rows keep the sheet row number a user sees.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.sources.importer.mapping import SourceSpec
from salesops_lib.sources.importer.quarantine import ImportDataError

EXCEL_EPOCHS: dict[int, dt.date] = {1900: dt.date(1899, 12, 30), 1904: dt.date(1904, 1, 1)}
"""Day zero of Excel's two date systems (1900 counts the phantom 1900-02-29, hence Dec 30)."""
EXCEL_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xls")
READABLE_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class SheetText:
    """One worksheet as text.

    Attributes:
        cells: One text column per header cell; blank cells are ``""``.
        rows: The sheet row number (as Excel shows it) of each frame row.
        date_system: The workbook's date system, ``1900`` or ``1904``.
    """

    cells: pd.DataFrame
    rows: np.ndarray
    date_system: int


def _open_workbook(path: Path, read_only: bool):
    """Open a workbook with openpyxl, turning format errors into one-line import errors."""
    suffix = path.suffix.lower()
    if suffix not in READABLE_SUFFIXES:
        raise ImportDataError(
            f"{path.name}: the old binary Excel format ({suffix}) is not supported; "
            "save it as .xlsx or CSV"
        )
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=read_only, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportDataError(f"{path.name}: not readable as an Excel workbook: {exc}") from None


def workbook_date_system(path: Path) -> int:
    """The date system a workbook declares (its ``date1904`` flag).

    Args:
        path: An ``.xlsx``/``.xlsm`` file.

    Returns:
        ``1904`` when the workbook uses the 1904 system, else ``1900``.
    """
    workbook = _open_workbook(path, read_only=True)
    try:
        return 1904 if workbook.epoch == dt.datetime(1904, 1, 1) else 1900
    finally:
        workbook.close()


def excel_spec(path: Path, spec: SourceSpec) -> SourceSpec:
    """The spec to parse a source with: Excel serials in the workbook's system if unset.

    Args:
        path: The source file.
        spec: Its mapping.

    Returns:
        ``spec`` itself for text files or when it names a date system, else a copy whose
        ``excel_dates`` is the workbook's own date system.
    """
    if path.suffix.lower() not in READABLE_SUFFIXES or spec.excel_dates is not None:
        return spec
    return spec.model_copy(update={"excel_dates": workbook_date_system(path)})


def cell_text(value: object) -> str:
    """One cell value as text: ISO dates, plain decimal numbers, trimmed text.

    Args:
        value: A cell value as openpyxl returns it.

    Returns:
        The text; ``""`` for an empty cell. A date-time keeps its date only.
    """
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return np.format_float_positional(value, trim="-")
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def read_sheet(path: Path, sheet: str | None = None) -> SheetText:
    """Read one worksheet as text with its header row and sheet row numbers.

    The header is the first non-empty row; wholly empty rows below it are skipped.

    Args:
        path: An ``.xlsx``/``.xlsm`` file.
        sheet: Worksheet name, or ``None`` for the first sheet.

    Returns:
        The sheet's cells as text.

    Raises:
        ImportDataError: If the file is an old ``.xls``, not a workbook, lacks the sheet, or
            the sheet has no header row.
    """
    workbook = _open_workbook(path, read_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ImportDataError(
                f"{path.name}: sheet {sheet!r} not found; sheets: {', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        date_system = 1904 if workbook.epoch == dt.datetime(1904, 1, 1) else 1900
        header: list[str] | None = None
        records: list[list[str]] = []
        rows: list[int] = []
        for row in worksheet.iter_rows():
            texts = [cell_text(getattr(cell, "value", None)) for cell in row]
            if not any(t.strip() for t in texts):
                continue
            number = next(c.row for c in row if getattr(c, "row", None) is not None)
            if header is None:
                header = texts
                continue
            records.append(texts)
            rows.append(number)
    finally:
        workbook.close()
    if header is None:
        raise ImportDataError(f"{path.name}: sheet {worksheet.title!r} has no header row")
    width = len(header)
    cells = pd.DataFrame(
        [(r + [""] * width)[:width] for r in records],
        columns=[h if h else f"column {i + 1}" for i, h in enumerate(header)],
        dtype=object,
    )
    return SheetText(cells, np.asarray(rows, dtype="int64"), date_system)
