"""Calendar periods every performance metric is measured over (one rule each, used everywhere).

* **Last complete month** on an as-of date: the as-of month if the as-of date is its last day,
  else the month before.
* **Last N months**: the N complete calendar months ending with the last complete month.
* **Periods** of an as-of date: ``month`` is its calendar month, ``qtd`` its calendar quarter,
  ``ytd`` its calendar year. A period's **window** runs from the first day of its first month to
  the last day of its last month (months still ahead included).
* **Period to date, a year earlier**: the period's first day to the as-of date, and the same
  days one year earlier (the bookings variance windows).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from salesops_lib.core.errors import ParameterError

PERIODS: tuple[str, ...] = ("month", "qtd", "ytd")
"""Periods of an as-of date: calendar month, quarter and year."""

PERIOD_LABELS: dict[str, str] = {
    "month": "this month",
    "qtd": "this quarter",
    "ytd": "this year",
}
"""Words for a period in sentences and titles (``... of quota this quarter``)."""


def _timestamp(value: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def last_complete_month(as_of: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    """The first day of the last calendar month that is complete on ``as_of``."""
    day = _timestamp(as_of)
    month = pd.Timestamp(day.year, day.month, 1)
    is_month_end = (day + pd.Timedelta(days=1)).day == 1
    return month if is_month_end else month - pd.DateOffset(months=1)


def month_range(end_month: pd.Timestamp, months: int) -> list[pd.Timestamp]:
    """The ``months`` month starts ending with ``end_month``, oldest first."""
    return [end_month - pd.DateOffset(months=k) for k in range(months - 1, -1, -1)]


def check_period(period: str) -> str:
    """Return ``period`` if it is one of :data:`PERIODS`.

    Raises:
        ParameterError: Naming the allowed periods otherwise.
    """
    if period not in PERIODS:
        raise ParameterError(f"period {period!r}: use one of {', '.join(PERIODS)}")
    return period


def period_bounds(
    as_of: dt.date | str | pd.Timestamp, period: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the first and last month of the period that contains ``as_of``.

    Args:
        as_of: The as-of date.
        period: ``"month"``, ``"qtd"`` or ``"ytd"``.

    Returns:
        ``(first_month, last_month)`` as month starts: the as-of month twice for ``month``,
        the calendar quarter's first and last months for ``qtd``, January and December for
        ``ytd``.

    Raises:
        ParameterError: If ``period`` is not one of :data:`PERIODS`.
    """
    if period not in PERIODS:
        raise ParameterError(f"period_bounds: unknown period {period!r}; use one of {PERIODS}")
    day = _timestamp(as_of)
    as_of_month = pd.Timestamp(day.year, day.month, 1)
    if period == "month":
        return as_of_month, as_of_month
    if period == "qtd":
        first = pd.Timestamp(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return first, first + pd.DateOffset(months=2)
    return pd.Timestamp(day.year, 1, 1), pd.Timestamp(day.year, 12, 1)


def period_window(
    as_of: dt.date | str | pd.Timestamp, period: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the period that contains ``as_of`` (its close-date window)."""
    first, last = period_bounds(as_of, period)
    return first, last + pd.offsets.MonthEnd(0)


def variance_windows(
    as_of: dt.date | str | pd.Timestamp, period: str
) -> tuple[tuple[pd.Timestamp, pd.Timestamp], tuple[pd.Timestamp, pd.Timestamp]]:
    """The period to date and the same days one year earlier.

    Args:
        as_of: The as-of date.
        period: ``month``, ``qtd`` or ``ytd``.

    Returns:
        ``((current_start, current_end), (base_start, base_end))``.
    """
    first, _ = period_bounds(as_of, period)
    end = _timestamp(as_of)
    year = pd.DateOffset(years=1)
    return (first, end), (first - year, end - year)
