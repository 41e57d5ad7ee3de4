"""The end of the planning report: charts, definitions, headline numbers and provenance."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import Headlines, headline_base, report_provenance
from salesops_lib.reports.planning.report import PlanningReport
from salesops_lib.reports.planning.tables import capacity_frame, territory_frame

NOTEBOOK = "50-planning"

DEFINITIONS: dict[str, str] = {
    "Planning target": "Per region and month of the planning year: the snapshot's region "
    "target where one is set; otherwise the same month a year earlier x (1 + target growth), "
    "its bookings when that month is complete, else its target (compounding further back).",
    "Ramp": "Median monthly bookings by months since hire over all reps, as a share of the "
    "plateau; a rep counts as ramped from the first tenure month reaching 90% of it.",
    "Expected attainment (productivity)": "Median quarterly attainment of ramped reps (hired "
    "12+ months before the quarter) over the last 4 complete quarters.",
    "Capacity": "Per rep and month: annual quota per ramped rep (mean over the region's "
    "ramped reps, same quarters) x seasonal weight of the month x expected attainment x ramp "
    "x (1 - attrition)^(months ahead / 12); leavers are not replaced.",
    "Hires needed": "Hires starting in a month that close the gap to target by December: "
    "each contributes quota per ramped rep / 12 x expected attainment x ramp per month.",
    "Top-down quota": "The region's planning target x (1 + over-assignment), split over its "
    "reps by their share of the method's basis (prior year, trailing 12 months, potential or "
    "evenly), then over the months by the region's seasonality; exact to the cent.",
    "Bottom-up quota": "What each rep can carry (capacity above).",
    "Healthy plan": "60% to 70% of reps at or above 100% of quota (Alexander Group); below "
    "the band the quota is too high for the team, above it too low.",
    "Concentration": "Share of bookings booked by the top 20% of reps.",
    "Coverage needed": "1 / the region's win rate (won / closed deals over the last 12 "
    "months), against open pipeline due this quarter / quota still to book this quarter.",
    "Potential": "Per account: bookings of the last 12 months + open pipeline; a territory's "
    "is the sum over the rep's accounts.",
    "Rebalancing": "Fewest account moves (scipy's MILP, HiGHS) so every territory lies within "
    "the tolerance of its region's mean potential; accounts stay in their region and named "
    "key accounts with their owner.",
}
"""Every metric of the report, in words (the notebook's appendix)."""


def definitions_table() -> charts.DisplayTable:
    """The appendix: one row per metric and its definition."""
    frame = pd.DataFrame({"Metric": list(DEFINITIONS), "Definition": list(DEFINITIONS.values())})
    return charts.DisplayTable(frame)


def capacity_chart(report: PlanningReport) -> charts.PngFigure | narrative.Html:
    """Target against capacity per region (bars), with the gap labelled."""
    if report.plan is None:
        return report.missing
    frame = capacity_frame(report.plan)
    figure, axes = charts.new_axes()
    x = np.arange(len(frame))
    axes.bar(x - 0.2, frame["target_amount"], width=0.4, label="Target", color="#9aa5b1")
    axes.bar(x + 0.2, frame["capacity"], width=0.4, label="Capacity", color="#2f6690")
    axes.set_xticks(x, charts.plain_labels(frame["region_id"]))
    axes.yaxis.set_major_formatter(charts.money_formatter())
    axes.set_title(f"Target and capacity of today's team, {report.plan.year}", loc="left")
    axes.legend(frameon=False)
    return charts.PngFigure(figure)


def territory_chart(report: PlanningReport) -> charts.PngFigure | narrative.Html:
    """Each territory's deviation from its region's mean, before and after the proposal."""
    if report.plan is None:
        return report.missing
    frame = territory_frame(report.plan).head(40)
    tol = report.parameters.tolerance
    figure, axes = charts.new_axes(height=max(3.0, 0.22 * len(frame) + 1.2))
    y = np.arange(len(frame))[::-1]
    axes.barh(y + 0.2, frame["deviation_before"], height=0.4, label="Before", color="#9aa5b1")
    axes.barh(y - 0.2, frame["deviation_after"], height=0.4, label="After", color="#2f6690")
    for bound in (-tol, tol):
        axes.axvline(bound, color="#c0392b", linestyle="--", linewidth=1)
    labels = [f"{n} ({r})" for n, r in zip(frame["rep_name"], frame["region_id"], strict=True)]
    axes.set_yticks(y, charts.plain_labels(labels))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v * 100:+.0f}%"))
    axes.set_title("Territory potential against the region's mean", loc="left")
    axes.legend(frameon=False)
    return charts.PngFigure(figure)


def _round(value: Any, digits: int = 2) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), digits)


def headline_numbers(report: PlanningReport) -> dict[str, Any]:
    """The report's headline numbers (plain JSON values) for the runner's index page."""
    values: dict[str, Any] = {
        **headline_base(report.context),
        "planning_year": report.parameters.planning_year,
    }
    plan = report.plan
    if plan is None:
        return values
    frame = capacity_frame(plan)
    territories = territory_frame(plan)
    ytd = plan.health.loc[
        (plan.health["period"] == plan.ytd_period)
        & (plan.health["region_id"] == report.context.region)
    ]
    quota = plan.quota_gap.loc[plan.quota_gap["level"] == "region"]
    return {
        **values,
        "target": _round(frame["target_amount"].sum()),
        "capacity": _round(frame["capacity"].sum()),
        "hires_by_january": int(frame["hires_by_january"].sum()),
        "regions_needing_hires": int(frame["needs_hires"].sum()),
        "top_down_quota": _round(quota["top_down"].sum()),
        "bottom_up_quota": _round(quota["bottom_up"].sum()),
        "share_at_or_above_quota_ytd": _round(ytd["share_at_or_above_100"].iloc[0], 4)
        if len(ytd)
        else None,
        "territories_outside_tolerance": int((~territories["within_before"]).sum()),
        "territories_outside_tolerance_after": int((~territories["within_after"]).sum()),
        "accounts_moved": len(plan.rebalance.moves),
        "potential_moved": _round(plan.rebalance.moves["potential"].sum())
        if len(plan.rebalance.moves)
        else 0.0,
        "rebalance_status": plan.rebalance.status,
    }


def headlines(report: PlanningReport) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(report))


def provenance(report: PlanningReport, **parameters: Any) -> narrative.Html:
    """The provenance block: snapshot, the notebook's parameters, code version, command."""
    return report_provenance(report.context, NOTEBOOK, parameters)
