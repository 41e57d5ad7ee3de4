"""Anomalous weeks: weekly bookings per region against a seasonal, robust baseline.

Pure functions over frames with the ``fct_bookings`` columns (order_date, order_week, amount,
region_id).

The method, per region (all steps robust to the outliers they are looking for):

1. **Weekly series**: bookings per ISO week (order_week is the Monday), for every complete week
   between the first and the last day of the data (or given dates), missing weeks as 0.
   Partial weeks at either end are dropped: they would look like dips.
2. **Position in the quarter**: a week belongs to the calendar quarter of its Thursday (as ISO
   weeks belong to the year of their Thursday), and weeks_to_quarter_end = whole weeks from
   that Thursday to the quarter's last day, capped at 13. Position 0 is the week holding most
   of the quarter's last seven days, so quarter-end spikes line up across quarters whatever
   the calendar.
3. **Level**: centred rolling median of the weekly bookings over ``level_window`` weeks (13 by
   default, one quarter; shorter at the ends of the series).
4. **Seasonal factor** of a position: the median, over all the region's weeks at that position,
   of bookings / level (1 when undefined). One factor per position, pooled over every quarter
   of the history: finer cells (quarter of year x position) hold too few weeks for a robust
   median and make the baseline fit the very weeks it should judge.
5. **Baseline** = level x seasonal factor; **residual** = bookings - baseline; **relative
   residual** = bookings / baseline - 1 (NaN when the baseline is 0). Relative residuals are
   scored because bookings vary more in big weeks (the quarter-end rush) than in small ones.
6. **Score** = (relative residual - its median) / (1.4826 x MAD), MAD being the median absolute
   deviation of the region's relative residuals from their median (1.4826 x MAD is a robust
   standard deviation). If MAD is 0, 1.2533 x the mean absolute deviation is used instead; if
   that is 0 too, or the baseline is 0, the score is NaN (never flagged).
7. A week is **flagged** when |score| >= ``threshold`` (3.5 by default); ``direction`` says
   whether it is a ``dip`` or a ``spike``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.errors import ParameterError
from salesops_lib.frames import require_columns

DateLike = dt.date | str | pd.Timestamp

MAD_TO_SD = 1.4826
"""Scale turning a median absolute deviation into a standard deviation (normal data)."""

MEAN_AD_TO_SD = 1.2533
"""Scale turning a mean absolute deviation into a standard deviation (normal data)."""


def weekly_bookings(
    bookings: pd.DataFrame,
    by: str = "region_id",
    first_day: DateLike | None = None,
    last_day: DateLike | None = None,
) -> pd.DataFrame:
    """Bookings per group and complete ISO week, with weeks without bookings as 0.

    Args:
        bookings: Rows of ``fct_bookings`` (order_week, amount, ``by``; order_date when
            ``first_day`` or ``last_day`` is not given).
        by: Grouping column.
        first_day: First day covered by the data; weeks starting before it are dropped.
            Defaults to the earliest order_date.
        last_day: Last day covered by the data (the as-of date); weeks ending after it are
            dropped. Defaults to the latest order_date.

    Returns:
        One row per group and complete week from the first to the last complete week of the
        whole frame (the same weeks for every group): ``by``, order_week, bookings_amount
        (exact cents).

    Raises:
        ParameterError: If a column is missing.
    """
    needs_dates = first_day is None or last_day is None
    cols = [by, "order_week", "amount", *(["order_date"] if needs_dates else [])]
    require_columns(bookings, cols, "weekly_bookings")
    columns = [by, "order_week", "bookings_amount"]
    if bookings.empty:
        return pd.DataFrame(columns=columns)
    days = pd.to_datetime(bookings["order_date"]) if needs_dates else None
    first = pd.Timestamp(first_day if first_day is not None else days.min()).normalize()
    last = pd.Timestamp(last_day if last_day is not None else days.max()).normalize()
    first_week = first + pd.Timedelta(days=(7 - first.weekday()) % 7)  # first Monday >= first
    last_week = last - pd.Timedelta(days=(last.weekday() + 1) % 7 + 6)  # Monday of last full week
    weeks = pd.date_range(first_week, last_week, freq="7D")
    cents = (
        bookings[[by]]
        .assign(
            order_week=pd.to_datetime(bookings["order_week"]),
            cents=np.round(bookings["amount"].astype(float) * 100).astype("int64"),
        )
        .groupby([by, "order_week"])["cents"]
        .sum()
    )
    groups = sorted(bookings[by].dropna().unique())
    full = pd.MultiIndex.from_product([groups, weeks], names=[by, "order_week"])
    out = cents.reindex(full, fill_value=0).reset_index()
    out["bookings_amount"] = out.pop("cents") / 100
    return out[columns]


def weeks_to_quarter_end(weeks: pd.Series) -> pd.Series:
    """Whole weeks from each week's Thursday to the last day of the Thursday's quarter.

    Args:
        weeks: Week starts (Mondays).

    Returns:
        Integers 0..13; 0 for the week whose Thursday is in the quarter's last seven days.
    """
    thursday = pd.to_datetime(weeks) + pd.Timedelta(days=3)
    quarter_end = thursday.dt.to_period("Q").dt.end_time.dt.normalize()
    return ((quarter_end - thursday).dt.days // 7).clip(upper=13).astype("int64")


def flag_anomalous_weeks(
    weekly: pd.DataFrame,
    by: str = "region_id",
    level_window: int = 13,
    threshold: float = 3.5,
) -> pd.DataFrame:
    """Score every week against its region's seasonal robust baseline and flag outliers.

    Args:
        weekly: Output of :func:`weekly_bookings` (``by``, order_week, bookings_amount).
        by: Grouping column.
        level_window: Weeks in the centred rolling median (the level).
        threshold: Absolute score from which a week is flagged.

    Returns:
        One row per input row, sorted by group and week: ``by``, order_week, bookings_amount,
        weeks_to_quarter_end, level, seasonal_factor, baseline, residual, relative_residual,
        score, is_anomaly,
        direction (``"dip"``, ``"spike"`` or ``""``). See the module docstring for formulas.

    Raises:
        ParameterError: If a column is missing or ``level_window`` < 1.
    """
    require_columns(weekly, [by, "order_week", "bookings_amount"], "flag_anomalous_weeks")
    if level_window < 1:
        raise ParameterError(f"flag_anomalous_weeks: level_window must be >= 1, got {level_window}")
    parts = [
        _score_group(rows, level_window)
        for _, rows in weekly.sort_values([by, "order_week"]).groupby(by, sort=True)
    ]
    if not parts:
        return weekly.head(0).copy()
    out = pd.concat(parts, ignore_index=True)
    out["is_anomaly"] = out["score"].abs() >= threshold
    out["direction"] = np.where(out["is_anomaly"], np.where(out["score"] < 0, "dip", "spike"), "")
    return out


def _score_group(rows: pd.DataFrame, level_window: int) -> pd.DataFrame:
    out = rows.reset_index(drop=True).copy()
    amount = out["bookings_amount"].astype(float)
    out["weeks_to_quarter_end"] = weeks_to_quarter_end(out["order_week"])
    out["level"] = amount.rolling(level_window, center=True, min_periods=1).median()
    ratio = amount / out["level"].where(out["level"] > 0)
    position = out["weeks_to_quarter_end"]
    factor = position.map(ratio.groupby(position).median())
    out["seasonal_factor"] = factor.fillna(1.0)
    out["baseline"] = out["level"] * out["seasonal_factor"]
    out["residual"] = amount - out["baseline"]
    relative = amount / out["baseline"].where(out["baseline"] > 0) - 1
    out["relative_residual"] = relative
    deviation = (relative - relative.median()).abs()
    scale = MAD_TO_SD * deviation.median()
    if not scale > 0:
        scale = MEAN_AD_TO_SD * deviation.mean()
    out["score"] = (relative - relative.median()) / scale if scale > 0 else np.nan
    return out
