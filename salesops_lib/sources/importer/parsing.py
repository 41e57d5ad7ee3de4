"""Robust reading of CSV exports and Excel sheets: encodings, separators, dates, numbers.

Every value is read as text first, then parsed per field type. A value that cannot be parsed
becomes an issue naming the file, the row (line number, header = 1) and the column; it is never
turned into a silent NaN. Blank values stay missing; the build recipe decides what a missing
value means (quarantine, or a documented imputation).
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.sources.importer.excel import EXCEL_EPOCHS, EXCEL_SUFFIXES, read_sheet
from salesops_lib.sources.importer.mapping import SourceSpec
from salesops_lib.sources.importer.quarantine import ImportDataError, combine, make_issues

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_CURRENCY = re.compile(r"[$€£¥]|\b(?:USD|EUR|GBP)\b")
_SERIAL = re.compile(r"^\d{1,6}(?:\.0+)?$")
_DIGITS = re.compile(r"^\d+$")
MIN_YEAR, MAX_YEAR = 1900, 2100


@dataclass(frozen=True)
class SourceText:
    """A decoded source file.

    Attributes:
        path: The file.
        text: Its content as text (BOM removed).
        encoding: The encoding that decoded it (``utf-8-sig``, ``utf-8`` or the given one).
    """

    path: Path
    text: str
    encoding: str


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


def decode_file(path: Path, encoding: str = "auto") -> SourceText:
    """Read a text file: UTF-8 with or without BOM, else Latin-1 (``auto``), or a named codec.

    Args:
        path: The file.
        encoding: ``auto`` or a Python codec name.

    Returns:
        The decoded text.

    Raises:
        ImportDataError: If the file is an Excel workbook, or does not decode with the named
            codec (naming the byte offset).
    """
    if path.suffix.lower() in EXCEL_SUFFIXES:
        raise ImportDataError(
            f"{path.name}: is an Excel workbook, not a text file; read it with read_source"
        )
    raw = path.read_bytes()
    if encoding != "auto":
        try:
            return SourceText(path, raw.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ImportDataError(
                f"{path.name}: cannot decode as {encoding}: {exc}; set encoding in the mapping"
            ) from None
    if raw.startswith(codecs.BOM_UTF8):
        return SourceText(path, raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig")
    try:
        return SourceText(path, raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return SourceText(path, raw.decode("latin-1"), "latin-1")


def _norm_header(name: str) -> str:
    return _SPACES.sub(" ", str(name)).strip().casefold()


def read_source(path: Path, spec: SourceSpec) -> pd.DataFrame:
    """Read one source file into a frame of stripped text, one column per mapped field.

    Args:
        path: The file.
        spec: How to read it and which columns it must have.

    Returns:
        A new frame: a ``_row`` column (line number in the file, header = 1) and one text column
        per logical field; blank cells are ``None``. Optional fields the file lacks are blank.

    Raises:
        ImportDataError: If a required column is missing (naming file, column and rule), or
            the file cannot be read as delimited text or as an Excel workbook.
    """
    if path.suffix.lower() in EXCEL_SUFFIXES:
        sheet = read_sheet(path, spec.sheet)
        return _select_columns(sheet.cells, sheet.rows, spec, path)
    source = decode_file(path, spec.encoding)
    try:
        frame = pd.read_csv(
            io.StringIO(source.text),
            sep=spec.delimiter,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "no data"
        raise ImportDataError(f"{path.name}: not readable as delimited text: {message}") from None
    return _select_columns(frame, np.arange(2, len(frame) + 2, dtype="int64"), spec, path)


def _select_columns(
    frame: pd.DataFrame, rows: np.ndarray, spec: SourceSpec, path: Path
) -> pd.DataFrame:
    """Pick and trim the mapped columns of a text frame, checking required columns."""
    headers = {_norm_header(c): c for c in frame.columns}
    out = pd.DataFrame({"_row": np.asarray(rows, dtype="int64")})
    for field, column in spec.columns.items():
        original = headers.get(_norm_header(column.column))
        if original is None:
            if column.required:
                raise ImportDataError(
                    f"{path.name}: required column {column.column!r} (field {field}) is "
                    f"missing; rule required_column; columns found: {', '.join(frame.columns)}"
                )
            out[field] = pd.Series([None] * len(frame), dtype=object)
            continue
        values = by_unique(frame[original], lambda u: u.str.strip())
        out[field] = values.where(values != "", None).to_numpy()
    return out


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
    ``unparseable_<type>`` naming the file, row and column.

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
