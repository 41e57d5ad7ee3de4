"""The statistical forecast of every report scope, as the tables the analytics store holds.

A *scope* is what one report shows: a region id (that region's series alone) or ``all`` (every
region plus the company total, shown bottom-up). Each modelled series (each region, and the
company ``total``) is backtested, its model chosen and forecast exactly once
(:func:`fit_series`, fanned out one series per task); a region's rows are then copied into its
own scope and into ``all``, so a region's numbers are the same in both reports by construction.

Tables (every one has a ``scope`` column; :data:`SCHEMAS` lists the columns):

* ``an_forecast_backtest_points``: one row per scope x series x model x backtest origin x month
  (``cutoff``, ``ds``, actual ``y``, ``point`` and bounds); ``all`` adds the bottom-up total's
  rows (series ``total``, model ``BottomUp``).
* ``an_forecast_backtest_scores``: one row per scope x series x model: MASE, sMAPE, bias,
  coverage (:func:`~salesops_lib.analytics.forecasting.metrics.backtest_scores`).
* ``an_forecast_model_choices``: one row per scope x series: the chosen model, the series kind,
  a plain-English note, the season of its MASE scale and the ledger's ``mase_scale``.
* ``an_forecast_model_months``: one row per scope x series x forecast month x candidate model
  (raw points and bounds, ``is_chosen``): what the forecast ledger records.
* ``an_forecast_months``: one row per scope x shown series x forecast month: the coherent
  numbers a report shows (``level`` = ``total`` bottom-up, ``region`` = a region's chosen model
  with points and bounds floored at 0, ``family`` = a region split by family shares).
* ``an_forecast_history_months``: one row per scope x month: the booked history of the scope's
  series (complete months: a month is complete when its last day is on or before as-of).
* ``an_forecast_quarters``: one row per scope x quarter (this quarter and the next): booked to
  date (complete months plus the as-of month's bookings so far) + the forecast of the rest, the
  80% and 95% ranges, the target and the gap to it.

**Month to date.** The incomplete as-of month is forecast as a whole month, and a region's point
and bounds are never below what it has booked so far plus the month's own forecast pro rata for
the days still to come (a month running ahead of its forecast still books in its last days; the
company's month is the sum of its regions'): the quarter is booked-to-date plus a forecast of
the rest, never below what is booked, and its ``booked`` equals the pipeline section's "closed
so far".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salesops_lib.analytics.forecasting import coherence
from salesops_lib.analytics.forecasting.ledger import ledger_scales
from salesops_lib.analytics.forecasting.metrics import backtest_scores
from salesops_lib.analytics.forecasting.series import TOTAL_SERIES_ID, first_incomplete_period
from salesops_lib.analytics.performance.attainment import period_bounds
from salesops_lib.core.config import ALL_REGIONS

DEFAULT_HORIZON = 6
"""Months forecast in the store (the report's default horizon)."""
MAX_HORIZON = 24
LEVELS: tuple[int, ...] = (80, 95)
BACKTEST_ORIGINS = 3
SEASON_LENGTH = 12
BOUNDS = list(coherence.BOUNDS)
_TEXT = "string"
_DATE = "datetime64[ns]"
SCHEMAS: dict[str, dict[str, str]] = {
    "an_forecast_backtest_points": {
        "scope": _TEXT, "unique_id": _TEXT, "model": _TEXT, "cutoff": _DATE, "ds": _DATE,
        "y": "float64", "point": "float64", **dict.fromkeys(BOUNDS, "float64"),
    },
    "an_forecast_backtest_scores": {
        "scope": _TEXT, "unique_id": _TEXT, "model": _TEXT, "mase": "float64",
        "smape": "float64", "bias": "float64", "relative_bias": "float64",
        "coverage_80": "float64", "coverage_95": "float64", "n_points": "int64",
        "n_origins": "int64",
    },
    "an_forecast_model_choices": {
        "scope": _TEXT, "unique_id": _TEXT, "model": _TEXT, "series_kind": _TEXT,
        "method_note": _TEXT, "scale_season": "int64", "mase_scale": "float64",
    },
    "an_forecast_model_months": {
        "scope": _TEXT, "unique_id": _TEXT, "model": _TEXT, "ds": _DATE, "point": "float64",
        **dict.fromkeys(BOUNDS, "float64"), "is_chosen": "bool",
    },
    "an_forecast_months": {
        "scope": _TEXT, "level": _TEXT, "unique_id": _TEXT, "region_id": _TEXT,
        "product_family": _TEXT, "ds": _DATE, "model": _TEXT, "share": "float64",
        "point": "float64", **dict.fromkeys(BOUNDS, "float64"),
    },
    "an_forecast_history_months": {
        "scope": _TEXT, "unique_id": _TEXT, "ds": _DATE, "y": "float64",
    },
    "an_forecast_quarters": {
        "scope": _TEXT, "quarter_start": _DATE, "quarter": _TEXT, "booked": "float64",
        "forecast": "float64", "low_80": "float64", "high_80": "float64", "low_95": "float64",
        "high_95": "float64", "months_booked": "int64", "months_forecast": "int64",
        "months_missing": "int64", "target": "float64", "gap_to_target": "float64",
    },
}  # fmt: skip
"""Columns and dtypes of every statistical forecast table."""


@dataclass(frozen=True)
class SeriesFit:
    """One unit of fan-out work: one monthly series (``unique_id``, ``ds``, ``y``) to fit."""

    series: pd.DataFrame
    horizon: int


def fit_series(work: SeriesFit) -> dict[str, pd.DataFrame]:
    """Backtest, choose and forecast one series (module level, so a Dask worker can run it).

    Args:
        work: The series and horizon.

    Returns:
        ``cv``, ``scores``, ``chosen`` and ``forecasts`` frames of
        :func:`~salesops_lib.analytics.forecasting.models.backtest` and ``forecast``.
    """
    from salesops_lib.analytics.forecasting import models

    result = models.backtest(
        work.series, work.horizon, n_origins=BACKTEST_ORIGINS, season_length=SEASON_LENGTH
    )
    forecasts = models.forecast(
        work.series, work.horizon, result.chosen, season_length=SEASON_LENGTH
    )
    return {
        "cv": result.cv,
        "scores": result.scores,
        "chosen": result.chosen,
        "forecasts": forecasts,
    }


def typed(frame: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """``frame`` with exactly the columns and dtypes of ``table`` (an empty frame for ``None``)."""
    schema = SCHEMAS[table]
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})
    return frame.reindex(columns=list(schema)).astype(schema).reset_index(drop=True)


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    """The frames (each already typed alike) stacked; ``None`` when there are none."""
    return pd.concat(frames, ignore_index=True) if frames else None


def scope_series_ids(scope: str, region_ids: Sequence[str], present: set[str]) -> list[str]:
    """The series a scope models: its region, or every region plus the company total."""
    if scope != ALL_REGIONS:
        return [scope] if scope in present else []
    return [rid for rid in (*region_ids, TOTAL_SERIES_ID) if rid in present]


def rest_of_month_share(as_of: dt.date) -> float:
    """The share of the as-of month's days still to come: days after ``as_of`` / days in it.

    Args:
        as_of: The as-of date (bookings are counted up to and including it).

    Returns:
        0.0 on the month's last day; e.g. 7 / 30 on November 23.
    """
    day = pd.Timestamp(as_of)
    return (day.days_in_month - day.day) / day.days_in_month


def not_below_month_to_date(
    forecasts: pd.DataFrame, month_to_date: pd.DataFrame, rest_share: float = 0.0
) -> pd.DataFrame:
    """The forecasts with each series' as-of month never below what it has booked so far.

    The as-of month counts at least what is booked so far plus ``rest_share`` of its own
    forecast for the days still to come: a month running ahead of its forecast still has
    business in its remaining days (with ``rest_share`` 0, the month is only floored at what
    is booked). Applied to each of point and bounds: ``max(value, so_far + value x share)``.

    Args:
        forecasts: Rows with ``unique_id``, ``ds``, ``point`` and the four bounds.
        month_to_date: ``unique_id``, ``ds`` (the as-of month), ``y`` (booked in it so far).
        rest_share: The share of the month's days after the as-of date
            (:func:`rest_of_month_share`).

    Returns:
        A new frame: point and bounds of the matching rows raised where below the rule.
    """
    if month_to_date.empty or forecasts.empty:
        return forecasts.copy()

    def keyed(frame: pd.DataFrame) -> pd.MultiIndex:
        days = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
        return pd.MultiIndex.from_arrays([frame["unique_id"].astype(str), days])

    so_far = month_to_date["y"].astype(float).groupby(keyed(month_to_date)).sum()
    floor = pd.Series(so_far.reindex(keyed(forecasts)).to_numpy(), index=forecasts.index)

    def raised(column: pd.Series) -> pd.Series:
        lowest = floor + column.clip(lower=0.0) * rest_share
        return column.where(floor.isna(), column.where(column >= lowest, lowest))

    return forecasts.assign(**{c: raised(forecasts[c]) for c in ("point", *BOUNDS)})


def quarter_outlook(
    history: pd.DataFrame,
    shown: pd.DataFrame,
    targets: pd.DataFrame,
    as_of: dt.date,
    month_to_date: float = 0.0,
) -> pd.DataFrame:
    """This quarter and the next: booked to date + forecast of the rest, with ranges, vs target.

    ``booked`` is the complete months plus ``month_to_date`` (the incomplete as-of month's
    bookings so far); that month's forecast point and bounds count no less than it, so the
    quarter's forecast and range are never below what is booked. A range adds the months'
    bounds, which assumes the months miss in the same direction (a wider, cautious range than
    independent months would give).

    Args:
        history: The shown series' booked (complete) months (``ds``, ``y``).
        shown: Its coherent forecast (``ds``, ``point`` and the four bounds).
        targets: Target rows of the scope's regions (``month``, ``target_amount``).
        as_of: The as-of date.
        month_to_date: Booked so far in the as-of month when it is incomplete (ignored when
            the as-of date is the month's last day: the month is then in ``history``).

    Returns:
        One row per quarter: ``quarter_start``, ``quarter`` label, ``booked`` (to date),
        ``forecast``,
        ``low_80``, ``high_80``, ``low_95``, ``high_95`` (missing when the forecast does not
        reach the quarter's end), ``months_booked``, ``months_forecast``, ``months_missing``,
        ``target`` (missing without target rows) and ``gap_to_target``.
    """
    as_of_month = pd.Timestamp(as_of).to_period("M").start_time
    open_month = first_incomplete_period(as_of, "M") == as_of_month
    rows = []
    for ahead in (0, 1):
        first, last = period_bounds(pd.Timestamp(as_of) + pd.DateOffset(months=3 * ahead), "qtd")
        months = pd.date_range(first, last, freq="MS")
        booked = history[history["ds"].isin(months)]
        future = shown[shown["ds"].isin(months)]
        so_far = (
            float(month_to_date)
            if open_month and as_of_month in months and not booked["ds"].eq(as_of_month).any()
            else 0.0
        )
        if so_far:
            future = not_below_month_to_date(
                future.assign(unique_id="shown"),
                pd.DataFrame({"unique_id": ["shown"], "ds": [as_of_month], "y": [so_far]}),
            )
        missing = len(months) - len(booked) - len(future)
        target_rows = targets[pd.to_datetime(targets["month"]).isin(months)]
        target = float(target_rows["target_amount"].sum()) if len(target_rows) else None
        complete = float(booked["y"].sum())
        done = complete + so_far
        point = complete + float(future["point"].sum())
        ranges = {
            f"{side}_{level}": None
            if missing
            else complete + float(future[f"{bound}_{level}"].sum())
            for level in LEVELS
            for side, bound in (("low", "lo"), ("high", "hi"))
        }
        rows.append(
            {
                "quarter_start": first,
                "quarter": f"{first.year} Q{first.quarter}",
                "booked": done,
                "forecast": None if missing else point,
                **ranges,
                "months_booked": len(booked),
                "months_forecast": len(future),
                "months_missing": missing,
                "target": target,
                "gap_to_target": None if target is None or missing else point - target,
            }
        )
    return pd.DataFrame(rows)


def _not_below_zero(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Bookings are never negative: points and bounds below zero are shown as zero."""
    return forecasts.assign(**{c: forecasts[c].clip(lower=0.0) for c in ("point", *BOUNDS)})


def _fits(
    monthly: pd.DataFrame, ids: Sequence[str], horizon: int, mapper: Callable[..., list[Any]]
) -> dict[str, pd.DataFrame]:
    """Fit every series once (one task each) and stack the parts."""
    work = [SeriesFit(monthly[monthly["unique_id"] == sid].reset_index(drop=True), horizon)
            for sid in ids]  # fmt: skip
    parts = mapper(fit_series, work)
    stacked = {key: pd.concat([p[key] for p in parts], ignore_index=True) for key in parts[0]}
    chosen = stacked["chosen"].merge(ledger_scales(monthly[monthly["unique_id"].isin(ids)]))
    return stacked | {"chosen": chosen}


def _scope_tables(
    scope: str,
    ids: list[str],
    fits: dict[str, pd.DataFrame],
    monthly: pd.DataFrame,
    targets: pd.DataFrame,
    as_of: dt.date,
    month_to_date: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The tables of one scope from the shared fits (rows copied, never refitted)."""
    mine = {key: frame[frame["unique_id"].isin(ids)] for key, frame in fits.items()}
    chosen = coherence.chosen_rows(_not_below_zero(mine["forecasts"]))
    own = chosen["unique_id"] != TOTAL_SERIES_ID  # the total's own rows only give widths
    chosen = pd.concat(
        [
            not_below_month_to_date(chosen[own], month_to_date, rest_of_month_share(as_of)),
            chosen[~own],
        ],
        ignore_index=True,
    )  # the company's total below sums these regions: it is floored only, not raised again
    regions = chosen[chosen["unique_id"] != TOTAL_SERIES_ID].assign(
        level="region", region_id=lambda f: f["unique_id"]
    )
    cv, scores = mine["cv"], mine["scores"]
    if scope == ALL_REGIONS:
        shown_id = TOTAL_SERIES_ID
        shown = not_below_month_to_date(
            coherence.bottom_up_total(regions, chosen[chosen["unique_id"] == shown_id]),
            month_to_date,
        )
        picks = cv.merge(mine["chosen"][["unique_id", "model"]], on=["unique_id", "model"])
        total_cv = coherence.bottom_up_total(
            picks[picks["unique_id"] != shown_id],
            picks[picks["unique_id"] == shown_id],
            key=("cutoff", "ds"),
        )
        history = monthly[monthly["unique_id"] == shown_id].set_index("ds")["y"]
        season = int(mine["chosen"].set_index("unique_id").loc[shown_id, "scale_season"])
        bottom_up = {"unique_id": shown_id, "model": coherence.BOTTOM_UP_MODEL}
        if not total_cv.empty:  # a series too short to backtest has no bottom-up score
            scored = bottom_up | backtest_scores(total_cv, history, season)
            scores = pd.concat([scores, pd.DataFrame([scored])], ignore_index=True)
        cv = pd.concat([cv, total_cv], ignore_index=True)
        months = [shown.assign(level="total"), regions]
        scope_targets = targets
    else:
        shown_id, shown = scope, regions
        shares = coherence.family_shares(monthly, scope)
        families = coherence.split_by_family(shown, shares).assign(level="family", region_id=scope)
        months = [regions, families]
        scope_targets = targets[targets["region_id"] == scope]
    history_rows = monthly[monthly["unique_id"] == shown_id]
    so_far = month_to_date.loc[month_to_date["unique_id"] == shown_id, "y"].sum()
    tables = {
        "an_forecast_backtest_points": cv,
        "an_forecast_backtest_scores": scores,
        "an_forecast_model_choices": mine["chosen"],
        "an_forecast_model_months": mine["forecasts"],
        "an_forecast_months": pd.concat(months, ignore_index=True),
        "an_forecast_history_months": history_rows,
        "an_forecast_quarters": quarter_outlook(
            history_rows, shown, scope_targets, as_of, month_to_date=float(so_far)
        ),
    }
    return {name: frame.assign(scope=scope) for name, frame in tables.items()}


def statistical_tables(
    monthly: pd.DataFrame,
    targets: pd.DataFrame,
    region_ids: Sequence[str],
    scopes: Sequence[str],
    as_of: dt.date,
    horizon: int = DEFAULT_HORIZON,
    mapper: Callable[..., list[Any]] | None = None,
    month_to_date: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The statistical forecast tables of the given scopes (see the module docstring).

    Args:
        monthly: Long monthly series (``unique_id``, ``ds``, ``y``) of every id, as from
            :func:`~salesops_lib.analytics.forecasting.series.monthly_series_from_bookings`
            (may be empty: no complete month of bookings).
        targets: ``fct_region_targets`` rows (``region_id``, ``month``, ``target_amount``).
        region_ids: Every region id of the snapshot, sorted.
        scopes: Region ids and/or ``all``.
        as_of: The as-of date.
        horizon: Months to forecast (and to backtest from each origin).
        mapper: ``executor.map``-like function running :func:`fit_series` over the series;
            defaults to an in-process loop.
        month_to_date: Bookings of the incomplete as-of month so far (``unique_id``, ``ds``,
            ``y``, as from
            :func:`~salesops_lib.analytics.forecasting.series.month_to_date_bookings`); none
            when omitted.

    Returns:
        Table name -> frame, every table of :data:`SCHEMAS` (empty when nothing to forecast).
    """
    present = set(monthly["unique_id"]) if len(monthly) else set()
    ids_of = {scope: scope_series_ids(scope, region_ids, present) for scope in scopes}
    needed = sorted({sid for ids in ids_of.values() for sid in ids})
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in SCHEMAS}
    so_far = (
        pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": []})
        if month_to_date is None
        else month_to_date
    )
    if needed:
        fits = _fits(monthly, needed, horizon, mapper or (lambda f, items: [f(i) for i in items]))
        for scope, ids in ids_of.items():
            if not ids:
                continue
            scope_tables = _scope_tables(scope, ids, fits, monthly, targets, as_of, so_far)
            for name, frame in scope_tables.items():
                parts[name].append(frame)
    return {
        name: typed(_stacked([typed(f, name) for f in frames if not f.empty]), name)
        for name, frames in parts.items()
    }
