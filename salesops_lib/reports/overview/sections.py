"""What the overview notebook's cells display: summary, charts, tables, headlines, provenance.

Every function takes the :class:`~salesops_lib.reports.overview.load.OverviewData` and computes
with the one definition of each metric in :mod:`salesops_lib.analytics.performance`. A section
whose snapshot table is empty shows the sentence of :func:`~salesops_lib.reports.base.needs`.
"""

from __future__ import annotations

from typing import Any

from salesops_lib.analytics.performance.attainment import attainment_ytd
from salesops_lib.analytics.performance.bookings import (
    bookings_by_month_table,
    compare_bookings_12m,
    monthly_bookings,
)
from salesops_lib.analytics.performance.pipeline import (
    OPEN_CATEGORIES,
    pipeline_by_stage,
    pipeline_by_stage_and_category,
    summarize_pipeline,
)
from salesops_lib.analytics.performance.teams import (
    attainment_by_manager,
    attainment_by_region,
    summarize_attainment,
)
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import Headlines, headline_base, needs, report_provenance
from salesops_lib.reports.overview import charts as overview_charts
from salesops_lib.reports.overview import summary
from salesops_lib.reports.overview.load import OverviewData

BOOKINGS_NEEDS: tuple[str, ...] = ("order_lines",)
PIPELINE_NEEDS: tuple[str, ...] = ("opportunities",)
ATTAINMENT_NEEDS: tuple[str, ...] = ("quotas", "order_lines")

ATTAINMENT_LABELS: dict[str, str] = {
    "region_name": "Region",
    "manager_name": "Manager",
    "reps": "Reps",
    "quota_ytd": "Quota YTD",
    "bookings_ytd": "Bookings YTD",
    "attainment": "Attainment",
    "reps_at_or_above_100": "Reps at/above 100%",
}


def executive_summary(data: OverviewData) -> narrative.Html:
    """The executive-summary sentences for the report, as escaped HTML."""
    as_of = data.context.as_of
    return summary.summary_html(
        data.context.region_name,
        compare_bookings_12m(data.bookings_monthly, as_of, data.data_start),
        summarize_pipeline(data.opportunities),
        summarize_attainment(attainment_ytd(data.quota_attainment, as_of)),
        has_quotas=not data.quota_attainment.empty,
    )


def bookings_trend_chart(data: OverviewData) -> charts.PngFigure | narrative.Html:
    """Monthly bookings over 24 months, stacked by region, titled with the 12-month change."""
    if gap := needs(data.context, BOOKINGS_NEEDS, "the monthly bookings trend"):
        return gap
    context = data.context
    comparison = compare_bookings_12m(data.bookings_monthly, context.as_of, data.data_start)
    title = f"{context.region_name}: {summary.growth_phrase(comparison)}"
    figure = overview_charts.monthly_bookings_chart(
        monthly_bookings(data.bookings_monthly, context.as_of),
        charts.region_palette(context.region_ids),
        title,
    )
    return charts.PngFigure(figure)


def bookings_trend_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """The last 12 months' bookings against the same months a year earlier, formatted."""
    if gap := needs(data.context, BOOKINGS_NEEDS, "the month-by-month bookings comparison"):
        return gap
    table = bookings_by_month_table(
        monthly_bookings(data.bookings_monthly, data.context.as_of), data.data_start
    )
    table = table.assign(month=table["month"].dt.strftime("%b %Y"))
    return charts.format_table(
        table,
        money=["bookings_amount", "prior_year_amount"],
        changes=["yoy_growth"],
        labels={
            "month": "Month",
            "bookings_amount": "Bookings",
            "prior_year_amount": "Same month last year",
            "yoy_growth": "Change",
        },
    )


def pipeline_chart(data: OverviewData) -> charts.PngFigure | narrative.Html:
    """Open pipeline by stage, stacked by forecast category, titled with the largest stage."""
    if gap := needs(data.context, PIPELINE_NEEDS, "the pipeline by stage chart"):
        return gap
    title = summary.pipeline_title(summarize_pipeline(data.opportunities))
    figure = overview_charts.pipeline_stage_chart(
        pipeline_by_stage_and_category(data.opportunities), title
    )
    return charts.PngFigure(figure)


def pipeline_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """Open pipeline per stage: count, share, and amount by forecast category, formatted."""
    if gap := needs(data.context, PIPELINE_NEEDS, "the pipeline by stage table"):
        return gap
    by_stage = pipeline_by_stage(data.opportunities)
    by_category = pipeline_by_stage_and_category(data.opportunities)
    table = by_stage[["stage", "opportunities", "share_of_amount"]].merge(by_category, on="stage")
    return charts.format_table(
        table,
        money=[*OPEN_CATEGORIES, "Total"],
        pct=["share_of_amount"],
        counts=["opportunities"],
        labels={"stage": "Stage", "opportunities": "Open deals", "share_of_amount": "Share"},
    )


def attainment_region_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """Year-to-date attainment per region, formatted."""
    if gap := needs(data.context, ATTAINMENT_NEEDS, "quota attainment by region"):
        return gap
    teams = attainment_by_manager(
        attainment_ytd(data.quota_attainment, data.context.as_of), data.reps
    )
    return charts.format_table(
        attainment_by_region(teams).drop(columns=["region_id"]),
        money=["quota_ytd", "bookings_ytd"],
        pct=["attainment"],
        counts=["reps", "reps_at_or_above_100"],
        labels=ATTAINMENT_LABELS,
    )


def attainment_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """Year-to-date attainment per region and manager, formatted."""
    if gap := needs(data.context, ATTAINMENT_NEEDS, "quota attainment by manager"):
        return gap
    teams = attainment_by_manager(
        attainment_ytd(data.quota_attainment, data.context.as_of), data.reps
    )
    return charts.format_table(
        teams.drop(columns=["region_id", "manager_id"]),
        money=["quota_ytd", "bookings_ytd"],
        pct=["attainment"],
        counts=["reps", "reps_at_or_above_100"],
        labels=ATTAINMENT_LABELS,
    )


def attainment_chart(data: OverviewData) -> charts.PngFigure | narrative.Html:
    """Distribution of rep attainment year to date, titled with the share at or above 100%."""
    if gap := needs(data.context, ATTAINMENT_NEEDS, "the rep attainment distribution"):
        return gap
    rep_ytd = attainment_ytd(data.quota_attainment, data.context.as_of)
    title = summary.attainment_title(summarize_attainment(rep_ytd))
    return charts.PngFigure(overview_charts.attainment_distribution_chart(rep_ytd, title))


def _rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio, 4)


def headline_numbers(data: OverviewData) -> dict[str, Any]:
    """The report's headline numbers, for the runner's index page (plain JSON values)."""
    as_of = data.context.as_of
    bookings = compare_bookings_12m(data.bookings_monthly, as_of, data.data_start)
    pipeline = summarize_pipeline(data.opportunities)
    attainment = summarize_attainment(attainment_ytd(data.quota_attainment, as_of))
    return {
        **headline_base(data.context),
        "bookings_12m": round(bookings.last_12m, 2),
        "bookings_growth": _rounded(bookings.growth),
        "open_pipeline": round(pipeline.open_amount, 2),
        "attainment_ytd": _rounded(attainment.attainment),
        "share_reps_at_or_above_100": _rounded(attainment.share_at_or_above_100),
    }


def headlines(data: OverviewData) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(data))


def provenance(data: OverviewData, region: str, as_of: str) -> narrative.Html:
    """The report's provenance block: snapshot, parameters, code version, run time, command."""
    return report_provenance(data.context, "00-overview", {"region": region, "as_of": as_of})
