"""Pipeline-based forecast of the current quarter's bookings, per region and for all regions.

For the calendar quarter containing the as-of date, per region:

* **closed so far** = bookings (``fct_bookings``) from the quarter's first day to the as-of date.
* **pipeline expected** = sum over the region's open deals of win probability x amount (the
  probability of closing won by the quarter's end, from
  :mod:`salesops_lib.analytics.forecasting.win_probability`).
* **run-rate** = business that is not in the pipeline yet, from the same window one year
  earlier: bookings in (as_of - 1 year, quarter end - 1 year] minus the amounts of deals won in
  that window that were already open then (created on or before as_of - 1 year), scaled by the
  trailing-12-month year-over-year bookings growth and floored at 0. Won deals are also
  bookings (order lines linked by ``opportunity_id``), so the subtraction keeps them from being
  counted twice.
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
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting.quarter_components import (
    AMOUNT_COLUMNS,
    QuarterInputs,
    category_in_quarter,
    closed_so_far,
    load_quarter_inputs,
    pipeline_expected,
    plan_by_region,
    region_components,
    run_rate,
)
from salesops_lib.analytics.forecasting.win_examples import quarter_bounds
from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.core.errors import ParameterError

if TYPE_CHECKING:
    from salesops_lib.analytics.forecasting.win_probability import WinModelResult

__all__ = [
    "AMOUNT_COLUMNS",
    "QuarterForecast",
    "QuarterInputs",
    "category_in_quarter",
    "closed_so_far",
    "load_quarter_inputs",
    "pipeline_expected",
    "plan_by_region",
    "quarter_forecast",
    "quarter_forecasts",
    "region_components",
    "run_rate",
    "simulate",
]

RUN_RATE_CV = 0.25
"""Coefficient of variation of the run-rate in the simulation (sd = 25% of its mean)."""
N_DRAWS = 10_000
SEED = 20261123
PERCENTILES = (5, 10, 50, 90, 95)
_CHUNK = 512
"""Deals simulated at a time (bounds memory: draws x chunk floats)."""


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
        by_region: :func:`region_components` with the range (``p5`` ... ``p95``) and the
            simulated mean: the region's own row, or (for ``all``) one row per region plus
            ``all``.
        deals: The region's open deals with their probability and expected value (probability
            x amount), largest expected value first.
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


def quarter_forecasts(
    inputs: QuarterInputs,
    n_draws: int = N_DRAWS,
    seed: int = SEED,
    run_rate_cv: float = RUN_RATE_CV,
) -> dict[str, QuarterForecast]:
    """The quarter forecast of every region and of ``all``, from one joint simulation.

    Every region is computed and simulated jointly, so a region's numbers are the same whether
    it is read on its own or as part of the company view, and ``all`` is their sum.

    Args:
        inputs: From :func:`load_quarter_inputs`.
        n_draws: Simulation draws.
        seed: Simulation seed.
        run_rate_cv: Coefficient of variation of the run-rate in the simulation.

    Returns:
        Scope (each region id, then ``all``) -> its forecast. A region's ``by_region`` and
        ``deals`` hold that region's rows only; those of ``all`` hold every region.
    """
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
    table["simulated_mean"] = [means.get(r, np.nan) for r in table.index]
    start, end = quarter_bounds(inputs.as_of)
    ranked = predictions.assign(expected_value=predictions["probability"] * predictions["amount"])
    ranked = ranked.sort_values(["expected_value", "opportunity_id"], ascending=[False, True])
    forecasts = {}
    for scope in (*inputs.region_ids, ALL_REGIONS):
        regions = list(inputs.region_ids) if scope == ALL_REGIONS else [scope]
        row = table.loc[scope]
        deals = ranked if scope == ALL_REGIONS else ranked[ranked["region_id"] == scope]
        forecasts[scope] = QuarterForecast(
            region=scope,
            region_name="All regions" if scope == ALL_REGIONS else inputs.region_names[scope],
            as_of=inputs.as_of,
            quarter_start=start,
            quarter_end=end,
            **{c: float(row[c]) for c in AMOUNT_COLUMNS},
            range=ranges.get(scope, {}),
            simulated_mean=means.get(scope, float("nan")),
            by_region=table if scope == ALL_REGIONS else table.loc[[scope]],
            deals=deals.reset_index(drop=True),
            win=inputs.win,
            n_draws=n_draws,
            seed=seed,
            notes=forecast_notes(inputs.win, table.loc[regions], bool(ranges), run_rate_cv)
            + plan_notes(inputs, regions),
        )
    return forecasts


def quarter_forecast(
    inputs: QuarterInputs,
    region: str,
    n_draws: int = N_DRAWS,
    seed: int = SEED,
    run_rate_cv: float = RUN_RATE_CV,
) -> QuarterForecast:
    """The quarter forecast for one region or ``all`` (see :func:`quarter_forecasts`).

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
    return quarter_forecasts(inputs, n_draws, seed, run_rate_cv)[region]


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
