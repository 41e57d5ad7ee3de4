"""The performance diagnosis: every section's frames, computed once from the loaded data.

:func:`diagnose` runs the formula modules of :mod:`salesops_lib.analytics.performance`
(attainment, rep trends, waterfall, funnel, velocity, pipeline coverage, anomaly, variance,
risk) and keeps each section's frames in a :class:`Diagnosis`. Each metric has one definition,
in its analytics module; this module only chooses the slices (region, company, period).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from salesops_lib.analytics.performance import (
    anomaly,
    attainment,
    funnel,
    pipeline,
    rep_trends,
    risk,
    variance,
    velocity,
)
from salesops_lib.analytics.performance import waterfall as wf
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.reports import narrative
from salesops_lib.reports.base import needs
from salesops_lib.reports.performance.load import PerformanceData

VELOCITY_DAYS = 91
"""Days in each of the two velocity periods."""

SECTION_NEEDS: dict[str, tuple[str, ...]] = {
    "attainment": ("quotas",),
    "leaderboard": ("quotas",),
    "ramp": ("quotas", "reps"),
    "trend_breaks": ("quotas",),
    "waterfall": ("opportunities",),
    "funnel": ("opportunities", "opportunity_stage_history"),
    "win_rates": ("opportunities",),
    "velocity": ("opportunities",),
    "coverage": ("quotas", "opportunities"),
    "anomalies": ("order_lines",),
    "pvm": ("order_lines",),
    "target": ("region_targets",),
    "risks": ("opportunities",),
}
"""Snapshot tables each section of the report needs (the missing-data guard's input)."""


@dataclass(frozen=True)
class Diagnosis:
    """Every section's frames, computed once by :func:`diagnose`.

    Attributes:
        data: The inputs.
        rep_attainment: Per-rep attainment for the period (:func:`attainment.attainment`).
        manager_attainment: Per-manager attainment for the period.
        region_attainment: The region's (or company's) attainment for the period: one row;
            its bookings are the lines booked in the region (:func:`scope_bookings`).
        distribution: :func:`attainment.attainment_distribution` of the reps.
        leaderboard_12m: :func:`rep_trends.rep_leaderboard_12m` of the region.
        ramp: Company ramp curve (:func:`attainment.ramp_curve`).
        months_to_productivity: Time to full productivity (None if never).
        below_cohort: The region's reps far below their tenure cohort.
        waterfall: Waterfall bars of the region (empty without a ``compare_to`` snapshot).
        waterfall_deals: Deal-level rows behind the bars.
        reconciliation: Start + flows = end per region (all regions).
        bottlenecks: Region-vs-company bottleneck tests of the region's stages (all regions
            for ``all``), from the analytics store (``an_stage_tests``).
        rep_bottlenecks: Rep-vs-rest-of-region tests, flagged rows only
            (``an_rep_stage_tests``).
        conversion: Stage conversion, region vs company (``an_stage_conversion``).
        win_rates: Win rate and cycle by product family, deal size band and (for a region
            report) rep.
        velocity_change: Velocity change, one row (region or company).
        velocity_periods: The two periods' velocity factors.
        coverage: Pipeline coverage per forecast category.
        anomalies: Scored weeks of the region (:func:`anomaly.flag_anomalous_weeks_pooled`).
        trend_breaks: The region's reps whose attainment trend breaks
            (:func:`rep_trends.attainment_trend_breaks`).
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
    qa = data.in_region(
        attainment.with_later_quotas(data.quota_attainment, data.period_quotas, data.reps)
    )
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
        region_attainment=attainment.with_scope_bookings(
            attainment.attainment(qa, data.as_of, level, data.period), scope_bookings(data)
        ),
        distribution=attainment.attainment_distribution(rep_rows),
        leaderboard_12m=rep_trends.rep_leaderboard_12m(qa, data.as_of),
        ramp=curve,
        months_to_productivity=attainment.time_to_full_productivity(curve) if len(curve) else None,
        below_cohort=below[below["rep_id"].isin(region_reps) & below["is_below_cohort"]],
        waterfall=bars,
        waterfall_deals=deals,
        reconciliation=recon,
        bottlenecks=data.stage_tests,
        rep_bottlenecks=data.rep_stage_tests[
            data.rep_stage_tests["is_bottleneck"].astype(bool)
        ].reset_index(drop=True),
        conversion=_conversion(data),
        win_rates=_win_rates(data),
        **_velocity(data),
        coverage=pipeline.pipeline_coverage(
            data.in_region(data.opportunities), qa, data.as_of, data.window
        ),
        anomalies=_anomalies(data),
        trend_breaks=rep_trends.attainment_trend_breaks(qa, data.as_of),
        pvm=_pvm(data),
        target=_target(data),
        risks=risk.deal_risk_flags(
            data.in_region(data.opportunities),
            data.stage_changes,
            data.as_of,
            history=[data.in_region(data.opportunities_before)]
            if len(data.opportunities_before)
            else [],
            stages=data.stages,
        ),
    )


def scope_bookings(data: PerformanceData) -> float:
    """The region's (or company's) order lines booked in the period to date, any rep."""
    lines = data.bookings_by_product
    return float(lines.loc[lines["period_window"] == "current", "amount"].sum())


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


def _conversion(data: PerformanceData) -> pd.DataFrame:
    table = data.stage_conversion
    if data.region == ALL_REGIONS:
        return table[["stage", *[c for c in table.columns if c.endswith("_company")]]]
    return table


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


def _window_amount(data: PerformanceData, window: str) -> float:
    rows = data.bookings_by_product
    amount = rows.loc[rows["period_window"] == window, "amount"] if len(rows) else pd.Series()
    return float(amount.sum()) if len(amount) else 0.0


def pvm_missing_sentence(diagnosis: Diagnosis) -> str:
    """Why there is no price/volume/mix split, naming the missing side of the comparison."""
    if not _window_amount(diagnosis.data, "base"):
        return (
            "No bookings on the same days a year earlier: with no base to compare with, "
            "there is no price, volume and mix split."
        )
    return "No bookings in this period to compare with the same days a year earlier."


def _pvm(data: PerformanceData) -> pd.DataFrame:
    rows = data.bookings_by_product
    if not _window_amount(data, "base") or not _window_amount(data, "current"):
        return pd.DataFrame()  # a comparison with no base (or nothing to compare) is not a split
    base = rows[rows["period_window"] == "base"]
    current = rows[rows["period_window"] == "current"]
    by_product = variance.price_volume_mix(base, current, by="product_id")
    families = rows.drop_duplicates("product_id").set_index("product_id")["product_family"]
    by_product["product_family"] = by_product["product_id"].map(families)
    return variance.pvm_by_family(by_product)


def _target(data: PerformanceData) -> pd.DataFrame:
    targets = data.region_targets
    if targets.empty:
        return pd.DataFrame()
    complete = targets[targets["is_complete_month"].astype(bool)]
    first, last = attainment.period_bounds(data.as_of, data.period)
    if data.region == ALL_REGIONS:
        complete = complete.assign(region_id=ALL_REGIONS)
    return variance.target_variance(complete, first, last)


def section_gap(diagnosis: Diagnosis, section: str, enables: str) -> narrative.Html | None:
    """The missing-data sentence of one section (:data:`SECTION_NEEDS`), or ``None``."""
    return needs(diagnosis.data.context, SECTION_NEEDS[section], enables)


def has_quotas(diagnosis: Diagnosis) -> bool:
    """True when the region has quota rows in the period."""
    return bool(len(diagnosis.rep_attainment))
