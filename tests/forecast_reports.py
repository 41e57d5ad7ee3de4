"""Test helper: a forecast report of one scope built straight from store-shaped tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from salesops_lib.analytics.forecasting import statistical_views
from salesops_lib.reports.base import COMPANY_NAME, ReportContext
from salesops_lib.reports.forecast.load import ForecastReport


def report_of(
    tables: dict[str, pd.DataFrame],
    scope: str,
    names: dict[str, str],
    as_of: dt.date,
    level: int = 80,
) -> ForecastReport:
    """The report of ``scope`` over ``tables`` (store tables with a ``scope`` column).

    Statistical tables missing from ``tables`` are empty (no bookings history).
    """
    empty = {name: statistical_views.typed(None, name) for name in statistical_views.SCHEMAS}
    own = {
        name: frame[frame["scope"] == scope].drop(columns="scope").reset_index(drop=True)
        for name, frame in (empty | tables).items()
    }
    context = ReportContext(
        region=scope,
        region_name=COMPANY_NAME if scope == "all" else names[scope],
        as_of=as_of,
        snapshot_id=as_of.isoformat(),
        snapshot_checksum="x",
        region_ids=tuple(sorted(names)),
    )
    shown = names if scope == "all" else {scope: names[scope]}
    return ForecastReport(
        context=context, horizon=6, level=level, from_store=True, region_names=shown,
        tables=own, ledger=pd.DataFrame({"as_of": pd.to_datetime([])}),
        ledger_dir=Path("unused"), scored=pd.DataFrame(),
    )  # fmt: skip
