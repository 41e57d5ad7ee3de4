"""Backtest every model on a user's own CSV of monthly series (``salesops forecast-eval``).

The CSV is long: one row per series x month, with an id column, a date column and a value
column (names given by the caller). Values are read as they are: nothing is summed, filled or
dropped silently; a bad cell is an error naming the file, row and column. Dates are mapped to
their month (``1949-01-31`` and ``1949-01-01`` are both January 1949), so two rows for the same
series in one month are duplicates. Series ids are data only: never evaluated or used as markup.
"""

from __future__ import annotations

from pathlib import Path

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


def read_monthly_csv(path: Path, id_col: str, date_col: str, value_col: str) -> pd.DataFrame:
    """Read and check a long CSV of monthly series.

    Args:
        path: The CSV file.
        id_col: Column holding the series id.
        date_col: Column holding a date in the month (``YYYY-MM-DD`` or ``YYYY-MM``).
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
        if column not in raw.columns:
            raise ParameterError(
                f"{path}: no column {column!r} ({role}); the file has columns "
                f"{', '.join(map(repr, raw.columns))}"
            )
    if raw.empty:
        raise ParameterError(f"{path}: no data rows")
    dates = pd.to_datetime(raw[date_col].str.strip(), errors="coerce", format="ISO8601")
    if dates.isna().any():
        index = int(dates.isna().to_numpy().nonzero()[0][0])
        raise ParameterError(
            f"{path}: row {_row(index)}, column {date_col!r}: {raw[date_col].iloc[index]!r} is "
            "not a date; use YYYY-MM-DD or YYYY-MM"
        )
    values = pd.to_numeric(raw[value_col].str.strip(), errors="coerce")
    if values.isna().any():
        index = int(values.isna().to_numpy().nonzero()[0][0])
        raise ParameterError(
            f"{path}: row {_row(index)}, column {value_col!r}: {raw[value_col].iloc[index]!r} is "
            "not a number; write every month's value (0 for none) without units or separators"
        )
    frame = pd.DataFrame(
        {"unique_id": raw[id_col], "ds": dates.dt.to_period("M").dt.start_time, "y": values}
    )
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
    id_col: str,
    date_col: str,
    value_col: str,
    horizon: int,
    n_origins: int = 3,
    season_length: int = 12,
) -> Backtest:
    """Read a CSV of monthly series and backtest every candidate model on each series.

    Args:
        path: The CSV file.
        id_col: Column holding the series id.
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
