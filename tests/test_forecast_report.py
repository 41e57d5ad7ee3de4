"""Forecast report pieces on hand-made frames: parameters, quarters against target, ledger batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest

from salesops_lib.core.errors import ParameterError
from salesops_lib.reports import forecast as forecast_report
from salesops_lib.reports import forecast_display
from salesops_lib.reports.forecast import ForecastData


def data(region: str = "east", horizon: int = 6, level: int = 80) -> ForecastData:
    months = pd.date_range("2026-07-01", "2026-10-01", freq="MS")
    monthly = pd.DataFrame({"unique_id": "east", "ds": months, "y": [10.0, 20.0, 30.0, 40.0]})
    targets = pd.DataFrame(
        {
            "region_id": ["east"] * 6 + ["west"] * 6,
            "month": list(pd.date_range("2026-10-01", periods=6, freq="MS")) * 2,
            "target_amount": [50.0] * 6 + [999.0] * 6,
        }
    )
    return ForecastData(
        region=region, region_name="East", as_of=dt.date(2026, 11, 23), horizon=horizon,
        level=level, snapshot_id="2026-11-23", snapshot_checksum="x", region_ids=("east", "west"),
        region_names={"east": "East", "west": "West"}, history_start=None, monthly=monthly,
        weekly=monthly.head(0), region_targets=targets, quarter_inputs=None,
        ledger=pd.DataFrame(), ledger_dir=Path("unused"),
    )  # fmt: skip


def shown(months: list[str], points: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": "east",
            "ds": pd.to_datetime(months),
            "point": points,
            "lo_80": [p - 5 for p in points],
            "hi_80": [p + 5 for p in points],
            "lo_95": [p - 9 for p in points],
            "hi_95": [p + 9 for p in points],
        }
    )


def test_quarter_outlook_adds_booked_and_forecast_months_against_target() -> None:
    forecast = shown(["2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01"],
                     [41.0, 42.0, 43.0, 44.0, 45.0])  # fmt: skip
    table = forecast_report.quarter_outlook(data(), forecast, "east").set_index("quarter")
    q4 = table.loc["2026 Q4"]
    assert q4["booked"] == 40.0  # October only
    assert q4["forecast"] == 40.0 + 41.0 + 42.0
    assert (q4["low"], q4["high"]) == (40.0 + 36.0 + 37.0, 40.0 + 46.0 + 47.0)
    assert q4["target"] == 150.0  # east only: Oct + Nov + Dec
    assert q4["gap_to_target"] == 123.0 - 150.0
    q1 = table.loc["2027 Q1"]
    assert q1["forecast"] == 43.0 + 44.0 + 45.0 and q1["months_booked"] == 0
    assert q1["target"] == 150.0


def test_quarter_outlook_says_when_the_horizon_is_too_short() -> None:
    forecast = shown(["2026-11-01", "2026-12-01", "2027-01-01"], [41.0, 42.0, 43.0])
    table = forecast_report.quarter_outlook(data(horizon=3), forecast, "east")
    q1 = table.set_index("quarter").loc["2027 Q1"]
    assert q1["months_missing"] == 2
    assert pd.isna(q1["forecast"]) and pd.isna(q1["gap_to_target"])


def test_quarter_outlook_uses_the_95_bounds_when_asked() -> None:
    forecast = shown(["2026-11-01", "2026-12-01"], [41.0, 42.0])
    q4 = forecast_report.quarter_outlook(data(level=95), forecast, "east").iloc[0]
    assert (q4["low"], q4["high"]) == (40.0 + 32.0 + 33.0, 40.0 + 50.0 + 51.0)


@pytest.mark.parametrize(
    ("horizon", "level", "message"),
    [
        (0, 80, r"horizon=0: give whole months from 1 to 24"),
        (25, 80, r"horizon=25"),
        (6.0, 80, r"horizon=6.0"),
        (True, 80, r"horizon=True"),
        (6, 90, r"level=90: allowed interval levels are 80 and 95"),
    ],
)
def test_parameters_are_checked(horizon: object, level: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        forecast_report.check_parameters(horizon, level)  # type: ignore[arg-type]


def test_disagreement_between_the_two_quarter_forecasts_is_called_out() -> None:
    class Pipeline:
        expected = 130.0
        range: ClassVar[dict[str, float]] = {}
        quarter_label = "2026-Q4"
        commit = best_case = 100.0

    quarters = pd.DataFrame([{"forecast": 100.0}])
    result = forecast_report.ForecastResult(
        data=data(), backtest=None, forecasts=pd.DataFrame(), shown=pd.DataFrame(),
        regions=pd.DataFrame(), families=pd.DataFrame(), total_backtest=pd.DataFrame(),
        quarters=quarters, pipeline=Pipeline(), scored=pd.DataFrame(),
    )  # type: ignore[arg-type]  # fmt: skip
    text = forecast_display._disagreement_sentence(result)
    assert text is not None and "30% higher" in text
    close = forecast_report.ForecastResult(
        **{**result.__dict__, "quarters": pd.DataFrame([{"forecast": 125.0}])}
    )
    assert forecast_display._disagreement_sentence(close) is None  # 4% apart


def test_series_are_empty_only_when_nothing_is_before_the_as_of_period() -> None:
    from salesops_lib.analytics.forecasting.series import (
        monthly_series_from_bookings,
        weekly_series_from_bookings,
    )

    as_of = dt.date(2026, 11, 23)
    this_month = pd.DataFrame(
        {"region_id": ["east"], "product_family": ["hw"],
         "order_month": [pd.Timestamp("2026-11-01")], "bookings_amount": [5.0]}
    )  # fmt: skip
    empty = forecast_report._series_or_empty(
        monthly_series_from_bookings, this_month, "order_month", "M", as_of, None
    )
    assert empty.empty and list(empty.columns) == ["unique_id", "ds", "y"]
    october = this_month.assign(order_month=pd.Timestamp("2026-10-01"))
    built = forecast_report._series_or_empty(
        monthly_series_from_bookings, october, "order_month", "M", as_of, None
    )
    assert built.set_index("unique_id").loc["total", "y"] == 5.0
    tuesday = pd.DataFrame(  # a week that does not start on Monday is bad data, not "no data"
        {"region_id": ["east"], "product_family": ["hw"],
         "order_week": [pd.Timestamp("2026-11-10")], "bookings_amount": [5.0]}
    )  # fmt: skip
    with pytest.raises(ParameterError):
        forecast_report._series_or_empty(
            weekly_series_from_bookings, tuesday, "order_week", "W-SUN", as_of, None
        )
