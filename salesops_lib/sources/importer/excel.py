"""Reading Excel workbooks (.xlsx/.xlsm) as text, so they follow the same parsing path as CSV.

Every cell becomes text: real dates become ISO dates, numbers their plain decimal form, text
stays text. Whole numbers in date columns are read as serial dates in the workbook's own date
system (1900 or 1904) unless the mapping names one. Rows keep the sheet row number a user sees.

A workbook is a zip of XML files, so a tiny file can claim anything: before openpyxl sees it,
the zip members' declared sizes (which bound what decompression yields) are checked against
the source's limits (bytes expanded in all, compression ratio of each large member). The sheet
is then read once, streaming (read-only mode), ignoring the dimension the sheet claims, and
reading stops past the row and cell limits.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.sources.importer.limits import ImportLimits, check_file_size, check_rows
from salesops_lib.sources.importer.mapping import SourceSpec
from salesops_lib.sources.importer.quarantine import ImportDataError

_RATIO_FROM_BYTES = 1 << 20
"""Members smaller than this (expanded) are not checked for their compression ratio."""
_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904=\"(?:1|true)\"")

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


def check_workbook_zip(path: Path, limits: ImportLimits) -> None:
    """Refuse a workbook whose zip members expand past the limits, before parsing any XML.

    Args:
        path: An ``.xlsx``/``.xlsm`` file.
        limits: The source's limits.

    Raises:
        ImportDataError: If it is not a zip, expands to more than ``max_expanded_bytes`` or has
            a large member compressed more than ``max_compression_ratio`` times.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportDataError(f"{path.name}: not readable as an Excel workbook: {exc}") from None
    total = sum(m.file_size for m in members)
    if total > limits.max_expanded_bytes:
        raise ImportDataError(
            f"{path.name}: expands to {total:,} bytes, more than limits.max_expanded_bytes "
            f"{limits.max_expanded_bytes:,}; save it as CSV or raise the limit in the mapping"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FROM_BYTES and ratio > limits.max_compression_ratio:
            raise ImportDataError(
                f"{path.name}: part {member.filename} has compression ratio {ratio:,.0f}, more "
                f"than limits.max_compression_ratio {limits.max_compression_ratio:,.0f} (a "
                "zip bomb, or raise the limit in the mapping)"
            )


def workbook_date_system(path: Path) -> int:
    """The date system a workbook declares (its ``date1904`` flag), read from its zip directly.

    Args:
        path: An ``.xlsx``/``.xlsm`` file.

    Returns:
        ``1904`` when the workbook uses the 1904 system, else ``1900``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/workbook.xml")
            if info.file_size > _RATIO_FROM_BYTES * 16:
                raise ImportDataError(f"{path.name}: xl/workbook.xml is implausibly large")
            content = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportDataError(f"{path.name}: not readable as an Excel workbook: {exc}") from None
    return 1904 if _DATE1904.search(content) else 1900


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


def read_sheet(
    path: Path, sheet: str | None = None, limits: ImportLimits | None = None
) -> SheetText:
    """Read one worksheet as text with its header row and sheet row numbers.

    The header is the first non-empty row; wholly empty rows below it are skipped. Columns
    past the header's last named cell are ignored.

    Args:
        path: An ``.xlsx``/``.xlsm`` file.
        sheet: Worksheet name, or ``None`` for the first sheet.
        limits: Size limits (defaults when ``None``).

    Returns:
        The sheet's cells as text.

    Raises:
        ImportDataError: If the file is an old ``.xls``, not a workbook, lacks the sheet, has
            no header row, or is past a limit.
    """
    limits = limits or ImportLimits()
    if path.suffix.lower() in READABLE_SUFFIXES:
        check_file_size(path, path.stat().st_size, limits)
        check_workbook_zip(path, limits)
    workbook = _open_workbook(path, read_only=True)
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ImportDataError(
                f"{path.name}: sheet {sheet!r} not found; sheets: {', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        title = worksheet.title
        date_system = 1904 if workbook.epoch == dt.datetime(1904, 1, 1) else 1900
        worksheet.reset_dimensions()
        header: list[str] | None = None
        records: list[list[str]] = []
        rows: list[int] = []
        width = 0
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if not values:
                continue
            if header is None:
                texts = [cell_text(v) for v in values]
                while texts and not texts[-1].strip():
                    texts.pop()
                if texts:
                    header, width = texts, len(texts)
                continue
            texts = [cell_text(v) for v in values[:width]]
            if not any(t.strip() for t in texts):
                continue
            records.append(texts)
            rows.append(number)
            if len(rows) % 65536 == 0:
                check_rows(path, len(rows), width, limits)
        check_rows(path, len(rows), width, limits)
    finally:
        workbook.close()
    if header is None:
        raise ImportDataError(f"{path.name}: sheet {title!r} has no header row")
    cells = pd.DataFrame(
        [(r + [""] * width)[:width] for r in records],
        columns=[h if h else f"column {i + 1}" for i, h in enumerate(header)],
        dtype=object,
    )
    return SheetText(cells, np.asarray(rows, dtype="int64"), date_system)
