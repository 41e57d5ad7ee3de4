"""What the planning report reads: the region's reps, attainment, bookings, targets, accounts.

:func:`check_parameters` checks the notebook's planning parameters once (a bad one fails with a
one-line :class:`~salesops_lib.core.errors.ParameterError` naming the parameter and the rule);
:func:`load_planning` reads the region's rows of the marts into a :class:`PlanningData`. Only
the ramp curve is measured over the whole company (a rep's ramp is a company-wide property:
one region has too few new hires per tenure month); it is an aggregate per tenure month, so the
regional report still holds its region's rows only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from salesops_lib.analytics.performance.attainment import (
    bookings_by_tenure,
    ramp_curve,
    time_to_full_productivity,
)
from salesops_lib.analytics.planning import ramp_from_curve
from salesops_lib.analytics.planning.quotas import METHODS
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports.base import ReportContext, report_context

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

ATTAINMENT_COLUMNS = [
    "rep_id", "rep_name", "region_id", "manager_id", "month", "quota_amount",
    "bookings_amount", "attainment", "is_complete_month",
]  # fmt: skip
REP_COLUMNS = [
    "rep_id", "rep_name", "role", "region_id", "manager_id", "manager_name", "hire_date",
    "tenure_months",
]  # fmt: skip
MAX_PLANNING_YEARS_AHEAD = 3
"""The planning year may be the as-of year up to this many years after it."""
WIN_RATE_DAYS = 365
"""Window of closed deals (by close date, up to as-of) behind each region's win rate."""


@dataclass(frozen=True)
class PlanningParameters:
    """The checked planning parameters of one report or command.

    Attributes:
        planning_year: The year to plan (January to December).
        target_growth: Growth of a month's target over the same month a year earlier, for the
            months the snapshot has no target for yet (0.1 = +10%).
        over_assignment: Quota above target in the top-down proposal, in [0, 1].
        method: Top-down allocation: ``prior_year``, ``t12m``, ``potential`` or ``even``.
        attrition: Annual share of the team expected to leave, in [0, 1).
        tolerance: Allowed deviation of a territory's potential from its region's mean, in
            (0, 1] (0.1 = +-10%).
        key_accounts: Account ids that stay with their owner in the rebalancing.
    """

    planning_year: int
    target_growth: float
    over_assignment: float
    method: str
    attrition: float
    tolerance: float
    key_accounts: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The parameters by name (for provenance and headlines)."""
        return {
            "planning_year": self.planning_year,
            "target_growth": self.target_growth,
            "over_assignment": self.over_assignment,
            "method": self.method,
            "attrition": self.attrition,
            "tolerance": self.tolerance,
            "key_accounts": ",".join(self.key_accounts),
        }


def _number(name: str, value: Any, rule: str, ok: Any) -> float:
    """``value`` as a float when ``ok(value)``, else a ParameterError naming it and the rule."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or not ok(number):
        raise ParameterError(f"parameter {name}={value!r}: {rule}")
    return number


def check_parameters(
    as_of: dt.date,
    planning_year: int = 0,
    target_growth: float = 0.1,
    over_assignment: float = 0.1,
    method: str = "t12m",
    attrition: float = 0.1,
    tolerance: float = 0.1,
    key_accounts: str = "",
) -> PlanningParameters:
    """Check the planning parameters against the snapshot date.

    Args:
        as_of: The snapshot's date.
        planning_year: Year to plan; 0 for the year after ``as_of``.
        target_growth: See :class:`PlanningParameters`; must be above -1.
        over_assignment: In [0, 1].
        method: One of :data:`~salesops_lib.analytics.planning.quotas.METHODS`.
        attrition: In [0, 1).
        tolerance: In (0, 1].
        key_accounts: Comma-separated account ids ("" for none).

    Returns:
        The checked parameters.

    Raises:
        ParameterError: Naming the first bad parameter, its value and the rule.
    """
    first, last = as_of.year, as_of.year + MAX_PLANNING_YEARS_AHEAD
    year = int(
        _number(
            "planning_year",
            planning_year,
            f"use 0 (the year after the snapshot) or a year from {first} to {last}",
            lambda v: v == int(v) and (v == 0 or first <= v <= last),
        )
    )
    growth = _number("target_growth", target_growth, "must be above -1 (-100%)", lambda v: v > -1)
    extra = _number(
        "over_assignment", over_assignment, "must be in [0, 1] (0.1 = 10%)", lambda v: 0 <= v <= 1
    )
    if method not in METHODS:
        raise ParameterError(f"parameter method={method!r}: use one of {', '.join(METHODS)}")
    leaving = _number(
        "attrition", attrition, "must be in [0, 1) (a yearly share of the team)", lambda v: v < 1
    )
    if leaving < 0:
        raise ParameterError(f"parameter attrition={attrition!r}: must be in [0, 1)")
    band = _number(
        "tolerance", tolerance, "must be in (0, 1] (0.1 = +-10% of the mean)", lambda v: 0 < v <= 1
    )
    if not isinstance(key_accounts, str):
        raise ParameterError(
            f"parameter key_accounts={key_accounts!r}: use comma-separated account ids"
        )
    keys = tuple(sorted({k.strip() for k in key_accounts.split(",") if k.strip()}))
    return PlanningParameters(year or as_of.year + 1, growth, extra, method, leaving, band, keys)


@dataclass(frozen=True)
class PlanningData:
    """The marts the planning report needs, the region's rows only.

    Attributes:
        context: The report's context.
        parameters: The checked parameters.
        reps: ``dim_reps`` rows of the region (reps and managers).
        attainment: ``fct_quota_attainment`` rows of the region.
        monthly_bookings: Bookings per region_id and month (first day), every month with
            bookings.
        region_targets: ``fct_region_targets`` rows of the region: region_id, month,
            target_amount, is_complete_month.
        accounts: One row per account of the region: account_id, account_name, size_band,
            region_id, rep_id (owner), l12m_bookings (order lines dated in the 12 months up to
            as-of), open_pipeline (open deals' amount), open_deals, potential = l12m_bookings +
            open_pipeline.
        deals: Per region_id: won and closed deals (close date within :data:`WIN_RATE_DAYS`
            days up to as-of), win_rate = won / closed, open_pipeline (open deals closing by
            the end of the as-of quarter, overdue ones included), quarter_quota (plan of the
            as-of quarter) and quarter_bookings (booked so far in it).
        ramp: Planning ramp (tenure_month 1.., productivity) measured over the whole company.
    """

    context: ReportContext
    parameters: PlanningParameters
    reps: pd.DataFrame = field(repr=False)
    attainment: pd.DataFrame = field(repr=False)
    monthly_bookings: pd.DataFrame = field(repr=False)
    region_targets: pd.DataFrame = field(repr=False)
    accounts: pd.DataFrame = field(repr=False)
    deals: pd.DataFrame = field(repr=False)
    ramp: pd.DataFrame = field(repr=False)

    @property
    def region(self) -> str:
        """Region id or ``all``."""
        return self.context.region

    @property
    def as_of(self) -> dt.date:
        """The snapshot's date."""
        return self.context.as_of


def load_planning(
    warehouse: Warehouse, region: str, parameters: PlanningParameters
) -> PlanningData:
    """Read the region's planning inputs (all regions for ``all``).

    Args:
        warehouse: An open warehouse (from
            :func:`~salesops_lib.reports.base.open_report_warehouse`).
        region: Region id or ``all``.
        parameters: From :func:`check_parameters`.

    Returns:
        The report's data.

    Raises:
        ParameterError: If the region is not in the snapshot.
    """
    context = report_context(warehouse, region)
    scope = None if region == ALL_REGIONS else region
    _check_key_accounts(warehouse, parameters.key_accounts)
    as_of = warehouse.as_of
    return PlanningData(
        context=context,
        parameters=parameters,
        reps=warehouse.table("dim_reps", region=scope, columns=REP_COLUMNS),
        attainment=warehouse.table(
            "fct_quota_attainment", region=scope, columns=ATTAINMENT_COLUMNS
        ),
        monthly_bookings=_monthly_bookings(warehouse, region),
        region_targets=warehouse.table(
            "fct_region_targets",
            region=scope,
            columns=["region_id", "month", "target_amount", "is_complete_month"],
        ),
        accounts=_accounts(warehouse, region, as_of),
        deals=_deals(warehouse, region, as_of),
        ramp=_company_ramp(warehouse),
    )


def _check_key_accounts(warehouse: Warehouse, key_accounts: tuple[str, ...]) -> None:
    """Fail when a named key account is not an account of the snapshot."""
    if not key_accounts:
        return
    marks = ", ".join("?" for _ in key_accounts)
    known = warehouse.query(
        f"SELECT account_id FROM dim_accounts WHERE account_id IN ({marks})", list(key_accounts)
    )
    unknown = sorted(set(key_accounts) - set(known["account_id"]))
    if unknown:
        raise ParameterError(
            f"parameter key_accounts: {', '.join(map(repr, unknown[:5]))} not in table "
            f"accounts of snapshot {warehouse.snapshot.snapshot_id}"
        )


def _in_scope(column: str = "region_id") -> str:
    """The SQL condition keeping a report's rows (binds: is_company, region)."""
    return f"(? OR {column} = ?)"


def _monthly_bookings(warehouse: Warehouse, region: str) -> pd.DataFrame:
    return warehouse.query(
        "SELECT region_id, order_month AS month, sum(bookings_amount) AS bookings_amount "
        f"FROM fct_bookings_monthly WHERE {_in_scope()} GROUP BY ALL ORDER BY ALL",
        [region == ALL_REGIONS, region],
    )


def _accounts(warehouse: Warehouse, region: str, as_of: dt.date) -> pd.DataFrame:
    start = as_of - pd.DateOffset(months=12)
    return warehouse.query(
        f"""
        WITH booked AS (
            SELECT account_id, sum(amount) AS l12m_bookings FROM fct_bookings
            WHERE order_date > ? AND order_date <= ? GROUP BY account_id),
        pipeline AS (
            SELECT account_id, sum(amount) AS open_pipeline, count(*) AS open_deals
            FROM fct_opportunities WHERE NOT is_closed GROUP BY account_id)
        SELECT a.account_id, a.account_name, a.size_band, a.region_id,
               a.owner_rep_id AS rep_id,
               CAST(coalesce(b.l12m_bookings, 0) AS DOUBLE) AS l12m_bookings,
               CAST(coalesce(p.open_pipeline, 0) AS DOUBLE) AS open_pipeline,
               CAST(coalesce(p.open_deals, 0) AS BIGINT) AS open_deals
        FROM dim_accounts a
        JOIN dim_reps r ON r.rep_id = a.owner_rep_id AND r.role = 'rep'
            AND r.region_id = a.region_id
        LEFT JOIN booked b USING (account_id)
        LEFT JOIN pipeline p USING (account_id)
        WHERE {_in_scope("a.region_id")}
        ORDER BY a.account_id
        """,
        [start.date(), as_of, region == ALL_REGIONS, region],
    ).assign(potential=lambda f: f["l12m_bookings"] + f["open_pipeline"])


def _deals(warehouse: Warehouse, region: str, as_of: dt.date) -> pd.DataFrame:
    quarter = pd.Period(as_of, freq="Q")
    first, last = quarter.start_time.date(), quarter.end_time.date()
    return warehouse.query(
        f"""
        WITH regions AS (SELECT region_id FROM dim_regions WHERE {_in_scope()}),
        closed AS (
            SELECT region_id, count(*) FILTER (WHERE is_won) AS won_deals,
                   count(*) AS closed_deals
            FROM fct_opportunities
            WHERE is_closed AND close_date > ? AND close_date <= ? GROUP BY region_id),
        pipeline AS (
            SELECT region_id, sum(amount) AS open_pipeline FROM fct_opportunities
            WHERE NOT is_closed AND close_date <= ? GROUP BY region_id),
        plan AS (
            SELECT region_id, sum(quota_amount) AS quarter_quota FROM fct_quota_plan
            WHERE month BETWEEN ? AND ? GROUP BY region_id),
        booked AS (
            SELECT region_id, sum(amount) AS quarter_bookings FROM fct_bookings
            WHERE order_date BETWEEN ? AND ? GROUP BY region_id)
        SELECT regions.region_id,
               CAST(coalesce(won_deals, 0) AS BIGINT) AS won_deals,
               CAST(coalesce(closed_deals, 0) AS BIGINT) AS closed_deals,
               CAST(coalesce(open_pipeline, 0) AS DOUBLE) AS open_pipeline,
               CAST(coalesce(quarter_quota, 0) AS DOUBLE) AS quarter_quota,
               CAST(coalesce(quarter_bookings, 0) AS DOUBLE) AS quarter_bookings
        FROM regions
        LEFT JOIN closed USING (region_id) LEFT JOIN pipeline USING (region_id)
        LEFT JOIN plan USING (region_id) LEFT JOIN booked USING (region_id)
        ORDER BY regions.region_id
        """,
        [
            region == ALL_REGIONS, region,
            as_of - dt.timedelta(days=WIN_RATE_DAYS), as_of,
            last,
            first, last,
            first, as_of,
        ],
    ).assign(
        win_rate=lambda f: f["won_deals"] / f["closed_deals"].where(f["closed_deals"] > 0)
    )  # fmt: skip


def _company_ramp(warehouse: Warehouse) -> pd.DataFrame:
    """The planning ramp from the company's ramp curve (an aggregate per tenure month).

    Tenure months before the curve first reaches full productivity (90% of its plateau, see
    :func:`~salesops_lib.analytics.performance.attainment.time_to_full_productivity`) keep their
    measured share; from then on a rep counts as ramped (productivity 1).
    """
    reps = warehouse.query("SELECT rep_id, hire_date FROM dim_reps WHERE role = 'rep'")
    attainment = warehouse.table(
        "fct_quota_attainment", columns=["rep_id", "month", "bookings_amount", "is_complete_month"]
    )
    curve = ramp_curve(bookings_by_tenure(attainment, reps))
    productive_from = time_to_full_productivity(curve) if len(curve) else None
    if not productive_from:  # no plateau, or productive from the month of hire
        return pd.DataFrame({"tenure_month": [1], "productivity": [1.0]})
    # ramping tenure months only: from the first productive month on a rep counts as ramped
    return ramp_from_curve(curve, months=productive_from)
