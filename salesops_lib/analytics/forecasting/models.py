"""Statistical forecasts of monthly series: rolling-origin backtest, model choice, forecast.

Built on statsforecast (not statsmodels): it fits many series in one batch call, has a native
rolling-origin ``cross_validation``, gives 80%/95% intervals for every model, and its automatic
ETS/ARIMA/Theta are compiled code (no numba), so one region's series fit in well under a second.

Input series are long frames ``unique_id`` (str), ``ds`` (first day of a month), ``y`` (float),
as built by :mod:`salesops_lib.analytics.forecasting.series`. Each series gets a *kind* that fixes
its
candidate models:

- ``seasonal`` (at least two seasons of training at the first backtest origin): SeasonalNaive,
  AutoETS, AutoARIMA, AutoTheta and Ensemble (the mean of the ETS/ARIMA/Theta points, and the
  mean of their interval bounds). MASE is scaled by the seasonal naive in-sample error.
- ``short`` (under two seasons): Naive, RandomWalkWithDrift and non-seasonal AutoETS
  (plus SeasonalNaive when one season fits); MASE is scaled by the lag-1 naive error.
- ``intermittent`` (30% or more zero months): CrostonOptimized, ADIDA, IMAPA with conformal
  intervals (from past errors; none when the series is too short for them) and a naive baseline.
- ``constant`` (every month the same value, e.g. all zero): the naive baseline only.
- ``untested`` (too short for even one backtest origin): naive forecast, not backtested.

Negative months are allowed (cancellations can net a month below zero). Everything is
deterministic: the same series give the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting.metrics import backtest_scores
from salesops_lib.analytics.forecasting.model_choice import (
    BASELINE,
    ENSEMBLE,
    ENSEMBLE_MEMBERS,
    KINDS,
    SIMPLICITY,
    SeriesPlan,
    check_arguments,
    check_series,
    choice_note,
    forecast_models,
    plan_groups,
    rank_key,
    series_plans,
)
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

__all__ = [
    "BASELINE",
    "ENSEMBLE",
    "KINDS",
    "SIMPLICITY",
    "Backtest",
    "backtest",
    "check_series",
    "forecast",
]


@dataclass(frozen=True)
class Backtest:
    """Result of :func:`backtest`.

    Attributes:
        cv: One row per series x model x origin x period: ``unique_id``, ``ds``, ``cutoff``,
            ``model``, ``y``, ``point``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95``.
        scores: One row per series x model: ``unique_id``, ``model``, ``mase`` (mean over
            origins), ``smape``, ``bias``, ``relative_bias``, ``coverage_80``, ``coverage_95``,
            ``n_points``, ``n_origins``.
        chosen: One row per series: ``unique_id``, ``model``, ``series_kind``, ``method_note``,
            ``scale_season`` (the season of its MASE scale: 12, or 1 for the month-before naive).
    """

    cv: pd.DataFrame
    scores: pd.DataFrame
    chosen: pd.DataFrame


def _model_objects(
    names: Sequence[str], kind: str, season_length: int, horizon: int, conformal: bool
) -> list[Any]:
    """statsforecast model instances for the given names (Ensemble is computed afterwards)."""
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        AutoARIMA,
        AutoETS,
        AutoTheta,
        CrostonOptimized,
        Naive,
        RandomWalkWithDrift,
        SeasonalNaive,
    )
    from statsforecast.utils import ConformalIntervals

    intervals = ConformalIntervals(h=horizon, n_windows=2) if conformal else None
    seasonal = season_length if kind == "seasonal" else 1
    factories = {
        "SeasonalNaive": lambda: SeasonalNaive(season_length=season_length),
        "Naive": Naive,
        "RandomWalkWithDrift": lambda: RandomWalkWithDrift(alias="RandomWalkWithDrift"),
        "AutoETS": lambda: AutoETS(season_length=seasonal),
        "AutoARIMA": lambda: AutoARIMA(season_length=seasonal),
        "AutoTheta": lambda: AutoTheta(season_length=seasonal),
        "CrostonOptimized": lambda: CrostonOptimized(prediction_intervals=intervals),
        "ADIDA": lambda: ADIDA(prediction_intervals=intervals),
        "IMAPA": lambda: IMAPA(prediction_intervals=intervals),
    }
    return [factories[name]() for name in names if name != ENSEMBLE]


def _to_long(wide: pd.DataFrame, models: Sequence[str], levels: Sequence[int]) -> pd.DataFrame:
    """statsforecast's wide output (one column per model and bound) as one row per model."""
    keys = [c for c in ("unique_id", "ds", "cutoff", "y") if c in wide.columns]
    parts = []
    for name in models:
        if name == ENSEMBLE:
            columns = {"point": wide[list(ENSEMBLE_MEMBERS)].mean(axis=1)}
            for level in levels:
                for side in ("lo", "hi"):
                    members = [f"{m}-{side}-{level}" for m in ENSEMBLE_MEMBERS]
                    columns[f"{side}_{level}"] = wide[members].mean(axis=1)
        else:
            columns = {"point": wide[name]}
            for level in levels:
                for side in ("lo", "hi"):
                    source = f"{name}-{side}-{level}"
                    columns[f"{side}_{level}"] = wide.get(source, np.nan)
        parts.append(wide[keys].assign(model=name, **columns))
    frame = pd.concat(parts, ignore_index=True)
    frame["unique_id"] = frame["unique_id"].astype(str)
    return frame


def _cross_validate(
    clean: pd.DataFrame,
    plans: dict[str, SeriesPlan],
    horizon: int,
    n_origins: int,
    season_length: int,
    levels: Sequence[int],
    n_jobs: int,
) -> pd.DataFrame:
    from statsforecast import StatsForecast

    frames = []
    for (kind, step, models, conformal), ids in plan_groups(plans).items():
        if kind == "untested":
            continue
        engine = StatsForecast(
            models=_model_objects(models, kind, season_length, horizon, conformal),
            freq="MS",
            n_jobs=n_jobs,
        )
        rows = clean[clean["unique_id"].isin(ids)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wide = engine.cross_validation(
                h=horizon, df=rows, n_windows=n_origins, step_size=step, level=list(levels)
            )
        frames.append(_to_long(wide, models, levels))
    bounds = [f"{side}_{level}" for level in levels for side in ("lo", "hi")]
    columns = ["unique_id", "ds", "cutoff", "model", "y", "point", *bounds]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns].sort_values(
        ["unique_id", "model", "cutoff", "ds"], ignore_index=True
    )


def _score(
    cv: pd.DataFrame, clean: pd.DataFrame, plans: dict[str, SeriesPlan], levels: Sequence[int]
) -> pd.DataFrame:
    """Score every series x model with :func:`~.metrics.backtest_scores` (the one MASE loop)."""
    history = {sid: rows.set_index("ds")["y"] for sid, rows in clean.groupby("unique_id")}
    records = [
        {
            "unique_id": series_id,
            "model": model,
            **backtest_scores(rows, history[series_id], plans[series_id].scale_season, levels),
        }
        for (series_id, model), rows in cv.groupby(["unique_id", "model"], sort=True)
    ]
    coverage = [f"coverage_{level}" for level in levels]
    columns = ["unique_id", "model", "mase", "smape", "bias", "relative_bias", *coverage]
    return pd.DataFrame(records, columns=[*columns, "n_points", "n_origins"])


def backtest(
    series: pd.DataFrame,
    horizon: int,
    n_origins: int = 3,
    season_length: int = 12,
    levels: Sequence[int] = (80, 95),
    n_jobs: int = 1,
) -> Backtest:
    """Rolling-origin backtest of every candidate model, and the model chosen per series.

    Origins are ``step_size`` months apart, where ``step_size`` is the largest spacing up to the
    horizon that still leaves the first origin with two seasons of training (seasonal series).
    MASE is computed per origin, scaled by the seasonal naive in-sample error of that origin's
    own training window (lag-1 naive for short series), then averaged over origins; the model
    with the lowest mean MASE is chosen, a tie going to the simpler model.

    Args:
        series: Long monthly series ``unique_id``, ``ds``, ``y`` (see :func:`check_series`).
        horizon: Months forecast from each origin (at least 1).
        n_origins: Number of backtest origins (at least 1).
        season_length: Months per season (12 = yearly).
        levels: Interval levels in percent.
        n_jobs: Worker processes for statsforecast (1 by default: the runner parallelises).

    Returns:
        A :class:`Backtest` with the ``cv``, ``scores`` and ``chosen`` frames.

    Raises:
        ParameterError: Bad series or arguments.
    """
    check_arguments(horizon, season_length, levels)
    if n_origins < 1:
        raise ParameterError(f"n_origins={n_origins}: must be at least 1")
    clean = check_series(series)
    plans = series_plans(clean, horizon, n_origins, season_length)
    cv = _cross_validate(clean, plans, horizon, n_origins, season_length, levels, n_jobs)
    scores = _score(cv, clean, plans, levels)
    chosen = []
    for series_id, rows in clean.groupby("unique_id", sort=True):
        plan, values = plans[series_id], rows["y"].to_numpy()
        own = scores[scores["unique_id"] == series_id]
        if own.empty:
            model = plan.models[0]
        else:
            ranked = sorted(own.itertuples(), key=lambda r: rank_key(r.model, r.mase))
            model = ranked[0].model
        note = choice_note(plan, len(values), values, own, model, n_origins)
        chosen.append(
            {
                "unique_id": series_id,
                "model": model,
                "series_kind": plan.kind,
                "method_note": note,
                "scale_season": plan.scale_season,
            }
        )
    return Backtest(cv=cv, scores=scores, chosen=pd.DataFrame(chosen))


def forecast(
    series: pd.DataFrame,
    horizon: int,
    chosen: pd.DataFrame,
    season_length: int = 12,
    levels: Sequence[int] = (80, 95),
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Forecast every candidate model of each series from its full history.

    The candidate set follows the series kind recorded in ``chosen``; SeasonalNaive is always
    included as the baseline when the series has at least one season of history.

    Args:
        series: Long monthly series ``unique_id``, ``ds``, ``y``.
        horizon: Months to forecast.
        chosen: :attr:`Backtest.chosen` (``unique_id``, ``model``, ``series_kind``).
        season_length: Months per season.
        levels: Interval levels in percent.
        n_jobs: Worker processes for statsforecast.

    Returns:
        A new forecast frame: ``unique_id``, ``ds``, ``model``, ``point``, ``lo_<level>``,
        ``hi_<level>`` for each level, ``is_chosen``.

    Raises:
        ParameterError: Bad series or arguments, or a series missing from ``chosen``.
    """
    from statsforecast import StatsForecast

    check_arguments(horizon, season_length, levels)
    require_columns(chosen, ["unique_id", "model", "series_kind"], "forecast chosen")
    clean = check_series(series)
    kinds = dict(zip(chosen["unique_id"].astype(str), chosen["series_kind"], strict=True))
    missing = sorted(set(clean["unique_id"]) - set(kinds))
    if missing:
        raise ParameterError(
            f"forecast: series {', '.join(map(repr, missing[:5]))} have no row in chosen; "
            "pass the chosen frame of a backtest over the same series"
        )
    groups: dict[tuple[Any, ...], list[str]] = {}
    for series_id, rows in clean.groupby("unique_id", sort=True):
        models = forecast_models(kinds[series_id], len(rows), horizon, season_length)
        conformal = kinds[series_id] == "intermittent" and len(rows) >= 2 * horizon + 1
        groups.setdefault((kinds[series_id], models, conformal), []).append(series_id)
    frames = []
    for (kind, models, conformal), ids in groups.items():
        engine = StatsForecast(
            models=_model_objects(models, kind, season_length, horizon, conformal),
            freq="MS",
            n_jobs=n_jobs,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wide = engine.forecast(
                h=horizon, df=clean[clean["unique_id"].isin(ids)], level=list(levels)
            )
        frames.append(_to_long(wide, models, levels))
    result = pd.concat(frames, ignore_index=True)
    picks = set(zip(chosen["unique_id"].astype(str), chosen["model"], strict=True))
    result["is_chosen"] = [
        pair in picks for pair in zip(result["unique_id"], result["model"], strict=True)
    ]
    bounds = [f"{side}_{level}" for level in levels for side in ("lo", "hi")]
    columns = ["unique_id", "ds", "model", "point", *bounds, "is_chosen"]
    return result[columns].sort_values(["unique_id", "model", "ds"], ignore_index=True)
