"""Forecasting: statistical forecasts of monthly bookings and the pipeline-based quarter.

The entry points an analyst uses, importable from here (loaded on first use, so importing one
of them never pulls in statsforecast or scikit-learn until it is needed):

Series and statistical forecasts (one row of a *series frame* = one series x month:
``unique_id``, ``ds`` = first day of the month, ``y`` = bookings):

* :func:`monthly_series_from_bookings` -> series frame of ``total``, each region and each
  ``region/family`` (:mod:`.series`).
* :func:`backtest` -> :class:`Backtest`: ``cv`` (one row per series x model x origin x month),
  ``scores`` (one row per series x model: MASE, sMAPE, bias, coverage) and ``chosen`` (one row
  per series: the model with the lowest MASE and why) (:mod:`.models`, :mod:`.model_choice`).
* :func:`forecast` -> one row per series x month x candidate model, with 80%/95% bounds and
  ``is_chosen``.
* :func:`bottom_up_total`, :func:`family_shares`, :func:`split_by_family`: coherent views (the
  company total = the sum of the regions; families split their region) (:mod:`.coherence`).
* :func:`statistical_tables`: every scope's store tables at once (:mod:`.statistical_views`).

Metrics (one value per call; :mod:`.metrics`): :func:`mase`, :func:`naive_scale` (the one MASE
scale rule), :func:`backtest_scores` (the one backtest scoring loop), :func:`smape`,
:func:`bias`, :func:`interval_coverage`, :func:`brier_score`.

Deal win probability and the pipeline-based quarter (:mod:`.win_probability`,
:mod:`.pipeline_quarter`):

* :func:`fit_win_model` -> :class:`WinModelResult`: ``predictions`` has one row per open deal
  with its probability of closing won by the quarter's end, plus the model's evaluation.
* :func:`load_quarter_inputs` and :func:`quarter_forecasts` -> scope (region id or ``all``) ->
  :class:`QuarterForecast` (closed so far, pipeline expected, run-rate, expected, commit, best
  case, quota, target and the simulated P5-P95 range).

Forecast ledger (:mod:`.ledger`, :mod:`.ledger_scoring`): :func:`record_forecasts`,
:func:`load_ledger` (one row per as-of x series x month x model), :func:`score_forecasts` (one
row per scored forecast), :func:`accuracy_by_horizon`.

``salesops forecast-eval`` backtests a CSV of your own series (:func:`evaluate_csv`). The
analytics store's forecasting tables are built by :mod:`.build`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesops_lib.analytics.forecasting.coherence import (
        bottom_up_total,
        family_shares,
        split_by_family,
    )
    from salesops_lib.analytics.forecasting.csv_eval import evaluate_csv
    from salesops_lib.analytics.forecasting.ledger import load_ledger, record_forecasts
    from salesops_lib.analytics.forecasting.ledger_scoring import (
        accuracy_by_horizon,
        score_forecasts,
    )
    from salesops_lib.analytics.forecasting.metrics import (
        backtest_scores,
        bias,
        brier_score,
        interval_coverage,
        mase,
        naive_scale,
        smape,
    )
    from salesops_lib.analytics.forecasting.models import Backtest, backtest, forecast
    from salesops_lib.analytics.forecasting.pipeline_quarter import (
        QuarterForecast,
        quarter_forecasts,
    )
    from salesops_lib.analytics.forecasting.quarter_components import load_quarter_inputs
    from salesops_lib.analytics.forecasting.series import monthly_series_from_bookings
    from salesops_lib.analytics.forecasting.statistical_views import statistical_tables
    from salesops_lib.analytics.forecasting.win_probability import WinModelResult, fit_win_model

_EXPORTS: dict[str, str] = {
    "monthly_series_from_bookings": "series",
    "Backtest": "models",
    "backtest": "models",
    "forecast": "models",
    "bottom_up_total": "coherence",
    "family_shares": "coherence",
    "split_by_family": "coherence",
    "statistical_tables": "statistical_views",
    "mase": "metrics",
    "naive_scale": "metrics",
    "backtest_scores": "metrics",
    "smape": "metrics",
    "bias": "metrics",
    "interval_coverage": "metrics",
    "brier_score": "metrics",
    "WinModelResult": "win_probability",
    "fit_win_model": "win_probability",
    "load_quarter_inputs": "quarter_components",
    "QuarterForecast": "pipeline_quarter",
    "quarter_forecasts": "pipeline_quarter",
    "record_forecasts": "ledger",
    "load_ledger": "ledger",
    "score_forecasts": "ledger_scoring",
    "accuracy_by_horizon": "ledger_scoring",
    "evaluate_csv": "csv_eval",
}
"""Public name -> the submodule that defines it."""

__all__ = [
    "Backtest",
    "QuarterForecast",
    "WinModelResult",
    "accuracy_by_horizon",
    "backtest",
    "backtest_scores",
    "bias",
    "bottom_up_total",
    "brier_score",
    "evaluate_csv",
    "family_shares",
    "fit_win_model",
    "forecast",
    "interval_coverage",
    "load_ledger",
    "load_quarter_inputs",
    "mase",
    "monthly_series_from_bookings",
    "naive_scale",
    "quarter_forecasts",
    "record_forecasts",
    "score_forecasts",
    "smape",
    "split_by_family",
    "statistical_tables",
]


def __getattr__(name: str) -> Any:
    """Load a public entry point from its submodule on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
    return getattr(module, name)
