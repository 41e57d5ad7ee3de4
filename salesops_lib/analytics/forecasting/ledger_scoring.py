"""Score the forecast ledger's earlier forecasts against what was booked since.

One scored row is one ledger forecast (as-of x series x month x model) whose month is now
complete, with its actual, its error, its scaled error (the error over the series' MASE scale
stored at forecast time, :func:`~salesops_lib.analytics.forecasting.metrics.naive_scale`) and
whether the actual fell inside its ranges. Accuracy tables pool scored rows per series (and
over every series) and role (the chosen model, or the seasonal-naive baseline made at the same
time) by months ahead or by forecast date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting import metrics as forecast_metrics
from salesops_lib.analytics.forecasting.ledger import (
    ALL_SERIES,
    BASELINE_MODEL,
    CHOSEN_ROLE,
    INTERVAL_COLUMNS,
    LEDGER_COLUMNS,
    LEDGER_KEY,
    iso_date,
)
from salesops_lib.analytics.forecasting.series import first_incomplete_period
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns


def _inside(y: pd.Series, lower: pd.Series, upper: pd.Series) -> pd.Series:
    """Whether each actual lies in its closed interval; missing where the model has none."""
    inside = pd.Series((y >= lower) & (y <= upper), index=y.index, dtype="boolean")
    return inside.mask(lower.isna() | upper.isna())


def _smape_terms(y: pd.Series, point: pd.Series) -> pd.Series:
    """Each row's sMAPE term (``forecast_metrics.smape`` of that one period), 0 to 200."""
    terms = [forecast_metrics.smape([a], [f]) for a, f in zip(y, point, strict=True)]
    return pd.Series(terms, index=y.index, dtype="float64")


def score_forecasts(
    ledger: pd.DataFrame, actuals: pd.DataFrame, as_of: str | dt.date
) -> pd.DataFrame:
    """Score ledger forecasts made before ``as_of`` whose month is complete and has an actual.

    Args:
        ledger: Rows from :func:`load_ledger`.
        actuals: Long monthly actuals ``unique_id``, ``ds``, ``y`` (as from
            ``monthly_series_from_bookings`` at ``as_of``); months from the as-of month on are
            incomplete and ignored.
        as_of: The scoring date: only forecasts recorded at an earlier as-of are scored.

    Returns:
        A new frame: the scored ledger rows plus ``y``, ``error`` (point - y),
        ``abs_scaled_error`` (|error| / mase_scale; ``inf`` for a zero scale, ``nan`` if the
        error is zero too), ``ape`` (the row's sMAPE term, 0 to 200), ``in_80`` and ``in_95``
        (missing where the model has no interval).
    """
    scoring_date = iso_date(as_of, "score_forecasts")
    require_columns(ledger, LEDGER_COLUMNS, "score_forecasts: ledger")
    require_columns(actuals, ["unique_id", "ds", "y"], "score_forecasts: actuals")
    first_incomplete = first_incomplete_period(scoring_date, "M")
    complete = actuals.loc[
        (pd.to_datetime(actuals["ds"]) < first_incomplete) & actuals["y"].notna(),
        ["unique_id", "ds", "y"],
    ].assign(ds=lambda f: pd.to_datetime(f["ds"]).astype("datetime64[ns]"))
    if complete.duplicated(["unique_id", "ds"]).any():
        raise ParameterError("score_forecasts: actuals: one row per unique_id x ds expected")
    earlier = ledger[(ledger["as_of"] < scoring_date) & (ledger["ds"] < first_incomplete)]
    scored = earlier.merge(complete, on=["unique_id", "ds"], how="inner", validate="many_to_one")
    y = scored["y"].astype("float64")
    error = scored["point"] - y
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = error.abs() / scored["mase_scale"]
    return scored.assign(
        y=y,
        error=error,
        abs_scaled_error=scaled,
        ape=_smape_terms(y, scored["point"]),
        in_80=_inside(y, scored["lo_80"], scored["hi_80"]),
        in_95=_inside(y, scored["lo_95"], scored["hi_95"]),
    ).sort_values([*LEDGER_KEY], ignore_index=True)


def _with_roles(scored: pd.DataFrame) -> pd.DataFrame:
    """Rows of the chosen model (role ``chosen``) and of the seasonal-naive baseline."""
    chosen = scored[scored["is_chosen"]].assign(role=CHOSEN_ROLE)
    baseline = scored[scored["model"] == BASELINE_MODEL].assign(role=BASELINE_MODEL)
    return pd.concat([chosen, baseline], ignore_index=True)


def _group_metrics(rows: dict[str, np.ndarray]) -> dict[str, float | int]:
    """Metrics of one group of scored rows (numpy columns), via ``forecast_metrics``."""
    metrics: dict[str, float | int] = {
        "n_forecasts": len(rows["y"]),
        "mase": float(np.mean(rows["abs_scaled_error"])),
        "smape": forecast_metrics.smape(rows["y"], rows["point"]),
        "bias": forecast_metrics.bias(rows["y"], rows["point"]),
    }
    for level in (80, 95):
        lower, upper = rows[f"lo_{level}"], rows[f"hi_{level}"]
        has_interval = ~(np.isnan(lower) | np.isnan(upper))
        metrics[f"coverage_{level}"] = (
            forecast_metrics.interval_coverage(
                rows["y"][has_interval], lower[has_interval], upper[has_interval]
            )
            if has_interval.any()
            else float("nan")
        )
    return metrics


def _accuracy(scored: pd.DataFrame, key: str) -> pd.DataFrame:
    """Metrics per series (and over every series pooled) x role x ``key``.

    MASE is the mean ``abs_scaled_error``; sMAPE, bias and coverage are
    ``forecast_metrics.smape``, ``bias`` and ``interval_coverage`` of the group's rows.
    """
    roles = _with_roles(scored)
    values = ["y", "point", "abs_scaled_error", *INTERVAL_COLUMNS]
    output = []
    for level, frame in (("series", roles), (ALL_SERIES, roles.assign(unique_id=None))):
        ordered = frame.sort_values(["unique_id", "role", key], kind="stable", ignore_index=True)
        keys = ordered[["unique_id", "role", key]]
        starts = np.flatnonzero(
            ~keys.fillna({"unique_id": ""}).eq(keys.fillna({"unique_id": ""}).shift()).all(axis=1)
        )
        ends = [*starts[1:], len(ordered)]
        arrays = {column: ordered[column].to_numpy(dtype="float64") for column in values}
        for start, end in zip(starts, ends, strict=True):
            first = keys.iloc[start]
            group = {column: array[start:end] for column, array in arrays.items()}
            output.append(
                {"level": level, "unique_id": first["unique_id"], "role": first["role"]}
                | {key: first[key]}
                | _group_metrics(group)
            )
    columns = ["level", "unique_id", "role", key, "n_forecasts", "mase", "smape", "bias"]
    return pd.DataFrame(output, columns=[*columns, "coverage_80", "coverage_95"])


def accuracy_by_horizon(scored: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of the chosen model and the seasonal-naive baseline per horizon.

    MASE is the mean of ``abs_scaled_error`` (each error scaled by its own series' in-sample
    seasonal-naive MAE, so series of any size pool fairly); sMAPE, bias (mean forecast -
    actual) and interval coverage are :mod:`salesops_lib.analytics.forecasting.metrics`'s on the
    same
    rows. Coverage counts only rows with an interval (``NaN`` if none has one). A row whose
    model is both chosen and ``SeasonalNaive`` counts in both roles.

    Args:
        scored: Rows from :func:`score_forecasts`.

    Returns:
        A new long frame: ``level`` (``series``, or ``overall`` = every series pooled, with
        ``unique_id`` missing), ``unique_id``, ``role`` (``chosen`` or ``SeasonalNaive``),
        ``horizon``, ``n_forecasts``, ``mase``, ``smape``, ``bias``, ``coverage_80``,
        ``coverage_95``.
    """
    require_columns(scored, ["y", "abs_scaled_error", "horizon"], "accuracy_by_horizon: scored")
    return _accuracy(scored, "horizon")


def accuracy_over_time(scored: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of the chosen model and the seasonal-naive baseline per forecast as-of date.

    Each as-of pools every scored horizon of the forecasts made on that date (for a chart of
    accuracy over time); metrics as in :func:`accuracy_by_horizon`.

    Args:
        scored: Rows from :func:`score_forecasts`.

    Returns:
        A new long frame: ``level``, ``unique_id``, ``role``, ``as_of``, ``n_forecasts``,
        ``mase``, ``smape``, ``bias``, ``coverage_80``, ``coverage_95``.
    """
    require_columns(scored, ["y", "abs_scaled_error", "as_of"], "accuracy_over_time: scored")
    return _accuracy(scored, "as_of")
