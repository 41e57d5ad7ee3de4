"""Analytics behind the overview report (``notebooks/00-overview.ipynb``).

The pure functions take frames with the mart columns (see ``fct_bookings_monthly``,
``fct_opportunities``, ``fct_quota_attainment`` and ``dim_reps``) and return new frames or small
result records; they never change their inputs. The thin wrappers at the end take a
:class:`~salesops_lib.data.warehouse.Warehouse` (through :class:`OverviewData`) and return objects a
notebook cell displays: formatted tables, PNG charts, HTML summaries.

Definitions used throughout:

* *Last 12 months* are the 12 complete calendar months ending with the last complete month on the
  as-of date (the as-of month counts only if the as-of date is its last day); *prior 12 months*
  are the 12 months before those.
* *Open pipeline* is the amount of opportunities that are not closed, by stage and forecast
  category.
* *Attainment year to date* uses the complete months of the as-of year: bookings over quota.
  The company or team figure is total bookings over total quota; a rep with zero quota has no
  attainment of their own and is left out of the share of reps at or above 100%.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.data.schema import FORECAST_CATEGORIES, OPEN_STAGES
from salesops_lib.reports import charts, missing_data, narrative
from salesops_lib.reports.base import Headlines
from salesops_lib.reports.base import open_report_warehouse as open_report_warehouse
from salesops_lib.reports.provenance import provenance as report_provenance

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

OPEN_CATEGORIES: tuple[str, ...] = FORECAST_CATEGORIES[:3]
"""Forecast categories of open deals: Pipeline, Best Case, Commit."""


# --- periods ---------------------------------------------------------------------------------


def last_complete_month(as_of: dt.date) -> pd.Timestamp:
    """Return the first day of the last calendar month that is complete on ``as_of``."""
    month = pd.Timestamp(as_of.year, as_of.month, 1)
    is_month_end = (pd.Timestamp(as_of) + pd.Timedelta(days=1)).day == 1
    return month if is_month_end else month - pd.DateOffset(months=1)


def month_range(end_month: pd.Timestamp, months: int) -> list[pd.Timestamp]:
    """Return the ``months`` month starts ending with ``end_month``, oldest first."""
    return [end_month - pd.DateOffset(months=k) for k in range(months - 1, -1, -1)]


# --- bookings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingsComparison:
    """Bookings of the last 12 complete months against the 12 months before.

    Attributes:
        last_12m: Bookings in the last 12 complete months.
        prior_12m: Bookings in the 12 months before those.
        growth: ``last_12m / prior_12m - 1``; ``None`` when the prior period has no bookings.
        first_month: First month of the last-12-months window.
        last_month: Last month of the window.
    """

    last_12m: float
    prior_12m: float
    growth: float | None
    first_month: pd.Timestamp
    last_month: pd.Timestamp


def monthly_bookings(
    bookings_monthly: pd.DataFrame, as_of: dt.date, months: int = 24
) -> pd.DataFrame:
    """Bookings per region and month over the ``months`` complete months before ``as_of``.

    Args:
        bookings_monthly: Rows of ``fct_bookings_monthly`` (region_id, order_month,
            bookings_amount, ...).
        as_of: The snapshot's as-of date.
        months: How many complete months to return.

    Returns:
        One row per region and month (month, region_id, bookings_amount), every month present
        for every region (zero when nothing was booked), sorted by month then region.
    """
    window = month_range(last_complete_month(as_of), months)
    frame = bookings_monthly.assign(month=pd.to_datetime(bookings_monthly["order_month"]))
    frame = frame[frame["month"].isin(window)]
    totals = frame.groupby(["month", "region_id"], as_index=False)["bookings_amount"].sum()
    regions = sorted(bookings_monthly["region_id"].dropna().unique())
    grid = pd.MultiIndex.from_product([window, regions], names=["month", "region_id"])
    full = totals.set_index(["month", "region_id"]).reindex(grid, fill_value=0.0).reset_index()
    full["bookings_amount"] = full["bookings_amount"].astype(float)
    return full


def compare_bookings_12m(bookings_monthly: pd.DataFrame, as_of: dt.date) -> BookingsComparison:
    """Compare bookings of the last 12 complete months with the 12 months before.

    Args:
        bookings_monthly: Rows of ``fct_bookings_monthly``.
        as_of: The snapshot's as-of date.

    Returns:
        The two totals and the growth between them.
    """
    end = last_complete_month(as_of)
    last_window = month_range(end, 12)
    prior_window = month_range(end - pd.DateOffset(months=12), 12)
    months = pd.to_datetime(bookings_monthly["order_month"])
    amounts = bookings_monthly["bookings_amount"].astype(float)
    last_total = float(amounts[months.isin(last_window)].sum())
    prior_total = float(amounts[months.isin(prior_window)].sum())
    growth = last_total / prior_total - 1 if prior_total else None
    return BookingsComparison(last_total, prior_total, growth, last_window[0], end)


def bookings_by_month_table(monthly: pd.DataFrame) -> pd.DataFrame:
    """Company bookings per month for the last 12 months with the same month a year earlier.

    Args:
        monthly: Output of :func:`monthly_bookings` with at least 24 months.

    Returns:
        One row per month of the last 12 (month, bookings_amount, prior_year_amount,
        yoy_growth), where ``yoy_growth`` is NaN when the prior-year month had no bookings.
    """
    totals = monthly.groupby("month")["bookings_amount"].sum().sort_index()
    table = pd.DataFrame({"month": totals.index, "bookings_amount": totals.to_numpy(dtype=float)})
    prior = totals.rename(lambda m: m + pd.DateOffset(months=12))
    table["prior_year_amount"] = table["month"].map(prior).astype(float)
    last_12 = table.tail(12).reset_index(drop=True)
    ratio = last_12["bookings_amount"] / last_12["prior_year_amount"].where(
        last_12["prior_year_amount"] != 0
    )
    return last_12.assign(yoy_growth=ratio - 1)


# --- pipeline --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineSummary:
    """Where the open pipeline sits.

    Attributes:
        open_amount: Total amount of open opportunities.
        open_count: Number of open opportunities.
        top_stage: Stage holding the largest amount (``None`` when nothing is open).
        top_stage_share: That stage's share of the open amount (0 when nothing is open).
        commit_amount: Open amount in the Commit forecast category.
    """

    open_amount: float
    open_count: int
    top_stage: str | None
    top_stage_share: float
    commit_amount: float


def _open(opportunities: pd.DataFrame) -> pd.DataFrame:
    return opportunities[~opportunities["is_closed"].astype(bool)]


def pipeline_by_stage(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Open pipeline per stage, in funnel order.

    Args:
        opportunities: Rows of ``fct_opportunities`` (stage, is_closed, amount, ...).

    Returns:
        One row per open stage (stage, opportunities, amount, share_of_amount), every open
        stage present; ``share_of_amount`` is 0 when nothing is open.
    """
    grouped = _open(opportunities).groupby("stage")["amount"].agg(["size", "sum"])
    grouped = grouped.reindex(list(OPEN_STAGES), fill_value=0)
    amounts = grouped["sum"].astype(float)
    total = amounts.sum()
    return pd.DataFrame(
        {
            "stage": list(OPEN_STAGES),
            "opportunities": grouped["size"].astype(int).to_numpy(),
            "amount": amounts.to_numpy(),
            "share_of_amount": (amounts / total).to_numpy() if total else 0.0,
        }
    )


def pipeline_by_stage_and_category(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Open pipeline amount per stage (rows) and forecast category (columns).

    Args:
        opportunities: Rows of ``fct_opportunities``.

    Returns:
        One row per open stage with a column per open forecast category and a ``Total``
        column, zeros where nothing sits.
    """
    pivot = _open(opportunities).pivot_table(
        index="stage", columns="forecast_category", values="amount", aggfunc="sum", fill_value=0
    )
    pivot = pivot.reindex(index=list(OPEN_STAGES), columns=list(OPEN_CATEGORIES), fill_value=0)
    pivot = pivot.astype(float)
    pivot["Total"] = pivot.sum(axis=1)
    pivot.columns.name = None
    return pivot.rename_axis("stage").reset_index()


def summarize_pipeline(opportunities: pd.DataFrame) -> PipelineSummary:
    """Summarize the open pipeline: total, count, largest stage and Commit amount.

    Args:
        opportunities: Rows of ``fct_opportunities``.

    Returns:
        The summary.
    """
    open_deals = _open(opportunities)
    by_stage = pipeline_by_stage(opportunities)
    total = float(by_stage["amount"].sum())
    top = by_stage.loc[by_stage["amount"].idxmax()] if total else None
    commit = open_deals.loc[open_deals["forecast_category"] == "Commit", "amount"].sum()
    return PipelineSummary(
        open_amount=total,
        open_count=len(open_deals),
        top_stage=None if top is None else str(top["stage"]),
        top_stage_share=0.0 if top is None else float(top["share_of_amount"]),
        commit_amount=float(commit),
    )


# --- attainment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttainmentSummary:
    """Quota attainment year to date.

    Attributes:
        months: Complete months of the as-of year counted.
        quota: Total quota of those months.
        bookings: Total bookings of those months.
        attainment: ``bookings / quota``; ``None`` when the quota is 0.
        reps_with_quota: Reps whose year-to-date quota is above 0.
        reps_at_or_above_100: Of those, reps with attainment >= 100%.
        share_at_or_above_100: Their share; ``None`` when no rep has a quota.
    """

    months: int
    quota: float
    bookings: float
    attainment: float | None
    reps_with_quota: int
    reps_at_or_above_100: int
    share_at_or_above_100: float | None


def rep_attainment_ytd(quota_attainment: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per-rep quota, bookings and attainment over the complete months of the as-of year.

    Args:
        quota_attainment: Rows of ``fct_quota_attainment`` (rep_id, rep_name, region_id,
            manager_id, month, quota_amount, bookings_amount, is_complete_month, ...).
        as_of: The snapshot's as-of date.

    Returns:
        One row per rep (rep_id, rep_name, region_id, manager_id, months, quota_ytd,
        bookings_ytd, attainment) where ``attainment`` is NaN for a zero quota.
    """
    months = pd.to_datetime(quota_attainment["month"])
    in_year = (months.dt.year == as_of.year) & quota_attainment["is_complete_month"].astype(bool)
    rows = quota_attainment[in_year].assign(
        quota_amount=lambda f: f["quota_amount"].astype(float),
        bookings_amount=lambda f: f["bookings_amount"].astype(float),
    )
    keys = ["rep_id", "rep_name", "region_id", "manager_id"]
    per_rep = rows.groupby(keys, as_index=False, dropna=False).agg(
        months=("month", "size"),
        quota_ytd=("quota_amount", "sum"),
        bookings_ytd=("bookings_amount", "sum"),
    )
    per_rep["attainment"] = per_rep["bookings_ytd"] / per_rep["quota_ytd"].where(
        per_rep["quota_ytd"] > 0
    )
    return per_rep.sort_values("rep_id").reset_index(drop=True)


def summarize_attainment(rep_ytd: pd.DataFrame) -> AttainmentSummary:
    """Summarize per-rep year-to-date attainment into company (or team) figures.

    Args:
        rep_ytd: Output of :func:`rep_attainment_ytd`.

    Returns:
        Totals, overall attainment and the share of reps with a quota at or above 100%.
    """
    quota = float(rep_ytd["quota_ytd"].sum())
    bookings = float(rep_ytd["bookings_ytd"].sum())
    with_quota = rep_ytd[rep_ytd["quota_ytd"] > 0]
    at_or_above = int((with_quota["attainment"] >= 1.0).sum())
    return AttainmentSummary(
        months=int(rep_ytd["months"].max()) if len(rep_ytd) else 0,
        quota=quota,
        bookings=bookings,
        attainment=bookings / quota if quota else None,
        reps_with_quota=len(with_quota),
        reps_at_or_above_100=at_or_above,
        share_at_or_above_100=at_or_above / len(with_quota) if len(with_quota) else None,
    )


def attainment_by_manager(rep_ytd: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Year-to-date attainment per region and first-line manager.

    Args:
        rep_ytd: Output of :func:`rep_attainment_ytd`.
        reps: Rows of ``dim_reps`` (rep_id, region_name, manager_name, ...).

    Returns:
        One row per region and manager (region_id, region_name, manager_id, manager_name, reps,
        quota_ytd, bookings_ytd, attainment, reps_at_or_above_100), sorted by region and manager;
        reps without a manager are grouped under ``(no manager)``.
    """
    names = reps[["rep_id", "region_name", "manager_name"]]
    joined = rep_ytd.merge(names, on="rep_id", how="left").assign(
        manager_name=lambda f: f["manager_name"].fillna("(no manager)"),
        manager_id=lambda f: f["manager_id"].fillna(""),
        region_name=lambda f: f["region_name"].fillna(f["region_id"]),
        at_or_above=lambda f: (f["attainment"] >= 1.0).astype(int),
    )
    keys = ["region_id", "region_name", "manager_id", "manager_name"]
    teams = joined.groupby(keys, as_index=False).agg(
        reps=("rep_id", "size"),
        quota_ytd=("quota_ytd", "sum"),
        bookings_ytd=("bookings_ytd", "sum"),
        reps_at_or_above_100=("at_or_above", "sum"),
    )
    teams["attainment"] = teams["bookings_ytd"] / teams["quota_ytd"].where(teams["quota_ytd"] > 0)
    columns = [*keys, "reps", "quota_ytd", "bookings_ytd", "attainment", "reps_at_or_above_100"]
    return teams[columns].sort_values(["region_id", "manager_name"]).reset_index(drop=True)


def attainment_by_region(teams: pd.DataFrame) -> pd.DataFrame:
    """Roll manager-level attainment (from :func:`attainment_by_manager`) up to regions.

    Args:
        teams: Output of :func:`attainment_by_manager`.

    Returns:
        One row per region (region_id, region_name, reps, quota_ytd, bookings_ytd, attainment,
        reps_at_or_above_100), sorted by region id.
    """
    regions = teams.groupby(["region_id", "region_name"], as_index=False)[
        ["reps", "quota_ytd", "bookings_ytd", "reps_at_or_above_100"]
    ].sum()
    regions["attainment"] = regions["bookings_ytd"] / regions["quota_ytd"].where(
        regions["quota_ytd"] > 0
    )
    columns = [
        *["region_id", "region_name", "reps", "quota_ytd", "bookings_ytd"],
        *["attainment", "reps_at_or_above_100"],
    ]
    return regions[columns].sort_values("region_id").reset_index(drop=True)


# --- the report: loading, validation, and what notebook cells display -----------------------


@dataclass(frozen=True)
class OverviewData:
    """Everything the overview report shows, read once from the warehouse.

    Attributes:
        region: Region id or ``all``.
        region_name: Display name (untrusted text: escape before HTML).
        as_of: The snapshot's as-of date.
        snapshot_id: The snapshot's id.
        snapshot_checksum: The snapshot's content checksum.
        bookings_monthly: ``fct_bookings_monthly`` rows for the region.
        opportunities: ``fct_opportunities`` rows for the region.
        quota_attainment: ``fct_quota_attainment`` rows for the region.
        reps: ``dim_reps`` rows for the region.
        region_ids: Every region id of the snapshot (keys of the chart palette).
        empty_tables: The snapshot's tables without rows (their sections say what is missing).
    """

    region: str
    region_name: str
    as_of: dt.date
    snapshot_id: str
    snapshot_checksum: str
    bookings_monthly: pd.DataFrame
    opportunities: pd.DataFrame
    quota_attainment: pd.DataFrame
    reps: pd.DataFrame
    region_ids: tuple[str, ...]
    empty_tables: frozenset[str] = frozenset()


def load_overview(warehouse: Warehouse, region: str) -> OverviewData:
    """Read the marts the overview report needs, filtered to one region (or all).

    Args:
        warehouse: An open :class:`~salesops_lib.data.warehouse.Warehouse`.
        region: Region id or ``all``.

    Returns:
        The report's data.
    """
    regions = warehouse.regions()
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    snapshot = warehouse.snapshot
    return OverviewData(
        region=region,
        region_name="All regions" if region == ALL_REGIONS else str(names[region]),
        as_of=snapshot.as_of,
        snapshot_id=snapshot.snapshot_id,
        snapshot_checksum=snapshot.checksum,
        bookings_monthly=warehouse.table("fct_bookings_monthly", region=region),
        opportunities=warehouse.table("fct_opportunities", region=region),
        quota_attainment=warehouse.table("fct_quota_attainment", region=region),
        reps=warehouse.table("dim_reps", region=region),
        region_ids=tuple(sorted(names)),
        empty_tables=missing_data.empty_tables(snapshot),
    )


BOOKINGS_NEEDS: tuple[str, ...] = ("order_lines",)
PIPELINE_NEEDS: tuple[str, ...] = ("opportunities",)
ATTAINMENT_NEEDS: tuple[str, ...] = ("quotas", "order_lines")


def executive_summary(data: OverviewData) -> narrative.Html:
    """The executive-summary sentences for the report, as escaped HTML."""
    return narrative.Html(
        narrative.summary_html(
            data.region_name,
            compare_bookings_12m(data.bookings_monthly, data.as_of),
            summarize_pipeline(data.opportunities),
            summarize_attainment(rep_attainment_ytd(data.quota_attainment, data.as_of)),
        )
    )


def bookings_trend_chart(data: OverviewData) -> charts.PngFigure | narrative.Html:
    """Monthly bookings over 24 months, stacked by region, titled with the 12-month change.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(data.empty_tables, BOOKINGS_NEEDS, "the monthly bookings trend")
    if gap is not None:
        return gap
    comparison = compare_bookings_12m(data.bookings_monthly, data.as_of)
    title = f"{data.region_name}: {narrative.growth_phrase(comparison.growth)}"
    palette = charts.region_palette(data.region_ids)
    figure = charts.monthly_bookings_chart(
        monthly_bookings(data.bookings_monthly, data.as_of), palette, title
    )
    return charts.PngFigure(figure)


def bookings_trend_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """The last 12 months' bookings against the same months a year earlier, formatted.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(
        data.empty_tables, BOOKINGS_NEEDS, "the month-by-month bookings comparison"
    )
    if gap is not None:
        return gap
    table = bookings_by_month_table(monthly_bookings(data.bookings_monthly, data.as_of))
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
    """Open pipeline by stage, stacked by forecast category, titled with the largest stage.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(data.empty_tables, PIPELINE_NEEDS, "the pipeline by stage chart")
    if gap is not None:
        return gap
    summary = summarize_pipeline(data.opportunities)
    title = narrative.pipeline_title(summary)
    figure = charts.pipeline_stage_chart(pipeline_by_stage_and_category(data.opportunities), title)
    return charts.PngFigure(figure)


def pipeline_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """Open pipeline per stage: count, share, and amount by forecast category, formatted.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(data.empty_tables, PIPELINE_NEEDS, "the pipeline by stage table")
    if gap is not None:
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


ATTAINMENT_LABELS: dict[str, str] = {
    "region_name": "Region",
    "manager_name": "Manager",
    "reps": "Reps",
    "quota_ytd": "Quota YTD",
    "bookings_ytd": "Bookings YTD",
    "attainment": "Attainment",
    "reps_at_or_above_100": "Reps at/above 100%",
}


def attainment_region_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """Year-to-date attainment per region, formatted.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(
        data.empty_tables, ATTAINMENT_NEEDS, "quota attainment by region"
    )
    if gap is not None:
        return gap
    teams = attainment_by_manager(rep_attainment_ytd(data.quota_attainment, data.as_of), data.reps)
    return charts.format_table(
        attainment_by_region(teams).drop(columns=["region_id"]),
        money=["quota_ytd", "bookings_ytd"],
        pct=["attainment"],
        counts=["reps", "reps_at_or_above_100"],
        labels=ATTAINMENT_LABELS,
    )


def attainment_table(data: OverviewData) -> charts.DisplayTable | narrative.Html:
    """Year-to-date attainment per region and manager, formatted.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(
        data.empty_tables, ATTAINMENT_NEEDS, "quota attainment by manager"
    )
    if gap is not None:
        return gap
    teams = attainment_by_manager(rep_attainment_ytd(data.quota_attainment, data.as_of), data.reps)
    return charts.format_table(
        teams.drop(columns=["region_id", "manager_id"]),
        money=["quota_ytd", "bookings_ytd"],
        pct=["attainment"],
        counts=["reps", "reps_at_or_above_100"],
        labels=ATTAINMENT_LABELS,
    )


def attainment_chart(data: OverviewData) -> charts.PngFigure | narrative.Html:
    """Distribution of rep attainment year to date, titled with the share at or above 100%.

    Shows what data would enable it instead when the snapshot lacks that data.
    """
    gap = missing_data.section_gap(
        data.empty_tables, ATTAINMENT_NEEDS, "the rep attainment distribution"
    )
    if gap is not None:
        return gap
    rep_ytd = rep_attainment_ytd(data.quota_attainment, data.as_of)
    title = narrative.attainment_title(summarize_attainment(rep_ytd))
    return charts.PngFigure(charts.attainment_distribution_chart(rep_ytd, title))


def _rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio, 4)


def headline_numbers(data: OverviewData) -> dict[str, Any]:
    """The report's headline numbers, for the runner's index page (plain JSON values)."""
    bookings = compare_bookings_12m(data.bookings_monthly, data.as_of)
    pipeline = summarize_pipeline(data.opportunities)
    attainment = summarize_attainment(rep_attainment_ytd(data.quota_attainment, data.as_of))
    return {
        "region": data.region,
        "region_name": data.region_name,
        "snapshot_id": data.snapshot_id,
        "snapshot_checksum": data.snapshot_checksum,
        "bookings_12m": round(bookings.last_12m, 2),
        "bookings_growth": _rounded(bookings.growth),
        "open_pipeline": round(pipeline.open_amount, 2),
        "attainment_ytd": None
        if attainment.attainment is None
        else round(attainment.attainment, 4),
        "share_reps_at_or_above_100": _rounded(attainment.share_at_or_above_100),
    }


def headlines(data: OverviewData) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(data))


def provenance(data: OverviewData, region: str, as_of: str) -> narrative.Html:
    """The report's provenance block: snapshot, parameters, code version, run time, command."""
    return report_provenance(
        "00-overview",
        data.region,
        data.snapshot_id,
        data.snapshot_checksum,
        {"region": region, "as_of": as_of},
    )
