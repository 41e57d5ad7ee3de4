"""Forecast accuracy metrics: MASE, sMAPE, bias, interval coverage and Brier score.

Every metric function takes plain sequences of numbers (one value per period or per event) and
returns a float. Inputs are never mutated.

MASE is defined here once for every caller (the backtest, the bottom-up total's backtest, the
forecast ledger and ``salesops forecast-eval``): :func:`naive_scale` decides the scale of a
training history, :func:`scaled_error` divides by it, and :func:`backtest_scores` is the one
scoring loop over backtest rows (each origin scaled by its own training window).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from salesops_lib.core.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd


def _array(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ParameterError(f"{name}: expected a non-empty 1-D sequence of numbers")
    return array


def _paired(actual: Sequence[float], forecast: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = _array(actual, "actual")
    f = _array(forecast, "forecast")
    if y.size != f.size:
        raise ParameterError(
            f"actual has {y.size} values but forecast has {f.size}; they must pair up"
        )
    return y, f


def seasonal_naive_scale(insample: Sequence[float], season_length: int) -> float:
    """Mean absolute error of the in-sample seasonal naive forecast y[t] = y[t - m].

    Args:
        insample: Training history, oldest first.
        season_length: Season length m (12 for monthly data with yearly seasonality).

    Returns:
        The mean of |y[t] - y[t - m]| over t = m .. n-1.
    """
    y = _array(insample, "insample")
    if season_length < 1 or y.size <= season_length:
        raise ParameterError(
            f"insample has {y.size} values; MASE needs more than season_length={season_length}"
        )
    return float(np.mean(np.abs(y[season_length:] - y[:-season_length])))


def naive_scale(insample: Sequence[float], season_length: int) -> float:
    """The MASE denominator of a training history: the in-sample naive forecast's mean error.

    The seasonal naive (``season_length`` back) when the history is longer than one season;
    the month-before naive for a shorter history of at least two values; 0 for a single value.
    This is the one place where the MASE scale of a series is decided.

    Args:
        insample: Training history, oldest first.
        season_length: Season length m (12 for monthly data; 1 for the month-before naive).

    Returns:
        The mean absolute error of that naive forecast over the history.
    """
    y = _array(insample, "insample")
    if y.size > season_length:
        return seasonal_naive_scale(y, season_length)
    if y.size > 1:
        return seasonal_naive_scale(y, 1)
    return 0.0


def scaled_error(mean_absolute_error: float, scale: float) -> float:
    """An error divided by a MASE scale: ``inf`` for a zero scale, ``nan`` if both are zero."""
    if scale == 0.0:
        return float("nan") if mean_absolute_error == 0.0 else float("inf")
    return mean_absolute_error / scale


def mase(
    actual: Sequence[float],
    forecast: Sequence[float],
    insample: Sequence[float],
    season_length: int,
) -> float:
    """Mean absolute scaled error: out-of-sample MAE over the in-sample seasonal-naive MAE.

    Args:
        actual: Realised values over the forecast horizon.
        forecast: Point forecasts for the same periods.
        insample: Training history used to compute the scale.
        season_length: Season length m of the naive scale.

    Returns:
        MASE; ``inf`` if the scale is zero and the errors are not, ``nan`` if both are zero.
    """
    y, f = _paired(actual, forecast)
    mae = float(np.mean(np.abs(y - f)))
    return scaled_error(mae, seasonal_naive_scale(insample, season_length))


def smape(actual: Sequence[float], forecast: Sequence[float]) -> float:
    """Symmetric MAPE in percent: mean of 200 * |y - f| / (|y| + |f|).

    A period where both the actual and the forecast are zero is a perfect forecast and
    counts as 0 (the 0/0 case is defined as zero error).

    Args:
        actual: Realised values.
        forecast: Point forecasts for the same periods.

    Returns:
        sMAPE between 0 and 200.
    """
    y, f = _paired(actual, forecast)
    denominator = np.abs(y) + np.abs(f)
    numerator = 200.0 * np.abs(y - f)
    terms = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    return float(np.mean(terms))


def bias(actual: Sequence[float], forecast: Sequence[float]) -> float:
    """Mean error forecast - actual (positive means over-forecasting).

    Args:
        actual: Realised values.
        forecast: Point forecasts for the same periods.

    Returns:
        The mean of f - y.
    """
    y, f = _paired(actual, forecast)
    return float(np.mean(f - y))


def relative_bias(actual: Sequence[float], forecast: Sequence[float]) -> float:
    """Total forecast error relative to total actuals: sum(f - y) / sum(|y|).

    Args:
        actual: Realised values.
        forecast: Point forecasts for the same periods.

    Returns:
        The relative bias (0.1 = forecasts 10% too high); ``nan`` if all actuals are zero.
    """
    y, f = _paired(actual, forecast)
    total = float(np.sum(np.abs(y)))
    if total == 0.0:
        return float("nan")
    return float(np.sum(f - y)) / total


def interval_coverage(
    actual: Sequence[float], lower: Sequence[float], upper: Sequence[float]
) -> float:
    """Share of actuals inside their closed prediction interval [lower, upper].

    Args:
        actual: Realised values.
        lower: Lower interval bounds for the same periods.
        upper: Upper interval bounds for the same periods.

    Returns:
        Coverage between 0 and 1.
    """
    y, lo = _paired(actual, lower)
    _, hi = _paired(actual, upper)
    return float(np.mean((y >= lo) & (y <= hi)))


def brier_score(outcome: Sequence[float], probability: Sequence[float]) -> float:
    """Mean squared difference between predicted probabilities and 0/1 outcomes.

    Args:
        outcome: Observed outcomes, each 0 or 1.
        probability: Predicted probabilities of outcome 1, each in [0, 1].

    Returns:
        The Brier score (0 is perfect).
    """
    o, p = _paired(outcome, probability)
    if not np.isin(o, (0.0, 1.0)).all():
        raise ParameterError("outcome: every value must be 0 or 1")
    if ((p < 0.0) | (p > 1.0)).any():
        raise ParameterError("probability: every value must be between 0 and 1")
    return float(np.mean((p - o) ** 2))


def backtest_scores(
    rows: pd.DataFrame,
    history: pd.Series,
    season_length: int,
    levels: Sequence[int] = (80, 95),
) -> dict[str, Any]:
    """Score one series x model's backtest rows: the one scoring loop every backtest uses.

    MASE is computed per origin (``cutoff``), scaled by :func:`naive_scale` of that origin's own
    training window (the history up to and including the cutoff), then averaged over origins.
    sMAPE, bias, relative bias and interval coverage pool every row.

    Args:
        rows: Backtest rows of one series and model: ``cutoff``, ``y``, ``point`` and
            ``lo_<level>`` / ``hi_<level>`` for each level.
        history: The series' values indexed by month (``ds``), oldest first.
        season_length: Season of the MASE scale (12, or 1 for the month-before naive).
        levels: Interval levels in percent.

    Returns:
        ``mase``, ``smape``, ``bias``, ``relative_bias``, ``coverage_<level>`` (NaN when a
        bound is missing or infinite), ``n_points`` and ``n_origins``.
    """
    per_origin = []
    for cutoff, part in rows.groupby("cutoff", sort=True):
        actual, point = part["y"].to_numpy(), part["point"].to_numpy()
        error = float(np.mean(np.abs(actual - point)))
        scale = naive_scale(history.loc[:cutoff].to_numpy(), season_length)
        per_origin.append(scaled_error(error, scale))
    actual, point = rows["y"].to_numpy(), rows["point"].to_numpy()
    record: dict[str, Any] = {
        "mase": float(np.mean(per_origin)),
        "smape": smape(actual, point),
        "bias": bias(actual, point),
        "relative_bias": relative_bias(actual, point),
    }
    for level in levels:
        lower = rows[f"lo_{level}"].to_numpy(dtype=float)
        upper = rows[f"hi_{level}"].to_numpy(dtype=float)
        covered = float("nan")
        if np.isfinite(lower).all() and np.isfinite(upper).all():
            covered = interval_coverage(actual, lower, upper)
        record[f"coverage_{level}"] = covered
    record["n_points"] = len(rows)
    record["n_origins"] = len(per_origin)
    return record
