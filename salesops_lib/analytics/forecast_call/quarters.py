"""Calendar quarters of the forecast call: start, end and week of quarter."""

from __future__ import annotations

import datetime as dt

import pandas as pd


def quarter_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s calendar quarter."""
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s calendar quarter."""
    start = quarter_start(day)
    following = dt.date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def quarter_label(day: dt.date) -> str:
    """``2026-Q3`` for any day of that quarter."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def week_of_quarter(day: dt.date) -> int:
    """1 for the quarter's first seven days, 2 for the next seven, and so on."""
    return (day - quarter_start(day)).days // 7 + 1


def as_date(value: object) -> dt.date:
    """A date from a date, datetime, Timestamp or ISO string."""
    return pd.Timestamp(value).date()
