"""What the performance report reads: the marts of two snapshots, once.

:func:`load_performance` reads the as-of snapshot (and ``compare_to``, by default the weekly
snapshot before it) into a :class:`PerformanceData`. Opportunities, stage changes, quotas and
weekly bookings are company-wide (bottlenecks, ramp and anomalies compare a region with the rest
of the company); bookings by product and region targets are the region's own rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.performance import anomaly
from salesops_lib.analytics.performance.periods import (
    PERIOD_LABELS,
    check_period,
    period_bounds,
    period_window,
    variance_windows,
)
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.stages import StageModel
from salesops_lib.data.snapshot import list_snapshots
from salesops_lib.reports.base import ReportContext, report_context, store_slice

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

OPPORTUNITY_COLUMNS = [
    "opportunity_id", "opportunity_name", "account_id", "owner_rep_id", "region_id",
    "product_id", "product_family", "created_date", "stage", "stage_order", "is_closed",
    "is_won", "amount", "close_date", "forecast_category", "push_count",
    "days_in_current_stage",
]  # fmt: skip

STAGE_CHANGE_COLUMNS = ["stage", "days_in_stage", "is_current"]


@dataclass(frozen=True)
class PerformanceData:
    """The marts of two snapshots the performance report needs.

    Attributes:
        context: The report's context (region, names, snapshot, empty tables).
        compare_to: The earlier snapshot's date, or None when there is none.
        period: ``month``, ``qtd`` or ``ytd``.
        quota_attainment: ``fct_quota_attainment`` rows, all regions.
        period_quotas: Planned quota per rep and month of the period's months (all regions):
            rep_id, region_id, month, quota_amount.
        reps: ``dim_reps`` rows, all regions.
        opportunities: ``fct_opportunities`` rows of the as-of snapshot, all regions.
        opportunities_before: The same of the ``compare_to`` snapshot (empty if none).
        stage_changes: ``fct_stage_changes`` rows, all regions (stage, days_in_stage,
            is_current: the stage duration thresholds of the risk flags).
        stage_tests: The report's slice of ``an_stage_tests`` (regions against the rest of the
            company, per open stage), in funnel order.
        rep_stage_tests: The report's slice of ``an_rep_stage_tests`` (reps against the rest
            of their region), in funnel order.
        stage_conversion: The report's slice of ``an_stage_conversion``, in funnel order.
        bookings_by_product: The region's bookings per product in the period to date and the
            same days a year earlier: period_window (``current``/``base``), product_id,
            product_family, quantity, amount.
        weekly: Bookings per region and complete week (:func:`anomaly.weekly_bookings`).
        region_targets: ``fct_region_targets`` rows of the region.
        stages: The snapshot's stage model (the warehouse's ``stage_model``).
    """

    context: ReportContext
    compare_to: dt.date | None
    period: str
    quota_attainment: pd.DataFrame = field(repr=False)
    period_quotas: pd.DataFrame = field(repr=False)
    reps: pd.DataFrame = field(repr=False)
    opportunities: pd.DataFrame = field(repr=False)
    opportunities_before: pd.DataFrame = field(repr=False)
    stage_changes: pd.DataFrame = field(repr=False)
    stage_tests: pd.DataFrame = field(repr=False)
    rep_stage_tests: pd.DataFrame = field(repr=False)
    stage_conversion: pd.DataFrame = field(repr=False)
    bookings_by_product: pd.DataFrame = field(repr=False)
    weekly: pd.DataFrame = field(repr=False)
    region_targets: pd.DataFrame = field(repr=False)
    stages: StageModel = field(repr=False)

    @property
    def region(self) -> str:
        """Region id or ``all``."""
        return self.context.region

    @property
    def as_of(self) -> dt.date:
        """The as-of snapshot's date."""
        return self.context.as_of

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of the period (the close-date window)."""
        return period_window(self.as_of, self.period)

    @property
    def period_label(self) -> str:
        """``this quarter`` etc."""
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
            :func:`~salesops_lib.reports.base.open_report_warehouse`).
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
    opportunities = warehouse.table("fct_opportunities", columns=OPPORTUNITY_COLUMNS)
    if earlier is None:
        before = opportunities.head(0)
    else:
        with Warehouse.open(earlier, snapshots_dir=folder) as old:
            before = old.table("fct_opportunities", columns=OPPORTUNITY_COLUMNS)
    context = report_context(warehouse, region)
    stages = warehouse.stage_model
    return PerformanceData(
        context=context,
        compare_to=earlier,
        period=period,
        quota_attainment=warehouse.table("fct_quota_attainment"),
        period_quotas=_period_quotas(warehouse, as_of, period),
        reps=warehouse.table("dim_reps"),
        opportunities=opportunities,
        opportunities_before=before,
        stage_changes=warehouse.table("fct_stage_changes", columns=STAGE_CHANGE_COLUMNS),
        stage_tests=_in_funnel_order(
            store_slice(warehouse, "an_stage_tests", context), stages, "region_id"
        ),
        rep_stage_tests=_in_funnel_order(
            store_slice(warehouse, "an_rep_stage_tests", context), stages, "owner_rep_id"
        ),
        stage_conversion=_in_funnel_order(
            store_slice(warehouse, "an_stage_conversion", context), stages
        ),
        bookings_by_product=_bookings_by_product(warehouse, region, as_of, period),
        weekly=_weekly(warehouse, as_of),
        region_targets=warehouse.table("fct_region_targets", region=region),
        stages=stages,
    )


def _in_funnel_order(
    rows: pd.DataFrame, stages: StageModel, group: str | None = None
) -> pd.DataFrame:
    """Store rows without their scope, by group then open stage in funnel order."""
    position = rows["stage"].map({stage: i for i, stage in enumerate(stages.open_stages)})
    keys = [group, "_position"] if group else ["_position"]
    ordered = rows.assign(_position=position).sort_values(keys, kind="stable")
    return ordered.drop(columns=["scope", "_position"]).reset_index(drop=True)


def _period_quotas(warehouse: Warehouse, as_of: dt.date, period: str) -> pd.DataFrame:
    first_month, last_month = period_bounds(as_of, period)
    return warehouse.query(
        "SELECT rep_id, region_id, month, quota_amount FROM fct_quota_plan "
        "WHERE month BETWEEN ? AND ?",
        [first_month.date(), last_month.date()],
    )


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
