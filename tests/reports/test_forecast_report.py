"""Forecast report pieces on hand-made frames: parameters, quarters against target, summaries."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesops_lib.analytics.forecasting import statistical_views
from salesops_lib.analytics.forecasting.build import series_before_as_of
from salesops_lib.analytics.forecasting.pipeline_views import typed as pipeline_typed
from salesops_lib.core.errors import ParameterError
from salesops_lib.reports import forecast
from salesops_lib.reports.forecast import display
from tests.forecast_reports import report_of

AS_OF = dt.date(2026, 11, 23)
HISTORY = pd.DataFrame(
    {"ds": pd.date_range("2026-07-01", "2026-10-01", freq="MS"), "y": [10.0, 20.0, 30.0, 40.0]}
)
TARGETS = pd.DataFrame(
    {
        "region_id": ["east"] * 6,
        "month": list(pd.date_range("2026-10-01", periods=6, freq="MS")),
        "target_amount": [50.0] * 6,
    }
)


def shown(months: list[str], points: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ds": pd.to_datetime(months),
            "point": points,
            "lo_80": [p - 5 for p in points],
            "hi_80": [p + 5 for p in points],
            "lo_95": [p - 9 for p in points],
            "hi_95": [p + 9 for p in points],
        }
    )


def test_quarter_outlook_adds_booked_and_forecast_months_against_target() -> None:
    forecast_months = shown(["2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01"],
                            [41.0, 42.0, 43.0, 44.0, 45.0])  # fmt: skip
    table = statistical_views.quarter_outlook(HISTORY, forecast_months, TARGETS, AS_OF)
    q4 = table.set_index("quarter").loc["2026 Q4"]
    assert q4["booked"] == 40.0  # October only
    assert q4["forecast"] == 40.0 + 41.0 + 42.0
    assert (q4["low_80"], q4["high_80"]) == (40.0 + 36.0 + 37.0, 40.0 + 46.0 + 47.0)
    assert (q4["low_95"], q4["high_95"]) == (40.0 + 32.0 + 33.0, 40.0 + 50.0 + 51.0)
    assert q4["target"] == 150.0  # Oct + Nov + Dec
    assert q4["gap_to_target"] == 123.0 - 150.0
    q1 = table.set_index("quarter").loc["2027 Q1"]
    assert q1["forecast"] == 43.0 + 44.0 + 45.0 and q1["months_booked"] == 0
    assert q1["target"] == 150.0


def test_quarter_outlook_says_when_the_horizon_is_too_short() -> None:
    forecast_months = shown(["2026-11-01", "2026-12-01", "2027-01-01"], [41.0, 42.0, 43.0])
    table = statistical_views.quarter_outlook(HISTORY, forecast_months, TARGETS, AS_OF)
    q1 = table.set_index("quarter").loc["2027 Q1"]
    assert q1["months_missing"] == 2
    assert pd.isna(q1["forecast"]) and pd.isna(q1["gap_to_target"]) and pd.isna(q1["low_80"])


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
        forecast.check_parameters(horizon, level)  # type: ignore[arg-type]


def _report(statistical: float, expected: float, level: int = 80) -> forecast.ForecastReport:
    quarters = statistical_views.quarter_outlook(
        HISTORY, shown(["2026-11-01", "2026-12-01"], [statistical / 2 - 20.0] * 2), TARGETS, AS_OF
    ).assign(scope="east")
    components = pd.DataFrame(
        [{"scope": "east", "region_id": "east", "quarter_start": pd.Timestamp("2026-10-01"),
          "expected": expected, "commit": 100.0, "best_case": 100.0, "p10": float("nan"),
          "p90": float("nan"), "n_draws": 1, "seed": 1}]
    )  # fmt: skip
    tables = {
        "an_forecast_quarters": statistical_views.typed(quarters, "an_forecast_quarters"),
        "an_pipeline_quarter_components": pipeline_typed(
            components, "an_pipeline_quarter_components"
        ),
    }
    return report_of(tables, "east", {"east": "East", "west": "West"}, AS_OF, level)


def test_disagreement_between_the_two_quarter_forecasts_is_called_out() -> None:
    text = display.disagreement_sentence(_report(statistical=100.0, expected=130.0))
    assert text is not None and "30% higher" in text
    assert display.disagreement_sentence(_report(statistical=125.0, expected=130.0)) is None


def test_series_are_empty_only_when_nothing_is_before_the_as_of_period() -> None:
    this_month = pd.DataFrame(
        {"region_id": ["east"], "product_family": ["hw"],
         "order_month": [pd.Timestamp("2026-11-01")], "bookings_amount": [5.0]}
    )  # fmt: skip
    empty = series_before_as_of(this_month, AS_OF, None)
    assert empty.empty and list(empty.columns) == ["unique_id", "ds", "y"]
    october = this_month.assign(order_month=pd.Timestamp("2026-10-01"))
    built = series_before_as_of(october, AS_OF, None)
    assert built.set_index("unique_id").loc["total", "y"] == 5.0
    mid_month = october.assign(order_month=pd.Timestamp("2026-10-10"))  # bad data, not "no data"
    with pytest.raises(ParameterError):
        series_before_as_of(mid_month.drop(columns="bookings_amount"), AS_OF, None)
