"""The as-of quarter as the generator plans it: the truth file's ``quarter_outlook`` entry.

For the calendar quarter containing the as-of date, per region and for the company (``all``):

* ``expected_rest``: the plan's expected bookings from the day after as-of to the quarter's
  end: the run-rate orders' expected amount (order rate x calibration x typical order value,
  as the quotas are computed) divided by 1 - the won deals' share (won deals are drawn in
  proportion to the same rates);
* ``planned_growth``: the plan's expected bookings of the whole quarter over those of the same
  quarter a year earlier;
* ``forecasts_agree``: whether the two quarter forecasts of the analytics (pipeline-based and
  statistical) are expected to agree within :data:`plan.FORECAST_AGREEMENT_TOLERANCE`. They are
  not where the planted growth is fast (at least :data:`plan.FORECAST_AGREEMENT_GROWTH_LIMIT`):
  the statistical models, fitted on three years of monthly history, lag such growth, while the
  pipeline forecast carries it through its year-over-year run-rate; ``reason`` says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from salesops_lib.sources.demo import orders, plan
from salesops_lib.sources.demo.calendar import Calendar, day_number, month_start, next_month
from salesops_lib.sources.demo.shape import Shape

ALL = "all"
"""The company scope (the sum of the regions)."""


def quarter_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar quarter containing ``day``."""
    first = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    after = next_month(next_month(next_month(first)))
    return first, after - dt.timedelta(days=1)


def expected_bookings(
    shape: Shape, calendar: Calendar, volume: orders.Volume, first: dt.date, last: dt.date
) -> np.ndarray:
    """The plan's expected bookings per region over the days [first, last].

    Args:
        shape: The company.
        calendar: The demo's dates.
        volume: The run-rate's calibration.
        first: First day.
        last: Last day.

    Returns:
        One amount per region: run-rate orders / (1 - the won deals' share).
    """
    n_regions = len(shape.region_ids)
    total = np.zeros(n_regions)
    month = month_start(first)
    while month <= last:
        days = np.arange(day_number(month), day_number(next_month(month)))
        days = days[(days >= day_number(first)) & (days <= day_number(last))]
        rate = orders.base_intensity(shape, calendar, days) * orders.actual_factor(
            shape, calendar, days
        )
        value = orders.expected_order_value(shape, calendar, int(days[0]))[shape.account_group]
        total += np.bincount(shape.account_region, rate.sum(axis=0) * value, n_regions)
        month = next_month(month)
    return total * volume.calibration / (1.0 - plan.WON_DEALS_SHARE_OF_BOOKINGS)


def _year_earlier(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def quarter_outlook(shape: Shape, calendar: Calendar, volume: orders.Volume) -> dict[str, Any]:
    """The ``quarter_outlook`` entry of the truth file (see the module docstring).

    Args:
        shape: The company.
        calendar: The demo's dates.
        volume: The run-rate's calibration.

    Returns:
        A JSON-ready dict: the quarter, the rules, and one entry per region and ``all``.
    """
    first, last = quarter_bounds(calendar.as_of)
    rest = np.zeros(len(shape.region_ids))
    if calendar.as_of < last:
        rest = expected_bookings(
            shape, calendar, volume, calendar.as_of + dt.timedelta(days=1), last
        )
    quarter = expected_bookings(shape, calendar, volume, first, last)
    year_before = expected_bookings(
        shape, calendar, volume, _year_earlier(first), _year_earlier(last)
    )
    scopes = {r: i for i, r in enumerate(shape.region_ids)}
    entries = {}
    for scope in (*scopes, ALL):
        pick = list(scopes.values()) if scope == ALL else [scopes[scope]]
        growth = float(quarter[pick].sum() / year_before[pick].sum()) - 1.0
        fast = growth >= plan.FORECAST_AGREEMENT_GROWTH_LIMIT
        entries[scope] = {
            "expected_rest": round(float(rest[pick].sum()), 2),
            "planned_growth": round(growth, 4),
            "forecasts_agree": not fast,
            "reason": (
                f"planted growth: the quarter's planned bookings are {growth:.0%} above the same "
                "quarter a year earlier (the planted rise of the services_growing accounts and "
                "the new hires' ramp); the statistical models lag such growth, the pipeline "
                "forecast's year-over-year run-rate carries it"
                if fast
                else "planned growth below the limit: both forecasts should agree"
            ),
        }
    return {
        "quarter": f"{first.year}-Q{(first.month - 1) // 3 + 1}",
        "tolerance": plan.FORECAST_AGREEMENT_TOLERANCE,
        "growth_limit": plan.FORECAST_AGREEMENT_GROWTH_LIMIT,
        "rule": (
            "expected_rest: plan expectation of bookings from the day after as-of to the "
            "quarter's end; where forecasts_agree, the pipeline-based and the statistical "
            "quarter forecasts agree within the tolerance; elsewhere the statistical one falls "
            "below the plan (booked so far + expected_rest) and the two may differ by more"
        ),
        "by_scope": entries,
    }
