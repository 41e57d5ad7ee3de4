"""Monthly and weekly bookings series in long format for forecasting.

One row is one series x period: ``unique_id`` (series id), ``ds`` (period: the first day of
the month, or the Monday of the week) and ``y`` (value: bookings amount). These are
statsforecast's column names for "series id, period, value".

Series ids: ``total`` (company), ``<region_id>`` (region) and
``<region_id>/<product_family>`` (region x product family).

A period is *complete* when its last day is on or before the as-of date: an as-of date on a
month's last day (a Sunday for weeks) keeps that month (week). The bookings of the incomplete
as-of month are the *month-to-date* amounts (:func:`month_to_date_bookings`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

TOTAL_SERIES_ID = "total"


def monthly_series_from_bookings(
    monthly: pd.DataFrame, as_of: str, history_start: dt.date | None = None
) -> pd.DataFrame:
    """Build total, region and region x family monthly series from ``fct_bookings_monthly`` rows.

    Only complete months (last day on or before as-of) are kept; months with no bookings
    inside a series' span (its first booked month to the last complete month) are filled
    with zero.

    Args:
        monthly: Rows with ``region_id``, ``product_family``, ``order_month``, ``bookings_amount``.
        as_of: The as-of date (ISO); its month is kept only when as-of is its last day.
        history_start: First day with recorded bookings, if known. Months before it are
            dropped, and so is its own month unless it starts on the 1st (a partial month).

    Returns:
        A new long frame with columns ``unique_id``, ``ds``, ``y``, sorted by id and month.
    """
    require_columns(
        monthly,
        ["region_id", "product_family", "order_month", "bookings_amount"],
        "fct_bookings_monthly",
    )
    return _series(
        monthly.rename(columns={"order_month": "period"}),
        period_start=first_incomplete_period(as_of, "M"),
        first_full=_first_full_period(history_start, "M"),
        freq="MS",
        table="fct_bookings_monthly",
        as_of=as_of,
    )


def weekly_series_from_bookings(
    weekly: pd.DataFrame, as_of: str, history_start: dt.date | None = None
) -> pd.DataFrame:
    """Build total, region and region x family weekly series (weeks start on Monday).

    Only complete weeks (ending on or before as-of, a Sunday) are kept; weeks with no
    bookings inside a series' span are filled with zero, as in
    :func:`monthly_series_from_bookings`.

    Args:
        weekly: Rows with ``region_id``, ``product_family``, ``order_week`` (a Monday),
            ``bookings_amount``.
        as_of: The as-of date (ISO); its week is kept only when as-of is a Sunday.
        history_start: First day with recorded bookings, if known. Weeks before it are
            dropped, and so is its own week unless it is a Monday (a partial week).

    Returns:
        A new long frame with columns ``unique_id``, ``ds`` (Monday), ``y``, sorted.

    Raises:
        ParameterError: Missing columns, an ``order_week`` that is not a Monday, or no
            complete week before as-of.
    """
    require_columns(
        weekly, ["region_id", "product_family", "order_week", "bookings_amount"], "weekly bookings"
    )
    weeks = pd.to_datetime(weekly["order_week"])
    not_monday = weeks[weeks.dt.dayofweek != 0]
    if not not_monday.empty:
        raise ParameterError(
            f"weekly bookings: order_week must be a Monday; row {not_monday.index[0]} has "
            f"{not_monday.iloc[0].date()} (truncate order dates to their week's Monday)"
        )
    return _series(
        weekly.rename(columns={"order_week": "period"}),
        period_start=first_incomplete_period(as_of, "W-SUN"),
        first_full=_first_full_period(history_start, "W-SUN"),
        freq="W-MON",
        table="weekly bookings",
        as_of=as_of,
    )


def first_incomplete_period(as_of: str | dt.date, period: str) -> pd.Timestamp:
    """Start of the first period not complete on ``as_of`` (the one holding the next day).

    Args:
        as_of: The as-of date (bookings are counted through this day, inclusive).
        period: ``"M"`` (months) or ``"W-SUN"`` (weeks from Monday to Sunday).

    Returns:
        The first day of that period: the as-of month's (week's) start, or the next month's
        (week's) when as-of is its last day.
    """
    next_day = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    return next_day.to_period(period).start_time


def month_to_date_bookings(monthly: pd.DataFrame, as_of: str | dt.date) -> pd.DataFrame:
    """Bookings of the incomplete as-of month so far, per series (total, region, region x family).

    Args:
        monthly: Rows with ``region_id``, ``product_family``, ``order_month``, ``bookings_amount``
            (as of ``as_of``: no booking after it).
        as_of: The as-of date.

    Returns:
        A new frame ``unique_id``, ``ds`` (the as-of month), ``y`` (booked from its first day to
        as-of); empty when as-of is a month's last day (that month is complete, hence history).
    """
    require_columns(
        monthly,
        ["region_id", "product_family", "order_month", "bookings_amount"],
        "fct_bookings_monthly",
    )
    month = pd.Timestamp(as_of).to_period("M").start_time
    if first_incomplete_period(as_of, "M") != month:
        return pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": []})
    rows = monthly[pd.to_datetime(monthly["order_month"]).dt.to_period("M").dt.start_time == month]
    frame = rows.assign(ds=month, y=rows["bookings_amount"].astype(float))
    levels = [
        frame.assign(unique_id=TOTAL_SERIES_ID),
        frame.assign(unique_id=frame["region_id"].astype(str)),
        frame.assign(
            unique_id=frame["region_id"].astype(str) + "/" + frame["product_family"].astype(str)
        ),
    ]
    stacked = pd.concat(levels)[["unique_id", "ds", "y"]]
    return stacked.groupby(["unique_id", "ds"], as_index=False)["y"].sum()


def _first_full_period(history_start: dt.date | None, period: str) -> pd.Timestamp | None:
    """Start of the first complete period on or after ``history_start``."""
    if history_start is None:
        return None
    start = pd.Timestamp(history_start)
    containing = start.to_period(period).start_time
    return containing if containing == start else (start.to_period(period) + 1).start_time


def _series(
    rows: pd.DataFrame,
    period_start: pd.Timestamp,
    first_full: pd.Timestamp | None,
    freq: str,
    table: str,
    as_of: str,
) -> pd.DataFrame:
    """Sum rows to the three series levels, keep complete periods and zero-fill each span."""
    unit = "M" if freq == "MS" else "W-SUN"
    frame = rows.assign(
        ds=pd.to_datetime(rows["period"]).dt.to_period(unit).dt.start_time,
        y=rows["bookings_amount"].astype(float),
    )
    frame = frame[frame["ds"] < period_start]
    if first_full is not None:
        frame = frame[frame["ds"] >= first_full]
    if frame.empty:
        raise ParameterError(f"{table}: no complete period before {as_of}")
    levels = [
        frame.assign(unique_id=TOTAL_SERIES_ID),
        frame.assign(unique_id=frame["region_id"].astype(str)),
        frame.assign(
            unique_id=frame["region_id"].astype(str) + "/" + frame["product_family"].astype(str)
        ),
    ]
    summed = pd.concat(levels).groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    last_period = (period_start.to_period(unit) - 1).start_time
    filled = []
    for series_id, rows_of_series in summed.groupby("unique_id", sort=True):
        periods = pd.date_range(rows_of_series["ds"].min(), last_period, freq=freq)
        values = rows_of_series.set_index("ds")["y"].reindex(periods, fill_value=0.0)
        filled.append(pd.DataFrame({"unique_id": series_id, "ds": periods, "y": values.to_numpy()}))
    return pd.concat(filled, ignore_index=True)
