"""Robust reading of CSV exports and Excel sheets: encodings, separators, dates, numbers.

Every value is read as text first, then parsed per field type. A value that cannot be parsed
becomes an issue naming the file, the row (line number, header = 1) and the column; it is never
turned into a silent NaN. Blank values stay missing; the build recipe decides what a missing
value means (quarantine, or a documented imputation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.sources.importer.excel import EXCEL_EPOCHS, EXCEL_SUFFIXES, read_sheet
from salesops_lib.sources.importer.limits import require_regular_file
from salesops_lib.sources.importer.mapping import SourceSpec
from salesops_lib.sources.importer.quarantine import combine, make_issues
from salesops_lib.sources.importer.textfile import INVISIBLE, map_columns, read_delimited

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_CURRENCY = re.compile(r"[$€£¥]|\b(?:USD|EUR|GBP)\b")
_SERIAL = re.compile(r"^\d{1,6}(?:\.0+)?$")
_DIGITS = re.compile(r"^\d+$")
MIN_YEAR, MAX_YEAR = 1900, 2100
MAX_NUMBER = 1e12
"""Largest absolute amount or number an import accepts (beyond it the row is quarantined)."""
MAX_INTEGER = 2**31 - 1
"""Largest absolute integer (quantities are 32-bit in the schema)."""


def by_unique(values: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a text function to each distinct non-blank value once and spread the results.

    Exports repeat the same dates, names and amounts many times, so this is much faster than
    applying ``func`` to every row.

    Args:
        values: Text values (blank = ``None``/NaN).
        func: Maps a series of distinct strings to a series of results (same index).

    Returns:
        A new series aligned with ``values``; blanks stay ``None``.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = func(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    out = np.full(len(values), None, dtype=object)
    present = codes >= 0
    out[present] = mapped[codes[present]]
    return pd.Series(out, index=values.index, dtype=object)


def read_source(path: Path, spec: SourceSpec) -> pd.DataFrame:
    """Read one source file into a frame of stripped text, one column per mapped field.

    Records the reader quarantines (see :func:`read_checked`) are left out.

    Args:
        path: The file.
        spec: How to read it and which columns it must have.

    Returns:
        A new frame: a ``_row`` column (line number in the file, header = 1) and one text column
        per logical field; blank cells are ``None``. Optional fields the file lacks are blank.

    Raises:
        ImportDataError: If a required column is missing or duplicated (naming file, column and
            rule), the file is past a limit, or cannot be read as delimited text or a workbook.
    """
    return read_checked(path, spec).frame


@dataclass(frozen=True)
class ReadSource:
    """A source read and checked, before its fields are parsed.

    Attributes:
        frame: ``_row`` plus one stripped text column per mapped field (records that passed).
        issues: Records quarantined while reading (wrong field count, NUL byte) and values
            corrected (invisible characters removed).
        rows: Data records read, quarantined ones included.
        spec: The spec to parse with (a workbook's own date system filled in).
    """

    frame: pd.DataFrame
    issues: pd.DataFrame
    rows: int
    spec: SourceSpec


def read_checked(path: Path, spec: SourceSpec) -> ReadSource:
    """Read a regular file once (CSV streaming, or a workbook read-only) and check it.

    Args:
        path: The file.
        spec: Its mapping.

    Returns:
        The checked text, the issues found while reading and the spec to parse with.

    Raises:
        ImportDataError: See :func:`read_source`; also when the path is not a regular file.
    """
    info = require_regular_file(path, "source")
    parts: list[pd.DataFrame] = []
    if path.suffix.lower() in EXCEL_SUFFIXES:
        sheet = read_sheet(path, spec.sheet, spec.limits)
        header = [str(c) for c in sheet.cells.columns]
        where = map_columns(header, spec, path)
        frame = pd.DataFrame({"_row": np.asarray(sheet.rows, dtype="int64")})
        for field, index in where.items():
            if index is None:
                frame[field] = pd.Series([None] * len(frame), dtype=object)
                continue
            values = by_unique(sheet.cells.iloc[:, index], lambda u: u.astype(str).str.strip())
            frame[field] = values.where(values != "", None).to_numpy()
        if spec.excel_dates is None:
            spec = spec.model_copy(update={"excel_dates": sheet.date_system})
        invisible = set(spec.columns)
    else:
        frame, row_issues, invisible = read_delimited(path, spec, info.st_size)
        if row_issues:
            rows = pd.DataFrame({"_row": [i.row for i in row_issues]})
            issues = make_issues(
                rows, "field_count", "quarantined", path.name, "", values=None
            ).assign(
                rule=[i.rule for i in row_issues],
                column=[i.column for i in row_issues],
                value=[i.value for i in row_issues],
            )
            parts.append(issues)
    frame, corrected = strip_invisible(frame, spec, path.name, invisible)
    parts.append(corrected)
    quarantined = sum(len(p) for p in parts[:-1])
    return ReadSource(frame, combine(parts), len(frame) + quarantined, spec)


def strip_invisible(
    frame: pd.DataFrame, spec: SourceSpec, file: str, fields: set[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Remove bidi controls and zero-width characters from every mapped value.

    Such characters make a name display reversed or make two equal-looking names differ. Each
    value changed is recorded as a ``corrected`` issue ``invisible_characters``.

    Args:
        frame: Text columns (with ``_row``).
        spec: The source's mapping (for column names).
        file: File name for issues.
        fields: The fields to look at (``None``: all); the CSV reader knows which hold any.

    Returns:
        A new frame and the issues.
    """
    out = frame.copy(deep=False)
    parts = []
    for field, column in spec.columns.items():
        if fields is not None and field not in fields:
            continue
        values = frame[field]
        hit = by_unique(values, lambda u: u.astype(str).str.contains(INVISIBLE)).map(bool)
        if not hit.any():
            continue
        cleaned = by_unique(
            values, lambda u: u.astype(str).str.replace(INVISIBLE, "", regex=True).str.strip()
        )
        out[field] = cleaned.where(cleaned != "", None).to_numpy()
        shown = values[hit].str.replace(INVISIBLE, "\ufffd", regex=True)
        parts.append(
            make_issues(frame[hit], "invisible_characters", "corrected", file, column.column, shown)
        )
    return out, combine(parts)


def parse_numbers(values: pd.Series, decimal: str = ".", thousands: str = ",") -> pd.DataFrame:
    """Parse numbers stored as text: currency symbols, spaces and thousands separators allowed.

    Thousands separators must group digits by three (``1,234,567``), so a decimal comma in a
    file declared with a decimal point is rejected rather than read 100 times too large.

    Args:
        values: Text values (blank = ``None``).
        decimal: Decimal separator.
        thousands: Thousands separator, or ``""``.

    Returns:
        A new frame with ``value`` (float, NaN when blank or bad) and ``bad`` (True when a
        non-blank value could not be parsed).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = _parse_unique_numbers(pd.Series(uniques, dtype=object), decimal, thousands)
    result = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    present = codes >= 0
    result[present] = parsed["value"].to_numpy()[codes[present]]
    bad[present] = parsed["bad"].to_numpy()[codes[present]]
    return pd.DataFrame({"value": result, "bad": bad}, index=values.index)


def _parse_unique_numbers(values: pd.Series, decimal: str, thousands: str) -> pd.DataFrame:
    """Parse distinct number strings (no blanks) into value and bad flag."""
    cleaned = values.astype(str).str.replace(_CURRENCY, "", regex=True)
    cleaned = cleaned.str.replace(_SPACES, "", regex=True)
    t, d = re.escape(thousands), re.escape(decimal)
    grouped = rf"\d{{1,3}}(?:{t}\d{{3}})+" if thousands else r"(?!)"
    pattern = rf"^[+-]?(?:\d+|{grouped})(?:{d}\d+)?$|^[+-]?{d}\d+$"
    ok = cleaned.str.fullmatch(pattern)
    normalized = cleaned[ok]
    if thousands:
        normalized = normalized.str.replace(thousands, "", regex=False)
    if decimal != ".":
        normalized = normalized.str.replace(decimal, ".", regex=False)
    result = pd.Series(np.nan, index=values.index, dtype="float64")
    result[normalized.index] = normalized.astype("float64")
    bad = pd.Series(False, index=values.index)
    bad[cleaned.index[~ok.to_numpy()]] = True
    return pd.DataFrame({"value": result, "bad": bad})


def _parse_unique_dates(
    unique: pd.Series, dayfirst: bool, date_format: str | None, excel_dates: int | None
) -> pd.Series:
    """Parse distinct date strings; NaT where a string is not a date."""
    result = pd.Series(pd.NaT, index=unique.index, dtype="datetime64[ns]")
    serial = unique.str.fullmatch(_SERIAL.pattern)
    if excel_dates is not None and serial.any():
        days = unique[serial].astype("float64")
        origin = pd.Timestamp(EXCEL_EPOCHS[excel_dates])
        result[serial] = origin + pd.to_timedelta(days, unit="D")
    rest = unique[~serial & ~unique.str.fullmatch(_DIGITS.pattern)]
    if date_format:
        result[rest.index] = pd.to_datetime(rest, format=date_format, errors="coerce")
        return result
    iso = pd.to_datetime(rest, format="ISO8601", errors="coerce")
    result[rest.index] = iso
    others = rest[iso.isna()]
    for key, text in others.items():
        try:
            parsed = pd.to_datetime(text, dayfirst=dayfirst)
        except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
            continue
        result[key] = parsed
    return result


def parse_dates(
    values: pd.Series,
    dayfirst: bool = False,
    date_format: str | None = None,
    excel_dates: int | None = None,
) -> pd.DataFrame:
    """Parse dates stored as text: ISO, common day- or month-first forms, Excel serials.

    Each distinct string is parsed once, so large files with repeated dates stay fast. Times of
    day are dropped (the schema stores dates). Years outside 1900-2100 count as bad.

    Args:
        values: Text values (blank = ``None``).
        dayfirst: Read ambiguous dates such as ``03/04/2017`` as day first.
        date_format: An explicit strptime format, or ``None``.
        excel_dates: ``1900`` or ``1904`` to read whole numbers as Excel serial dates.

    Returns:
        A new frame with ``value`` (datetime64 at midnight, NaT when blank or bad) and ``bad``.
    """
    text = values.astype(object).where(values.notna(), None)
    present = text[text.notna()].astype(str)
    unique = pd.Series(present.unique())
    parsed = _parse_unique_dates(unique, dayfirst, date_format, excel_dates)
    in_range = parsed.dt.year.between(MIN_YEAR, MAX_YEAR)
    parsed = parsed.where(in_range).dt.normalize()
    lookup = pd.Series(parsed.to_numpy(), index=unique.to_numpy())
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if len(present):
        result[present.index] = lookup.reindex(present.to_numpy()).to_numpy()
    bad = pd.Series(False, index=values.index)
    bad[present.index] = result[present.index].isna().to_numpy()
    return pd.DataFrame({"value": result, "bad": bad})


def parse_fields(
    raw: pd.DataFrame, spec: SourceSpec, file: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse every mapped field of a source by its type.

    String and category fields keep their (trimmed) text; numbers, integers and dates are
    parsed. A non-blank value that does not parse quarantines its row with rule
    ``unparseable_<type>`` naming the file, row and column; a number beyond
    :data:`MAX_NUMBER` (an integer beyond :data:`MAX_INTEGER`) with rule
    ``out_of_range_<type>``.

    Args:
        raw: Output of :func:`read_source`.
        spec: The source's mapping.
        file: File name for issues.

    Returns:
        A new frame of parsed fields (with ``_row``) for the rows that parsed, and the issues.
    """
    parsed = raw.copy()
    parts = []
    bad_rows = pd.Series(False, index=raw.index)
    for field, column in spec.columns.items():
        if column.type in ("string", "category"):
            continue
        if column.type == "date":
            result = parse_dates(raw[field], spec.dayfirst, spec.date_format, spec.excel_dates)
        else:
            result = parse_numbers(raw[field], spec.decimal, spec.thousands)
            if column.type == "integer":
                fractional = result["value"].notna() & (result["value"] % 1 != 0)
                result = result.assign(bad=result["bad"] | fractional)
        if column.type in ("number", "integer"):
            limit = MAX_INTEGER if column.type == "integer" else MAX_NUMBER
            huge = result["value"].abs() > limit
            if huge.any():
                parts.append(
                    make_issues(
                        raw[huge],
                        f"out_of_range_{column.type}",
                        "quarantined",
                        file,
                        column.column,
                        values=raw.loc[huge, field],
                    )
                )
                bad_rows |= huge
        parsed[field] = result["value"]
        bad = result["bad"]
        if bad.any():
            parts.append(
                make_issues(
                    raw[bad],
                    f"unparseable_{column.type}",
                    "quarantined",
                    file,
                    column.column,
                    values=raw.loc[bad, field],
                )
            )
            bad_rows |= bad
    return parsed[~bad_rows].reset_index(drop=True), combine(parts)


def norm_key(values: pd.Series) -> pd.Series:
    """Category values as lookup keys: spaces collapsed, trimmed, case folded."""
    return by_unique(
        values,
        lambda u: u.astype(str).str.replace(_SPACES, " ", regex=True).str.strip().str.casefold(),
    )


def slug(values: pd.Series) -> pd.Series:
    """Path-safe ids from names: lowercase letters, digits and hyphens (blank stays blank)."""

    def _slug(unique: pd.Series) -> pd.Series:
        text = unique.astype(str).str.casefold().str.replace(r"[^a-z0-9]+", "-", regex=True)
        return text.str.strip("-").str.slice(0, 40).str.strip("-")

    return by_unique(values, _slug)
