"""What the overview report reads: its region's rows of four marts, once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.reports.base import ReportContext, report_context

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse


@dataclass(frozen=True)
class OverviewData:
    """Everything the overview report shows, read once from the warehouse.

    Attributes:
        context: The report's context (region, names, snapshot, empty tables).
        bookings_monthly: ``fct_bookings_monthly`` rows of the region.
        opportunities: ``fct_opportunities`` rows of the region.
        quota_attainment: ``fct_quota_attainment`` rows of the region.
        reps: ``dim_reps`` rows of the region.
        data_start: The first month booked anywhere in the snapshot (``None`` without order
            lines): a year-on-year comparison needs data back to its base period.
    """

    context: ReportContext
    bookings_monthly: pd.DataFrame = field(repr=False)
    opportunities: pd.DataFrame = field(repr=False)
    quota_attainment: pd.DataFrame = field(repr=False)
    reps: pd.DataFrame = field(repr=False)
    data_start: dt.date | None = None


def load_overview(warehouse: Warehouse, region: str) -> OverviewData:
    """Read the marts the overview report needs, filtered to one region (or all).

    Args:
        warehouse: An open warehouse (from
            :func:`~salesops_lib.reports.base.open_report_warehouse`).
        region: Region id or ``all``.

    Returns:
        The report's data.
    """
    return OverviewData(
        context=report_context(warehouse, region),
        bookings_monthly=warehouse.table("fct_bookings_monthly", region=region),
        opportunities=warehouse.table("fct_opportunities", region=region),
        quota_attainment=warehouse.table("fct_quota_attainment", region=region),
        reps=warehouse.table("dim_reps", region=region),
        data_start=_data_start(warehouse),
    )


def _data_start(warehouse: Warehouse) -> dt.date | None:
    """The first month with any booking in the snapshot (a date only: no region's figures)."""
    first = warehouse.query("SELECT min(order_month) AS first FROM fct_bookings_monthly")
    value = first["first"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).date()
