"""Forecasting's build steps: the statistical and the pipeline-based forecasts, once per snapshot.

Both steps compute every scope (each region id and ``all``) in one pass, so a region's numbers
are identical in its own report, in the company report and in the store:

* ``forecasts`` (:mod:`~salesops_lib.analytics.forecasting.statistical_views`): the backtest,
  model choice and forecast (80% and 95% bounds) of the company total and every region at the
  report's default horizon, the coherent views (bottom-up total, family split) and the quarter
  outlook. One fit per series, fanned out with ``context.executor.map``.
* ``pipeline_quarter`` (:mod:`~salesops_lib.analytics.forecasting.pipeline_views`): the deal
  win-probability model (trained on every region, earlier snapshots included), each open deal's
  probability, the quarter's components per region and for the company, and the P5-P95 range
  of one joint simulation.

Heavy libraries (statsforecast, scikit-learn) are imported inside the steps only.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.build import BuildContext, BuildStep
from salesops_lib.analytics.forecasting import pipeline_views, statistical_views
from salesops_lib.analytics.forecasting.series import (
    first_incomplete_period,
    month_to_date_bookings,
    monthly_series_from_bookings,
)
from salesops_lib.core.config import ALL_REGIONS

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse


def history_start(warehouse: Warehouse) -> dt.date | None:
    """The first order date of the snapshot (``None`` without bookings)."""
    first = warehouse.query("SELECT min(order_date) AS first_order FROM fct_bookings")
    value = first["first_order"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value).date()


def series_before_as_of(
    rows: pd.DataFrame, as_of: dt.date, first_order: dt.date | None
) -> pd.DataFrame:
    """Every monthly series from ``fct_bookings_monthly`` rows, or none with no complete month.

    Args:
        rows: ``region_id``, ``product_family``, ``order_month``, ``bookings_amount``.
        as_of: The as-of date (its month is complete only when as-of is its last day).
        first_order: The first order date (an earlier partial month is dropped).

    Returns:
        A long frame ``unique_id``, ``ds``, ``y`` (total, regions, region x family); empty when
        no row falls in a complete month. Any other problem with the rows raises as usual (bad
        data is never shown as "no data").
    """
    first_incomplete = first_incomplete_period(as_of, "M")
    if not (pd.to_datetime(rows["order_month"]) < first_incomplete).any():
        return pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": []})
    return monthly_series_from_bookings(rows, as_of.isoformat(), history_start=first_order)


MONTHLY_COLUMNS = ["region_id", "product_family", "order_month", "bookings_amount"]


def monthly_series(warehouse: Warehouse) -> pd.DataFrame:
    """Every monthly bookings series of the snapshot (see :func:`series_before_as_of`)."""
    rows = warehouse.table("fct_bookings_monthly", columns=MONTHLY_COLUMNS)
    return series_before_as_of(rows, warehouse.as_of, history_start(warehouse))


def month_to_date(warehouse: Warehouse) -> pd.DataFrame:
    """Bookings of the incomplete as-of month so far, per series (``unique_id``, ``ds``, ``y``).

    Empty when the as-of date is a month's last day (see
    :func:`~salesops_lib.analytics.forecasting.series.month_to_date_bookings`).
    """
    rows = warehouse.table("fct_bookings_monthly", columns=MONTHLY_COLUMNS)
    return month_to_date_bookings(rows, warehouse.as_of)


def region_targets(warehouse: Warehouse) -> pd.DataFrame:
    """``fct_region_targets`` rows: ``region_id``, ``month``, ``target_amount``."""
    return warehouse.table("fct_region_targets", columns=["region_id", "month", "target_amount"])


def region_ids(warehouse: Warehouse) -> list[str]:
    """Every region id of the snapshot, sorted."""
    return sorted(str(r) for r in warehouse.regions()["region_id"])


def compute_forecasts(context: BuildContext) -> dict[str, pd.DataFrame]:
    """The statistical forecast tables of every scope (see ``statistical_views``)."""
    warehouse = context.warehouse
    regions = region_ids(warehouse)
    return statistical_views.statistical_tables(
        monthly_series(warehouse),
        region_targets(warehouse),
        regions,
        scopes=[*regions, ALL_REGIONS],
        as_of=warehouse.as_of,
        horizon=statistical_views.DEFAULT_HORIZON,
        mapper=context.executor.map,
        month_to_date=month_to_date(warehouse),
    )


def compute_pipeline_quarter(context: BuildContext) -> dict[str, pd.DataFrame]:
    """The pipeline-based quarter forecast tables of every scope (see ``pipeline_views``)."""
    from salesops_lib.analytics.forecasting.pipeline_quarter import quarter_forecasts
    from salesops_lib.analytics.forecasting.quarter_components import load_quarter_inputs

    warehouse = context.warehouse
    files = warehouse.snapshot.manifest["files"]
    if int(files.get("opportunities.parquet", {}).get("rows", 0)) == 0:
        return pipeline_views.pipeline_tables(None)
    inputs = load_quarter_inputs(warehouse, snapshots_dir=context.snapshots_dir)
    return pipeline_views.pipeline_tables(quarter_forecasts(inputs))


STEPS: tuple[BuildStep, ...] = (
    BuildStep("forecasts", tuple(statistical_views.SCHEMAS), compute_forecasts),
    BuildStep("pipeline_quarter", tuple(pipeline_views.SCHEMAS), compute_pipeline_quarter),
)
"""Forecasting's build steps, in order."""
