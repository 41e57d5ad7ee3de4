"""Regional performance diagnosis behind ``notebooks/10-performance.ipynb``.

Three layers, each a plain function:

1. :func:`load_performance` reads the marts of two snapshots (``as_of`` and ``compare_to``,
   by default the weekly snapshot before ``as_of``) into a :class:`PerformanceData`.
2. :func:`diagnose` runs the formula modules (:mod:`~salesops_lib.analytics.performance.attainment`,
   :mod:`~salesops_lib.analytics.performance.waterfall`,
   :mod:`~salesops_lib.analytics.performance.funnel`,
   :mod:`~salesops_lib.analytics.performance.velocity`,
   :mod:`~salesops_lib.analytics.performance.anomaly`,
   :mod:`~salesops_lib.analytics.performance.variance`,
   :mod:`~salesops_lib.analytics.performance.risk`)
   once and keeps every section's frames in a :class:`Diagnosis`.
3. The display helpers (``*_table``, ``*_chart``, ``*_note``) turn a diagnosis into what one
   notebook cell shows. A section whose data is missing (e.g. an imported snapshot without
   quotas or stage history) shows one sentence naming the data that would enable it.

Definitions (the notebook's appendix repeats them for readers; see :data:`DEFINITIONS`):

* The **period** is ``month``, ``qtd`` or ``ytd`` of the as-of date (calendar month, quarter,
  year). Its **window** runs from the first day of its first month to the last day of its last
  month: the close-date window of the pipeline waterfall and of coverage.
* **12-month leaderboard**: bookings / quota over the last 12 complete months, for reps with
  a quota above 0 in each of those months (reps hired or moved during the year are left out,
  so ramping reps are not ranked against a full year).
* **Velocity** compares the 91 days ending on the as-of date with the 91 days before.
* **Coverage** = open pipeline with a close date from the as-of date to the window's end /
  remaining quota (the period's full quota from the plan minus bookings so far, at least 0).
* **Bookings variance** compares the period to date with the same days a year earlier,
  split by product into price, volume and mix effects, then added up per product family.
* Bottlenecks compare each region with the rest of the company (and each rep with the rest of
  the region); deal risk thresholds use company-wide stage durations; anomalous weeks compare
  each region with the rest of the company in the same week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.performance import anomaly, attainment, funnel, risk, variance, velocity
from salesops_lib.analytics.performance import waterfall as wf
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import to_cents
from salesops_lib.data.schema import FORECAST_CATEGORIES
from salesops_lib.data.snapshot import list_snapshots
from salesops_lib.reports import missing_data, narrative
from salesops_lib.reports.base import Headlines
from salesops_lib.reports.overview import last_complete_month, month_range
from salesops_lib.reports.provenance import provenance as report_provenance

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

VELOCITY_DAYS = 91
"""Days in each of the two velocity periods."""

LEADERBOARD_MONTHS = 12
"""Complete months in the leaderboard window."""

OPEN_CATEGORIES: tuple[str, ...] = FORECAST_CATEGORIES[:3]

OPPORTUNITY_COLUMNS = [
    "opportunity_id", "opportunity_name", "account_id", "owner_rep_id", "region_id",
    "product_id", "product_family", "created_date", "stage", "stage_order", "is_closed",
    "is_won", "amount", "close_date", "forecast_category", "push_count",
    "days_in_current_stage",
]  # fmt: skip

PERIOD_LABELS: dict[str, str] = {
    "month": "month to date",
    "qtd": "quarter to date",
    "ytd": "year to date",
}


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerformanceData:
    """The marts of two snapshots the performance report needs.

    Opportunities, stage changes, quotas and weekly bookings are company-wide (bottlenecks,
    ramp and anomalies compare a region with the rest of the company); bookings and region
    targets are the region's own rows.

    Attributes:
        region: Region id or ``all``.
        region_name: Display name (untrusted text: escape before HTML).
        as_of: The as-of snapshot's date.
        compare_to: The earlier snapshot's date, or None when there is none.
        period: ``month``, ``qtd`` or ``ytd``.
        snapshot_id: The as-of snapshot's id.
        snapshot_checksum: Its content checksum.
        region_ids: Every region id of the snapshot.
        quota_attainment: ``fct_quota_attainment`` rows, all regions.
        period_quotas: Planned quota per rep and month of the period's months (all regions):
            rep_id, region_id, month, quota_amount.
        reps: ``dim_reps`` rows, all regions.
        opportunities: ``fct_opportunities`` rows of the as-of snapshot, all regions.
        opportunities_before: The same of the ``compare_to`` snapshot (empty if none).
        stage_changes: ``fct_stage_changes`` rows, all regions.
        bookings_by_product: The region's bookings per product in the period to date and the
            same days a year earlier: period_window (``current``/``base``), product_id,
            product_family, quantity, amount.
        weekly: Bookings per region and complete week (:func:`anomaly.weekly_bookings`).
        region_targets: ``fct_region_targets`` rows of the region.
    """

    region: str
    region_name: str
    as_of: dt.date
    compare_to: dt.date | None
    period: str
    snapshot_id: str
    snapshot_checksum: str
    region_ids: tuple[str, ...]
    quota_attainment: pd.DataFrame = field(repr=False)
    period_quotas: pd.DataFrame = field(repr=False)
    reps: pd.DataFrame = field(repr=False)
    opportunities: pd.DataFrame = field(repr=False)
    opportunities_before: pd.DataFrame = field(repr=False)
    stage_changes: pd.DataFrame = field(repr=False)
    bookings_by_product: pd.DataFrame = field(repr=False)
    weekly: pd.DataFrame = field(repr=False)
    region_targets: pd.DataFrame = field(repr=False)

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of the period (the close-date window)."""
        first, last = attainment.period_bounds(self.as_of, self.period)
        return first, last + pd.offsets.MonthEnd(0)

    @property
    def period_label(self) -> str:
        """``quarter to date`` etc."""
        return PERIOD_LABELS[self.period]

    def in_region(self, frame: pd.DataFrame, column: str = "region_id") -> pd.DataFrame:
        """Rows of ``frame`` in the report's region (all rows for ``all``)."""
        if self.region == ALL_REGIONS:
            return frame
        return frame[frame[column] == self.region]


def resolve_compare_to(as_of: dt.date, compare_to: str, snapshots_dir: Path) -> dt.date | None:
    """The earlier snapshot's date: the given one, or the latest snapshot before ``as_of``.

    Args:
        as_of: The report's snapshot date.
        compare_to: ``YYYY-MM-DD`` or ``""`` for the previous snapshot.
        snapshots_dir: Snapshot folder.

    Returns:
        The date, or None when ``compare_to`` is ``""`` and no earlier snapshot exists.

    Raises:
        ParameterError: If ``compare_to`` names no snapshot or is not before ``as_of``.
    """
    available = list_snapshots(snapshots_dir)
    if not compare_to:
        earlier = [d for d in available if d < as_of]
        return earlier[-1] if earlier else None
    try:
        day = dt.date.fromisoformat(compare_to)
    except ValueError as exc:
        raise ParameterError(f"compare_to {compare_to!r}: use YYYY-MM-DD or ''") from exc
    if day not in available:
        raise ParameterError(
            f"compare_to {compare_to!r}: no snapshot for that date in {snapshots_dir}; "
            f"available: {', '.join(d.isoformat() for d in available[-10:])}"
        )
    if day >= as_of:
        raise ParameterError(f"compare_to {compare_to} must be before as_of {as_of}")
    return day


def check_period(period: str) -> str:
    """Return ``period`` if it is one of :data:`attainment.PERIODS`, else raise ParameterError."""
    if period not in attainment.PERIODS:
        raise ParameterError(f"period {period!r}: use one of {', '.join(attainment.PERIODS)}")
    return period


def load_performance(
    warehouse: Warehouse,
    region: str,
    compare_to: str = "",
    period: str = "qtd",
    snapshots_dir: Path | None = None,
) -> PerformanceData:
    """Read everything the performance report needs from two snapshots.

    Args:
        warehouse: The as-of snapshot's open warehouse (from
            :func:`salesops_lib.reports.overview.open_report_warehouse`).
        region: Region id or ``all``.
        compare_to: Earlier snapshot ``YYYY-MM-DD``; ``""`` for the previous one.
        period: ``month``, ``qtd`` or ``ytd``.
        snapshots_dir: Snapshot folder; defaults to the configured one.

    Returns:
        The report's data.

    Raises:
        ParameterError: For an unknown period or a bad ``compare_to``.
    """
    from salesops_lib.data.warehouse import Warehouse

    check_period(period)
    folder = snapshots_dir or settings().snapshots_dir
    as_of = warehouse.as_of
    earlier = resolve_compare_to(as_of, compare_to, folder)
    regions = warehouse.regions()
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    opportunities = warehouse.table("fct_opportunities", columns=OPPORTUNITY_COLUMNS)
    if earlier is None:
        before = opportunities.head(0)
    else:
        with Warehouse.open(earlier, snapshots_dir=folder) as old:
            before = old.table("fct_opportunities", columns=OPPORTUNITY_COLUMNS)
    first_month, last_month = attainment.period_bounds(as_of, period)
    return PerformanceData(
        region=region,
        region_name="All regions" if region == ALL_REGIONS else str(names[region]),
        as_of=as_of,
        compare_to=earlier,
        period=period,
        snapshot_id=warehouse.snapshot.snapshot_id,
        snapshot_checksum=warehouse.snapshot.checksum,
        region_ids=tuple(sorted(names)),
        quota_attainment=warehouse.table("fct_quota_attainment"),
        period_quotas=warehouse.query(
            "SELECT q.rep_id, r.region_id, q.month, q.quota_amount "
            "FROM stg_plan__quotas q JOIN stg_crm__reps r ON q.rep_id = r.rep_id "
            "WHERE q.month BETWEEN ? AND ?",
            [first_month.date(), last_month.date()],
        ),
        reps=warehouse.table("dim_reps"),
        opportunities=opportunities,
        opportunities_before=before,
        stage_changes=warehouse.table("fct_stage_changes"),
        bookings_by_product=_bookings_by_product(warehouse, region, as_of, period),
        weekly=_weekly(warehouse, as_of),
        region_targets=warehouse.table("fct_region_targets", region=region),
    )


def variance_windows(
    as_of: dt.date, period: str
) -> tuple[tuple[pd.Timestamp, pd.Timestamp], tuple[pd.Timestamp, pd.Timestamp]]:
    """The period to date and the same days one year earlier.

    Args:
        as_of: The as-of date.
        period: ``month``, ``qtd`` or ``ytd``.

    Returns:
        ``((current_start, current_end), (base_start, base_end))``.
    """
    first, _ = attainment.period_bounds(as_of, period)
    end = pd.Timestamp(as_of)
    year = pd.DateOffset(years=1)
    return (first, end), (first - year, end - year)


def _bookings_by_product(
    warehouse: Warehouse, region: str, as_of: dt.date, period: str
) -> pd.DataFrame:
    (c0, c1), (b0, b1) = variance_windows(as_of, period)
    return warehouse.query(
        "SELECT CASE WHEN order_date >= ? THEN 'current' ELSE 'base' END AS period_window, "
        "product_id, any_value(product_family) AS product_family, "
        "sum(quantity) AS quantity, sum(amount) AS amount "
        "FROM fct_bookings WHERE (? OR region_id = ?) "
        "AND (order_date BETWEEN ? AND ? OR order_date BETWEEN ? AND ?) "
        "GROUP BY ALL ORDER BY period_window, product_id",
        [
            c0.date(), region == ALL_REGIONS, region,
            c0.date(), c1.date(), b0.date(), b1.date(),
        ],
    )  # fmt: skip


def _weekly(warehouse: Warehouse, as_of: dt.date) -> pd.DataFrame:
    rows = warehouse.query(
        "SELECT region_id, order_week, min(order_date) AS order_date, sum(amount) AS amount "
        "FROM fct_bookings GROUP BY region_id, order_week ORDER BY region_id, order_week"
    )
    first = rows["order_date"].min() if len(rows) else None
    return anomaly.weekly_bookings(rows, first_day=first, last_day=as_of)


# --- the diagnosis ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    """Every section's frames, computed once by :func:`diagnose`.

    Attributes:
        data: The inputs.
        rep_attainment: Per-rep attainment for the period (:func:`attainment.attainment`).
        manager_attainment: Per-manager attainment for the period.
        region_attainment: The region's (or company's) attainment for the period: one row.
        distribution: :func:`attainment.attainment_distribution` of the reps.
        leaderboard_12m: :func:`rep_leaderboard_12m` of the region.
        ramp: Company ramp curve (:func:`attainment.ramp_curve`).
        months_to_productivity: Time to full productivity (None if never).
        below_cohort: The region's reps far below their tenure cohort.
        waterfall: Waterfall bars of the region (empty without a ``compare_to`` snapshot).
        waterfall_deals: Deal-level rows behind the bars.
        reconciliation: Start + flows = end per region (all regions).
        bottlenecks: Region-vs-company bottleneck tests of the region's stages (all regions
            for ``all``).
        rep_bottlenecks: Rep-vs-rest-of-region tests, flagged rows only.
        conversion: Stage conversion, region vs company.
        win_rates: Win rate and cycle by product family, deal size band and (for a region
            report) rep.
        velocity_change: Velocity change, one row (region or company).
        velocity_periods: The two periods' velocity factors.
        coverage: Pipeline coverage per forecast category.
        anomalies: Scored weeks of the region (:func:`anomaly.flag_anomalous_weeks_pooled`).
        trend_breaks: The region's reps whose attainment trend breaks
            (:func:`attainment_trend_breaks`).
        pvm: Price/volume/mix per product family.
        target: Bookings against target over the complete months of the period.
        risks: Flagged open deals of the region.
    """

    data: PerformanceData
    rep_attainment: pd.DataFrame
    manager_attainment: pd.DataFrame
    region_attainment: pd.DataFrame
    distribution: pd.DataFrame
    leaderboard_12m: pd.DataFrame
    ramp: pd.DataFrame
    months_to_productivity: int | None
    below_cohort: pd.DataFrame
    waterfall: pd.DataFrame
    waterfall_deals: pd.DataFrame
    reconciliation: pd.DataFrame
    bottlenecks: pd.DataFrame
    rep_bottlenecks: pd.DataFrame
    conversion: pd.DataFrame
    win_rates: pd.DataFrame
    velocity_change: pd.DataFrame
    velocity_periods: pd.DataFrame
    coverage: pd.DataFrame
    anomalies: pd.DataFrame
    trend_breaks: pd.DataFrame
    pvm: pd.DataFrame
    target: pd.DataFrame
    risks: pd.DataFrame


def diagnose(data: PerformanceData) -> Diagnosis:
    """Run every section's formulas once.

    Args:
        data: Output of :func:`load_performance`.

    Returns:
        The diagnosis.
    """
    qa = data.in_region(with_later_quotas(data.quota_attainment, data.period_quotas, data.reps))
    level = "company" if data.region == ALL_REGIONS else "region"
    reps_only = data.reps[data.reps["role"] == "rep"] if "role" in data.reps else data.reps
    tenure = attainment.bookings_by_tenure(data.quota_attainment, reps_only)
    curve = attainment.ramp_curve(tenure)
    below = attainment.reps_below_cohort(tenure)
    region_reps = set(data.in_region(data.reps)["rep_id"])
    rep_rows = attainment.attainment(qa, data.as_of, "rep", data.period)
    bars, deals, recon = _waterfall(data)
    return Diagnosis(
        data=data,
        rep_attainment=rep_rows,
        manager_attainment=attainment.attainment(qa, data.as_of, "manager", data.period),
        region_attainment=attainment.attainment(qa, data.as_of, level, data.period),
        distribution=attainment.attainment_distribution(rep_rows),
        leaderboard_12m=rep_leaderboard_12m(qa, data.as_of),
        ramp=curve,
        months_to_productivity=attainment.time_to_full_productivity(curve) if len(curve) else None,
        below_cohort=below[below["rep_id"].isin(region_reps) & below["is_below_cohort"]],
        waterfall=bars,
        waterfall_deals=deals,
        reconciliation=recon,
        bottlenecks=_bottlenecks(data),
        rep_bottlenecks=_rep_bottlenecks(data),
        conversion=_conversion(data),
        win_rates=_win_rates(data),
        **_velocity(data),
        coverage=pipeline_coverage(data.in_region(data.opportunities), qa, data.as_of, data.window),
        anomalies=_anomalies(data),
        trend_breaks=attainment_trend_breaks(qa, data.as_of),
        pvm=_pvm(data),
        target=_target(data),
        risks=risk.deal_risk_flags(
            data.in_region(data.opportunities),
            data.stage_changes,
            data.as_of,
            history=[data.in_region(data.opportunities_before)]
            if len(data.opportunities_before)
            else [],
        ),
    )


def attainment_trend_breaks(
    quota_attainment: pd.DataFrame,
    as_of: dt.date,
    recent_months: int = 3,
    prior_months: int = 9,
    ratio: float = 0.5,
) -> pd.DataFrame:
    """Reps whose recent attainment breaks from their own earlier attainment.

    Over the last ``recent_months + prior_months`` complete months, for reps with a quota above
    0 in each of them: recent attainment = bookings / quota of the last ``recent_months``;
    prior attainment = the same over the ``prior_months`` before. A rep's trend **breaks**
    when recent < ``ratio`` x prior (a drop) or recent > prior / ``ratio`` (a jump).

    Args:
        quota_attainment: ``fct_quota_attainment`` rows (rep_id, rep_name, region_id, month,
            quota_amount, bookings_amount).
        as_of: The as-of date.
        recent_months: Months in the recent window.
        prior_months: Months in the earlier window.
        ratio: How far recent must fall below (or rise above) prior to break.

    Returns:
        One row per flagged rep: rep_id, rep_name, region_id, prior_attainment,
        recent_attainment, change_ratio = recent / prior, direction (``drop``/``jump``);
        largest drops first, then jumps.
    """
    months = month_range(last_complete_month(as_of), recent_months + prior_months)
    rows = quota_attainment[pd.to_datetime(quota_attainment["month"]).isin(months)]
    recent_start = months[prior_months]
    rows = rows.assign(
        quota_cents=to_cents(rows["quota_amount"]),
        bookings_cents=to_cents(rows["bookings_amount"]),
        recent=pd.to_datetime(rows["month"]) >= recent_start,
    )
    keys = ["rep_id", "rep_name", "region_id"]
    with_quota = rows[rows["quota_cents"] > 0].groupby(keys)["month"].nunique()
    full = with_quota[with_quota == len(months)].index
    sums = rows.groupby([*keys, "recent"])[["quota_cents", "bookings_cents"]].sum()
    rate = (sums["bookings_cents"] / sums["quota_cents"]).unstack("recent")
    columns = ["rep_id", "rep_name", "region_id", "prior_attainment", "recent_attainment",
               "change_ratio", "direction"]  # fmt: skip
    if rate.empty or True not in rate or False not in rate:
        return pd.DataFrame(columns=columns)
    rate = rate.loc[rate.index.isin(full)]
    out = pd.DataFrame(
        {"prior_attainment": rate[False], "recent_attainment": rate[True]}
    ).reset_index()
    out["change_ratio"] = out["recent_attainment"] / out["prior_attainment"].where(
        out["prior_attainment"] > 0
    )
    drop = out["recent_attainment"] < ratio * out["prior_attainment"]
    jump = out["recent_attainment"] * ratio > out["prior_attainment"]
    out["direction"] = np.where(drop, "drop", np.where(jump, "jump", ""))
    out = out[out["direction"] != ""]
    return out.sort_values(["direction", "change_ratio"], ascending=[True, True])[
        columns
    ].reset_index(drop=True)


def with_later_quotas(
    quota_attainment: pd.DataFrame, period_quotas: pd.DataFrame, reps: pd.DataFrame
) -> pd.DataFrame:
    """Add the period's months after the as-of month (quota from the plan, bookings 0).

    ``fct_quota_attainment`` stops at the as-of month; with the later months of the period
    :func:`attainment.attainment` measures against the full period's quota and spreads the gap
    over the days left to the period's end.

    Args:
        quota_attainment: ``fct_quota_attainment`` rows.
        period_quotas: Planned quotas of the period's months (rep_id, month, quota_amount).
        reps: ``dim_reps`` rows (rep_id, rep_name, region_id, manager_id).

    Returns:
        The rows of ``quota_attainment`` plus one row per rep and later month of the period
        (bookings_amount 0, attainment NaN, is_complete_month False).
    """
    months = pd.to_datetime(quota_attainment["month"])
    latest = months.max() if len(months) else pd.Timestamp.min
    later = period_quotas[pd.to_datetime(period_quotas["month"]) > latest]
    if later.empty:
        return quota_attainment
    people = reps[["rep_id", "rep_name", "region_id", "manager_id"]]
    extra = later[["rep_id", "month", "quota_amount"]].merge(people, on="rep_id", how="inner")
    extra = extra.assign(
        month=pd.to_datetime(extra["month"]),
        bookings_amount=0.0,
        attainment=np.nan,
        is_complete_month=False,
    )
    base = quota_attainment.assign(month=months)
    return pd.concat([base, extra[base.columns]], ignore_index=True)


def rep_leaderboard_12m(quota_attainment: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Rank reps by attainment over the last 12 complete months (full-year reps only).

    Args:
        quota_attainment: ``fct_quota_attainment`` rows (rep_id, rep_name, region_id, month,
            quota_amount, bookings_amount).
        as_of: The as-of date.

    Returns:
        :func:`attainment.leaderboard` of the reps with quota > 0 in each of the 12 months:
        rank, rep_id, rep_name, region_id, months, quota_amount, bookings_amount, attainment.
    """
    window = month_range(last_complete_month(as_of), LEADERBOARD_MONTHS)
    rows = quota_attainment[pd.to_datetime(quota_attainment["month"]).isin(window)]
    rows = rows.assign(
        quota_cents=to_cents(rows["quota_amount"]),
        bookings_cents=to_cents(rows["bookings_amount"]),
        has_quota=to_cents(rows["quota_amount"]) > 0,
    )
    per_rep = rows.groupby(["rep_id", "rep_name", "region_id"], as_index=False).agg(
        months=("has_quota", "sum"),
        quota_cents=("quota_cents", "sum"),
        bookings_cents=("bookings_cents", "sum"),
    )
    full_year = per_rep[per_rep["months"] == LEADERBOARD_MONTHS]
    table = full_year.assign(
        quota_amount=full_year["quota_cents"] / 100,
        bookings_amount=full_year["bookings_cents"] / 100,
        attainment=full_year["bookings_cents"] / full_year["quota_cents"],
    ).drop(columns=["quota_cents", "bookings_cents"])
    return attainment.leaderboard(table.astype({"months": "int64"}))


def pipeline_coverage(
    opportunities: pd.DataFrame,
    quota_attainment: pd.DataFrame,
    as_of: dt.date,
    window: tuple[pd.Timestamp, pd.Timestamp],
) -> pd.DataFrame:
    """Open pipeline due in the rest of the period against the quota still to book.

    Args:
        opportunities: ``fct_opportunities`` rows (is_closed, close_date, amount,
            forecast_category) of the region.
        quota_attainment: Quota rows of the region covering the whole period (month,
            quota_amount, bookings_amount), as from :func:`with_later_quotas`.
        as_of: The as-of date.
        window: First and last day of the period.

    Returns:
        One row per open forecast category plus ``All open``: forecast_category, deals,
        pipeline_amount (close date from ``as_of`` to the window's end), remaining_quota
        (period quota - period bookings so far, at least 0), coverage = pipeline /
        remaining quota (NaN when nothing remains) and cumulative_coverage (Commit, then
        Commit + Best Case, then all).
    """
    first, last = window
    months = pd.to_datetime(quota_attainment["month"])
    in_period = (months >= first) & (months <= last)
    booked = int(to_cents(quota_attainment.loc[in_period, "bookings_amount"]).sum())
    quota = int(to_cents(quota_attainment.loc[in_period, "quota_amount"]).sum())
    remaining = max(quota - booked, 0) / 100
    close = pd.to_datetime(opportunities["close_date"])
    due = opportunities[
        ~opportunities["is_closed"].astype(bool) & (close >= pd.Timestamp(as_of)) & (close <= last)
    ]
    rows = []
    cumulative = 0.0
    for category in ("Commit", "Best Case", "Pipeline"):
        part = due[due["forecast_category"] == category]
        amount = float(to_cents(part["amount"]).sum()) / 100
        cumulative += amount
        rows.append((category, len(part), amount, cumulative))
    total = float(to_cents(due["amount"]).sum()) / 100
    rows.append(("All open", len(due), total, total))
    out = pd.DataFrame(
        rows, columns=["forecast_category", "deals", "pipeline_amount", "cumulative_amount"]
    )
    out["remaining_quota"] = remaining
    out["coverage"] = out["pipeline_amount"] / remaining if remaining else np.nan
    out["cumulative_coverage"] = out["cumulative_amount"] / remaining if remaining else np.nan
    return out.drop(columns="cumulative_amount")


def _waterfall(data: PerformanceData) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if data.compare_to is None:
        return pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    start, end = data.window
    before, after = data.opportunities_before, data.opportunities
    recon = wf.waterfall_reconciliation(before, after, start, end)
    deals = wf.waterfall_deals(before, after, start, end)
    if data.region == ALL_REGIONS:
        bars = wf.pipeline_waterfall(before, after, start, end)
    else:
        bars = wf.pipeline_waterfall(before, after, start, end, by_group=True)
        bars = bars[bars["region_id"] == data.region].drop(columns="region_id")
        if bars.empty:  # the region has no deal in either snapshot's window
            bars = wf.pipeline_waterfall(before.head(0), after.head(0), start, end)
        deals = deals[deals["region_id"] == data.region]
    return bars.reset_index(drop=True), deals.reset_index(drop=True), recon


def _bottlenecks(data: PerformanceData) -> pd.DataFrame:
    tests = funnel.detect_bottlenecks(data.stage_changes, data.opportunities)
    return data.in_region(tests).reset_index(drop=True) if len(tests) else tests


def _rep_bottlenecks(data: PerformanceData) -> pd.DataFrame:
    if data.region == ALL_REGIONS:
        return pd.DataFrame()
    opportunities = data.in_region(data.opportunities)
    changes = data.stage_changes[
        data.stage_changes["opportunity_id"].isin(opportunities["opportunity_id"])
    ]
    tests = funnel.detect_bottlenecks(changes, opportunities, group_by="owner_rep_id")
    return tests[tests["is_bottleneck"]].reset_index(drop=True) if len(tests) else tests


def _conversion(data: PerformanceData) -> pd.DataFrame:
    company = data.opportunities.assign(_all="company")
    totals = funnel.stage_conversion(data.stage_changes, company, group_by="_all")
    times = funnel.time_in_stage(data.stage_changes, company, group_by="_all")
    totals = totals.merge(times, on=["_all", "stage"]).drop(columns="_all")
    if data.region == ALL_REGIONS:
        return totals.rename(columns=lambda c: c if c == "stage" else f"{c}_company")
    mine = funnel.stage_conversion(data.stage_changes, data.opportunities)
    mine_times = funnel.time_in_stage(data.stage_changes, data.opportunities)
    mine = mine.merge(mine_times, on=["region_id", "stage"])
    mine = mine[mine["region_id"] == data.region].drop(columns="region_id")
    return mine.merge(totals, on="stage", suffixes=("", "_company"))


def _win_rates(data: PerformanceData) -> pd.DataFrame:
    names = data.reps.set_index("rep_id")["rep_name"]
    opportunities = funnel.add_deal_size_band(data.in_region(data.opportunities))
    opportunities = opportunities.assign(
        rep=opportunities["owner_rep_id"].map(names).fillna(opportunities["owner_rep_id"])
    )
    parts = []
    dimensions = [("product_family", "Product family"), ("deal_size_band", "Deal size")]
    if data.region != ALL_REGIONS:  # the company has too many reps for one table
        dimensions.append(("rep", "Rep"))
    for column, label in dimensions:
        rates = funnel.win_rate(opportunities, group_by=column)
        parts.append(rates.rename(columns={column: "group"}).assign(dimension=label))
    out = pd.concat(parts, ignore_index=True)
    return out[["dimension", "group", "closed", "won", "win_rate", "median_cycle_days"]]


def _velocity(data: PerformanceData) -> dict[str, pd.DataFrame]:
    end = pd.Timestamp(data.as_of)
    start = end - pd.Timedelta(days=VELOCITY_DAYS - 1)
    prior_start, prior_end = velocity.prior_period(start, end)
    opportunities = data.in_region(data.opportunities)
    current = velocity.velocity_factors(opportunities, start, end)
    prior = velocity.velocity_factors(opportunities, prior_start, prior_end)
    return {
        "velocity_change": velocity.velocity_change(prior, current),
        "velocity_periods": pd.concat([prior, current], ignore_index=True),
    }


def _anomalies(data: PerformanceData) -> pd.DataFrame:
    if data.weekly.empty:
        return pd.DataFrame()
    scored = anomaly.flag_anomalous_weeks_pooled(data.weekly)
    return data.in_region(scored).reset_index(drop=True)


def _pvm(data: PerformanceData) -> pd.DataFrame:
    rows = data.bookings_by_product
    base = rows[rows["period_window"] == "base"]
    current = rows[rows["period_window"] == "current"]
    by_product = variance.price_volume_mix(base, current, by="product_id")
    families = rows.drop_duplicates("product_id").set_index("product_id")["product_family"]
    by_product["product_family"] = by_product["product_id"].map(families)
    return pvm_by_family(by_product)


def pvm_by_family(by_product: pd.DataFrame) -> pd.DataFrame:
    """Add a per-product price/volume/mix table up to product families, in exact cents.

    Args:
        by_product: :func:`variance.price_volume_mix` by product_id with a product_family
            column.

    Returns:
        One row per family: product_family, amount_base, amount_current, volume_effect,
        mix_effect, price_effect, total_variance (each effect set still sums to the variance).
    """
    cols = ["amount_base", "amount_current", "volume_effect", "mix_effect", "price_effect",
            "total_variance"]  # fmt: skip
    cents = by_product[cols].apply(to_cents).assign(product_family=by_product["product_family"])
    out = cents.groupby("product_family", as_index=False)[cols].sum()
    for col in cols:
        out[col] = out[col] / 100
    return out


def _target(data: PerformanceData) -> pd.DataFrame:
    targets = data.region_targets
    if targets.empty:
        return pd.DataFrame()
    complete = targets[targets["is_complete_month"].astype(bool)]
    first, last = attainment.period_bounds(data.as_of, data.period)
    if data.region == ALL_REGIONS:
        complete = complete.assign(region_id=ALL_REGIONS)
    return variance.target_variance(complete, first, last)


# --- display helpers -------------------------------------------------------------------------


def _missing(text: str) -> narrative.Html:
    return missing_data.missing_note(text)


def narrative_escape(text: str) -> str:
    """HTML-escape text (region, rep and account names are untrusted)."""
    import html

    return html.escape(text)


def _sentence(text: str) -> narrative.Html:
    return narrative.Html(f"<p>{narrative_escape(text)}</p>")


def has_quotas(diagnosis: Diagnosis) -> bool:
    """True when the region has quota rows in the period."""
    return bool(len(diagnosis.rep_attainment))


def has_stage_history(diagnosis: Diagnosis) -> bool:
    """True when the snapshot has stage history (funnel, bottlenecks, stale deals)."""
    return bool(len(diagnosis.data.stage_changes))


def attainment_table(diagnosis: Diagnosis) -> Any:
    """Attainment of the region (or company) and its managers for the period, formatted."""
    from salesops_lib.reports import charts

    if not has_quotas(diagnosis):
        return _missing("No quota is set for this period: load quotas to see attainment.")
    region = diagnosis.region_attainment.assign(level="Region", name=diagnosis.data.region_name)
    names = diagnosis.data.reps.set_index("rep_id")["rep_name"]
    managers = diagnosis.manager_attainment.assign(
        level="Manager",
        name=diagnosis.manager_attainment["manager_id"].map(names).fillna("(no manager)"),
    )
    table = pd.concat([region, managers], ignore_index=True)
    columns = ["level", "name", "quota_amount", "bookings_amount", "attainment",
               "gap_to_quota", "monthly_run_rate_needed"]  # fmt: skip
    return charts.format_table(
        table[columns],
        money=["quota_amount", "bookings_amount", "gap_to_quota", "monthly_run_rate_needed"],
        pct=["attainment"],
        labels={
            "level": "Level", "name": "Name", "quota_amount": "Quota",
            "bookings_amount": "Bookings", "attainment": "Attainment",
            "gap_to_quota": "Gap to quota", "monthly_run_rate_needed": "Needed per month",
        },
    )  # fmt: skip


def attainment_note(diagnosis: Diagnosis) -> narrative.Html:
    """One sentence on the spread of rep attainment for the period."""
    if not has_quotas(diagnosis):
        return _missing("Rep attainment needs quotas for the period.")
    d = diagnosis.distribution.iloc[0]
    return _sentence(
        f"{int(d['reps_with_quota'])} reps have a quota {diagnosis.data.period_label}: "
        f"{narrative.format_pct(d['share_at_or_above_100'])} are at or above 100% and "
        f"{narrative.format_pct(d['share_below_50'])} below 50% (median "
        f"{narrative.format_pct(d['median_attainment'])}); "
        f"{int(d['reps_zero_quota'])} have no quota."
    )


def leaderboard_table(diagnosis: Diagnosis, top: int = 5) -> Any:
    """The top and bottom ``top`` reps of the 12-month leaderboard, formatted."""
    from salesops_lib.reports import charts

    board = diagnosis.leaderboard_12m
    if board.empty:
        return _missing(
            "No rep has a quota in each of the last 12 complete months: "
            "12 months of quotas would enable the leaderboard."
        )
    shown = pd.concat([board.head(top), board.tail(top)]).drop_duplicates("rep_id")
    return charts.format_table(
        shown[["rank", "rep_name", "region_id", "quota_amount", "bookings_amount", "attainment"]],
        money=["quota_amount", "bookings_amount"],
        pct=["attainment"],
        labels={
            "rank": "Rank", "rep_name": "Rep", "region_id": "Region",
            "quota_amount": "Quota 12m", "bookings_amount": "Bookings 12m",
            "attainment": "Attainment 12m",
        },
    )  # fmt: skip


def ramp_note(diagnosis: Diagnosis) -> narrative.Html:
    """Time to full productivity and the region's reps far below their tenure cohort."""
    months = diagnosis.months_to_productivity
    if not len(diagnosis.ramp):
        return _missing("Ramp needs quotas and hire dates of reps with complete months.")
    text = (
        f"New reps reach full productivity (90% of the second-year median) after {months} "
        "months in the company's data"
        if months is not None
        else "The company's ramp curve never reaches 90% of the second-year median"
    )
    below = diagnosis.below_cohort
    names = diagnosis.data.reps.set_index("rep_id")["rep_name"]
    if len(below):
        listed = ", ".join(str(names.get(r, r)) for r in below["rep_id"].head(5))
        text += f"; {len(below)} rep(s) here book under half their tenure cohort: {listed}."
    else:
        text += "; no rep here books under half their tenure cohort."
    return _sentence(text)


def waterfall_table(diagnosis: Diagnosis) -> Any:
    """The waterfall bars (start, every flow, end), formatted."""
    from salesops_lib.reports import charts

    if diagnosis.waterfall.empty:
        return _missing(
            "There is no earlier snapshot to compare with: a second weekly snapshot "
            "would enable the pipeline change waterfall."
        )
    return charts.format_table(
        diagnosis.waterfall,
        money=["amount"],
        counts=["deals"],
        labels={"category": "Bar", "amount": "Amount", "deals": "Deals"},
    )


def waterfall_deal_table(diagnosis: Diagnosis, top: int = 15) -> Any:
    """The largest deal-level rows behind the waterfall's flow bars, formatted."""
    from salesops_lib.reports import charts

    deals = diagnosis.waterfall_deals
    if deals.empty:
        return _missing("No deal moved in or out of the period's pipeline between the snapshots.")
    names = diagnosis.data.opportunities.set_index("opportunity_id")["opportunity_name"]
    largest = deals.reindex(deals["contribution"].abs().sort_values(ascending=False).index)
    largest = largest.head(top).assign(name=lambda f: f["opportunity_id"].map(names))
    return charts.format_table(
        largest[["opportunity_id", "name", "category", "amount_before", "amount_after",
                 "contribution"]],
        money=["amount_before", "amount_after", "contribution"],
        labels={
            "opportunity_id": "Opportunity", "name": "Name", "category": "Category",
            "amount_before": "Amount before", "amount_after": "Amount after",
            "contribution": "Change",
        },
    )  # fmt: skip


def reconciliation_note(diagnosis: Diagnosis) -> narrative.Html:
    """One sentence saying whether start + flows = end for every region."""
    recon = diagnosis.reconciliation
    if recon.empty:
        return _missing("Reconciliation needs two snapshots.")
    bad = recon[~recon["reconciles"]]
    if bad.empty:
        return _sentence(
            f"Start + every flow = end to the cent for all {len(recon)} regions "
            f"between {diagnosis.data.compare_to} and {diagnosis.data.as_of}."
        )
    return _sentence(f"Does not reconcile for: {', '.join(bad['region_id'].astype(str))}.")


def bottleneck_table(diagnosis: Diagnosis) -> Any:
    """Stage tests of the region against the rest of the company, formatted."""
    from salesops_lib.reports import charts

    if not has_stage_history(diagnosis) or diagnosis.bottlenecks.empty:
        return _missing("Bottleneck tests need opportunity stage history.")
    table = diagnosis.bottlenecks
    columns = ["region_id", "stage", "median_days_group", "median_days_rest", "time_ratio",
               "time_p_adjusted", "conversion_group", "conversion_rest",
               "conversion_p_adjusted", "is_bottleneck"]  # fmt: skip
    shown = table[columns].assign(
        time_ratio=table["time_ratio"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}x"),
        time_p_adjusted=table["time_p_adjusted"].map(_p),
        conversion_p_adjusted=table["conversion_p_adjusted"].map(_p),
        is_bottleneck=table["is_bottleneck"].map({True: "yes", False: ""}),
        median_days_group=table["median_days_group"].map(_days),
        median_days_rest=table["median_days_rest"].map(_days),
    )
    return charts.format_table(
        shown,
        pct=["conversion_group", "conversion_rest"],
        labels={
            "region_id": "Region", "stage": "Stage", "median_days_group": "Median days",
            "median_days_rest": "Rest of company", "time_ratio": "Time ratio",
            "time_p_adjusted": "p (time)", "conversion_group": "Conversion",
            "conversion_rest": "Rest of company ", "conversion_p_adjusted": "p (conversion)",
            "is_bottleneck": "Bottleneck",
        },
    )  # fmt: skip


def _p(value: float) -> str:
    return "too few deals" if pd.isna(value) else ("<0.001" if value < 0.001 else f"{value:.3f}")


def _days(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.0f}"


def bottleneck_note(diagnosis: Diagnosis) -> narrative.Html:
    """The flagged bottlenecks (region and rep level) in words."""
    if not has_stage_history(diagnosis) or diagnosis.bottlenecks.empty:
        return _missing("Bottleneck tests need opportunity stage history.")
    flagged = diagnosis.bottlenecks[diagnosis.bottlenecks["is_bottleneck"]]
    parts = [f"{row.region_id}: {row.reason}" for row in flagged.itertuples()]
    text = "Flagged: " + "; ".join(parts) + "." if parts else "No stage is flagged as a bottleneck."
    reps = diagnosis.rep_bottlenecks
    if len(reps):
        names = diagnosis.data.reps.set_index("rep_id")["rep_name"]
        listed = "; ".join(
            f"{names.get(r.owner_rep_id, r.owner_rep_id)}: {r.reason}" for r in reps.itertuples()
        )
        text += f" Reps slower or weaker than the rest of the region: {listed}."
    return _sentence(text)


def conversion_table(diagnosis: Diagnosis) -> Any:
    """Stage conversion and time in stage, region vs company, formatted."""
    from salesops_lib.reports import charts

    table = diagnosis.conversion
    if not has_stage_history(diagnosis) or table.empty:
        return _missing("Conversion by stage needs opportunity stage history.")
    money_free = [c for c in table.columns if c.startswith("conversion_rate")]
    counts = [c for c in table.columns if c.startswith(("entered", "converted", "stays"))]
    shown = table.assign(**{c: table[c].map(_days) for c in table if c.startswith("median")})
    return charts.format_table(shown, pct=money_free, counts=counts)


def win_rate_table(diagnosis: Diagnosis) -> Any:
    """Win rate and cycle length by product family, deal size band and rep, formatted."""
    from salesops_lib.reports import charts

    table = diagnosis.win_rates.assign(
        median_cycle_days=diagnosis.win_rates["median_cycle_days"].map(_days)
    )
    return charts.format_table(
        table,
        pct=["win_rate"],
        counts=["closed", "won"],
        labels={
            "dimension": "By", "group": "Group", "closed": "Closed", "won": "Won",
            "win_rate": "Win rate", "median_cycle_days": "Median cycle (days)",
        },
    )  # fmt: skip


def velocity_table(diagnosis: Diagnosis) -> Any:
    """The four velocity factors for both periods, formatted."""
    from salesops_lib.reports import charts

    periods = diagnosis.velocity_periods.assign(
        period=lambda f: f["period_start"].dt.strftime("%Y-%m-%d")
        + " to "
        + f["period_end"].dt.strftime("%Y-%m-%d"),
        cycle_days=lambda f: f["cycle_days"].map(_days),
    )
    return charts.format_table(
        periods[["period", "open_deals", "win_rate", "avg_deal_size", "cycle_days",
                 "velocity_per_day"]],
        money=["avg_deal_size", "velocity_per_day"],
        pct=["win_rate"],
        counts=["open_deals"],
        labels={
            "period": "Period", "open_deals": "Open deals", "win_rate": "Win rate",
            "avg_deal_size": "Average won deal", "cycle_days": "Cycle (days)",
            "velocity_per_day": "Velocity per day",
        },
    )  # fmt: skip


def coverage_table(diagnosis: Diagnosis) -> Any:
    """Pipeline coverage of the remaining quota by forecast category, formatted."""
    from salesops_lib.reports import charts

    table = diagnosis.coverage
    if not has_quotas(diagnosis) or not table["remaining_quota"].iloc[0]:
        return _missing(
            "No quota remains to be covered this period (or no quota is set): "
            "coverage needs a remaining quota."
        )
    shown = table.assign(
        coverage=table["coverage"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.2f}x"),
        cumulative_coverage=table["cumulative_coverage"].map(
            lambda v: "n/a" if pd.isna(v) else f"{v:.2f}x"
        ),
    )
    return charts.format_table(
        shown,
        money=["pipeline_amount", "remaining_quota"],
        counts=["deals"],
        labels={
            "forecast_category": "Forecast category", "deals": "Deals",
            "pipeline_amount": "Pipeline due this period", "remaining_quota": "Quota left",
            "coverage": "Coverage", "cumulative_coverage": "Cumulative coverage",
        },
    )  # fmt: skip


def anomaly_table(diagnosis: Diagnosis) -> Any:
    """Flagged weeks of the region, formatted."""
    from salesops_lib.reports import charts

    scored = diagnosis.anomalies
    if scored.empty:
        return _missing("Anomalous weeks need bookings (order lines).")
    flagged = scored[scored["is_anomaly"]]
    if flagged.empty:
        return _sentence("No week is flagged as anomalous.")
    shown = flagged.assign(
        order_week=flagged["order_week"].dt.strftime("%Y-%m-%d"),
        score=flagged["score"].map(lambda v: f"{v:+.1f}"),
    )
    return charts.format_table(
        shown[["region_id", "order_week", "bookings_amount", "baseline", "residual", "score",
               "direction"]],
        money=["bookings_amount", "baseline", "residual"],
        labels={
            "region_id": "Region", "order_week": "Week of", "bookings_amount": "Bookings",
            "baseline": "Expected", "residual": "Difference", "score": "Score",
            "direction": "Direction",
        },
    )  # fmt: skip


def trend_break_table(diagnosis: Diagnosis) -> Any:
    """Reps whose last 3 months' attainment breaks from their 9 months before, formatted."""
    from salesops_lib.reports import charts

    breaks = diagnosis.trend_breaks
    if breaks.empty:
        return _sentence(
            "No rep's attainment over the last 3 complete months breaks from their 9 months "
            "before (a fall below half, or a rise above double)."
        )
    return charts.format_table(
        breaks.drop(columns=["rep_id", "change_ratio"]),
        pct=["prior_attainment", "recent_attainment"],
        labels={
            "rep_name": "Rep", "region_id": "Region", "prior_attainment": "9 months before",
            "recent_attainment": "Last 3 months", "direction": "Break",
        },
    )  # fmt: skip


def pvm_table(diagnosis: Diagnosis) -> Any:
    """Price, volume and mix effects per product family, formatted."""
    from salesops_lib.reports import charts

    table = diagnosis.pvm
    if table.empty:
        return _missing("No bookings in the period or a year earlier to compare.")
    totals = pd.DataFrame([{"product_family": "Total", **table.drop(columns="product_family")
                            .apply(lambda c: int(to_cents(c).sum()) / 100)}])  # fmt: skip
    shown = pd.concat([table, totals], ignore_index=True)
    cols = ["amount_base", "amount_current", "volume_effect", "mix_effect", "price_effect",
            "total_variance"]  # fmt: skip
    return charts.format_table(
        shown,
        money=cols,
        labels={
            "product_family": "Product family", "amount_base": "A year earlier",
            "amount_current": "This period", "volume_effect": "Volume", "mix_effect": "Mix",
            "price_effect": "Price", "total_variance": "Change",
        },
    )  # fmt: skip


def target_note(diagnosis: Diagnosis) -> narrative.Html:
    """Bookings against target over the period's complete months."""
    target = diagnosis.target
    if target.empty:
        return _missing(
            "No complete month of this period has a region target yet: "
            "region targets for a complete month would enable this comparison."
        )
    row = target.iloc[0]
    direction = "above" if row["variance"] >= 0 else "below"
    return _sentence(
        f"Over the {int(row['months'])} complete month(s) of the period, bookings of "
        f"{narrative.format_money(row['bookings_amount'])} are "
        f"{narrative.format_money(abs(row['variance']))} {direction} the target of "
        f"{narrative.format_money(row['target_amount'])} "
        f"({narrative.format_change(row['variance_pct'])})."
    )


def risk_table(diagnosis: Diagnosis, top: int = 15) -> Any:
    """The largest flagged open deals with their reasons, formatted."""
    from salesops_lib.reports import charts

    risks = diagnosis.risks
    if risks.empty:
        return _sentence("No open deal is flagged at risk.")
    names = diagnosis.data.opportunities.set_index("opportunity_id")["opportunity_name"]
    shown = risks.head(top).assign(
        name=lambda f: f["opportunity_id"].map(names),
        close_date=lambda f: f["close_date"].dt.strftime("%Y-%m-%d"),
    )
    return charts.format_table(
        shown[["opportunity_id", "name", "stage", "amount", "close_date", "reasons"]],
        money=["amount"],
        labels={
            "opportunity_id": "Opportunity", "name": "Name", "stage": "Stage",
            "amount": "Amount", "close_date": "Close date", "reasons": "Why",
        },
    )  # fmt: skip


def risk_note(diagnosis: Diagnosis) -> narrative.Html:
    """How many open deals are flagged and how much money they carry."""
    risks = diagnosis.risks
    open_deals = diagnosis.data.in_region(diagnosis.data.opportunities)
    open_deals = open_deals[~open_deals["is_closed"].astype(bool)]
    if open_deals.empty:
        return _sentence("There is no open pipeline, so no deal can be at risk.")
    counts = {flag: int(risks[flag].sum()) for flag in risk.FLAGS} if len(risks) else {}
    detail = ", ".join(f"{n} {flag.replace('_', ' ')}" for flag, n in counts.items() if n)
    return _sentence(
        f"{len(risks)} of {len(open_deals)} open deals "
        f"({narrative.format_money(float(risks['amount'].sum()) if len(risks) else 0.0)}) "
        f"carry at least one risk flag" + (f": {detail}." if detail else ".")
    )


DEFINITIONS: dict[str, str] = {
    "Attainment": "Bookings so far in the period / the plan's quota for every month of the "
    "period (month, quarter or year, including months still ahead). No attainment when the "
    "quota is 0.",
    "Gap to quota": "max(quota - bookings, 0); needed per month = gap / days left in the "
    "period x 30.4375.",
    "Share of reps at or above 100% / below 50%": "Among reps with a quota above 0.",
    "12-month leaderboard": "Bookings / quota over the last 12 complete months, only reps "
    "with a quota in each of those months.",
    "Ramp and time to full productivity": "Median monthly bookings by months since hire over "
    "all reps; full productivity is the first tenure month reaching 90% of the median over "
    "tenure months 12-23. A rep is far below their cohort when their last 3 months book under "
    "half the cohort's median for the same tenure months.",
    "Pipeline waterfall": "Open pipeline with a close date in the period, earlier snapshot "
    "(start) to later snapshot (end). new = created since; pulled in = close date moved into "
    "the period; increased / decreased = amount change of a deal in both; pushed out = close "
    "date moved after the period (or before it); won / lost = closed; removed = deleted. "
    "start + every flow = end to the cent.",
    "Stage conversion": "Deals that entered a stage and later reached a further stage / deals "
    "that entered it, leaving out deals still in the stage.",
    "Time in stage": "Median days of completed stays in a stage.",
    "Bottleneck": "A stage where the region is slower (median days at least 1.5x the rest of "
    "the company, Mann-Whitney test) or converts at least 10 points worse (Fisher exact test), "
    "with at least 30 deals on each side and Holm-adjusted p < 0.05.",
    "Win rate and cycle": "Won / closed deals; cycle = days from creation to close.",
    "Sales velocity": "Open deals x win rate x average won deal / average cycle days, per "
    "day, over the 91 days to the as-of date against the 91 days before; the change is split "
    "into the four factors with Shapley values, which add up to the change exactly.",
    "Pipeline coverage": "Open pipeline due from the as-of date to the end of the period / "
    "quota still to book this period (full period quota minus bookings so far).",
    "Anomalous week": "A week whose bookings break from the region's usual share of the rest "
    "of the company's bookings that week (which carries the season and quarter-end rush): "
    "robust score of the log ratio to that baseline, flagged at |score| >= 4.",
    "Attainment trend break": "A rep (with a quota in each of the last 12 complete months) "
    "whose attainment over the last 3 months is under half, or over double, their attainment "
    "over the 9 months before.",
    "Price / volume / mix": "Period to date against the same days a year earlier, per "
    "product: volume = change in total units at old mix and prices; mix = shift of units "
    "between products at old prices; price = change of average realized price x current "
    "units. They add up to the change exactly; shown per product family.",
    "Target variance": "Bookings - region target over the period's complete months.",
    "Deal risk flags": "Open deals with a close date in the past, pushed 2 or more times, "
    "an amount cut since the earlier snapshot, or longer in their stage than 90% of completed "
    "stays of that stage.",
}
"""Every metric of the report, in words (the notebook's appendix)."""


def definitions_table() -> Any:
    """The appendix: one row per metric and its definition."""
    from salesops_lib.reports import charts

    frame = pd.DataFrame({"Metric": list(DEFINITIONS), "Definition": list(DEFINITIONS.values())})
    return charts.DisplayTable(frame)


# --- headlines and provenance ----------------------------------------------------------------


def _round(value: Any, digits: int) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), digits)


def headline_numbers(diagnosis: Diagnosis) -> dict[str, Any]:
    """The report's headline numbers (plain JSON values) for the runner's index page."""
    data = diagnosis.data
    region = diagnosis.region_attainment
    open_deals = data.in_region(data.opportunities)
    open_deals = open_deals[~open_deals["is_closed"].astype(bool)]
    bars = diagnosis.waterfall.set_index("category")["amount"] if len(diagnosis.waterfall) else {}
    return {
        "region": data.region,
        "region_name": data.region_name,
        "snapshot_id": data.snapshot_id,
        "snapshot_checksum": data.snapshot_checksum,
        "compare_to": None if data.compare_to is None else data.compare_to.isoformat(),
        "period": data.period,
        "quota_period": _round(region["quota_amount"].sum(), 2) if len(region) else None,
        "bookings_period": _round(region["bookings_amount"].sum(), 2) if len(region) else None,
        "attainment_period": _round(region["attainment"].iloc[0], 4) if len(region) else None,
        "open_pipeline": round(int(to_cents(open_deals["amount"]).sum()) / 100, 2),
        "pipeline_change": None
        if not len(bars)
        else round(float(bars["end"]) - float(bars["start"]), 2),
        "bottlenecks": int(diagnosis.bottlenecks["is_bottleneck"].sum())
        if len(diagnosis.bottlenecks)
        else 0,
        "anomalous_weeks": int(diagnosis.anomalies["is_anomaly"].sum())
        if len(diagnosis.anomalies)
        else 0,
        "deals_at_risk": len(diagnosis.risks),
    }


def headlines(diagnosis: Diagnosis) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(diagnosis))


def provenance(
    diagnosis: Diagnosis, region: str, as_of: str, compare_to: str, period: str
) -> narrative.Html:
    """The provenance block: snapshots, parameters, code version, run time, command."""
    data = diagnosis.data
    return report_provenance(
        "10-performance",
        data.region,
        data.snapshot_id,
        data.snapshot_checksum,
        {"region": region, "as_of": as_of, "compare_to": compare_to, "period": period},
        compared_with=data.compare_to,
    )
