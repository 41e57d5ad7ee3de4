"""Pipeline-based forecast of the current quarter's bookings, per region and for all regions.

For the calendar quarter containing the as-of date, per region:

* **closed so far** = bookings (``fct_bookings``) from the quarter's first day to the as-of date.
* **pipeline expected** = sum over the region's open deals of win probability x amount (the
  probability of closing won by the quarter's end, from
  :mod:`salesops_lib.analytics.forecasting.win_probability`).
* **run-rate** = business that is not in the pipeline yet, from the same window one year
  earlier: bookings in (as_of - 1 year, quarter end - 1 year] minus the amounts of deals won in
  that window that were already open then (created on or before as_of - 1 year), scaled by the
  trailing-12-month year-over-year bookings growth and floored at 0. In the demo, won deals
  and order lines are separate records of the same business, so the subtraction keeps the
  pipeline's share from being counted twice.
* **expected** = closed so far + pipeline expected + run-rate.
* **commit** = closed so far + open Commit deals with a close date in the quarter;
  **best case** = commit + open Best Case deals with a close date in the quarter.
* **quota** = the region's reps' planned quotas for the quarter's months; **target** = the
  region's targets (``fct_region_targets``) for those months.

**Range**: one joint Monte Carlo simulation for every region (seeded): each open deal closes
won with its probability (Bernoulli x amount); each region's run-rate is Gamma distributed with
its mean and a coefficient of variation :data:`RUN_RATE_CV` (non-negative, mean kept). A
region's range comes from its column of the draws, the all-regions range from the row sums.

"all" is the sum of the regions for every amount, so a regional report and the all-regions
report never show two different numbers for the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting.win_probability import (
    WinModelResult,
    fit_win_model,
    load_win_model_inputs,
    quarter_bounds,
)
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

RUN_RATE_CV = 0.25
"""Coefficient of variation of the run-rate in the simulation (sd = 25% of its mean)."""
N_DRAWS = 10_000
SEED = 20261123
PERCENTILES = (5, 10, 50, 90, 95)
_CHUNK = 512
"""Deals simulated at a time (bounds memory: draws x chunk floats)."""

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
        "SELECT q.rep_id, r.region_id, q.month, q.quota_amount "
        "FROM stg_plan__quotas q JOIN stg_crm__reps r ON q.rep_id = r.rep_id "
        "WHERE q.month BETWEEN ? AND ? ORDER BY ALL",
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
        win=fit_win_model(load_win_model_inputs(warehouse, snapshots_dir)),
    )


# -- components ------------------------------------------------------------------------------


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
    the amounts of deals Closed Won with a close date in (c', e'] and created on or before c';
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


# -- simulation ------------------------------------------------------------------------------


def simulate(
    predictions: pd.DataFrame,
    components: pd.DataFrame,
    n_draws: int = N_DRAWS,
    seed: int = SEED,
    run_rate_cv: float = RUN_RATE_CV,
) -> pd.DataFrame:
    """Joint Monte Carlo draws of each region's quarter bookings.

    Each draw: closed so far + sum over open deals of Bernoulli(probability) x amount + a
    Gamma run-rate (mean = run_rate, sd = run_rate_cv x mean; 0 when the mean is 0). Deals are
    taken in opportunity_id order so the same inputs and seed give the same draws.

    Args:
        predictions: Open deals (opportunity_id, region_id, amount, probability).
        components: :func:`region_components` rows (closed_so_far, run_rate), indexed by region.
        n_draws: Number of draws.
        seed: Seed of ``numpy.random.default_rng``.
        run_rate_cv: Coefficient of variation of the run-rate.

    Returns:
        A new frame, one column per region and one row per draw.

    Raises:
        ParameterError: If n_draws < 1, run_rate_cv <= 0 or a probability is missing.
    """
    if n_draws < 1 or run_rate_cv <= 0:
        raise ParameterError(
            f"simulate: n_draws={n_draws} must be >= 1 and run_rate_cv={run_rate_cv} above 0"
        )
    regions = list(components.index)
    deals = predictions[predictions["region_id"].isin(regions)].sort_values("opportunity_id")
    if deals["probability"].isna().any():
        raise ParameterError("simulate: predictions have missing probabilities (no win model)")
    rng = np.random.default_rng(seed)
    totals = np.tile(components["closed_so_far"].to_numpy(float), (n_draws, 1))
    column = pd.Index(regions).get_indexer(deals["region_id"])
    probability = deals["probability"].to_numpy(float)
    amount = deals["amount"].to_numpy(float)
    for lo in range(0, len(deals), _CHUNK):
        part = slice(lo, lo + _CHUNK)
        won = rng.random((n_draws, len(probability[part]))) < probability[part]
        values = won * amount[part]
        for j in np.unique(column[part]):
            totals[:, j] += values[:, column[part] == j].sum(axis=1)
    mean = components["run_rate"].to_numpy(float)
    shape = 1.0 / run_rate_cv**2
    draws = rng.gamma(shape, np.where(mean > 0, mean / shape, 1.0), size=(n_draws, len(regions)))
    totals += np.where(mean > 0, draws, 0.0)
    return pd.DataFrame(totals, columns=regions)


def percentiles(values: np.ndarray) -> dict[str, float]:
    """P5, P10, P50, P90, P95 of simulated totals, keyed ``p5`` ... ``p95``."""
    points = np.percentile(np.asarray(values, float), PERCENTILES)
    return {f"p{p}": float(v) for p, v in zip(PERCENTILES, points, strict=True)}


# -- the result ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarterForecast:
    """The quarter forecast of one region (or all regions).

    Attributes:
        region: Region id or ``all``.
        region_name: Display name.
        as_of: As-of date.
        quarter_start: The quarter's first day.
        quarter_end: The quarter's last day.
        closed_so_far: Bookings from the quarter's start to the as-of date.
        pipeline_expected: Sum of probability x amount over open deals.
        run_rate: Expected business not yet in the pipeline.
        expected: closed_so_far + pipeline_expected + run_rate.
        commit: closed_so_far + open Commit deals closing in the quarter.
        best_case: commit + open Best Case deals closing in the quarter.
        quota: Sum of the region's rep quotas for the quarter.
        target: The region's target for the quarter.
        range: Simulated percentiles ``p5``, ``p10``, ``p50``, ``p90``, ``p95`` (empty when
            the win model has no probabilities).
        simulated_mean: Mean of the simulated totals (NaN without a simulation).
        by_region: :func:`region_components` with the range, one row per region plus ``all``.
        deals: The region's open deals with their probability, largest expected value first.
        win: The win model (trained on every region).
        n_draws: Simulation draws.
        seed: Simulation seed.
        notes: Plain-English method notes (win model, run-rate, range) for the report.
    """

    region: str
    region_name: str
    as_of: dt.date
    quarter_start: dt.date
    quarter_end: dt.date
    closed_so_far: float
    pipeline_expected: float
    run_rate: float
    expected: float
    commit: float
    best_case: float
    quota: float
    target: float
    range: dict[str, float]
    simulated_mean: float
    by_region: pd.DataFrame = field(repr=False)
    deals: pd.DataFrame = field(repr=False)
    win: WinModelResult = field(repr=False)
    n_draws: int = N_DRAWS
    seed: int = SEED
    notes: tuple[str, ...] = ()

    @property
    def quarter_label(self) -> str:
        """The quarter as ``2026-Q4``."""
        return f"{self.quarter_start.year}-Q{(self.quarter_start.month - 1) // 3 + 1}"

    @property
    def gap_to_quota(self) -> float:
        """expected - quota (negative: short of quota)."""
        return self.expected - self.quota

    @property
    def gap_to_target(self) -> float:
        """expected - target (negative: short of target)."""
        return self.expected - self.target


def quarter_forecast(
    inputs: QuarterInputs,
    region: str,
    n_draws: int = N_DRAWS,
    seed: int = SEED,
    run_rate_cv: float = RUN_RATE_CV,
) -> QuarterForecast:
    """The quarter forecast for one region or ``all`` (the sum of the regions).

    Every region is computed and simulated jointly whichever region is asked for, so the
    regional and all-regions numbers always agree.

    Args:
        inputs: From :func:`load_quarter_inputs`.
        region: A region id or ``all``.
        n_draws: Simulation draws.
        seed: Simulation seed.
        run_rate_cv: Coefficient of variation of the run-rate in the simulation.

    Returns:
        The forecast.

    Raises:
        ParameterError: For an unknown region.
    """
    if region != ALL_REGIONS and region not in inputs.region_ids:
        raise ParameterError(
            f"quarter_forecast: unknown region {region!r}; use one of "
            f"{', '.join(inputs.region_ids)} or {ALL_REGIONS!r}"
        )
    table = region_components(inputs)
    table.loc[ALL_REGIONS] = table[list(AMOUNT_COLUMNS)].sum(min_count=1)
    table.loc[ALL_REGIONS, "growth"] = np.nan
    predictions = inputs.win.predictions
    ranges: dict[str, dict[str, float]] = {}
    means: dict[str, float] = {}
    if not predictions["probability"].isna().any():
        draws = simulate(predictions, table.drop(index=ALL_REGIONS), n_draws, seed, run_rate_cv)
        draws[ALL_REGIONS] = draws.sum(axis=1)
        for column in draws.columns:
            ranges[column] = percentiles(draws[column].to_numpy())
            means[column] = float(draws[column].mean())
    for p in PERCENTILES:
        table[f"p{p}"] = [ranges.get(r, {}).get(f"p{p}", np.nan) for r in table.index]
    row = table.loc[region]
    deals = (
        predictions if region == ALL_REGIONS else predictions[predictions["region_id"] == region]
    )
    deals = (
        deals.assign(expected_value=deals["probability"] * deals["amount"])
        .sort_values(["expected_value", "opportunity_id"], ascending=[False, True])
        .reset_index(drop=True)
    )
    start, end = quarter_bounds(inputs.as_of)
    regions = list(inputs.region_ids) if region == ALL_REGIONS else [region]
    return QuarterForecast(
        region=region,
        region_name="All regions" if region == ALL_REGIONS else inputs.region_names[region],
        as_of=inputs.as_of,
        quarter_start=start,
        quarter_end=end,
        **{c: float(row[c]) for c in AMOUNT_COLUMNS},
        range=ranges.get(region, {}),
        simulated_mean=means.get(region, float("nan")),
        by_region=table,
        deals=deals,
        win=inputs.win,
        n_draws=n_draws,
        seed=seed,
        notes=forecast_notes(inputs.win, table.loc[regions], bool(ranges), run_rate_cv)
        + plan_notes(inputs, regions),
    )


def plan_notes(inputs: QuarterInputs, regions: list[str]) -> tuple[str, ...]:
    """A note when the plan lacks quotas or targets for some of the quarter's months.

    Args:
        inputs: The quarter inputs (quotas, targets).
        regions: The regions the forecast covers.

    Returns:
        Zero, one or two notes.
    """
    notes = []
    for plan, what in ((inputs.quotas, "quotas"), (inputs.targets, "targets")):
        rows = plan[plan["region_id"].isin(regions)]
        months = pd.to_datetime(rows["month"]).dt.strftime("%b %Y").unique()
        if len(months) < 3:
            shown = ", ".join(months) if len(months) else "none"
            notes.append(
                f"The plan has {what} for {len(months)} of the quarter's 3 months ({shown}); "
                f"the {what[:-1]} shown covers only those months."
            )
    return tuple(notes)


def forecast_notes(
    win: WinModelResult, regions: pd.DataFrame, simulated: bool, run_rate_cv: float
) -> tuple[str, ...]:
    """Plain-English notes on how the forecast was made (no untrusted text inside).

    Args:
        win: The win model.
        regions: :func:`region_components` rows of the regions the forecast covers.
        simulated: Whether a range was simulated.
        run_rate_cv: Coefficient of variation of the run-rate in the simulation.

    Returns:
        The notes, in reading order.
    """
    notes = [win.method_note]
    notes.append(
        "Run-rate (business not in the pipeline yet): the same days of the quarter a year "
        "earlier, bookings minus the deals won then that were already open, times each "
        "region's year-over-year bookings growth (at least 0)."
    )
    if (regions["last_year_bookings"] <= 0).any():
        notes.append(
            "Some regions have no bookings in those days a year earlier (less than a year of "
            "history?): their run-rate is 0, so the forecast counts on the pipeline only."
        )
    if simulated:
        notes.append(
            "Range: simulation in which each open deal closes won with its probability and the "
            f"run-rate varies by {run_rate_cv:.0%} (one standard deviation)."
        )
    else:
        notes.append("No range: the win model has no probabilities for the open deals.")
    return tuple(notes)
