"""Bookings over time: monthly per region, and the last 12 complete months against the 12 before.

Pure functions over ``fct_bookings_monthly`` rows (region_id, order_month, bookings_amount).
*Last 12 months* are the 12 complete calendar months ending with the last complete month on the
as-of date (:func:`~salesops_lib.analytics.performance.periods.last_complete_month`); *prior 12
months* are the 12 months before those.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from salesops_lib.analytics.performance.periods import last_complete_month, month_range


@dataclass(frozen=True)
class BookingsComparison:
    """Bookings of the last 12 complete months against the 12 months before.

    Attributes:
        last_12m: Bookings in the last 12 complete months.
        prior_12m: Bookings in the 12 months before those.
        growth: ``last_12m / prior_12m - 1``; ``None`` when the prior period has no bookings
            or the data start after the prior period's first month (no full base).
        first_month: First month of the last-12-months window.
        last_month: Last month of the window.
        data_start: The data's first booked month when it falls after the prior period's
            first month (the prior 12 months are not all in the data), else ``None``.
    """

    last_12m: float
    prior_12m: float
    growth: float | None
    first_month: pd.Timestamp
    last_month: pd.Timestamp
    data_start: pd.Timestamp | None = None


def monthly_bookings(
    bookings_monthly: pd.DataFrame, as_of: dt.date, months: int = 24
) -> pd.DataFrame:
    """Bookings per region and month over the ``months`` complete months before ``as_of``.

    Args:
        bookings_monthly: Rows of ``fct_bookings_monthly`` (region_id, order_month,
            bookings_amount, ...).
        as_of: The snapshot's as-of date.
        months: How many complete months to return.

    Returns:
        One row per region and month (month, region_id, bookings_amount), every month present
        for every region (zero when nothing was booked), sorted by month then region.
    """
    window = month_range(last_complete_month(as_of), months)
    frame = bookings_monthly.assign(month=pd.to_datetime(bookings_monthly["order_month"]))
    frame = frame[frame["month"].isin(window)]
    totals = frame.groupby(["month", "region_id"], as_index=False)["bookings_amount"].sum()
    regions = sorted(bookings_monthly["region_id"].dropna().unique())
    grid = pd.MultiIndex.from_product([window, regions], names=["month", "region_id"])
    full = totals.set_index(["month", "region_id"]).reindex(grid, fill_value=0.0).reset_index()
    full["bookings_amount"] = full["bookings_amount"].astype(float)
    return full


def compare_bookings_12m(
    bookings_monthly: pd.DataFrame, as_of: dt.date, data_start: dt.date | None = None
) -> BookingsComparison:
    """Compare bookings of the last 12 complete months with the 12 months before.

    A comparison needs a full base: when the data start (the first month booked anywhere in
    the snapshot) after the prior period's first month, the prior total covers only part of
    its 12 months and the growth is ``None``, not a number.

    Args:
        bookings_monthly: Rows of ``fct_bookings_monthly``.
        as_of: The snapshot's as-of date.
        data_start: The first month with any booking in the snapshot (every region), or
            ``None`` when unknown.

    Returns:
        The two totals and the growth between them.
    """
    end = last_complete_month(as_of)
    last_window = month_range(end, 12)
    prior_window = month_range(end - pd.DateOffset(months=12), 12)
    months = pd.to_datetime(bookings_monthly["order_month"])
    amounts = bookings_monthly["bookings_amount"].astype(float)
    last_total = float(amounts[months.isin(last_window)].sum())
    prior_total = float(amounts[months.isin(prior_window)].sum())
    start = None if data_start is None else pd.Timestamp(data_start).to_period("M").to_timestamp()
    partial = start is not None and start > prior_window[0]
    growth = last_total / prior_total - 1 if prior_total and not partial else None
    return BookingsComparison(
        last_total, prior_total, growth, last_window[0], end, start if partial else None
    )


def bookings_by_month_table(
    monthly: pd.DataFrame, data_start: dt.date | None = None
) -> pd.DataFrame:
    """Company bookings per month for the last 12 months with the same month a year earlier.

    Args:
        monthly: Output of :func:`monthly_bookings` with at least 24 months.
        data_start: The first month with any booking in the snapshot; a prior-year month
            before it is not in the data, so its amount is NaN (unknown), not zero.

    Returns:
        One row per month of the last 12 (month, bookings_amount, prior_year_amount,
        yoy_growth), where ``yoy_growth`` is NaN when the prior-year month had no bookings
        or is not in the data.
    """
    totals = monthly.groupby("month")["bookings_amount"].sum().sort_index()
    table = pd.DataFrame({"month": totals.index, "bookings_amount": totals.to_numpy(dtype=float)})
    prior = totals.rename(lambda m: m + pd.DateOffset(months=12))
    if data_start is not None:
        start = pd.Timestamp(data_start).to_period("M").to_timestamp()
        prior = prior[prior.index - pd.DateOffset(months=12) >= start]
    table["prior_year_amount"] = table["month"].map(prior).astype(float)
    last_12 = table.tail(12).reset_index(drop=True)
    ratio = last_12["bookings_amount"] / last_12["prior_year_amount"].where(
        last_12["prior_year_amount"] != 0
    )
    return last_12.assign(yoy_growth=ratio - 1)
