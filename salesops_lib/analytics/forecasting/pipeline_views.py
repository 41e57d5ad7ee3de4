"""The pipeline-based quarter forecast of every scope, as the tables the analytics store holds.

Every region and the company come from one joint computation
(:func:`~salesops_lib.analytics.forecasting.pipeline_quarter.quarter_forecasts`); a region's
scope holds its own rows only, the ``all`` scope every region's. Tables (each with ``scope``):

* ``an_pipeline_quarter_components``: one row per scope x region (``region_id``; ``all`` for the
  company row, present in the ``all`` scope only): closed so far, pipeline expected, run-rate,
  expected, commit, best case, quota, target, the run-rate detail, the simulated percentiles
  ``p5`` ... ``p95`` and mean, the quarter's bounds and the simulation's draws and seed.
* ``an_deal_win_probabilities``: one row per scope x open deal, ``deal_rank`` 1 = the largest
  expected value (win probability x amount).
* ``an_win_model_summaries``: one row per scope: the deal win-probability model (trained on
  every region, so the same in every scope): method, note, examples, Brier scores, odds ratio
  per push.
* ``an_win_model_reliability``: one row per scope x probability bin (out-of-fold
  predicted probability against the observed win rate).
* ``an_win_model_slips``: one row per scope x push count (0, 1, 2, 3 = 3 or more): the model's
  mean probability and the win rate of closed deals that reached Negotiation.
* ``an_pipeline_quarter_notes``: one row per scope x method note, in reading order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.forecasting.quarter_components import AMOUNT_COLUMNS

if TYPE_CHECKING:
    from salesops_lib.analytics.forecasting.pipeline_quarter import QuarterForecast

PERCENTILE_COLUMNS = ["p5", "p10", "p50", "p90", "p95"]
_TEXT = "string"
_DATE = "datetime64[ns]"
SCHEMAS: dict[str, dict[str, str]] = {
    "an_pipeline_quarter_components": {
        "scope": _TEXT, "region_id": _TEXT, "quarter_start": _DATE, "quarter_end": _DATE,
        **dict.fromkeys(AMOUNT_COLUMNS, "float64"), "last_year_bookings": "float64",
        "last_year_pipeline_won": "float64", "growth": "float64",
        **dict.fromkeys(PERCENTILE_COLUMNS, "float64"), "simulated_mean": "float64",
        "n_draws": "int64", "seed": "int64",
    },
    "an_deal_win_probabilities": {
        "scope": _TEXT, "deal_rank": "int64", "opportunity_id": _TEXT, "region_id": _TEXT,
        "stage": _TEXT, "forecast_category": _TEXT, "amount": "float64", "close_date": _DATE,
        "push_count": "float64", "probability": "float64", "expected_value": "float64",
    },
    "an_win_model_summaries": {
        "scope": _TEXT, "horizon_days": "int64", "method": _TEXT, "method_note": _TEXT,
        "features": _TEXT, "n_cutoffs": "int64", "n_examples": "int64", "n_deals": "int64",
        "brier_model": "float64", "brier_stage_only": "float64",
        "odds_ratio_per_push": "float64", "empirical_ratio_per_push": "float64",
    },
    "an_win_model_reliability": {
        "scope": _TEXT, "bin_lower": "float64", "bin_upper": "float64",
        "mean_predicted": "float64", "observed_rate": "float64", "examples": "int64",
    },
    "an_win_model_slips": {
        "scope": _TEXT, "push_count": "int64", "mean_probability": "float64",
        "mean_probability_negotiation": "float64", "closed": "int64", "won": "int64",
        "win_rate": "float64", "ratio_to_previous": "float64",
    },
    "an_pipeline_quarter_notes": {"scope": _TEXT, "note_number": "int64", "note": _TEXT},
}  # fmt: skip
"""Columns and dtypes of every pipeline forecast table."""


def typed(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """``frame`` with exactly the columns and dtypes of ``table`` (an empty frame for ``None``)."""
    schema = SCHEMAS[table]
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})
    return frame.reindex(columns=list(schema)).astype(schema).reset_index(drop=True)


def _scope_tables(forecast: QuarterForecast) -> dict[str, pd.DataFrame]:
    """The tables of one scope's forecast."""
    scope = forecast.region
    components = forecast.by_region.reset_index(names="region_id").assign(
        quarter_start=pd.Timestamp(forecast.quarter_start),
        quarter_end=pd.Timestamp(forecast.quarter_end),
        n_draws=forecast.n_draws,
        seed=forecast.seed,
    )
    deals = forecast.deals.assign(
        deal_rank=range(1, len(forecast.deals) + 1),
        close_date=pd.to_datetime(forecast.deals["close_date"]),
    )
    win = forecast.win
    summary = pd.DataFrame(
        [
            {
                "horizon_days": win.horizon_days,
                "method": win.method,
                "method_note": win.method_note,
                "features": ", ".join(win.features),
                "n_cutoffs": len(win.cutoffs),
                "n_examples": win.n_examples,
                "n_deals": win.n_deals,
                "brier_model": win.brier_model,
                "brier_stage_only": win.brier_stage_only,
                "odds_ratio_per_push": win.odds_ratio_per_push,
                "empirical_ratio_per_push": win.empirical_ratio_per_push,
            }
        ]
    )
    empirical = win.empirical_slips
    slips = (
        empirical
        if win.slip_effect.empty
        else win.slip_effect.merge(empirical, on="push_count", how="outer")
    )
    notes = pd.DataFrame({"note_number": range(1, len(forecast.notes) + 1), "note": forecast.notes})
    tables = {
        "an_pipeline_quarter_components": components,
        "an_deal_win_probabilities": deals,
        "an_win_model_summaries": summary,
        "an_win_model_reliability": win.reliability,
        "an_win_model_slips": slips,
        "an_pipeline_quarter_notes": notes,
    }
    return {name: frame.assign(scope=scope) for name, frame in tables.items()}


def pipeline_tables(forecasts: dict[str, QuarterForecast] | None) -> dict[str, pd.DataFrame]:
    """Every pipeline forecast table over the given scopes (empty tables for ``None``).

    Args:
        forecasts: Scope -> forecast, from ``quarter_forecasts`` (``None`` without opportunities).

    Returns:
        Table name -> frame, every table of :data:`SCHEMAS`.
    """
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in SCHEMAS}
    for forecast in (forecasts or {}).values():
        for name, frame in _scope_tables(forecast).items():
            parts[name].append(frame)
    return {
        name: typed(pd.concat(frames, ignore_index=True) if frames else None, name)
        for name, frames in parts.items()
    }
