"""Backtest every model on a user's own CSV of monthly series (``salesops forecast-eval``).

The CSV is long: one row per series x month, with an id column (optional: without one the file
is one series, named after the value column), a date column and a value column (names given by
the caller). Values are read as they are: nothing is summed, filled or dropped silently; a bad
cell is an error naming the file, row and column. Series ids are data only: never evaluated or
used as markup.

Dates are mapped to their month (``1949-01-31`` and ``1949-01-01`` are both January 1949), so two
rows for the same series in one month are duplicates. A date column holds one of the formats of
:data:`MONTH_FORMATS` (``1991-07``, ``1991 Jul``, ``Jul-1991``, ``07/1991``, full dates, Excel
serial day numbers); the format is found from the whole column. A column whose values fit no
single format (mixed formats), or two formats that give different months (``03/04/1991``: March
or April?), is an error naming the first row concerned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting.models import Backtest, backtest, check_series
from salesops_lib.core.errors import ParameterError

SCORE_COLUMNS = [
    "unique_id",
    "model",
    "chosen",
    "mase",
    "smape",
    "bias",
    "coverage_80",
    "coverage_95",
    "n_points",
    "n_origins",
]


def _row(index: int) -> int:
    """The file line of a data row (line 1 is the header)."""
    return index + 2


EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel's (1900 system) serial day numbers (right from serial 61, 1900-03-01, on)."""

EXCEL_SERIALS = (10_000, 2_958_465)
"""Smallest and largest Excel serial day numbers read as dates (1927-05-18 .. 9999-12-31): a
number of four digits or fewer is not a day number (1991 is a year, not 1905-06-13)."""

_ISO_MONTH = re.compile(r"\d{4}-\d{1,2}(-\d{1,2}([T ].*)?)?")
_SERIAL = re.compile(r"\d+(\.0*)?")


def _strptime(*patterns: str) -> Callable[[pd.Series], pd.Series]:
    """A parser trying each ``strptime`` pattern in turn (NaT where none fits)."""

    def parse(values: pd.Series) -> pd.Series:
        found = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        for pattern in patterns:
            missing = found.isna()
            found[missing] = pd.to_datetime(values[missing], errors="coerce", format=pattern)
        return found

    return parse


def _iso(values: pd.Series) -> pd.Series:
    """ISO 8601 dates with at least a month (``1991-07``, ``1991-07-31``, with a time or not)."""
    fits = values.str.fullmatch(_ISO_MONTH.pattern).fillna(False).astype(bool)
    found = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    found[fits] = pd.to_datetime(values[fits], errors="coerce", format="ISO8601")
    return found


def _excel_serial(values: pd.Series) -> pd.Series:
    """Excel serial day numbers (``33420`` is 1991-07-01), whole numbers only."""
    fits = values.str.fullmatch(_SERIAL.pattern).fillna(False).astype(bool)
    days = pd.to_numeric(values.where(fits), errors="coerce")
    low, high = EXCEL_SERIALS
    days = days.where((days >= low) & (days <= high))
    return EXCEL_EPOCH + pd.to_timedelta(days, unit="D")


@dataclass(frozen=True)
class MonthFormat:
    """One way a date column may write its months.

    Attributes:
        name: How the format is shown in messages, e.g. ``Mon-YYYY``.
        parse: Text values -> timestamps in the month (NaT where the value does not fit).
    """

    name: str
    parse: Callable[[pd.Series], pd.Series]


MONTH_FORMATS: tuple[MonthFormat, ...] = (
    MonthFormat("YYYY-MM or YYYY-MM-DD", _iso),
    MonthFormat("YYYY Mon", _strptime("%Y %b", "%Y %B", "%Y-%b", "%Y-%B")),
    MonthFormat("Mon-YYYY", _strptime("%b-%Y", "%B-%Y", "%b %Y", "%B %Y")),
    MonthFormat("MM/YYYY", _strptime("%m/%Y")),
    MonthFormat("YYYY/MM/DD", _strptime("%Y/%m/%d")),
    MonthFormat("MM/DD/YYYY", _strptime("%m/%d/%Y")),
    MonthFormat("DD/MM/YYYY", _strptime("%d/%m/%Y")),
    MonthFormat("DD.MM.YYYY", _strptime("%d.%m.%Y")),
    MonthFormat("Excel serial day number", _excel_serial),
)
"""The month formats a date column may use (one per column), in the order they are tried."""

_FORMAT_HINT = "use one format per column: " + ", ".join(f.name for f in MONTH_FORMATS)


def month_starts(values: pd.Series, path: Path, column: str) -> pd.Series:
    """The first day of the month of each date in a CSV column (one format for the column).

    Args:
        values: The column's text, one value per data row (index 0 is file line 2).
        path: The file (for messages).
        column: The column name (for messages).

    Returns:
        A new datetime64 series of month starts, index of ``values``.

    Raises:
        ParameterError: A value fits no format, the values fit no single format (mixed
            formats), or two formats fit every value but give different months (ambiguous);
            the message names the file, the first row concerned and the column.
    """
    text = values.astype(str).str.strip()
    parsed = {fmt.name: fmt.parse(text).dt.to_period("M").dt.start_time for fmt in MONTH_FORMATS}
    fits = pd.DataFrame({name: months.notna() for name, months in parsed.items()})
    where = f"{path}: row"
    complete = [name for name in parsed if fits[name].all()]
    if not complete:
        unparsed = ~fits.any(axis=1).to_numpy()
        if unparsed.any():
            index = int(np.flatnonzero(unparsed)[0])
            raise ParameterError(
                f"{where} {_row(index)}, column {column!r}: {values.iloc[index]!r} is not a "
                f"month date; {_FORMAT_HINT}"
            )
        first = [name for name in parsed if fits[name].iloc[0]]
        index = int(np.flatnonzero(~fits[first].any(axis=1).to_numpy())[0])
        raise ParameterError(
            f"{where} {_row(index)}, column {column!r}: {values.iloc[index]!r} is not written "
            f"like row 2 ({values.iloc[0]!r}, {' or '.join(first)}): mixed date formats; "
            f"{_FORMAT_HINT}"
        )
    chosen = parsed[complete[0]]
    for other in complete[1:]:
        differs = (parsed[other] != chosen).to_numpy()
        if differs.any():
            index = int(np.flatnonzero(differs)[0])
            raise ParameterError(
                f"{where} {_row(index)}, column {column!r}: {values.iloc[index]!r} is ambiguous: "
                f"{chosen.iloc[index]:%Y-%m} as {complete[0]} or "
                f"{parsed[other].iloc[index]:%Y-%m} as {other}; write the dates as YYYY-MM-DD"
            )
    return chosen


def read_monthly_csv(path: Path, id_col: str | None, date_col: str, value_col: str) -> pd.DataFrame:
    """Read and check a long CSV of monthly series.

    Args:
        path: The CSV file.
        id_col: Column holding the series id; None: the file is one series, named
            ``value_col``.
        date_col: Column holding a date in the month (one of :data:`MONTH_FORMATS`).
        value_col: Column holding the numeric value.

    Returns:
        A new frame ``unique_id`` (str), ``ds`` (first day of the month), ``y`` (float).

    Raises:
        ParameterError: Unreadable file, missing column, unparsable date, non-numeric value or
            a series with two rows in one month.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read as CSV ({exc})") from exc
    for role, column in (
        ("--id-col", id_col),
        ("--date-col", date_col),
        ("--value-col", value_col),
    ):
        if column is not None and column not in raw.columns:
            raise ParameterError(
                f"{path}: no column {column!r} ({role}); the file has columns "
                f"{', '.join(map(repr, raw.columns))}"
            )
    if raw.empty:
        raise ParameterError(f"{path}: no data rows")
    months = month_starts(raw[date_col], path, date_col)
    values = pd.to_numeric(raw[value_col].str.strip(), errors="coerce")
    if values.isna().any():
        index = int(values.isna().to_numpy().nonzero()[0][0])
        raise ParameterError(
            f"{path}: row {_row(index)}, column {value_col!r}: {raw[value_col].iloc[index]!r} is "
            "not a number; write every month's value (0 for none) without units or separators"
        )
    ids = raw[id_col] if id_col is not None else pd.Series(value_col, index=raw.index)
    frame = pd.DataFrame({"unique_id": ids, "ds": months, "y": values})
    repeated = frame[frame.duplicated(["unique_id", "ds"], keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        rows = repeated[(repeated["unique_id"] == first.unique_id) & (repeated["ds"] == first.ds)]
        raise ParameterError(
            f"{path}: rows {', '.join(str(_row(i)) for i in rows.index)} are all series "
            f"{first.unique_id!r} in {first.ds:%Y-%m} ({len(repeated)} duplicate rows in all); "
            "keep one row per series and month"
        )
    return frame


def score_table(result: Backtest) -> pd.DataFrame:
    """One row per series x model with its backtest scores and whether it was chosen.

    Args:
        result: A backtest.

    Returns:
        A new frame with :data:`SCORE_COLUMNS`, sorted by series then MASE.
    """
    picks = set(zip(result.chosen["unique_id"], result.chosen["model"], strict=True))
    scores = result.scores.assign(
        chosen=[
            pair in picks
            for pair in zip(result.scores["unique_id"], result.scores["model"], strict=True)
        ]
    )
    return scores[SCORE_COLUMNS].sort_values(["unique_id", "mase"], ignore_index=True)


def evaluate_csv(
    path: Path,
    id_col: str | None,
    date_col: str,
    value_col: str,
    horizon: int,
    n_origins: int = 3,
    season_length: int = 12,
) -> Backtest:
    """Read a CSV of monthly series and backtest every candidate model on each series.

    Args:
        path: The CSV file.
        id_col: Column holding the series id; None: the file is one series.
        date_col: Column holding a date in the month.
        value_col: Column holding the numeric value.
        horizon: Months forecast from each origin.
        n_origins: Backtest origins.
        season_length: Months per season.

    Returns:
        The :class:`~salesops_lib.analytics.forecasting.models.Backtest`.

    Raises:
        ParameterError: Bad file contents or arguments (see :func:`read_monthly_csv`).
    """
    series = check_series(read_monthly_csv(path, id_col, date_col, value_col), where=str(path))
    return backtest(series, horizon, n_origins=n_origins, season_length=season_length)
