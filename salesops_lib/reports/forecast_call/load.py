"""The forecast call's data: the region's submitted calls, bookings, deals and store forecasts.

A regional report reads its region's rows only: the reps of the region (``dim_reps``), the
calls made for them, the region's booking lines and deals (this snapshot's and, for the flow
matrix and pacing, the earlier snapshots' of the quarter), and its own scope of the analytics
store. Submissions come from ``submissions/`` beside the snapshots folder (see
:mod:`salesops_lib.data.submissions`), every week up to the report's as-of date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.forecast_call.quarters import quarter_end, quarter_label, quarter_start
from salesops_lib.data.snapshot import list_snapshots, open_snapshot, read_table
from salesops_lib.data.submissions import latest_versions, load_submissions, submissions_dir_for
from salesops_lib.reports.base import ReportContext, report_context, store_slice

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

EARLIER_QUARTERS = 4
"""Earlier quarters that pacing compares with."""
DEAL_COLUMNS = ["opportunity_id", "owner_rep_id", "forecast_category", "amount", "close_date"]


@dataclass(frozen=True)
class ForecastCallData:
    """Everything the forecast call report reads, for one scope (a region, or ``all``).

    Attributes:
        context: The report's context.
        previous_week: The snapshot before ``as_of`` (``None`` when there is none).
        quarter: This quarter's label, start and end.
        reps: The scope's people: ``rep_id``, ``rep_name``, ``role``, ``region_id``,
            ``manager_id``.
        calls: The calls that count (each submitter's latest version per week) made for them.
        versions: Submission versions (files) those calls were read from.
        bookings: Booking lines since :data:`EARLIER_QUARTERS` quarters back (``order_date``,
            ``rep_id``, ``amount``, ``in_scope``): the lines booked in the scope
            (``in_scope`` true), and the other lines of the scope's reps (a rep may sell in
            several regions: their own actual counts all their lines).
        deals_now: This snapshot's deals (:data:`DEAL_COLUMNS`).
        deals_before: The previous snapshot's deals (empty without one).
        pacing_points: One row per snapshot of this quarter: ``week``, ``open_commit``,
            ``open_best_case``.
        pipeline: The pipeline-based quarter forecast of the scope (one row, or empty).
        statistical: The statistical quarter forecast of the scope (one row, or empty).
    """

    context: ReportContext
    previous_week: dt.date | None
    quarter: tuple[str, dt.date, dt.date]
    reps: pd.DataFrame = field(repr=False)
    calls: pd.DataFrame = field(repr=False)
    versions: int
    bookings: pd.DataFrame = field(repr=False)
    deals_now: pd.DataFrame = field(repr=False)
    deals_before: pd.DataFrame = field(repr=False)
    pacing_points: pd.DataFrame = field(repr=False)
    pipeline: pd.DataFrame = field(repr=False)
    statistical: pd.DataFrame = field(repr=False)


def scope_bookings(warehouse: Warehouse, region: str | None, first: dt.date) -> pd.DataFrame:
    """Booking lines from ``first`` on: those booked in the region and those of its reps.

    A booking counts in the region of its order line, and a rep may sell in several regions:
    the region's pacing counts the lines booked in it (``in_scope``), a rep's actual counts all
    of the rep's lines.

    Args:
        warehouse: An open warehouse.
        region: A region id, or ``None`` for the company.
        first: The first order date.

    Returns:
        order_date, rep_id, amount, in_scope (booked in the region); sorted.
    """
    if region is None:
        return warehouse.query(
            "SELECT order_date, rep_id, amount, true AS in_scope FROM fct_bookings "
            "WHERE order_date >= ? ORDER BY ALL",
            [first],
        )
    return warehouse.query(
        "SELECT order_date, rep_id, amount, region_id = ? AS in_scope FROM fct_bookings "
        "WHERE order_date >= ? AND (region_id = ? OR rep_id IN "
        "(SELECT rep_id FROM dim_reps WHERE region_id = ?)) ORDER BY ALL",
        [region, first, region, region],
    )


def _scope_deals(snapshot_dir: Path, day: dt.date, rep_ids: set[str]) -> pd.DataFrame:
    """One snapshot's deals owned by the scope's reps."""
    snapshot = open_snapshot(snapshot_dir, day, verify=False)
    deals = read_table(snapshot, "opportunities", DEAL_COLUMNS).to_pandas(date_as_object=False)
    return deals[deals["owner_rep_id"].isin(rep_ids)].reset_index(drop=True)


def _open_in_quarter(deals: pd.DataFrame, start: dt.date, end: dt.date, category: str) -> float:
    close = pd.to_datetime(deals["close_date"])
    keep = (close >= pd.Timestamp(start)) & (close <= pd.Timestamp(end))
    return float(deals.loc[keep & (deals["forecast_category"] == category), "amount"].sum())


def _store_row(warehouse: Warehouse, table: str, context: ReportContext) -> pd.DataFrame:
    """The scope's rows of a store table, or an empty frame when the store lacks it."""
    if warehouse.store is None or table not in warehouse.models():
        return pd.DataFrame()
    return store_slice(warehouse, table, context)


def _pipeline_view(rows: pd.DataFrame, context: ReportContext) -> pd.DataFrame:
    if rows.empty:
        return rows
    own = rows[rows["region_id"] == context.region]
    columns = ["closed_so_far", "commit", "best_case", "expected", "p10", "p90"]
    if not own.empty:
        return own[columns].head(1).reset_index(drop=True)
    return rows[columns].sum().to_frame().T  # the company: every region's components


def _statistical_view(rows: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    if rows.empty:
        return rows
    this = rows[pd.to_datetime(rows["quarter_start"]) == pd.Timestamp(start)]
    return this[["forecast", "low_80", "high_80"]].head(1).reset_index(drop=True)


def load_forecast_call(warehouse: Warehouse, region: str) -> ForecastCallData:
    """Read the forecast call of ``region`` as of the warehouse's snapshot.

    Args:
        warehouse: An open warehouse (:func:`~salesops_lib.reports.base.open_report_warehouse`).
        region: Region id or ``all``.

    Returns:
        The report's data.

    Raises:
        SubmissionError: If a submission file dropped into a week's folder breaks a rule.
    """
    context = report_context(warehouse, region)
    as_of = context.as_of
    snapshots_dir = warehouse.snapshot.path.parent
    scope = None if context.is_company else region
    reps = warehouse.table(
        "dim_reps", scope, ["rep_id", "rep_name", "role", "region_id", "manager_id"]
    )
    rep_ids = set(reps["rep_id"])
    versions = load_submissions(submissions_dir_for(snapshots_dir), snapshots_dir, through=as_of)
    versions = versions[versions["for_id"].isin(rep_ids)]
    calls = latest_versions(versions)[["week", "submitted_by", "for_id", "category", "amount",
                                       "note"]]  # fmt: skip
    start, end = quarter_start(as_of), quarter_end(as_of)
    first = start
    for _ in range(EARLIER_QUARTERS):
        first = quarter_start(first - dt.timedelta(days=1))
    if not calls.empty:
        first = min(first, quarter_start(pd.Timestamp(calls["week"].min()).date()))
    bookings = scope_bookings(warehouse, scope, first)
    dates = list_snapshots(snapshots_dir)
    earlier = [d for d in dates if d < as_of]
    previous = earlier[-1] if earlier else None
    deals_now = _scope_deals(snapshots_dir, as_of, rep_ids)
    deals_before = (
        _scope_deals(snapshots_dir, previous, rep_ids) if previous else deals_now.iloc[0:0].copy()
    )
    points = []
    for day in [d for d in dates if start <= d <= as_of]:
        deals = deals_now if day == as_of else _scope_deals(snapshots_dir, day, rep_ids)
        points.append(
            (pd.Timestamp(day), _open_in_quarter(deals, start, end, "Commit"),
             _open_in_quarter(deals, start, end, "Best Case"))
        )  # fmt: skip
    pacing_points = pd.DataFrame(points, columns=["week", "open_commit", "open_best_case"])
    return ForecastCallData(
        context=context,
        previous_week=previous,
        quarter=(quarter_label(as_of), start, end),
        reps=reps,
        calls=calls.reset_index(drop=True),
        versions=int(versions["version_id"].nunique()),
        bookings=bookings,
        deals_now=deals_now,
        deals_before=deals_before,
        pacing_points=pacing_points,
        pipeline=_pipeline_view(
            _store_row(warehouse, "an_pipeline_quarter_components", context), context
        ),
        statistical=_statistical_view(
            _store_row(warehouse, "an_forecast_quarters", context), start
        ),
    )
