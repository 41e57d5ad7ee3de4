"""How each monthly series is backtested and which model wins: its kind, origins and candidates.

A series' *kind* fixes its candidate models (see :mod:`salesops_lib.analytics.forecasting.models`
for the list); :func:`check_series` validates the long series frame every forecast function
takes (one row per series x month: ``unique_id``, ``ds`` = first day of the month, ``y``).
Nothing here fits a model: this module decides *what* is fitted and explains the choice in one
plain-English sentence per series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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
class SeriesPlan:
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


def check_arguments(horizon: int, season_length: int, levels: Sequence[int]) -> None:
    if horizon < 1:
        raise ParameterError(f"horizon={horizon}: must be at least 1 month")
    if season_length < 1:
        raise ParameterError(f"season_length={season_length}: must be at least 1 (12 = yearly)")
    if not levels or any(not 0 < level < 100 for level in levels):
        raise ParameterError(f"levels={tuple(levels)}: each level must be between 1 and 99")


def step_size_for(length: int, horizon: int, n_origins: int, min_train: int) -> int | None:
    """The largest origin spacing (at most the horizon) keeping ``min_train`` months at the first
    origin, or None when even a spacing of one month does not fit."""
    spare = length - horizon - min_train
    if spare < n_origins - 1:
        return None
    if n_origins == 1:
        return horizon
    return max(1, min(horizon, spare // (n_origins - 1)))


def plan_series(values: np.ndarray, horizon: int, n_origins: int, season_length: int) -> SeriesPlan:
    """Pick the kind, origin spacing and candidate models of one series."""
    length = len(values)

    def layout(min_train: int) -> tuple[int, int] | None:
        step = step_size_for(length, horizon, n_origins, min_train)
        if step is None:
            return None
        return step, length - horizon - step * (n_origins - 1)

    def baseline(first_train: int) -> str:
        return BASELINE if first_train > season_length else "Naive"

    simple = layout(2)
    if simple is None:
        return SeriesPlan("untested", 0, length, 1, ("Naive",), False)
    if np.all(values == values[0]):
        step, first = simple
        base = baseline(first)
        return SeriesPlan(
            "constant", step, first, season_length if base == BASELINE else 1, (base,), False
        )
    if np.mean(values == 0.0) >= INTERMITTENT_ZERO_SHARE:
        conformal = layout(2 * horizon + 1)
        step, first = conformal or simple
        base = baseline(first)
        models = (base, "CrostonOptimized", "ADIDA", "IMAPA")
        scale = season_length if base == BASELINE else 1
        return SeriesPlan("intermittent", step, first, scale, models, conformal is not None)
    seasonal = layout(2 * season_length) if season_length > 1 else None
    if seasonal is not None:
        step, first = seasonal
        models = (BASELINE, *ENSEMBLE_MEMBERS, ENSEMBLE)
        return SeriesPlan("seasonal", step, first, season_length, models, False)
    short = layout(MIN_SHORT_TRAIN)
    if short is None:
        return SeriesPlan("untested", 0, length, 1, ("Naive",), False)
    step, first = short
    models = ("Naive", "RandomWalkWithDrift", "AutoETS")
    if first > season_length > 1:
        models = (BASELINE, *models)
    return SeriesPlan("short", step, first, 1, models, False)


def series_plans(
    clean: pd.DataFrame, horizon: int, n_origins: int, season_length: int
) -> dict[str, SeriesPlan]:
    return {
        series_id: plan_series(rows["y"].to_numpy(), horizon, n_origins, season_length)
        for series_id, rows in clean.groupby("unique_id", sort=True)
    }


def plan_groups(plans: dict[str, SeriesPlan]) -> dict[tuple[Any, ...], list[str]]:
    """Series that share kind, spacing and model set, so statsforecast fits them in one call."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for series_id, plan in plans.items():
        key = (plan.kind, plan.step_size, plan.models, plan.conformal)
        groups.setdefault(key, []).append(series_id)
    return groups


def rank_key(model: str, mean_mase: float) -> tuple[float, int]:
    # MASE is NaN only when both the errors and the scale are zero: a perfect forecast.
    return (0.0 if np.isnan(mean_mase) else round(mean_mase, 9), SIMPLICITY.get(model, 99))


def choice_note(
    plan: SeriesPlan,
    length: int,
    values: np.ndarray,
    scores: pd.DataFrame,
    chosen: str,
    n_origins: int,
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


def forecast_models(kind: str, length: int, horizon: int, season_length: int) -> tuple[str, ...]:
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
