"""The forecast report's data and computation: series, backtest, coherent forecast, quarters.

The report notebook (``notebooks/20-forecast.ipynb``) calls, in order:
:func:`load_forecast_data` (read the snapshot), :func:`compute_forecast` (backtest, choose,
forecast, reconcile, the pipeline-based quarter and the ledger's scores) and
:func:`record_to_ledger` (append this run's forecasts). Display lives in
:mod:`salesops_lib.reports.forecast_display`.

Which series are modelled: a regional report models its region's series; the all-regions report
models every region plus the company total, and shows the bottom-up total
(:mod:`salesops_lib.analytics.forecasting.coherence`). Each region's model is fitted on that
region's series
alone, so a region's numbers are the same in both reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.forecasting import coherence as forecast_coherence
from salesops_lib.analytics.forecasting import ledger as forecast_ledger
from salesops_lib.analytics.forecasting import metrics as forecast_metrics
from salesops_lib.analytics.forecasting import models as forecasting
from salesops_lib.analytics.forecasting.pipeline_quarter import (
    QuarterForecast,
    QuarterInputs,
    load_quarter_inputs,
)
from salesops_lib.analytics.forecasting.pipeline_quarter import (
    quarter_forecast as pipeline_quarter_forecast,
)
from salesops_lib.analytics.forecasting.series import (
    TOTAL_SERIES_ID,
    monthly_series_from_bookings,
    weekly_series_from_bookings,
)
from salesops_lib.analytics.performance import attainment
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports.missing_data import empty_tables

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

LEVELS: tuple[int, ...] = (80, 95)
MAX_HORIZON = 24
BACKTEST_ORIGINS = 3
SEASON_LENGTH = 12


@dataclass(frozen=True)
class ForecastData:
    """Everything the forecast report reads from one snapshot (and the ledger).

    Attributes:
        region: Region id or ``all``.
        region_name: Display name.
        as_of: The snapshot's as-of date.
        horizon: Months to forecast.
        level: Interval level shown (80 or 95).
        snapshot_id: The snapshot read.
        snapshot_checksum: Its content checksum.
        region_ids: Every region id in the snapshot, sorted.
        region_names: Region id -> name.
        history_start: First order date in the snapshot (earlier partial months are dropped).
        monthly: Long monthly series (``unique_id``, ``ds``, ``y``) of every id.
        weekly: Long weekly series of every id.
        region_targets: ``fct_region_targets`` rows (region_id, month, target_amount).
        quarter_inputs: What the pipeline-based quarter forecast reads.
        ledger: Every forecast recorded so far.
        ledger_dir: Where the ledger lives.
        empty_tables: Snapshot tables with no rows.
    """

    region: str
    region_name: str
    as_of: dt.date
    horizon: int
    level: int
    snapshot_id: str
    snapshot_checksum: str
    region_ids: tuple[str, ...]
    region_names: dict[str, str]
    history_start: dt.date | None
    monthly: pd.DataFrame
    weekly: pd.DataFrame
    region_targets: pd.DataFrame
    quarter_inputs: QuarterInputs | None
    ledger: pd.DataFrame
    ledger_dir: Path
    empty_tables: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ForecastResult:
    """The computed forecast report.

    Attributes:
        data: The inputs.
        backtest: Rolling-origin backtest of every modelled series.
        forecasts: Every model's forecast of every modelled series (``is_chosen`` marks picks).
        shown: The coherent forecast of the report's own series (chosen model, or the bottom-up
            total for ``all``).
        regions: Chosen forecasts of every region (``all``) or of the region.
        families: The shown region's forecast split across product families (empty for ``all``).
        total_backtest: Backtest rows of the bottom-up total (``all`` only; else empty).
        quarters: This quarter and the next from the statistical forecast, against target.
        pipeline: The pipeline-based forecast of the current quarter (``None`` without deals).
        scored: Earlier ledger forecasts of the shown series scored against actuals.
    """

    data: ForecastData
    backtest: forecasting.Backtest
    forecasts: pd.DataFrame
    shown: pd.DataFrame
    regions: pd.DataFrame
    families: pd.DataFrame
    total_backtest: pd.DataFrame
    quarters: pd.DataFrame
    pipeline: QuarterForecast | None
    scored: pd.DataFrame


def check_parameters(horizon: int, level: int) -> None:
    """Check the notebook's forecast parameters.

    Args:
        horizon: Months to forecast (1 to 24).
        level: Interval level to show (80 or 95).

    Raises:
        ParameterError: Naming the parameter and the allowed values.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise ParameterError(f"horizon={horizon!r}: give whole months from 1 to {MAX_HORIZON}")
    if level not in LEVELS:
        raise ParameterError(f"level={level!r}: allowed interval levels are 80 and 95")


def load_forecast_data(
    warehouse: Warehouse,
    region: str,
    horizon: int,
    level: int,
    snapshots_dir: Path | None = None,
    ledger_dir: Path | None = None,
) -> ForecastData:
    """Read the series, targets, pipeline inputs and ledger the forecast report needs.

    Args:
        warehouse: The as-of snapshot's open warehouse (see
            :func:`salesops_lib.reports.overview.open_report_warehouse`).
        region: Region id or ``all``.
        horizon: Months to forecast (1 to 24).
        level: Interval level shown (80 or 95).
        snapshots_dir: Snapshot folder (earlier snapshots train the win model); defaults to config.
        ledger_dir: Forecast ledger folder; defaults to config.

    Returns:
        The report's data.

    Raises:
        ParameterError: For a bad horizon or level, or a snapshot without a complete month.
    """
    check_parameters(horizon, level)
    cfg = settings()
    folder = snapshots_dir or cfg.snapshots_dir
    ledger_folder = ledger_dir or cfg.forecast_ledger_dir
    regions = warehouse.regions()
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    empty = empty_tables(warehouse.snapshot)
    as_of = warehouse.as_of
    first = warehouse.query("SELECT min(order_date) AS first_order FROM fct_bookings")
    first_order = first["first_order"].iloc[0]
    history_start = None if pd.isna(first_order) else pd.Timestamp(first_order).date()
    monthly_rows = warehouse.table(
        "fct_bookings_monthly",
        columns=["region_id", "product_family", "order_month", "bookings_amount"],
    )
    weekly_rows = warehouse.query(
        "SELECT region_id, product_family, order_week, sum(amount) AS bookings_amount "
        "FROM fct_bookings GROUP BY ALL ORDER BY ALL"
    )
    monthly = _series_or_empty(
        monthly_series_from_bookings, monthly_rows, "order_month", "M", as_of, history_start
    )
    weekly = _series_or_empty(
        weekly_series_from_bookings, weekly_rows, "order_week", "W-SUN", as_of, history_start
    )
    quarter_inputs = None
    if "opportunities" not in empty:
        quarter_inputs = load_quarter_inputs(warehouse, snapshots_dir=folder)
    return ForecastData(
        region=region,
        region_name="All regions" if region == ALL_REGIONS else str(names[region]),
        as_of=as_of,
        horizon=horizon,
        level=level,
        snapshot_id=warehouse.snapshot.snapshot_id,
        snapshot_checksum=warehouse.snapshot.checksum,
        region_ids=tuple(sorted(names)),
        region_names={str(k): str(v) for k, v in names.items()},
        history_start=history_start,
        monthly=monthly,
        weekly=weekly,
        region_targets=warehouse.table(
            "fct_region_targets", columns=["region_id", "month", "target_amount"]
        ),
        quarter_inputs=quarter_inputs,
        ledger=forecast_ledger.load_ledger(ledger_folder),
        ledger_dir=ledger_folder,
        empty_tables=empty,
    )


def _series_or_empty(
    build: Any,
    rows: pd.DataFrame,
    period_column: str,
    frequency: str,
    as_of: dt.date,
    history_start: dt.date | None,
) -> pd.DataFrame:
    """Build series, or an empty long frame when no row falls in a period before as-of's.

    Only that case is turned into an empty frame (the report then says what data is missing);
    any other problem with the rows is raised by ``build`` as usual.

    Args:
        build: ``monthly_series_from_bookings`` or ``weekly_series_from_bookings``.
        rows: Its input rows.
        period_column: The rows' period column (``order_month`` or ``order_week``).
        frequency: pandas period of one row (``M``, or ``W-SUN`` for Monday-to-Sunday weeks).
        as_of: The as-of date.
        history_start: First order date.

    Returns:
        The long series frame, possibly empty.
    """
    as_of_period_start = pd.Timestamp(as_of).to_period(frequency).start_time
    if not (pd.to_datetime(rows[period_column]) < as_of_period_start).any():
        return pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": []})
    return build(rows, as_of.isoformat(), history_start=history_start)


def modelled_ids(data: ForecastData) -> list[str]:
    """The series a report models: its region, or every region plus the company total."""
    present = set(data.monthly["unique_id"])
    if data.region != ALL_REGIONS:
        return [data.region] if data.region in present else []
    return [rid for rid in (*data.region_ids, TOTAL_SERIES_ID) if rid in present]


def compute_forecast(data: ForecastData) -> ForecastResult:
    """Backtest, choose, forecast and reconcile; add the pipeline quarter and the ledger scores.

    Args:
        data: Output of :func:`load_forecast_data`.

    Returns:
        The computed report.

    Raises:
        ParameterError: If the snapshot has no complete month of bookings to forecast from.
    """
    ids = modelled_ids(data)
    pipeline = None
    if data.quarter_inputs is not None:
        pipeline = pipeline_quarter_forecast(data.quarter_inputs, data.region)
    if not ids:
        return _without_series(data, pipeline)
    series = data.monthly[data.monthly["unique_id"].isin(ids)].reset_index(drop=True)
    backtest = forecasting.backtest(
        series, data.horizon, n_origins=BACKTEST_ORIGINS, season_length=SEASON_LENGTH
    )
    forecasts = forecasting.forecast(
        series, data.horizon, backtest.chosen, season_length=SEASON_LENGTH
    )
    chosen = forecast_coherence.chosen_rows(_not_below_zero(forecasts))
    region_rows = chosen[chosen["unique_id"] != TOTAL_SERIES_ID].reset_index(drop=True)
    total_backtest = pd.DataFrame()
    if data.region == ALL_REGIONS and TOTAL_SERIES_ID in ids:
        total_chosen = chosen[chosen["unique_id"] == TOTAL_SERIES_ID]
        shown = forecast_coherence.bottom_up_total(region_rows, total_chosen)
        total_backtest = bottom_up_backtest(backtest)
        families = pd.DataFrame()
    else:
        shown = region_rows
        shares = forecast_coherence.family_shares(data.monthly, data.region)
        families = forecast_coherence.split_by_family(shown, shares)
    shown_id = TOTAL_SERIES_ID if data.region == ALL_REGIONS else data.region
    return ForecastResult(
        data=data,
        backtest=backtest,
        forecasts=forecasts,
        shown=shown,
        regions=region_rows,
        families=families,
        total_backtest=total_backtest,
        quarters=quarter_outlook(data, shown, shown_id),
        pipeline=pipeline,
        scored=forecast_ledger.score_forecasts(
            data.ledger[data.ledger["unique_id"] == shown_id], data.monthly, data.as_of
        ),
    )


def _not_below_zero(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Bookings are never negative: points and bounds below zero are shown as zero."""
    columns = ["point", *forecast_coherence.BOUNDS]
    return forecasts.assign(**{c: forecasts[c].clip(lower=0.0) for c in columns})


def _without_series(data: ForecastData, pipeline: QuarterForecast | None) -> ForecastResult:
    """The report when there is no complete month of bookings: every statistical part empty."""
    frame = pd.DataFrame(
        {
            "unique_id": pd.Series(dtype=str),
            "ds": pd.Series(dtype="datetime64[ns]"),
            "model": pd.Series(dtype=str),
            **{c: pd.Series(dtype=float) for c in ("point", *forecast_coherence.BOUNDS)},
            "is_chosen": pd.Series(dtype=bool),
        }
    )
    empty = forecasting.Backtest(
        cv=frame.drop(columns="is_chosen").assign(cutoff=frame["ds"], y=frame["point"]),
        scores=pd.DataFrame(columns=["unique_id", "model", "mase"]),
        chosen=pd.DataFrame(columns=["unique_id", "model", "series_kind", "method_note"]),
    )
    return ForecastResult(
        data=data,
        backtest=empty,
        forecasts=frame,
        shown=frame,
        regions=frame,
        families=pd.DataFrame(),
        total_backtest=pd.DataFrame(),
        quarters=pd.DataFrame(),
        pipeline=pipeline,
        scored=pd.DataFrame(),
    )


def has_series(result: ForecastResult) -> bool:
    """Whether the report had bookings history to forecast (the statistical sections)."""
    return not result.shown.empty


def bottom_up_backtest(backtest: forecasting.Backtest) -> pd.DataFrame:
    """The bottom-up total's backtest: the regions' chosen backtest points summed per origin.

    Args:
        backtest: A backtest of every region and the ``total`` series.

    Returns:
        Rows ``unique_id`` (``total``), ``cutoff``, ``ds``, ``model`` (``BottomUp``), ``point``,
        the four bounds and ``y`` (the total's actual).
    """
    picks = backtest.chosen[["unique_id", "model"]]
    cv = backtest.cv.merge(picks, on=["unique_id", "model"])
    regions = cv[cv["unique_id"] != TOTAL_SERIES_ID]
    total = cv[cv["unique_id"] == TOTAL_SERIES_ID]
    return forecast_coherence.bottom_up_total(regions, total, key=("cutoff", "ds"))


def bottom_up_scores(result: ForecastResult) -> pd.DataFrame:
    """Score the bottom-up total's backtest next to the total's seasonal naive.

    Args:
        result: A computed all-regions report.

    Returns:
        Rows ``model`` (``BottomUp``, ``SeasonalNaive``) with the columns of
        :attr:`forecasting.Backtest.scores`; empty for a regional report.
    """
    if result.total_backtest.empty:
        return pd.DataFrame()
    cv = result.backtest.cv
    naive = cv[(cv["unique_id"] == TOTAL_SERIES_ID) & (cv["model"] == "SeasonalNaive")]
    history = result.data.monthly[result.data.monthly["unique_id"] == TOTAL_SERIES_ID]
    rows = []
    for name, frame in (("BottomUp", result.total_backtest), ("SeasonalNaive", naive)):
        rows.append({"model": name, **_scores(frame, history)})
    return pd.DataFrame(rows)


def _scores(frame: pd.DataFrame, history: pd.DataFrame) -> dict[str, float]:
    """MASE (each origin scaled by its own training window), sMAPE, bias and coverage."""
    history_y = history.set_index("ds")["y"]
    per_origin = [
        forecast_metrics.mase(
            rows["y"].to_numpy(),
            rows["point"].to_numpy(),
            history_y.loc[:cutoff].to_numpy(),
            SEASON_LENGTH,
        )
        for cutoff, rows in frame.groupby("cutoff", sort=True)
    ]
    actual, point = frame["y"].to_numpy(), frame["point"].to_numpy()
    return {
        "mase": float(np.mean(per_origin)),
        "smape": forecast_metrics.smape(actual, point),
        "bias": forecast_metrics.bias(actual, point),
        "relative_bias": forecast_metrics.relative_bias(actual, point),
        "coverage_80": forecast_metrics.interval_coverage(
            actual, frame["lo_80"].to_numpy(), frame["hi_80"].to_numpy()
        ),
        "coverage_95": forecast_metrics.interval_coverage(
            actual, frame["lo_95"].to_numpy(), frame["hi_95"].to_numpy()
        ),
        "n_points": len(frame),
        "n_origins": len(per_origin),
    }


def quarter_outlook(data: ForecastData, shown: pd.DataFrame, series_id: str) -> pd.DataFrame:
    """This quarter and the next: booked months + forecast months, with a range, against target.

    The range adds the months' bounds, which assumes the months miss in the same direction (a
    wider, cautious range than independent months would give).

    Args:
        data: The report's data.
        shown: The coherent forecast of ``series_id`` (``ds``, ``point`` and bounds).
        series_id: The report's series (``total`` or a region id).

    Returns:
        One row per quarter (``quarter`` label, ``booked``, ``forecast``, ``low``, ``high``,
        ``months_booked``, ``months_forecast``, ``months_missing``, ``target``, ``gap_to_target``).
    """
    level = data.level
    actual = data.monthly[data.monthly["unique_id"] == series_id]
    targets = data.region_targets
    if data.region != ALL_REGIONS:
        targets = targets[targets["region_id"] == data.region]
    rows = []
    for ahead in (0, 1):
        in_quarter = pd.Timestamp(data.as_of) + pd.DateOffset(months=3 * ahead)
        first, last = attainment.period_bounds(in_quarter, "qtd")
        months = pd.date_range(first, last, freq="MS")
        booked = actual[actual["ds"].isin(months)]
        future = shown[shown["ds"].isin(months)]
        missing = len(months) - len(booked) - len(future)
        target_rows = targets[pd.to_datetime(targets["month"]).isin(months)]
        target = float(target_rows["target_amount"].sum()) if len(target_rows) else None
        point = float(booked["y"].sum() + future["point"].sum())
        rows.append(
            {
                "quarter": f"{first.year} Q{first.quarter}",
                "booked": float(booked["y"].sum()),
                "forecast": point if missing == 0 else None,
                "low": float(booked["y"].sum() + future[f"lo_{level}"].sum())
                if missing == 0
                else None,
                "high": float(booked["y"].sum() + future[f"hi_{level}"].sum())
                if missing == 0
                else None,
                "months_booked": len(booked),
                "months_forecast": len(future),
                "months_missing": missing,
                "target": target,
                "gap_to_target": None if target is None or missing else point - target,
            }
        )
    return pd.DataFrame(rows)


def mase_scale(history_y: np.ndarray) -> float:
    """The in-sample naive error that scales a series' MASE in the ledger.

    Seasonal naive (12 months back) when the series has more than a year; the month before
    for shorter series (as their backtest does); 0 when there is a single month.

    Args:
        history_y: The series' values, oldest first.

    Returns:
        The mean absolute error of the naive forecast over the history.
    """
    if len(history_y) > SEASON_LENGTH:
        return forecast_metrics.seasonal_naive_scale(history_y, SEASON_LENGTH)
    if len(history_y) > 1:
        return forecast_metrics.seasonal_naive_scale(history_y, 1)
    return 0.0


def record_to_ledger(result: ForecastResult) -> str:
    """Append this run's forecasts to the ledger and say what was recorded.

    Args:
        result: The computed report.

    Returns:
        A one-line plain-text note (for the report's appendix).
    """
    if not has_series(result):
        return "No forecast to record: the snapshot has no complete month of bookings."
    history = result.data.monthly
    ids = sorted(set(result.forecasts["unique_id"]))
    scales = pd.DataFrame(
        {
            "unique_id": ids,
            "mase_scale": [
                mase_scale(history.loc[history["unique_id"] == uid, "y"].to_numpy()) for uid in ids
            ],
        }
    )
    frames = [result.forecasts]
    if result.data.region == ALL_REGIONS and not result.shown.empty:
        bottom_up = result.shown.assign(is_chosen=True)
        base = result.forecasts
        frames = [
            base.assign(is_chosen=base["is_chosen"] & (base["unique_id"] != TOTAL_SERIES_ID)),
            bottom_up,
        ]
    batch = pd.concat(frames, ignore_index=True)[
        ["unique_id", "ds", "model", "point", *forecast_coherence.BOUNDS, "is_chosen"]
    ]
    folder, as_of = result.data.ledger_dir, result.data.as_of
    path = forecast_ledger.record_forecasts(folder, batch, as_of, scales)
    state = "recorded" if path is not None else "already recorded (identical)"
    return f"{len(batch)} forecast rows for {len(ids)} series as of {result.data.as_of}: {state}."
