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

from salesops_lib.analytics.forecasting.metrics import (
    bias,
    interval_coverage,
    mase,
    relative_bias,
    smape,
)
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

ENSEMBLE = "Ensemble"
ENSEMBLE_MEMBERS = ("AutoETS", "AutoARIMA", "AutoTheta")
BASELINE = "SeasonalNaive"
INTERMITTENT_ZERO_SHARE = 0.3
"""A series with at least this share of zero months is treated as intermittent."""
SIMPLICITY = {
    name: rank
    for rank, name in enumerate(
        (
            "SeasonalNaive",
            "Naive",
            "RandomWalkWithDrift",
            "CrostonOptimized",
            "ADIDA",
            "IMAPA",
            "AutoETS",
            "AutoTheta",
            "AutoARIMA",
            "Ensemble",
        )
    )
}
"""Tie-break order for model choice: a simpler model wins a tie on MASE."""
KINDS = ("seasonal", "short", "intermittent", "constant", "untested")
MIN_SHORT_TRAIN = 8
"""Fewest training months at the first origin for a non-seasonal backtest (AutoETS needs 7)."""


@dataclass(frozen=True)
class Backtest:
    """Result of :func:`backtest`.

    Attributes:
        cv: One row per series x model x origin x period: ``unique_id``, ``ds``, ``cutoff``,
            ``model``, ``y``, ``point``, ``lo_80``, ``hi_80``, ``lo_95``, ``hi_95``.
        scores: One row per series x model: ``unique_id``, ``model``, ``mase`` (mean over
            origins), ``smape``, ``bias``, ``relative_bias``, ``coverage_80``, ``coverage_95``,
            ``n_points``, ``n_origins``.
        chosen: One row per series: ``unique_id``, ``model``, ``series_kind``, ``method_note``.
    """

    cv: pd.DataFrame
    scores: pd.DataFrame
    chosen: pd.DataFrame


@dataclass(frozen=True)
class _Plan:
    """How one series is backtested: its kind, origin spacing and candidate models."""

    kind: str
    step_size: int
    first_train: int
    scale_season: int
    models: tuple[str, ...]
    conformal: bool


def check_series(series: pd.DataFrame, where: str = "series") -> pd.DataFrame:
    """Validate a long frame of monthly series and return a clean sorted copy.

    Args:
        series: Columns ``unique_id``, ``ds`` (first day of each month), ``y``.
        where: Name of the frame for error messages.

    Returns:
        A new frame with ``unique_id`` as str, ``ds`` as Timestamp, ``y`` as float, sorted.

    Raises:
        ParameterError: Missing column, empty frame, unparsable or non-month-start date,
            duplicate (unique_id, ds), missing month inside a series, NaN or infinite y.
    """
    require_columns(series, ["unique_id", "ds", "y"], where)
    if series.empty:
        raise ParameterError(f"{where}: no rows; pass at least one month of one series")
    try:
        ds = pd.to_datetime(series["ds"])
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{where}: column ds has a value that is not a date ({exc})") from exc
    y = pd.to_numeric(series["y"], errors="coerce").astype(float)
    frame = pd.DataFrame({"unique_id": series["unique_id"].astype(str), "ds": ds, "y": y})
    not_month_start = frame[frame["ds"] != frame["ds"].dt.to_period("M").dt.to_timestamp()]
    if not not_month_start.empty:
        row = not_month_start.iloc[0]
        raise ParameterError(
            f"{where}: ds must be the first day of a month; series {row.unique_id!r} has "
            f"{row.ds.date()} (map dates to their month start first)"
        )
    bad_y = frame[~np.isfinite(frame["y"])]
    if not bad_y.empty:
        row = bad_y.iloc[0]
        raise ParameterError(
            f"{where}: y is missing or not a finite number for series {row.unique_id!r} at "
            f"{row.ds.date()} ({len(bad_y)} row(s)); fill months with no bookings with 0"
        )
    duplicated = frame[frame.duplicated(["unique_id", "ds"], keep=False)]
    if not duplicated.empty:
        row = duplicated.iloc[0]
        raise ParameterError(
            f"{where}: {len(duplicated)} rows repeat a (unique_id, ds) pair, e.g. series "
            f"{row.unique_id!r} at {row.ds.date()}; sum or drop them so each month appears once"
        )
    frame = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    for series_id, rows in frame.groupby("unique_id", sort=False):
        expected = pd.date_range(rows["ds"].iloc[0], rows["ds"].iloc[-1], freq="MS")
        if len(expected) != len(rows):
            missing = expected.difference(pd.DatetimeIndex(rows["ds"]))[0]
            raise ParameterError(
                f"{where}: series {series_id!r} has no row for {missing.date()}; series must "
                "have one row per month with no gaps (fill months with no bookings with 0)"
            )
    return frame


def _check_arguments(horizon: int, season_length: int, levels: Sequence[int]) -> None:
    if horizon < 1:
        raise ParameterError(f"horizon={horizon}: must be at least 1 month")
    if season_length < 1:
        raise ParameterError(f"season_length={season_length}: must be at least 1 (12 = yearly)")
    if not levels or any(not 0 < level < 100 for level in levels):
        raise ParameterError(f"levels={tuple(levels)}: each level must be between 1 and 99")


def _step_size(length: int, horizon: int, n_origins: int, min_train: int) -> int | None:
    """The largest origin spacing (at most the horizon) keeping ``min_train`` months at the first
    origin, or None when even a spacing of one month does not fit."""
    spare = length - horizon - min_train
    if spare < n_origins - 1:
        return None
    if n_origins == 1:
        return horizon
    return max(1, min(horizon, spare // (n_origins - 1)))


def _plan(values: np.ndarray, horizon: int, n_origins: int, season_length: int) -> _Plan:
    """Pick the kind, origin spacing and candidate models of one series."""
    length = len(values)

    def layout(min_train: int) -> tuple[int, int] | None:
        step = _step_size(length, horizon, n_origins, min_train)
        if step is None:
            return None
        return step, length - horizon - step * (n_origins - 1)

    def baseline(first_train: int) -> str:
        return BASELINE if first_train > season_length else "Naive"

    simple = layout(2)
    if simple is None:
        return _Plan("untested", 0, length, 1, ("Naive",), False)
    if np.all(values == values[0]):
        step, first = simple
        base = baseline(first)
        return _Plan(
            "constant", step, first, season_length if base == BASELINE else 1, (base,), False
        )
    if np.mean(values == 0.0) >= INTERMITTENT_ZERO_SHARE:
        conformal = layout(2 * horizon + 1)
        step, first = conformal or simple
        base = baseline(first)
        models = (base, "CrostonOptimized", "ADIDA", "IMAPA")
        scale = season_length if base == BASELINE else 1
        return _Plan("intermittent", step, first, scale, models, conformal is not None)
    seasonal = layout(2 * season_length) if season_length > 1 else None
    if seasonal is not None:
        step, first = seasonal
        models = (BASELINE, *ENSEMBLE_MEMBERS, ENSEMBLE)
        return _Plan("seasonal", step, first, season_length, models, False)
    short = layout(MIN_SHORT_TRAIN)
    if short is None:
        return _Plan("untested", 0, length, 1, ("Naive",), False)
    step, first = short
    models = ("Naive", "RandomWalkWithDrift", "AutoETS")
    if first > season_length > 1:
        models = (BASELINE, *models)
    return _Plan("short", step, first, 1, models, False)


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


def _plans(
    clean: pd.DataFrame, horizon: int, n_origins: int, season_length: int
) -> dict[str, _Plan]:
    return {
        series_id: _plan(rows["y"].to_numpy(), horizon, n_origins, season_length)
        for series_id, rows in clean.groupby("unique_id", sort=True)
    }


def _groups(plans: dict[str, _Plan]) -> dict[tuple[Any, ...], list[str]]:
    """Series that share kind, spacing and model set, so statsforecast fits them in one call."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for series_id, plan in plans.items():
        key = (plan.kind, plan.step_size, plan.models, plan.conformal)
        groups.setdefault(key, []).append(series_id)
    return groups


def _cross_validate(
    clean: pd.DataFrame,
    plans: dict[str, _Plan],
    horizon: int,
    n_origins: int,
    season_length: int,
    levels: Sequence[int],
    n_jobs: int,
) -> pd.DataFrame:
    from statsforecast import StatsForecast

    frames = []
    for (kind, step, models, conformal), ids in _groups(plans).items():
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
    cv: pd.DataFrame, clean: pd.DataFrame, plans: dict[str, _Plan], levels: Sequence[int]
) -> pd.DataFrame:
    """MASE per origin (scaled on that origin's training window), then pooled metrics."""
    history = {sid: rows.set_index("ds")["y"] for sid, rows in clean.groupby("unique_id")}
    records = []
    for (series_id, model), rows in cv.groupby(["unique_id", "model"], sort=True):
        plan = plans[series_id]
        per_origin = [
            mase(
                part["y"].to_numpy(),
                part["point"].to_numpy(),
                history[series_id].loc[:cutoff].to_numpy(),
                plan.scale_season,
            )
            for cutoff, part in rows.groupby("cutoff", sort=True)
        ]
        actual, point = rows["y"].to_numpy(), rows["point"].to_numpy()
        record = {
            "unique_id": series_id,
            "model": model,
            "mase": float(np.mean(per_origin)),
            "smape": smape(actual, point),
            "bias": bias(actual, point),
            "relative_bias": relative_bias(actual, point),
        }
        for level in levels:
            lower, upper = rows[f"lo_{level}"].to_numpy(), rows[f"hi_{level}"].to_numpy()
            covered = np.nan
            if np.isfinite(lower).all() and np.isfinite(upper).all():
                covered = interval_coverage(actual, lower, upper)
            record[f"coverage_{level}"] = covered
        record["n_points"] = len(rows)
        record["n_origins"] = len(per_origin)
        records.append(record)
    coverage = [f"coverage_{level}" for level in levels]
    columns = ["unique_id", "model", "mase", "smape", "bias", "relative_bias", *coverage]
    return pd.DataFrame(records, columns=[*columns, "n_points", "n_origins"])


def _rank_key(model: str, mean_mase: float) -> tuple[float, int]:
    # MASE is NaN only when both the errors and the scale are zero: a perfect forecast.
    return (0.0 if np.isnan(mean_mase) else round(mean_mase, 9), SIMPLICITY.get(model, 99))


def _note(
    plan: _Plan, length: int, values: np.ndarray, scores: pd.DataFrame, chosen: str, n_origins: int
) -> str:
    """One plain-English sentence saying how a series was forecast and why."""
    if plan.kind == "untested":
        return (
            f"Only {length} months of history: too short to backtest, so the forecast repeats "
            "the last month (naive) and is not backtested."
        )
    if plan.kind == "constant":
        return (
            f"Every one of the {length} months has the same value ({values[0]:,.0f}), so the "
            "forecast repeats it with zero-width ranges."
        )
    mase_of = scores.set_index("model")["mase"]
    origins = f"{n_origins}-origin backtest"
    if plan.kind == "intermittent":
        ranges = (
            "ranges are conformal (from past forecast errors)"
            if plan.conformal
            else "history is too short for conformal ranges, so none are shown"
        )
        return (
            f"{np.mean(values == 0.0):.0%} of months are zero, so intermittent-demand methods "
            f"(Croston, ADIDA, IMAPA) were compared in a {origins}; {chosen} was chosen "
            f"(MASE {mase_of[chosen]:.2f}); {ranges}."
        )
    if plan.kind == "short":
        return (
            f"Only {length} months of history (under two seasons plus the horizon), so "
            f"non-seasonal methods were compared in a {origins} with MASE scaled by the "
            f"month-to-month naive error; {chosen} was chosen (MASE {mase_of[chosen]:.2f})."
        )
    compared = (
        f"{length} months of history: seasonal naive, ETS, ARIMA, Theta and their ensemble were "
        f"compared in a {origins}"
    )
    if chosen == BASELINE:
        return (
            f"{compared}; no model beat seasonal naive (repeating last year, MASE "
            f"{mase_of[chosen]:.2f}), so it is used."
        )
    return (
        f"{compared}; {chosen} was chosen (MASE {mase_of[chosen]:.2f} against seasonal naive "
        f"{mase_of[BASELINE]:.2f})."
    )


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
    _check_arguments(horizon, season_length, levels)
    if n_origins < 1:
        raise ParameterError(f"n_origins={n_origins}: must be at least 1")
    clean = check_series(series)
    plans = _plans(clean, horizon, n_origins, season_length)
    cv = _cross_validate(clean, plans, horizon, n_origins, season_length, levels, n_jobs)
    scores = _score(cv, clean, plans, levels)
    chosen = []
    for series_id, rows in clean.groupby("unique_id", sort=True):
        plan, values = plans[series_id], rows["y"].to_numpy()
        own = scores[scores["unique_id"] == series_id]
        if own.empty:
            model = plan.models[0]
        else:
            ranked = sorted(own.itertuples(), key=lambda r: _rank_key(r.model, r.mase))
            model = ranked[0].model
        note = _note(plan, len(values), values, own, model, n_origins)
        chosen.append(
            {"unique_id": series_id, "model": model, "series_kind": plan.kind, "method_note": note}
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

    _check_arguments(horizon, season_length, levels)
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
        models = _forecast_models(kinds[series_id], len(rows), horizon, season_length)
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


def _forecast_models(kind: str, length: int, horizon: int, season_length: int) -> tuple[str, ...]:
    """Candidate models for a final forecast of one series of the given kind and length."""
    if kind not in KINDS:
        raise ParameterError(f"forecast chosen: series_kind {kind!r} is not one of {KINDS}")
    baseline = (BASELINE,) if length > season_length else ()
    if kind == "seasonal":
        return (BASELINE, *ENSEMBLE_MEMBERS, ENSEMBLE)
    if kind == "short":
        return (*baseline, "Naive", "RandomWalkWithDrift", "AutoETS")
    if kind == "intermittent":
        return (*baseline, "Naive", "CrostonOptimized", "ADIDA", "IMAPA")
    return (*baseline, "Naive")
