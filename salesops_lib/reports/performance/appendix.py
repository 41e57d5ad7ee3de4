"""The end of the performance report: definitions, headline numbers and provenance."""

from __future__ import annotations

from typing import Any

import pandas as pd

from salesops_lib.core.frames import to_cents
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import Headlines, headline_base, report_provenance
from salesops_lib.reports.performance.diagnosis import Diagnosis, scope_bookings

DEFINITIONS: dict[str, str] = {
    "Attainment": "Bookings / quota over the same rep-months (no attainment when the quota is "
    "0). In this report the period's attainment counts the plan's quota for every month of the "
    "period (month, quarter or year, months still ahead included) against bookings so far. A "
    "rep's bookings are all their order lines, in any region; a region's (or the company's) "
    "are the order lines booked in it, against the quota of its reps.",
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
    "Win rate and cycle": "Won / closed deals (the same rule in the velocity factors, over the "
    "deals closed in each 91-day period); cycle = days from creation to close.",
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
    frame = pd.DataFrame({"Metric": list(DEFINITIONS), "Definition": list(DEFINITIONS.values())})
    return charts.DisplayTable(frame)


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
        **headline_base(data.context),
        "compare_to": None if data.compare_to is None else data.compare_to.isoformat(),
        "period": data.period,
        "quota_period": _round(region["quota_amount"].sum(), 2) if len(region) else None,
        "bookings_period": None
        if "order_lines" in data.context.empty_tables
        else round(scope_bookings(data), 2),
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
    return report_provenance(
        diagnosis.data.context,
        "10-performance",
        {"region": region, "as_of": as_of, "compare_to": compare_to, "period": period},
        compared_with=diagnosis.data.compare_to,
    )
