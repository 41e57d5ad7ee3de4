"""Sales capacity: ramped rep equivalents, expected productivity, team capacity, hiring what-if.

Pure functions, frames in and frames out; inputs are never changed.

Definitions used throughout:

* **Team**: the rows of ``reps`` whose ``role`` is ``"rep"`` (quota carriers; first-line
  managers are left out). A rep is on the team in a month when hired on or before the month's
  last day and, with an ``end_date`` column, not gone before the month's first day.
* **Tenure month** (the planning ramp's index) = whole calendar months from the hire month to
  the month, plus one: the month of hire is tenure month 1. (The performance ramp curve of
  :func:`salesops_lib.analytics.performance.attainment.ramp_curve` counts from 0; use
  :func:`ramp_from_curve` to convert it.)
* **Ramp**: a frame ``tenure_month`` (1, 2, ... N, no gaps), ``productivity`` in [0, 1]: the
  share of a ramped rep's output a rep produces in that tenure month. Past tenure month N a rep
  is ramped (productivity 1).
* **Ramped rep equivalents** of a month = sum over the team of the ramp productivity of each
  rep's tenure month. **Ramped reps** are those at productivity 1, **ramping reps** the others.
* **Expected productivity** = the MEDIAN attainment (bookings / quota) of ramped reps over the
  last 4-6 complete quarters (:func:`productivity`), not the mean, so a few stars do not set it.
* **Capacity** of a rep in a month = annual quota per ramped rep x seasonal weight of the month
  (1/12 without seasonality) x expected productivity x ramp productivity x survival, where
  survival in the k-th month of the horizon (k = 0 for the first) = (1 - attrition)^(k / 12):
  the expected share of today's team still on board under an annual attrition rate. Leavers
  are not replaced (that is what :func:`hiring_plan` is for).

  Hand-worked example (the one in issue 15): 7 ramped reps and 3 ramping reps, 150,000 annual
  quota, 85% expected productivity, ramping reps producing 40% of quota, i.e. a ramp
  productivity of 0.40 / 0.85, over one year without attrition:
  7 x 150,000 x 0.85 + 3 x 150,000 x 0.40 = 892,500 + 180,000 = 1,072,500.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops_lib.analytics.planning.quotas import month_weights
from salesops_lib.analytics.planning.ramp import (
    check_attrition,
    check_positive,
    check_ramp,
    month_starts,
    per_region,
    quarter_months,
)
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

REP_ROLE = "rep"
"""The ``role`` of a quota-carrying rep in the reps table."""

RAMPED_AFTER_MONTHS = 12
"""A rep counts as ramped for :func:`productivity` from this many whole months after hire."""


def _team(reps: pd.DataFrame) -> pd.DataFrame:
    require_columns(reps, ["rep_id", "region_id", "role", "hire_date"], "reps")
    team = reps.loc[reps["role"] == REP_ROLE]
    cols = [c for c in ["rep_id", "region_id", "manager_id", "hire_date", "end_date"] if c in team]
    return team[cols].assign(hire_date=pd.to_datetime(team["hire_date"]))


def rep_months(
    reps: pd.DataFrame, ramp: pd.DataFrame, months: Sequence[dt.date | str | pd.Timestamp]
) -> pd.DataFrame:
    """The team in each month with each rep's tenure month and ramp productivity.

    Args:
        reps: rep_id, region_id, role, hire_date[, manager_id, end_date].
        ramp: Planning ramp (see the module docstring).
        months: Months to cover (any date in the month).

    Returns:
        One row per rep on the team and month: rep_id, region_id, manager_id (if given), month
        (first day), tenure_month (1 = month of hire) and ramp_productivity.

    Raises:
        ParameterError: On a missing column or a bad ramp.
    """
    curve = check_ramp(ramp)
    team = _team(reps)
    grid = team.merge(pd.DataFrame({"month": month_starts(months)}), how="cross")
    hire = grid["hire_date"]
    tenure = (grid["month"].dt.year - hire.dt.year) * 12 + grid["month"].dt.month - hire.dt.month
    on_team = tenure >= 0
    if "end_date" in grid:
        end = pd.to_datetime(grid["end_date"])
        on_team &= end.isna() | (end >= grid["month"])
    grid = grid.loc[on_team].assign(tenure_month=(tenure[on_team] + 1).astype("int64"))
    lookup = curve.set_index("tenure_month")["productivity"]
    ramp_value = grid["tenure_month"].map(lookup).fillna(1.0).astype(float)
    out = grid.assign(ramp_productivity=ramp_value).drop(columns=["hire_date"])
    out = out.drop(columns=["end_date"], errors="ignore")
    return out.sort_values(["region_id", "month", "rep_id"]).reset_index(drop=True)


def ramped_equivalents(
    reps: pd.DataFrame, ramp: pd.DataFrame, months: Sequence[dt.date | str | pd.Timestamp]
) -> pd.DataFrame:
    """Ramped rep equivalents per region and month.

    Args:
        reps: rep_id, region_id, role, manager_id, hire_date[, end_date] (``dim_reps`` rows).
        ramp: tenure_month (1..N), productivity (0..1, 1 = ramped).
        months: The months to cover.

    Returns:
        One row per region_id x month with a rep on the team: region_id, month, headcount,
        ramped_reps (at productivity 1), ramping_reps, ramped_equivalents (sum of ramp
        productivity). Sorted by region_id, month.

    Raises:
        ParameterError: On a missing column or a bad ramp.
    """
    rows = rep_months(reps, ramp, months)
    rows = rows.assign(_ramped=rows["ramp_productivity"] >= 1.0)
    out = rows.groupby(["region_id", "month"], as_index=False).agg(
        headcount=("rep_id", "size"),
        ramped_reps=("_ramped", "sum"),
        ramped_equivalents=("ramp_productivity", "sum"),
    )
    out["ramping_reps"] = out["headcount"] - out["ramped_reps"]
    cols = ["region_id", "month", "headcount", "ramped_reps", "ramping_reps", "ramped_equivalents"]
    return out[cols]


def productivity(
    attainment: pd.DataFrame,
    *,
    quarters: int = 6,
    reps: pd.DataFrame | None = None,
    ramped_after_months: int = RAMPED_AFTER_MONTHS,
) -> pd.DataFrame:
    """Expected productivity: median quarterly attainment of ramped reps, per region and 'all'.

    Args:
        attainment: ``fct_quota_attainment`` rows: rep_id, region_id, month, quota_amount,
            bookings_amount[, is_complete_month][, hire_date].
        quarters: How many of the latest complete quarters to use (the issue asks for 4-6).
        reps: rows with rep_id, hire_date, needed when ``attainment`` has no hire_date.
        ramped_after_months: A rep-quarter counts when the rep was hired at least this many
            whole months before the quarter's first month.

    Returns:
        One row per region_id plus one with region_id ``"all"``: region_id, rep_quarters (how
        many ramped rep-quarters with a quota > 0 were counted), productivity (their median
        attainment = bookings / quota of the quarter), first_quarter, last_quarter ("2026Q1").
        A quarter is complete when all three of its months are in the frame and complete.

    Raises:
        ParameterError: If a column is missing, ``quarters`` < 1, or no complete quarter with a
            ramped rep is in the history.
    """
    if quarters < 1:
        raise ParameterError(f"productivity: quarters must be >= 1, got {quarters}")
    cols = ["rep_id", "region_id", "month", "quota_amount", "bookings_amount"]
    require_columns(attainment, cols, "productivity (attainment)")
    rows = attainment
    if "hire_date" not in rows:
        if reps is None:
            raise ParameterError("productivity: give hire_date in the frame or a reps frame")
        require_columns(reps, ["rep_id", "hire_date"], "productivity (reps)")
        rows = rows.merge(reps[["rep_id", "hire_date"]], on="rep_id", how="inner")
    month = pd.to_datetime(rows["month"]).dt.to_period("M")
    complete = rows["is_complete_month"].astype(bool) if "is_complete_month" in rows else True
    rows = rows.assign(month=month, quarter=month.dt.asfreq("Q"), _complete=complete)
    per_quarter = rows.groupby("quarter")["month"].nunique()
    incomplete = rows.loc[~rows["_complete"], "quarter"].unique()
    full = per_quarter[(per_quarter == 3) & ~per_quarter.index.isin(incomplete)].index
    chosen = sorted(full)[-quarters:]
    if not chosen:
        raise ParameterError("productivity: the history has no complete quarter (empty history)")
    rows = rows.loc[rows["quarter"].isin(chosen)]
    hire = pd.to_datetime(rows["hire_date"]).dt.to_period("M")
    first_month = rows["quarter"].dt.asfreq("M", how="start")
    months_since = (first_month.dt.year - hire.dt.year) * 12 + first_month.dt.month - hire.dt.month
    rows = rows.loc[months_since >= ramped_after_months]
    rq = rows.groupby(["region_id", "rep_id", "quarter"], as_index=False)[
        ["quota_amount", "bookings_amount"]
    ].sum()
    rq = rq.loc[rq["quota_amount"] > 0]
    if rq.empty:
        raise ParameterError(
            f"productivity: no ramped rep (>= {ramped_after_months} months) with a quota in "
            f"quarters {chosen[0]}..{chosen[-1]}"
        )
    rq["attainment"] = rq["bookings_amount"] / rq["quota_amount"]
    span = {"first_quarter": str(chosen[0]), "last_quarter": str(chosen[-1])}
    by_region = rq.groupby("region_id", as_index=False).agg(
        rep_quarters=("attainment", "size"), productivity=("attainment", "median")
    )
    company = pd.DataFrame(
        {
            "region_id": ["all"],
            "rep_quarters": [len(rq)],
            "productivity": [float(rq["attainment"].median())],
        }
    )
    return pd.concat([by_region, company], ignore_index=True).assign(**span)


def rep_capacity(
    reps: pd.DataFrame,
    ramp: pd.DataFrame,
    *,
    quota_per_rep: float | pd.Series,
    productivity: float | pd.Series,
    months: Sequence[dt.date | str | pd.Timestamp],
    attrition_rate: float = 0.0,
    seasonality: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Expected bookings each rep of today's team can carry in each month.

    Args:
        reps: rep_id, region_id, role, hire_date[, manager_id, end_date].
        ramp: Planning ramp.
        quota_per_rep: Annual quota of a ramped rep: a number, or a Series by region_id.
        productivity: Expected attainment of a ramped rep (e.g. 0.85): a number or a Series by
            region_id (e.g. ``productivity(...).set_index("region_id")["productivity"]``).
        months: The months to cover, in order (the first is month 0 for attrition).
        attrition_rate: Annual share of the team expected to leave, in [0, 1).
        seasonality: month_of_year (1..12), weight (see ``quotas.seasonality_from_history``);
            None = 1/12 per month.

    Returns:
        :func:`rep_months` rows plus survival, month_weight and capacity (see the module
        docstring).

    Raises:
        ParameterError: On a bad parameter.
    """
    attrition = check_attrition(attrition_rate)
    rows = rep_months(reps, ramp, months)
    starts = month_starts(months)
    index = pd.Series(np.arange(len(starts)), index=starts)
    k = rows["month"].map(index).astype(float)
    quota = per_region(quota_per_rep, rows["region_id"], "quota_per_rep")
    prod = per_region(productivity, rows["region_id"], "productivity")
    if seasonality is None:
        weight = pd.Series(1 / 12, index=rows.index)
    else:
        weight = month_weights(seasonality, rows)
    survival = (1.0 - attrition) ** (k / 12.0)
    capacity = quota * weight * prod * rows["ramp_productivity"] * survival
    return rows.assign(survival=survival, month_weight=weight, capacity=capacity)


def team_capacity(
    reps: pd.DataFrame,
    ramp: pd.DataFrame,
    quota_per_rep: float | pd.Series,
    productivity: float | pd.Series,
    attrition_rate: float,
    quarters: Sequence[str],
    *,
    seasonality: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Capacity of the current team (no backfill) per region and quarter.

    Args:
        reps: rep_id, region_id, role, hire_date[, manager_id, end_date].
        ramp: Planning ramp.
        quota_per_rep: Annual quota of a ramped rep (number or Series by region_id).
        productivity: Expected attainment of a ramped rep (number or Series by region_id).
        attrition_rate: Annual attrition in [0, 1); survival starts at 1 in the first month.
        quarters: e.g. ["2027Q1", "2027Q2", "2027Q3", "2027Q4"].
        seasonality: Optional month weights (see :func:`rep_capacity`).

    Returns:
        One row per region_id x quarter: region_id, quarter, headcount (reps on the team in the
        quarter's first month, before attrition), ramped_equivalents (mean over the quarter's
        months of ramp productivity x survival) and capacity (sum of rep capacity). Regions
        only; sum the rows for the company.

    Raises:
        ParameterError: On a bad parameter.
    """
    plan = quarter_months(quarters)
    rows = rep_capacity(
        reps,
        ramp,
        quota_per_rep=quota_per_rep,
        productivity=productivity,
        months=list(plan["month"]),
        attrition_rate=attrition_rate,
        seasonality=seasonality,
    )
    rows = rows.merge(plan, on="month").assign(
        _equiv=lambda f: f["ramp_productivity"] * f["survival"]
    )
    first = plan.groupby("quarter")["month"].min()
    heads = (
        rows.loc[rows["month"].isin(first.to_numpy())]
        .groupby(["region_id", "quarter"])["rep_id"]
        .size()
        .rename("headcount")
    )
    monthly = rows.groupby(["region_id", "quarter", "month"], as_index=False).agg(
        equiv=("_equiv", "sum"), capacity=("capacity", "sum")
    )
    out = monthly.groupby(["region_id", "quarter"], as_index=False).agg(
        ramped_equivalents=("equiv", "sum"), capacity=("capacity", "sum")
    )
    out["ramped_equivalents"] = out["ramped_equivalents"] / 3.0
    out = out.join(heads, on=["region_id", "quarter"])
    out["headcount"] = out["headcount"].fillna(0).astype("int64")
    cols = ["region_id", "quarter", "headcount", "ramped_equivalents", "capacity"]
    return out[cols].sort_values(["region_id", "quarter"]).reset_index(drop=True)


def capacity_gap(targets: pd.DataFrame, capacity: pd.DataFrame) -> pd.DataFrame:
    """Target against capacity per region.

    Args:
        targets: region_id, target_amount (for the same horizon as ``capacity``).
        capacity: :func:`team_capacity` rows (summed over quarters here).

    Returns:
        One row per region_id: target_amount, capacity, gap = max(target - capacity, 0),
        coverage = capacity / target (NaN for a zero target), needs_hires = gap > 0.
    """
    require_columns(targets, ["region_id", "target_amount"], "capacity_gap (targets)")
    require_columns(capacity, ["region_id", "capacity"], "capacity_gap (capacity)")
    cap = capacity.groupby("region_id", as_index=False)["capacity"].sum()
    out = targets.groupby("region_id", as_index=False)["target_amount"].sum()
    out = out.merge(cap, on="region_id", how="outer").fillna(0.0)
    out["gap"] = (out["target_amount"] - out["capacity"]).clip(lower=0)
    out["coverage"] = out["capacity"] / out["target_amount"].where(out["target_amount"] != 0)
    out["needs_hires"] = out["gap"] > 0
    return out.sort_values("region_id").reset_index(drop=True)


def hiring_plan(
    gap: float,
    *,
    start_months: Sequence[dt.date | str | pd.Timestamp],
    ramp: pd.DataFrame,
    quota_per_rep: float,
    productivity: float,
    horizon_end: dt.date | str | pd.Timestamp,
) -> pd.DataFrame:
    """How many hires, starting in which month, close a capacity gap by the horizon's end.

    One hire starting in month s (tenure month 1) contributes, through the month of
    ``horizon_end``, sum over the months m of quota_per_rep / 12 x productivity x ramp(tenure
    of m) (even months, no attrition of the new hires). Each row is one alternative: all hires
    start in that month.

    Args:
        gap: Bookings to add (a negative or zero gap needs no hires).
        start_months: Candidate start months.
        ramp: Planning ramp.
        quota_per_rep: Annual quota of a ramped rep.
        productivity: Expected attainment of a ramped rep.
        horizon_end: Last day (or any day of the last month) counted.

    Returns:
        One row per start month: start_month, months_in_horizon, contribution_per_hire,
        hires_needed = ceil(gap / contribution) (0 for no gap; NaN when a hire starting then
        contributes nothing), capacity_added = hires x contribution, closes_gap.

    Raises:
        ParameterError: On a bad ramp, a negative quota/productivity or no start month.
    """
    curve = check_ramp(ramp)
    check_positive(float(quota_per_rep), "quota_per_rep")
    check_positive(float(productivity), "productivity")
    if not len(start_months):
        raise ParameterError("hiring_plan: give at least one start month")
    if not np.isfinite(gap):
        raise ParameterError(f"hiring_plan: gap must be a finite amount, got {gap}")
    end = pd.Timestamp(horizon_end).to_period("M")
    values = curve["productivity"].to_numpy()
    rows = []
    for start in month_starts(start_months):
        count = max((end - start.to_period("M")).n + 1, 0)
        tenure = np.arange(count)
        factors = np.where(tenure < len(values), values[np.minimum(tenure, len(values) - 1)], 1.0)
        per_hire = float(quota_per_rep / 12 * productivity * factors.sum()) if count else 0.0
        if gap <= 0:
            hires: float = 0
        elif per_hire <= 0:
            hires = np.nan
        else:
            hires = math.ceil(round(gap / per_hire, 9))
        rows.append((start, count, per_hire, hires))
    out = pd.DataFrame(
        rows, columns=["start_month", "months_in_horizon", "contribution_per_hire", "hires_needed"]
    )
    out["capacity_added"] = out["hires_needed"] * out["contribution_per_hire"]
    out["closes_gap"] = out["capacity_added"].fillna(0) >= max(gap, 0) - 1e-6
    if gap > 0:
        out.loc[out["hires_needed"].isna(), "closes_gap"] = False
    return out
