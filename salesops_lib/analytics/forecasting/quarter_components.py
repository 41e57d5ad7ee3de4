"""The inputs and amounts of the pipeline-based quarter forecast, one value per region.

:func:`load_quarter_inputs` reads what the forecast needs from a snapshot (and fits the deal
win-probability model on every region); each component function returns one float per region
id (a Series indexed by region) for the calendar quarter containing the as-of date, and
:func:`region_components` puts them together as one row per region. The method is described in
:mod:`salesops_lib.analytics.forecasting.pipeline_quarter`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.forecasting.win_examples import quarter_bounds
from salesops_lib.core.frames import require_columns

if TYPE_CHECKING:
    from salesops_lib.analytics.forecasting.win_probability import WinModelResult
    from salesops_lib.data.warehouse import Warehouse

AMOUNT_COLUMNS = (
    "closed_so_far",
    "pipeline_expected",
    "run_rate",
    "expected",
    "commit",
    "best_case",
    "quota",
    "target",
)


@dataclass(frozen=True)
class QuarterInputs:
    """Everything the quarter forecast reads (all regions).

    Attributes:
        as_of: As-of date.
        region_ids: Every region id of the snapshot, sorted.
        region_names: Region id -> display name.
        bookings: Daily bookings per region (region_id, order_date, amount) from two years
            before the as-of date to the as-of date.
        opportunities: The as-of snapshot's opportunities (opportunity_id, region_id,
            created_date, is_closed, is_won, amount, close_date, forecast_category).
        quotas: Planned quotas of the quarter's months (rep_id, region_id, month, quota_amount).
        targets: Region targets of the quarter's months (region_id, month, target_amount).
        win: The fitted win model and its predictions for today's open deals.
    """

    as_of: dt.date
    region_ids: tuple[str, ...]
    region_names: dict[str, str]
    bookings: pd.DataFrame = field(repr=False)
    opportunities: pd.DataFrame = field(repr=False)
    quotas: pd.DataFrame = field(repr=False)
    targets: pd.DataFrame = field(repr=False)
    win: WinModelResult = field(repr=False)


def load_quarter_inputs(warehouse: Warehouse, snapshots_dir: Path) -> QuarterInputs:
    """Read the as-of snapshot (and earlier snapshots for the win model).

    Args:
        warehouse: The as-of snapshot's open warehouse.
        snapshots_dir: The snapshot folder.

    Returns:
        The inputs of :func:`quarter_forecast`.
    """
    from salesops_lib.analytics.forecasting.win_probability import (
        fit_win_model,
        load_win_model_inputs,
    )

    as_of = warehouse.as_of
    start, end = quarter_bounds(as_of)
    regions = warehouse.regions()
    first_day = (pd.Timestamp(as_of) - pd.DateOffset(years=2)).date()
    bookings = warehouse.query(
        "SELECT region_id, order_date, sum(amount) AS amount FROM fct_bookings "
        "WHERE order_date BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL",
        [first_day, as_of],
    )
    quotas = warehouse.query(
        "SELECT rep_id, region_id, month, quota_amount FROM fct_quota_plan "
        "WHERE month BETWEEN ? AND ? ORDER BY ALL",
        [start, end],
    )
    targets = warehouse.query(
        "SELECT region_id, month, target_amount FROM fct_region_targets "
        "WHERE month BETWEEN ? AND ? ORDER BY ALL",
        [start, end],
    )
    opportunities = warehouse.table(
        "fct_opportunities",
        columns=[
            "opportunity_id",
            "region_id",
            "created_date",
            "is_closed",
            "is_won",
            "amount",
            "close_date",
            "forecast_category",
        ],
    )
    return QuarterInputs(
        as_of=as_of,
        region_ids=tuple(sorted(regions["region_id"])),
        region_names=dict(zip(regions["region_id"], regions["region_name"], strict=True)),
        bookings=bookings,
        opportunities=opportunities,
        quotas=quotas,
        targets=targets,
        win=fit_win_model(load_win_model_inputs(warehouse, snapshots_dir)),  # every region
    )


def _by_region(values: pd.Series, region_ids: tuple[str, ...]) -> pd.Series:
    return values.groupby(level=0).sum().reindex(list(region_ids), fill_value=0.0).astype(float)


def _sum_in(
    frame: pd.DataFrame, date_column: str, lo: dt.date, hi: dt.date, amount: str
) -> pd.Series:
    """Sum of ``amount`` per region over rows with lo < date <= hi."""
    dates = pd.to_datetime(frame[date_column])
    rows = frame[(dates > pd.Timestamp(lo)) & (dates <= pd.Timestamp(hi))]
    return rows.set_index("region_id")[amount].astype(float)


def closed_so_far(bookings: pd.DataFrame, as_of: dt.date, region_ids: tuple[str, ...]) -> pd.Series:
    """Bookings from the quarter's first day to ``as_of`` (inclusive), per region.

    Args:
        bookings: Bookings (region_id, order_date, amount).
        as_of: As-of date.
        region_ids: Regions to report (missing ones get 0).

    Returns:
        A float series indexed by region id.
    """
    require_columns(bookings, ["region_id", "order_date", "amount"], "closed_so_far(bookings)")
    start = quarter_bounds(as_of)[0] - dt.timedelta(days=1)
    return _by_region(_sum_in(bookings, "order_date", start, as_of, "amount"), region_ids)


def run_rate(
    bookings: pd.DataFrame,
    opportunities: pd.DataFrame,
    as_of: dt.date,
    region_ids: tuple[str, ...],
) -> pd.DataFrame:
    """Business not yet in the pipeline for the rest of the quarter, per region.

    With c' = as_of - 1 year and e' = quarter end - 1 year: base = bookings in (c', e'] minus
    the amounts of deals won (``is_won``) with a close date in (c', e'] and created on or
    before c';
    growth = bookings in (as_of - 1 year, as_of] / bookings in (as_of - 2 years, as_of - 1
    year] (1 when the earlier year has no bookings); run_rate = max(0, base x growth).

    Args:
        bookings: Bookings (region_id, order_date, amount) covering the two years to as_of.
        opportunities: Opportunities as of today (region_id, created_date, is_won, amount,
            close_date).
        as_of: As-of date.
        region_ids: Regions to report.

    Returns:
        A new frame indexed by region id: last_year_bookings, last_year_pipeline_won,
        growth, run_rate.
    """
    require_columns(
        opportunities,
        ["region_id", "created_date", "is_won", "amount", "close_date"],
        "run_rate(opportunities)",
    )
    year = pd.DateOffset(years=1)
    cut = (pd.Timestamp(as_of) - year).date()
    end = (pd.Timestamp(quarter_bounds(as_of)[1]) - year).date()
    earlier = (pd.Timestamp(as_of) - 2 * year).date()
    window = _by_region(_sum_in(bookings, "order_date", cut, end, "amount"), region_ids)
    won = opportunities[
        opportunities["is_won"].astype(bool)
        & (pd.to_datetime(opportunities["created_date"]) <= pd.Timestamp(cut))
    ]
    from_pipeline = _by_region(_sum_in(won, "close_date", cut, end, "amount"), region_ids)
    recent = _by_region(_sum_in(bookings, "order_date", cut, as_of, "amount"), region_ids)
    prior = _by_region(_sum_in(bookings, "order_date", earlier, cut, "amount"), region_ids)
    growth = (recent / prior.where(prior > 0)).fillna(1.0)
    table = pd.DataFrame(
        {
            "last_year_bookings": window,
            "last_year_pipeline_won": from_pipeline,
            "growth": growth,
        }
    )
    rate = ((table["last_year_bookings"] - table["last_year_pipeline_won"]) * growth).clip(lower=0)
    return table.assign(run_rate=rate)


def category_in_quarter(
    opportunities: pd.DataFrame, category: str, as_of: dt.date, region_ids: tuple[str, ...]
) -> pd.Series:
    """Amount of open deals of one forecast category with a close date in the quarter.

    Args:
        opportunities: Opportunities as of today (region_id, is_closed, amount, close_date,
            forecast_category).
        category: ``Commit`` or ``Best Case``.
        as_of: As-of date.
        region_ids: Regions to report.

    Returns:
        A float series indexed by region id.
    """
    start, end = quarter_bounds(as_of)
    deals = opportunities[
        ~opportunities["is_closed"].astype(bool) & (opportunities["forecast_category"] == category)
    ]
    return _by_region(
        _sum_in(deals, "close_date", start - dt.timedelta(days=1), end, "amount"), region_ids
    )


def pipeline_expected(predictions: pd.DataFrame, region_ids: tuple[str, ...]) -> pd.Series:
    """Sum of probability x amount over open deals, per region (NaN if a probability is missing).

    Args:
        predictions: Open deals (region_id, amount, probability).
        region_ids: Regions to report.

    Returns:
        A float series indexed by region id.
    """
    require_columns(predictions, ["region_id", "amount", "probability"], "pipeline_expected")
    value = predictions["probability"].astype(float) * predictions["amount"].astype(float)
    sums = value.groupby(predictions["region_id"]).sum().reindex(list(region_ids), fill_value=0.0)
    missing = set(predictions.loc[predictions["probability"].isna(), "region_id"])
    return sums.where(~sums.index.isin(missing)).astype(float)


def plan_by_region(plan: pd.DataFrame, amount: str, region_ids: tuple[str, ...]) -> pd.Series:
    """Sum of a plan amount (quota_amount or target_amount) per region."""
    require_columns(plan, ["region_id", amount], "plan_by_region(plan)")
    return _by_region(plan.set_index("region_id")[amount].astype(float), region_ids)


def region_components(inputs: QuarterInputs) -> pd.DataFrame:
    """Every amount of the quarter forecast, one row per region.

    Args:
        inputs: From :func:`load_quarter_inputs` (or built by hand).

    Returns:
        A new frame indexed by region id: :data:`AMOUNT_COLUMNS` plus the run-rate detail
        (last_year_bookings, last_year_pipeline_won, growth).
    """
    ids = inputs.region_ids
    closed = closed_so_far(inputs.bookings, inputs.as_of, ids)
    rate = run_rate(inputs.bookings, inputs.opportunities, inputs.as_of, ids)
    expected_pipeline = pipeline_expected(inputs.win.predictions, ids)
    commit = closed + category_in_quarter(inputs.opportunities, "Commit", inputs.as_of, ids)
    best = commit + category_in_quarter(inputs.opportunities, "Best Case", inputs.as_of, ids)
    table = pd.DataFrame(
        {
            "closed_so_far": closed,
            "pipeline_expected": expected_pipeline,
            "run_rate": rate["run_rate"],
            "expected": closed + expected_pipeline + rate["run_rate"],
            "commit": commit,
            "best_case": best,
            "quota": plan_by_region(inputs.quotas, "quota_amount", ids),
            "target": plan_by_region(inputs.targets, "target_amount", ids),
        }
    )
    table.index.name = "region_id"
    return table.join(rate.drop(columns="run_rate"))
