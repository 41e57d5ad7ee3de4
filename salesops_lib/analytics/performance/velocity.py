"""Sales velocity for a period, and its change split into the four factors' contributions.

Pure functions over frames with the ``fct_opportunities`` columns (opportunity_id, created_date,
close_date, is_closed, is_won, amount and an optional grouping column such as region_id).

Definitions for a period [start, end] (both days included):

* ``open_deals`` (N): opportunities open at the end of the period, reconstructed from the
  snapshot: created_date <= end and (not closed, or close_date > end).
* ``win_rate`` (W): won / closed among deals whose close_date falls in the period (the one
  win-rate rule, :func:`~salesops_lib.analytics.performance.funnel.win_rate_of`).
* ``avg_deal_size`` (A): mean amount of the deals won in the period.
* ``cycle_days`` (L): mean days from created_date to close_date of the deals won in the period.
* **Velocity per day** = N x W x A / L: the bookings a day the pipeline is expected to produce.
  ``velocity_per_period`` = velocity per day x days in the period. Velocity is NaN when W, A or
  L is undefined (nothing closed or won) or L is 0.
* The **prior period** is the period of the same length that ends the day before ``start``.
* **Decomposition** of the change V1 - V0 into the factors N, W, A and 1/L uses Shapley values:
  each factor's contribution is its marginal effect of switching from the prior to the current
  value, averaged over all 24 orders in which the four factors can be switched
  (equivalently, sequential substitution averaged over every order). The four contributions
  sum to V1 - V0 exactly (up to floating point), treat every factor symmetrically and work
  when a factor is 0 (unlike a log decomposition); a factor that did not change contributes 0.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping

import pandas as pd

from salesops_lib.analytics.performance.funnel import win_rate_of
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

FACTORS: tuple[str, ...] = ("open_deals", "win_rate", "avg_deal_size", "cycle_days")
"""Velocity factors, in the order of the contribution columns."""

OPPORTUNITY_COLUMNS = ("created_date", "close_date", "is_closed", "is_won", "amount")

DateLike = dt.date | str | pd.Timestamp


def prior_period(start: DateLike, end: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the period of the same number of days that ends the day before ``start``.

    Args:
        start: First day of the period.
        end: Last day of the period (included).

    Returns:
        ``(prior_start, prior_end)``.

    Raises:
        ParameterError: If ``end`` is before ``start``.
    """
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if last < first:
        raise ParameterError(f"prior_period: end {last.date()} is before start {first.date()}")
    prior_end = first - pd.Timedelta(days=1)
    return prior_end - (last - first), prior_end


def velocity(open_deals: float, win_rate: float, avg_deal_size: float, cycle_days: float) -> float:
    """Velocity per day = open_deals x win_rate x avg_deal_size / cycle_days.

    Args:
        open_deals: N, open opportunities.
        win_rate: W, won / closed.
        avg_deal_size: A, mean won amount.
        cycle_days: L, mean days from creation to close.

    Returns:
        The velocity per day; NaN when a factor is NaN or ``cycle_days`` is 0.
    """
    if any(math.isnan(x) for x in (open_deals, win_rate, avg_deal_size, cycle_days)):
        return math.nan
    if cycle_days == 0:
        return math.nan
    return open_deals * win_rate * avg_deal_size / cycle_days


def velocity_factors(
    opportunities: pd.DataFrame, start: DateLike, end: DateLike, group_by: str | None = None
) -> pd.DataFrame:
    """The four velocity factors and the velocity for one period.

    Args:
        opportunities: Rows of ``fct_opportunities``.
        start: First day of the period.
        end: Last day of the period (included).
        group_by: Column to group by (e.g. ``"region_id"``); None for one company row.

    Returns:
        One row per group (every group in ``opportunities``): the group column (if any),
        period_start, period_end, days, open_deals, closed_deals, won_deals, win_rate,
        avg_deal_size, cycle_days, velocity_per_day, velocity_per_period (definitions in the
        module docstring).

    Raises:
        ParameterError: If a column is missing or ``end`` is before ``start``.
    """
    keys = [group_by] if group_by else []
    require_columns(opportunities, [*OPPORTUNITY_COLUMNS, *keys], "velocity_factors")
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if last < first:
        raise ParameterError(f"velocity_factors: end {last.date()} is before start {first.date()}")
    created = pd.to_datetime(opportunities["created_date"])
    closed_on = pd.to_datetime(opportunities["close_date"])
    is_closed = opportunities["is_closed"].astype(bool)
    is_won = opportunities["is_won"].astype(bool)
    frame = pd.DataFrame(
        {
            "_group": opportunities[group_by] if group_by else "all",
            "is_open_at_end": (created <= last) & (~is_closed | (closed_on > last)),
            "closed_in": is_closed & closed_on.between(first, last),
            "won_in": is_won & is_closed & closed_on.between(first, last),
            "amount": opportunities["amount"].astype(float),
            "cycle": (closed_on - created).dt.days.astype(float),
        }
    )
    won = frame[frame["won_in"]]
    out = pd.DataFrame(
        {
            "open_deals": frame.groupby("_group")["is_open_at_end"].sum(),
            "closed_deals": frame.groupby("_group")["closed_in"].sum(),
            "won_deals": frame.groupby("_group")["won_in"].sum(),
            "avg_deal_size": won.groupby("_group")["amount"].mean(),
            "cycle_days": won.groupby("_group")["cycle"].mean(),
        }
    )
    out["win_rate"] = win_rate_of(out["won_deals"], out["closed_deals"])
    out["velocity_per_day"] = [
        velocity(float(r.open_deals), r.win_rate, r.avg_deal_size, r.cycle_days)
        for r in out.itertuples()
    ]
    days = int((last - first).days) + 1
    out["velocity_per_period"] = out["velocity_per_day"] * days
    out = out.rename_axis(group_by or "_group").reset_index()
    if not group_by:
        out = out.drop(columns="_group")
    out.insert(len(keys), "period_start", first)
    out.insert(len(keys) + 1, "period_end", last)
    out.insert(len(keys) + 2, "days", days)
    order = [
        *keys, "period_start", "period_end", "days", "open_deals", "closed_deals", "won_deals",
        "win_rate", "avg_deal_size", "cycle_days", "velocity_per_day", "velocity_per_period",
    ]  # fmt: skip
    return out[order].astype({"open_deals": "int64", "closed_deals": "int64", "won_deals": "int64"})


def shapley_contributions(
    before: Mapping[str, float], after: Mapping[str, float]
) -> dict[str, float]:
    """Split the change of the velocity N x W x A / L between its four factors.

    Args:
        before: Prior values of :data:`FACTORS` (open_deals, win_rate, avg_deal_size,
            cycle_days).
        after: Current values of the same factors.

    Returns:
        Contribution of each factor (keys of :data:`FACTORS`): for factor i,
        sum over subsets S of the other factors of |S|! (3 - |S|)! / 4! x
        (V(S + {i} at current values) - V(S at current values)), the other factors at their
        prior values. The contributions sum to V(after) - V(before); all are NaN if either
        velocity is NaN.
    """
    names = list(FACTORS)
    if math.isnan(velocity(*(before[f] for f in names))) or math.isnan(
        velocity(*(after[f] for f in names))
    ):
        return dict.fromkeys(names, math.nan)

    def value(switched: frozenset[str]) -> float:
        return velocity(*((after if f in switched else before)[f] for f in names))

    n = len(names)
    out: dict[str, float] = {}
    for factor in names:
        others = [f for f in names if f != factor]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - 1 - size) / math.factorial(n)
            for subset in itertools.combinations(others, size):
                switched = frozenset(subset)
                total += weight * (value(switched | {factor}) - value(switched))
        out[factor] = total
    return out


def velocity_change(
    prior: pd.DataFrame, current: pd.DataFrame, group_by: str | None = None
) -> pd.DataFrame:
    """Velocity change between two periods and its split into the four factors.

    Args:
        prior: Output of :func:`velocity_factors` for the earlier period.
        current: Output of :func:`velocity_factors` for the later period.
        group_by: The grouping column both were computed with; None for the company.

    Returns:
        One row per group present in either frame: the group column (if any),
        velocity_prior, velocity_current, change = current - prior, and
        contribution_open_deals, contribution_win_rate, contribution_avg_deal_size,
        contribution_cycle_days (Shapley values; they sum to change). A group missing from a
        period has NaN velocity there, and NaN contributions.

    Raises:
        ParameterError: If a column is missing.
    """
    keys = [group_by] if group_by else []
    for name, frame in (("prior", prior), ("current", current)):
        require_columns(frame, [*FACTORS, *keys], f"velocity_change ({name})")
    cols = [*keys, *FACTORS, "velocity_per_day"]
    if keys:
        both = prior[cols].merge(current[cols], on=keys, how="outer", suffixes=("_0", "_1"))
    else:
        both = prior[cols].add_suffix("_0").join(current[cols].add_suffix("_1"), how="outer")
    rows = []
    for record in both.to_dict("records"):
        before = {f: float(record[f"{f}_0"]) for f in FACTORS}
        after = {f: float(record[f"{f}_1"]) for f in FACTORS}
        parts = shapley_contributions(before, after)
        v0, v1 = velocity(*before.values()), velocity(*after.values())
        row = {k: record[k] for k in keys}
        row.update(velocity_prior=v0, velocity_current=v1, change=v1 - v0)
        row.update({f"contribution_{f}": parts[f] for f in FACTORS})
        rows.append(row)
    columns = [*keys, "velocity_prior", "velocity_current", "change"]
    columns += [f"contribution_{f}" for f in FACTORS]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[len(keys) :]})
