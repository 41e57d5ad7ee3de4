"""Dates of the demo: the three-year window, its months, day weights and the planted dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from salesops_lib.sources.demo import plan

EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    """Return days since 1970-01-01 (the integer behind parquet DATE)."""
    return (date - EPOCH).days


def from_day_number(day: int) -> dt.date:
    """Return the date ``day`` days after 1970-01-01."""
    return EPOCH + dt.timedelta(days=int(day))


def month_start(date: dt.date, months_back: int = 0) -> dt.date:
    """Return the first day of the month ``months_back`` months before ``date``'s month."""
    index = date.year * 12 + date.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def next_month(first: dt.date) -> dt.date:
    """Return the first day of the month after the month starting at ``first``."""
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def plan_end(as_of: dt.date) -> dt.date:
    """Return the first day of the last month of the quarter after ``as_of``'s quarter.

    Plans are set ahead: the demo writes quotas and region targets through that month
    (as of 2026-11-23, the quarter after Q4 2026 is Q1 2027, so 2027-03-01).

    Args:
        as_of: The as-of date.

    Returns:
        The plan's last month, as its first day.
    """
    quarter_first = (as_of.year * 12 + as_of.month - 1) // 3 * 3
    last = quarter_first + 5  # month index of the next quarter's last month
    return dt.date(last // 12, last % 12 + 1, 1)


def quarter_end_mask(days: np.ndarray) -> np.ndarray:
    """Return True for day numbers in the last ``QUARTER_END_DAYS`` days of their quarter."""
    dates = days.astype("datetime64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12  # 0 = January
    quarter_start = dates.astype("datetime64[M]") - (month % 3).astype("timedelta64[M]")
    next_quarter = (quarter_start + np.timedelta64(3, "M")).astype("datetime64[D]")
    return (next_quarter - dates).astype(np.int64) <= plan.QUARTER_END_DAYS


def day_weights(days: np.ndarray) -> np.ndarray:
    """Return the company-wide order-rate factor of each day (season, quarter end, weekend).

    Args:
        days: Day numbers (days since 1970-01-01).

    Returns:
        One factor per day.
    """
    dates = days.astype("datetime64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    season = np.asarray(plan.SEASONALITY)[month]
    quarter_end = np.where(quarter_end_mask(days), plan.QUARTER_END_FACTOR, 1.0)
    weekend = np.where(weekday >= 5, plan.WEEKEND_FACTOR, 1.0)
    return season * quarter_end * weekend


@dataclass(frozen=True)
class Calendar:
    """The demo's dates.

    Attributes:
        as_of: The last snapshot's as-of date (end of the order history).
        start: First day of the three-year order history.
        snapshot_dates: The weekly snapshot dates, oldest first.
        months: First day of every calendar month from ``start``'s month to ``as_of``'s.
        plan_months: ``months`` followed by the later months that have a plan (quotas and
            region targets): through the last month of the quarter after ``as_of``'s quarter.
        anomaly_week_start: Monday of the planted anomalous week.
        price_increase_date: Day the planted list-price increase takes effect.
    """

    as_of: dt.date
    start: dt.date
    snapshot_dates: tuple[dt.date, ...]
    months: tuple[dt.date, ...]
    plan_months: tuple[dt.date, ...]
    anomaly_week_start: dt.date
    price_increase_date: dt.date


def build_calendar(as_of: dt.date, weeks: int) -> Calendar:
    """Lay out the window, months, snapshot dates and planted dates for an as-of date.

    Args:
        as_of: The last snapshot's date.
        weeks: Number of weekly snapshots.

    Returns:
        The calendar.
    """
    try:
        three_years_back = as_of.replace(year=as_of.year - 3)
    except ValueError:  # 29 February
        three_years_back = as_of.replace(year=as_of.year - 3, day=28)
    start = three_years_back + dt.timedelta(days=1)
    months = [month_start(start)]
    while months[-1] < month_start(as_of):
        months.append(next_month(months[-1]))
    plan_months = list(months)
    while plan_months[-1] < plan_end(as_of):
        plan_months.append(next_month(plan_months[-1]))
    snapshots = tuple(as_of - dt.timedelta(days=7 * k) for k in reversed(range(weeks)))
    return Calendar(
        as_of=as_of,
        start=start,
        snapshot_dates=snapshots,
        months=tuple(months),
        plan_months=tuple(plan_months),
        anomaly_week_start=_anomaly_week(as_of),
        price_increase_date=month_start(as_of, plan.PRICE_INCREASE_MONTHS_BACK),
    )


def _anomaly_week(as_of: dt.date) -> dt.date:
    """Pick a Monday 26-51 weeks back whose week and two neighbours each side avoid quarter ends."""
    monday = as_of - dt.timedelta(days=as_of.weekday())
    for weeks_back in range(plan.ANOMALY_MIN_WEEKS_BACK, 52):
        week = monday - dt.timedelta(weeks=weeks_back)
        around = np.arange(day_number(week) - 14, day_number(week) + 21)
        if not quarter_end_mask(around).any():
            return week
    return monday - dt.timedelta(weeks=plan.ANOMALY_MIN_WEEKS_BACK)
