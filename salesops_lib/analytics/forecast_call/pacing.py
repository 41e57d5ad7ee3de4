"""Pacing: commit, best case and closed by week of the quarter against earlier quarters.

Definitions: for a snapshot on day ``d`` of its quarter (``offset`` = days since the quarter's
start), **closed** is what the quarter booked through ``d``; **commit** = closed + open deals
in the Commit category due in the quarter; **best case** = commit + open Best Case deals. An
earlier quarter is compared at the same offset: what it had booked through its own day
``offset`` (same week of the quarter, same day of the week).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from salesops_lib.analytics.forecast_call.quarters import quarter_label, quarter_start
from salesops_lib.core.frames import require_columns


def earlier_quarter_starts(day: dt.date, count: int) -> list[dt.date]:
    """The first days of the ``count`` quarters before ``day``'s, most recent first."""
    starts, start = [], quarter_start(day)
    for _ in range(count):
        start = quarter_start(start - dt.timedelta(days=1))
        starts.append(start)
    return starts


def closed_through(bookings: pd.DataFrame, start: dt.date, offset: int) -> float:
    """Bookings of the quarter starting ``start`` from its first day through day ``offset``."""
    dates = pd.to_datetime(bookings["order_date"])
    first = pd.Timestamp(start)
    keep = (dates >= first) & (dates <= first + pd.Timedelta(days=offset))
    end = pd.Timestamp(quarter_start(start + dt.timedelta(days=100))) - pd.Timedelta(days=1)
    keep &= dates <= end
    return float(bookings.loc[keep, "amount"].sum())


def pacing_table(points: pd.DataFrame, bookings: pd.DataFrame, earlier: int = 4) -> pd.DataFrame:
    """This quarter's snapshots beside earlier quarters at the same point of the quarter.

    Args:
        points: One row per snapshot of the quarter: ``week`` (the snapshot date),
            ``open_commit`` and ``open_best_case`` (open deals of those categories due in the
            quarter at that snapshot).
        bookings: Daily bookings ``order_date``, ``amount`` covering this and earlier quarters.
        earlier: Earlier quarters to compare with.

    Returns:
        One row per snapshot: ``week``, ``week_of_quarter``, ``offset``, ``closed``,
        ``commit``, ``best_case``, one ``closed <YYYY-Qn>`` column per earlier quarter (most
        recent first) and ``earlier_mean_closed``.
    """
    require_columns(points, ["week", "open_commit", "open_best_case"], "pacing points")
    require_columns(bookings, ["order_date", "amount"], "bookings")
    rows = []
    for point in points.sort_values("week").itertuples(index=False):
        day = pd.Timestamp(point.week).date()
        start = quarter_start(day)
        offset = (day - start).days
        closed = closed_through(bookings, start, offset)
        row = {
            "week": pd.Timestamp(day),
            "week_of_quarter": offset // 7 + 1,
            "offset": offset,
            "closed": closed,
            "commit": closed + float(point.open_commit),
            "best_case": closed + float(point.open_commit) + float(point.open_best_case),
        }
        history = {
            f"closed {quarter_label(s)}": closed_through(bookings, s, offset)
            for s in earlier_quarter_starts(day, earlier)
        }
        row.update(history)
        row["earlier_mean_closed"] = sum(history.values()) / len(history) if history else None
        rows.append(row)
    return pd.DataFrame(rows)


def weekly_curves(bookings: pd.DataFrame, starts: list[dt.date], weeks: int = 13) -> pd.DataFrame:
    """Cumulative bookings by week of the quarter for each quarter starting in ``starts``.

    Returns:
        One row per quarter x week 1..``weeks``: ``quarter``, ``week_of_quarter``, ``closed``
        (booked through the week's last day, ``offset`` = 7 x week - 1).
    """
    rows = [
        (quarter_label(s), w, closed_through(bookings, s, 7 * w - 1))
        for s in starts
        for w in range(1, weeks + 1)
    ]
    return pd.DataFrame(rows, columns=["quarter", "week_of_quarter", "closed"])
