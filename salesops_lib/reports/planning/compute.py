"""The planning report's numbers: targets, capacity and hiring, quotas, plan health, territories.

:func:`plan` runs the formula modules of :mod:`salesops_lib.analytics.planning` once over a
:class:`~salesops_lib.reports.planning.load.PlanningData` and keeps every section's frames in a
:class:`Plan`. The definitions the report adds on top of the analytics:

* **Planning target** of a region and month of the planning year (:func:`planning_targets`):
  the snapshot's region target for that month where Finance has set one; otherwise the same
  month a year earlier grown by ``target_growth``: its bookings when that month is complete,
  else its target, else (further back) the same rule one more year back, compounding.
* **Quota per ramped rep** (annual, per region; :func:`quota_per_ramped_rep`): the mean over
  ramped reps of their quota in the quarters that measure productivity, scaled to a year, so
  quota and productivity describe the same months. The mean, not the median: territories are
  uneven (a few large books), and capacity = headcount x quota per rep x productivity must add
  up to the team's total quota; the median is kept for productivity, where one star must not
  set the bar.
* **Key accounts** (stay with their owner in the rebalancing): the accounts named in the
  ``key_accounts`` parameter that belong to the report's region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesops_lib.analytics import planning as pl
from salesops_lib.analytics.planning.capacity import RAMPED_AFTER_MONTHS
from salesops_lib.analytics.planning.quotas import QUOTA_SCHEMA
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports.planning.load import PlanningData

PRODUCTIVITY_QUARTERS = 4
"""Complete quarters behind expected productivity (the issue allows 4-6: four keep the window
to the current plan's year, so a plan changed a year ago does not blur it)."""
HEALTH_QUARTERS = 4
"""Latest complete quarters shown in the attainment health table."""
MAX_YEARS_BACK = 5
"""How many years back :func:`planning_targets` looks for a month's base."""


def _month_start(day: dt.date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).to_period("M").to_timestamp()


def planning_targets(
    region_targets: pd.DataFrame,
    monthly_bookings: pd.DataFrame,
    *,
    as_of: dt.date,
    year: int,
    growth: float,
) -> pd.DataFrame:
    """Each region's target for each month of the planning year (see the module docstring).

    Args:
        region_targets: region_id, month, target_amount.
        monthly_bookings: region_id, month, bookings_amount.
        as_of: The snapshot date (months ending on or before it are complete).
        year: The planning year.
        growth: Target growth over the same month a year earlier (0.1 = +10%).

    Returns:
        One row per region_id and month: region_id, month (Timestamp, first day),
        target_amount, basis (``target``, ``bookings`` or ``none``) and basis_month (the
        month the amount comes from). Sorted by region_id, month.
    """
    targets = {
        (r, _month_start(m)): float(v)
        for r, m, v in region_targets[["region_id", "month", "target_amount"]].itertuples(
            index=False
        )
    }
    booked = {
        (r, _month_start(m)): float(v)
        for r, m, v in monthly_bookings[["region_id", "month", "bookings_amount"]].itertuples(
            index=False
        )
    }
    last_complete = _month_start(as_of + dt.timedelta(days=1)) - pd.DateOffset(months=1)
    first_booked = min((m for _, m in booked), default=None)
    regions = sorted({r for r, _ in targets} | {r for r, _ in booked})
    rows = []
    for region in regions:
        for month in pd.date_range(f"{year}-01-01", periods=12, freq="MS"):
            amount, basis, source = 0.0, "none", pd.NaT
            if (region, month) in targets:
                amount, basis, source = targets[region, month], "target", month
            else:
                for back in range(1, MAX_YEARS_BACK + 1):
                    earlier = month - pd.DateOffset(years=back)
                    factor = (1 + growth) ** back
                    complete = earlier <= last_complete and (
                        first_booked is not None and earlier >= first_booked
                    )
                    if complete:
                        amount = booked.get((region, earlier), 0.0) * factor
                        basis, source = "bookings", earlier
                        break
                    if (region, earlier) in targets:
                        amount, basis, source = targets[region, earlier] * factor, "target", earlier
                        break
            rows.append((region, month, amount, basis, source))
    return pd.DataFrame(
        rows, columns=["region_id", "month", "target_amount", "basis", "basis_month"]
    )


def quota_per_ramped_rep(
    attainment: pd.DataFrame, reps: pd.DataFrame, first_quarter: str, last_quarter: str
) -> pd.Series:
    """Annual quota of a ramped rep per region (see the module docstring).

    Args:
        attainment: ``fct_quota_attainment`` rows (rep_id, region_id, month, quota_amount).
        reps: rep_id, hire_date.
        first_quarter: First quarter of the productivity window ("2025Q4").
        last_quarter: Last quarter of it.

    Returns:
        A Series by region_id: mean annual quota of its ramped reps (regions without a
        ramped rep are left out).
    """
    window = pd.period_range(first_quarter, last_quarter, freq="Q")
    month = pd.to_datetime(attainment["month"]).dt.to_period("M")
    rows = attainment.loc[month.dt.asfreq("Q").isin(window)]
    start = window[0].asfreq("M", how="start")
    hire = pd.to_datetime(reps.set_index("rep_id")["hire_date"]).dt.to_period("M")
    months_before = rows["rep_id"].map(hire).map(lambda h: (start - h).n if pd.notna(h) else -1)
    rows = rows.loc[months_before >= RAMPED_AFTER_MONTHS]
    per_rep = rows.groupby(["region_id", "rep_id"])["quota_amount"].sum() * 4 / len(window)
    return per_rep[per_rep > 0].groupby(level="region_id").mean()


@dataclass(frozen=True)
class Plan:
    """Every section's frames (see :func:`plan`)."""

    data: PlanningData = field(repr=False)
    targets: pd.DataFrame = field(repr=False)
    productivity: pd.DataFrame = field(repr=False)
    quota_per_rep: pd.Series = field(repr=False)
    capacity: pd.DataFrame = field(repr=False)
    capacity_gap: pd.DataFrame = field(repr=False)
    hiring: pd.DataFrame = field(repr=False)
    top_down: pd.DataFrame = field(repr=False)
    bottom_up: pd.DataFrame = field(repr=False)
    quota_gap: pd.DataFrame = field(repr=False)
    health: pd.DataFrame = field(repr=False)
    health_by_tenure: pd.DataFrame = field(repr=False)
    health_by_manager: pd.DataFrame = field(repr=False)
    coverage: pd.DataFrame = field(repr=False)
    rebalance: pl.Rebalance = field(repr=False)

    @property
    def year(self) -> int:
        """The planning year."""
        return self.data.parameters.planning_year

    @property
    def ytd_period(self) -> str:
        """The current plan's period label in the health tables (see
        :func:`current_plan_months`)."""
        return current_plan_months(self.data)[0]


def team(reps: pd.DataFrame) -> pd.DataFrame:
    """The quota-carrying reps (role ``rep``)."""
    return reps.loc[reps["role"] == "rep"].reset_index(drop=True)


def month_seasonality(data: PlanningData) -> pd.DataFrame | None:
    """Per-region month weights from the complete calendar years of bookings (None: even)."""
    monthly = data.monthly_bookings
    try:
        return pl.seasonality_from_history(monthly, by_region=True)
    except ParameterError:  # no complete calendar year: even months
        return None


def capacity_section(data: PlanningData, seasonality: pd.DataFrame | None) -> dict[str, Any]:
    """Productivity, quota per ramped rep, team capacity, the gap to target and the hires."""
    params = data.parameters
    reps = team(data.reps)
    prod = pl.productivity(data.attainment, quarters=PRODUCTIVITY_QUARTERS, reps=reps)
    first, last = prod["first_quarter"].iloc[0], prod["last_quarter"].iloc[0]
    by_region = prod.loc[prod["region_id"] != ALL_REGIONS].set_index("region_id")["productivity"]
    company = float(prod.loc[prod["region_id"] == ALL_REGIONS, "productivity"].iloc[0])
    regions = sorted(reps["region_id"].unique())
    productivity = by_region.reindex(regions).fillna(company)
    quota = quota_per_ramped_rep(data.attainment, reps, first, last)
    quota = quota.reindex(regions).fillna(float(quota.median()) if len(quota) else 0.0)
    quarters = [f"{params.planning_year}Q{q}" for q in range(1, 5)]
    capacity = pl.team_capacity(
        reps, data.ramp, quota, productivity, params.attrition, quarters, seasonality=seasonality
    )
    targets = region_targets_for_year(data)
    annual = targets.groupby("region_id", as_index=False)["target_amount"].sum()
    gap = pl.capacity_gap(annual, capacity)
    starts = [dt.date(params.planning_year, m, 1) for m in (1, 4, 7, 10)]
    hiring = []
    for row in gap.itertuples(index=False):
        if row.gap <= 0 or row.region_id not in productivity.index:
            continue
        options = pl.hiring_plan(
            float(row.gap),
            start_months=starts,
            ramp=data.ramp,
            quota_per_rep=float(quota[row.region_id]),
            productivity=float(productivity[row.region_id]),
            horizon_end=dt.date(params.planning_year, 12, 31),
        )
        hiring.append(options.assign(region_id=row.region_id))
    hires = (
        pd.concat(hiring, ignore_index=True)
        if hiring
        else pd.DataFrame(
            columns=["region_id", "start_month", "hires_needed", "contribution_per_hire"]
        )
    )
    return {
        "targets": targets,
        "productivity": prod.assign(quota_per_ramped_rep=prod["region_id"].map(quota)),
        "quota_per_rep": quota,
        "capacity": capacity,
        "capacity_gap": gap,
        "hiring": hires,
        "productivity_by_region": productivity,
    }


def region_targets_for_year(data: PlanningData) -> pd.DataFrame:
    """:func:`planning_targets` of the data's regions for its planning year."""
    return planning_targets(
        data.region_targets,
        data.monthly_bookings,
        as_of=data.as_of,
        year=data.parameters.planning_year,
        growth=data.parameters.target_growth,
    )


def top_down_proposal(
    data: PlanningData, targets: pd.DataFrame, seasonality: pd.DataFrame | None
) -> pd.DataFrame:
    """The top-down quota proposal: each region's target split over its reps.

    Args:
        data: The report's data.
        targets: :func:`planning_targets` rows.
        seasonality: Per-region month weights, or None for 1/12 each.

    Returns:
        The quotas schema (rep_id, month, quota_amount); per region the amounts add up to its
        annual target x (1 + over-assignment) to the cent.
    """
    params = data.parameters
    reps = team(data.reps)
    potential = data.accounts.groupby("rep_id", as_index=False)["potential"].sum()
    history = pl.quota_history(
        data.attainment, reps, as_of=data.as_of, year=params.planning_year, potential=potential
    )
    target = targets.groupby("region_id")["target_amount"].sum()
    parts = []
    for region_id, amount in target.items():  # one call per region: its own seasonality
        weights = None
        if seasonality is not None:
            weights = seasonality.loc[seasonality["region_id"] == region_id]
            weights = weights.drop(columns="region_id") if len(weights) else None
        parts.append(
            pl.top_down_quotas(
                float(amount),
                history.loc[history["region_id"] == region_id],
                method=params.method,
                over_assignment=params.over_assignment,
                seasonality=weights,
                year=params.planning_year,
            )
        )
    if not parts:
        return pd.DataFrame(columns=QUOTA_SCHEMA)
    top_down = pd.concat(parts, ignore_index=True).sort_values(["rep_id", "month"])
    return top_down.reset_index(drop=True)


def quota_section(
    data: PlanningData, section: dict[str, Any], seasonality: pd.DataFrame | None
) -> dict[str, pd.DataFrame]:
    """Top-down proposal, bottom-up capacity quotas and their gap per region and manager."""
    params = data.parameters
    reps = team(data.reps)
    top_down = top_down_proposal(data, section["targets"], seasonality)
    carry = pl.rep_capacity(
        reps,
        data.ramp,
        quota_per_rep=section["quota_per_rep"],
        productivity=section["productivity_by_region"],
        months=list(pd.date_range(f"{params.planning_year}-01-01", periods=12, freq="MS")),
        attrition_rate=params.attrition,
        seasonality=seasonality,
    )
    bottom_up = pl.bottom_up_quotas(carry, year=params.planning_year)
    gap = pl.quota_gap(top_down, bottom_up, reps=reps)
    return {"top_down": top_down, "bottom_up": bottom_up, "quota_gap": gap}


def current_plan_months(data: PlanningData) -> tuple[str, pd.DataFrame]:
    """The current plan's period: the as-of year's complete months ("2026 YTD"), or the whole
    year before when none of this year's months is complete yet (as of January: "2025").

    Returns:
        The period's label and its ``fct_quota_attainment`` rows.
    """
    month = pd.to_datetime(data.attainment["month"])
    complete = data.attainment["is_complete_month"].astype(bool)
    this_year = data.attainment.loc[month.dt.year.eq(data.as_of.year) & complete]
    if len(this_year):
        return f"{data.as_of.year} YTD", this_year
    return str(data.as_of.year - 1), data.attainment.loc[month.dt.year.eq(data.as_of.year - 1)]


def health_section(data: PlanningData) -> dict[str, pd.DataFrame]:
    """Attainment health of the latest complete quarters and the year to date, with cuts."""
    rows = pl.rep_period_attainment(data.attainment, freq="Q")
    complete = sorted(rows.loc[rows["complete"], "period"].unique())[-HEALTH_QUARTERS:]
    quarters = rows.loc[rows["period"].isin(complete)]
    label, this_year = current_plan_months(data)
    ytd = pl.rep_period_attainment(this_year, freq="Y").assign(period=label)
    hire = data.reps.set_index("rep_id")["hire_date"]
    ytd = ytd.assign(tenure_band=pl.tenure_band(ytd["rep_id"].map(hire), data.as_of).to_numpy())
    both = pd.concat([quarters, ytd.drop(columns="tenure_band")], ignore_index=True)
    company = data.region == ALL_REGIONS
    health = pl.attainment_health(both, company=company)
    names = data.reps.set_index("rep_id")["rep_name"]
    by_manager = pl.attainment_health(
        ytd, by=("period", "region_id", "manager_id"), company=False
    ).assign(manager_name=lambda f: f["manager_id"].map(names))
    by_tenure = pl.attainment_health(
        ytd, by=("period", "region_id", "tenure_band"), company=company
    )
    deals = data.deals.assign(
        quota_remaining=(data.deals["quarter_quota"] - data.deals["quarter_bookings"]).clip(lower=0)
    )
    coverage = pl.coverage_check(deals.fillna({"win_rate": 0.0}))
    return {
        "health": health,
        "health_by_tenure": by_tenure,
        "health_by_manager": by_manager,
        "coverage": coverage,
    }


def plan(data: PlanningData) -> Plan:
    """Compute every section of the planning report.

    Args:
        data: From :func:`~salesops_lib.reports.planning.load.load_planning`.

    Returns:
        The frames of every section.

    Raises:
        ParameterError: When the analytics refuse the data (e.g. no complete quarter).
    """
    weights = month_seasonality(data)
    capacity = capacity_section(data, weights)
    quotas = quota_section(data, capacity, weights)
    health = health_section(data)
    reps = team(data.reps)[["rep_id", "region_id"]]
    rebalance = pl.rebalance_territories(
        data.accounts,
        tolerance=data.parameters.tolerance,
        key_accounts=[
            a for a in data.parameters.key_accounts if a in set(data.accounts["account_id"])
        ],
        reps=reps,
    )
    return Plan(
        data=data,
        targets=capacity["targets"],
        productivity=capacity["productivity"],
        quota_per_rep=capacity["quota_per_rep"],
        capacity=capacity["capacity"],
        capacity_gap=capacity["capacity_gap"],
        hiring=capacity["hiring"],
        top_down=quotas["top_down"],
        bottom_up=quotas["bottom_up"],
        quota_gap=quotas["quota_gap"],
        rebalance=rebalance,
        **health,
    )
