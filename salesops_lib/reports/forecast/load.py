"""The forecast report's data: its scope's slice of the analytics store, and the ledger.

:func:`load_forecast` reads every forecast table of the analytics store for the report's scope
(``reports.base.store_slice``: a regional report holds its own region's rows only) and the
forecast ledger's rows of the report's series. Nothing is fitted here on the default path: the
store was built at the default horizon (6 months) with both interval levels, and the report
shows its level. Another horizon cannot be served from the store (the backtest and the model
choice depend on it), so that case fits the report's own series on the fly, with the same
analytics code, and says so in the method notes. :func:`record_to_ledger` appends this run's
forecasts to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from salesops_lib.analytics.forecasting import ledger as forecast_ledger
from salesops_lib.analytics.forecasting import ledger_scoring, pipeline_views
from salesops_lib.analytics.forecasting import statistical_views as views
from salesops_lib.analytics.forecasting.series import TOTAL_SERIES_ID
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports.base import ReportContext, report_context, store_slice

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

LEVELS = views.LEVELS
MAX_HORIZON = views.MAX_HORIZON
DEFAULT_HORIZON = views.DEFAULT_HORIZON
BACKTEST_ORIGINS = views.BACKTEST_ORIGINS
SERIES_TABLES = tuple(views.SCHEMAS)
PIPELINE_TABLES = tuple(pipeline_views.SCHEMAS)


@dataclass(frozen=True)
class ForecastReport:
    """Everything the forecast report shows, for one scope (a region, or ``all``).

    Attributes:
        context: The report's context (region, snapshot, empty tables).
        horizon: Months forecast.
        level: Interval level shown (80 or 95).
        from_store: Whether the statistical tables came from the store (``False``: fitted on
            the fly for a non-default horizon).
        region_names: Region id -> name of the regions the report covers (its own, or all).
        tables: Store table name -> the scope's rows (``an_forecast_*``, ``an_pipeline_*``,
            ``an_deal_win_probabilities``, ``an_win_model_*``; see
            :mod:`~salesops_lib.analytics.forecasting.statistical_views` and
            :mod:`~salesops_lib.analytics.forecasting.pipeline_views`).
        ledger: Forecast ledger rows of the report's own series.
        ledger_dir: Where the ledger lives.
        scored: Those of its earlier forecasts whose month is now booked, scored.
    """

    context: ReportContext
    horizon: int
    level: int
    from_store: bool
    region_names: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(repr=False)
    ledger: pd.DataFrame = field(repr=False)
    ledger_dir: Path
    scored: pd.DataFrame = field(repr=False)

    def table(self, name: str) -> pd.DataFrame:
        """The scope's rows of one store table (without the ``scope`` column)."""
        return self.tables[name]

    @property
    def shown_id(self) -> str:
        """The series the report shows: ``total`` (company, bottom-up) or the region id."""
        return TOTAL_SERIES_ID if self.context.is_company else self.context.region

    def months(self, level: str) -> pd.DataFrame:
        """Coherent forecast months of one ``level`` (``total``, ``region`` or ``family``)."""
        months = self.table("an_forecast_months")
        return months[months["level"] == level].sort_values(["unique_id", "ds"], ignore_index=True)

    @property
    def shown(self) -> pd.DataFrame:
        """The coherent forecast of the report's series, one row per month."""
        return self.months("total" if self.context.is_company else "region")

    @property
    def history(self) -> pd.DataFrame:
        """The report series' booked months (``ds``, ``y``), oldest first."""
        return self.table("an_forecast_history_months").sort_values("ds", ignore_index=True)

    @property
    def has_series(self) -> bool:
        """Whether there was bookings history to forecast (the statistical sections)."""
        return not self.shown.empty

    @property
    def has_pipeline(self) -> bool:
        """Whether there is a pipeline-based quarter forecast (the snapshot has opportunities)."""
        return not self.table("an_pipeline_quarter_components").empty

    @property
    def pipeline(self) -> pd.Series | None:
        """The scope's own row of the quarter components (``None`` without a pipeline)."""
        rows = self.table("an_pipeline_quarter_components")
        own = rows[rows["region_id"] == self.context.region]
        return None if own.empty else own.iloc[0]

    @property
    def win_model(self) -> pd.Series | None:
        """The deal win-probability model's summary row (``None`` without a pipeline)."""
        rows = self.table("an_win_model_summaries")
        return None if rows.empty else rows.iloc[0]


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


def _slice(warehouse: Warehouse, name: str, context: ReportContext) -> pd.DataFrame:
    return store_slice(warehouse, name, context).drop(columns="scope")


def _fitted_on_the_fly(
    warehouse: Warehouse, context: ReportContext, horizon: int
) -> dict[str, pd.DataFrame]:
    """The statistical tables of the report's scope at a non-default horizon (fitted now)."""
    from salesops_lib.analytics.forecasting import build

    tables = views.statistical_tables(
        build.monthly_series(warehouse),
        build.region_targets(warehouse),
        list(context.region_ids),
        scopes=[context.region],
        as_of=context.as_of,
        horizon=horizon,
        month_to_date=build.month_to_date(warehouse),
    )
    return {name: frame.drop(columns="scope") for name, frame in tables.items()}


def load_forecast(
    warehouse: Warehouse,
    region: str,
    horizon: int,
    level: int,
    ledger_dir: Path | None = None,
) -> ForecastReport:
    """Read the report's slice of the store and its ledger rows (see the module docstring).

    Args:
        warehouse: The as-of snapshot's open warehouse (``reports.base.open_report_warehouse``).
        region: Region id or ``all``.
        horizon: Months to forecast (1 to 24).
        level: Interval level shown (80 or 95).
        ledger_dir: Forecast ledger folder; defaults to config.

    Returns:
        The report's data.

    Raises:
        ParameterError: For a bad horizon or level.
    """
    check_parameters(horizon, level)
    context = report_context(warehouse, region)
    from_store = horizon == DEFAULT_HORIZON
    if from_store:
        tables = {name: _slice(warehouse, name, context) for name in SERIES_TABLES}
    else:
        tables = _fitted_on_the_fly(warehouse, context, horizon)
    tables |= {name: _slice(warehouse, name, context) for name in PIPELINE_TABLES}
    regions = warehouse.regions()
    names = dict(
        zip(regions["region_id"].astype(str), regions["region_name"].astype(str), strict=True)
    )
    if not context.is_company:
        names = {region: names[region]}
    folder = ledger_dir or settings().forecast_ledger_dir
    ledger = forecast_ledger.load_ledger(folder)
    shown_id = TOTAL_SERIES_ID if region == ALL_REGIONS else region
    ledger = ledger[ledger["unique_id"] == shown_id].reset_index(drop=True)
    history = tables["an_forecast_history_months"]
    actuals = history.assign(unique_id=shown_id)[["unique_id", "ds", "y"]]
    return ForecastReport(
        context=context,
        horizon=horizon,
        level=level,
        from_store=from_store,
        region_names=names,
        tables=tables,
        ledger=ledger,
        ledger_dir=folder,
        scored=ledger_scoring.score_forecasts(ledger, actuals, context.as_of),
    )


def record_to_ledger(report: ForecastReport) -> str:
    """Append this run's forecasts to the ledger and say what was recorded.

    Every candidate model's forecast of every modelled series is recorded (the company report
    records every region and the total; a region's report its own series); the company report
    also records the bottom-up total it shows, as the total's chosen forecast.

    Args:
        report: The loaded report.

    Returns:
        A one-line plain-text note (for the report's appendix).
    """
    if not report.has_series:
        return "No forecast to record: the snapshot has no complete month of bookings."
    columns = ["unique_id", "ds", "model", "point", *views.BOUNDS, "is_chosen"]
    forecasts = report.table("an_forecast_model_months").sort_values(["unique_id", "model", "ds"])
    frames = [forecasts[columns]]
    if report.context.is_company:
        not_total = forecasts["is_chosen"] & (forecasts["unique_id"] != TOTAL_SERIES_ID)
        frames = [forecasts.assign(is_chosen=not_total)[columns],
                  report.shown.assign(is_chosen=True)[columns]]  # fmt: skip
    batch = pd.concat(frames, ignore_index=True).astype(
        {"unique_id": object, "model": object, "is_chosen": bool}
    )
    scales = report.table("an_forecast_model_choices")[["unique_id", "mase_scale"]]
    as_of = report.context.as_of
    path = forecast_ledger.record_forecasts(report.ledger_dir, batch, as_of, scales)
    state = "recorded" if path is not None else "already recorded (identical)"
    ids = batch["unique_id"].nunique()
    return f"{len(batch)} forecast rows for {ids} series as of {as_of}: {state}."
