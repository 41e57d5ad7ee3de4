"""One "booked so far": complete months end on the as-of date, month-to-date bookings count.

Hand-made order-month rows; every expected number is summed here by hand or with plain pandas
over the raw rows, never read back from the code under test.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.forecasting import statistical_views
from salesops_lib.analytics.forecasting.build import series_before_as_of
from salesops_lib.analytics.forecasting.pipeline_views import typed as pipeline_typed
from salesops_lib.analytics.forecasting.series import (
    month_to_date_bookings,
    monthly_series_from_bookings,
    weekly_series_from_bookings,
)
from salesops_lib.reports import narrative
from salesops_lib.reports.forecast import display
from tests.forecast_reports import report_of

COLUMNS = ["region_id", "product_family", "order_month", "bookings_amount"]


def month_rows(as_of_month: str, months: int, mtd: dict[str, float]) -> pd.DataFrame:
    """``months`` complete months per region before ``as_of_month`` plus its month-to-date rows."""
    first = pd.Timestamp(as_of_month) - pd.DateOffset(months=months)
    rows = []
    for i, month in enumerate(pd.date_range(first, periods=months, freq="MS")):
        rows.append(("east", "hardware", month.date(), 100.0 + 10 * (i % 12)))
        rows.append(("east", "services", month.date(), 50.0 + i))
        rows.append(("west", "hardware", month.date(), 80.0 + 5 * (i % 6)))
    for region, amount in mtd.items():
        rows.append((region, "hardware", pd.Timestamp(as_of_month).date(), amount))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_a_dec_31_as_of_keeps_december_and_dec_30_does_not() -> None:
    rows = pd.DataFrame(
        [
            ("east", "hardware", dt.date(2026, 11, 1), 10.0),
            ("east", "hardware", dt.date(2026, 12, 1), 25.0),
            ("west", "services", dt.date(2026, 12, 1), 5.0),
        ],
        columns=COLUMNS,
    )
    complete = monthly_series_from_bookings(rows, "2026-12-31")
    total = complete[complete["unique_id"] == "total"].set_index("ds")["y"]
    assert total.to_dict() == {pd.Timestamp("2026-11-01"): 10.0, pd.Timestamp("2026-12-01"): 30.0}
    assert month_to_date_bookings(rows, "2026-12-31").empty  # December is history, not "so far"
    open_month = monthly_series_from_bookings(rows, "2026-12-30")
    assert open_month["ds"].max() == pd.Timestamp("2026-11-01")
    so_far = month_to_date_bookings(rows, "2026-12-30").set_index("unique_id")["y"]
    assert so_far.to_dict() == {
        "east": 25.0, "east/hardware": 25.0, "total": 30.0, "west": 5.0, "west/services": 5.0
    }  # fmt: skip
    # the build's guard: a month ending on as-of is a complete month to forecast from
    only_december = rows[rows["order_month"] == dt.date(2026, 12, 1)]
    assert series_before_as_of(only_december, dt.date(2026, 12, 30), None).empty
    built = series_before_as_of(only_december, dt.date(2026, 12, 31), None)
    assert built.loc[built["unique_id"] == "total", "y"].tolist() == [30.0]


def test_a_week_ending_on_the_as_of_sunday_is_complete() -> None:
    weekly = pd.DataFrame(
        [("east", "hardware", dt.date(2026, 11, 9), 7.0),
         ("east", "hardware", dt.date(2026, 11, 16), 3.0)],
        columns=["region_id", "product_family", "order_week", "bookings_amount"],
    )  # fmt: skip
    sunday = weekly_series_from_bookings(weekly, "2026-11-22")
    assert sunday.loc[sunday["unique_id"] == "total", "y"].tolist() == [7.0, 3.0]
    saturday = weekly_series_from_bookings(weekly, "2026-11-21")
    assert saturday.loc[saturday["unique_id"] == "total", "y"].tolist() == [7.0]


def shown(months: list[str], points: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"ds": pd.to_datetime(months), "point": points, "lo_80": [p - 5 for p in points],
         "hi_80": [p + 5 for p in points], "lo_95": [p - 9 for p in points],
         "hi_95": [p + 9 for p in points]}
    )  # fmt: skip


HISTORY = pd.DataFrame({"ds": pd.to_datetime(["2026-10-01"]), "y": [40.0]})
TARGETS = pd.DataFrame({"region_id": ["east"], "month": [pd.Timestamp("2026-11-01")],
                        "target_amount": [300.0]})  # fmt: skip


def test_month_to_date_above_the_months_forecast_keeps_the_quarter_above_booked() -> None:
    forecast = shown(["2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01"],
                     [30.0, 42.0, 43.0, 44.0, 45.0])  # fmt: skip
    table = statistical_views.quarter_outlook(
        HISTORY, forecast, TARGETS, dt.date(2026, 11, 23), month_to_date=70.0
    ).set_index("quarter")
    q4 = table.loc["2026 Q4"]
    assert q4["booked"] == 40.0 + 70.0  # October + November so far
    # November counts max(30 forecast, 70 booked) = 70; each bound at least 70 too
    assert q4["forecast"] == 40.0 + 70.0 + 42.0
    assert (q4["low_80"], q4["high_80"]) == (40.0 + 70.0 + 37.0, 40.0 + 70.0 + 47.0)
    assert (q4["low_95"], q4["high_95"]) == (40.0 + 70.0 + 33.0, 40.0 + 70.0 + 51.0)
    assert q4["forecast"] >= q4["booked"] and q4["low_95"] >= q4["booked"]
    assert q4["gap_to_target"] == 152.0 - 300.0
    assert table.loc["2027 Q1", "booked"] == 0.0  # month to date belongs to this quarter only
    assert table.loc["2027 Q1", "forecast"] == 43.0 + 44.0 + 45.0
    below = statistical_views.quarter_outlook(
        HISTORY, forecast, TARGETS, dt.date(2026, 11, 23), month_to_date=12.0
    ).set_index("quarter")
    assert below.loc["2026 Q4", "booked"] == 52.0
    assert below.loc["2026 Q4", "forecast"] == 40.0 + 30.0 + 42.0  # forecast above so far: kept
    assert below.loc["2026 Q4", "low_95"] == 40.0 + 21.0 + 33.0


def test_a_month_ahead_of_its_forecast_still_books_in_its_remaining_days() -> None:
    assert statistical_views.rest_of_month_share(dt.date(2026, 11, 23)) == 7 / 30
    assert statistical_views.rest_of_month_share(dt.date(2026, 11, 30)) == 0.0
    forecast = shown(["2026-11-01", "2026-12-01"], [30.0, 42.0]).assign(unique_id="east")
    so_far = pd.DataFrame({"unique_id": ["east"], "ds": [pd.Timestamp("2026-11-01")], "y": [70.0]})
    raised = statistical_views.not_below_month_to_date(forecast, so_far, 7 / 30).set_index("ds")
    # ahead: 70 booked + 7/30 of the month's 30 forecast = 77; lo_95 21 -> 70 + 4.9
    assert raised.loc["2026-11-01", "point"] == pytest.approx(77.0)
    assert raised.loc["2026-11-01", "lo_95"] == pytest.approx(74.9)
    assert raised.loc["2026-11-01", "hi_95"] == pytest.approx(70.0 + 39.0 * 7 / 30)
    assert raised.loc["2026-12-01", "point"] == 42.0  # other months untouched
    behind = so_far.assign(y=12.0)  # 12 + 7 < 30: the forecast stands
    kept = statistical_views.not_below_month_to_date(forecast, behind, 7 / 30).set_index("ds")
    assert kept.loc["2026-11-01", "point"] == 30.0
    assert kept.loc["2026-11-01", "lo_95"] == 21.0  # 12 + 21 x 7/30 = 16.9 < 21


def test_a_dec_31_quarter_is_all_booked() -> None:
    history = pd.DataFrame({"ds": pd.date_range("2026-10-01", periods=3, freq="MS"),
                            "y": [40.0, 50.0, 60.0]})  # fmt: skip
    forecast = shown(["2027-01-01", "2027-02-01", "2027-03-01"], [43.0, 44.0, 45.0])
    table = statistical_views.quarter_outlook(
        history, forecast, TARGETS, dt.date(2026, 12, 31), month_to_date=999.0
    ).set_index("quarter")
    q4 = table.loc["2026 Q4"]
    assert q4["booked"] == q4["forecast"] == q4["low_95"] == q4["high_95"] == 150.0
    assert q4["months_booked"] == 3 and q4["months_forecast"] == 0


def test_statistical_tables_count_month_to_date_in_every_scope() -> None:
    as_of = dt.date(2026, 11, 23)
    huge = {"east": 5_000.0, "west": 7_000.0}  # above any month's forecast of these series
    rows = month_rows("2026-11-01", 30, huge)
    tables = statistical_views.statistical_tables(
        monthly_series_from_bookings(rows, as_of.isoformat()),
        TARGETS.assign(month=pd.Timestamp("2026-10-01")),
        ["east", "west"],
        scopes=["east", "west", "all"],
        as_of=as_of,
        horizon=3,
        month_to_date=month_to_date_bookings(rows, as_of),
    )
    # independent: plain pandas over the raw rows, Oct 1 to the as-of day
    in_quarter = rows[pd.to_datetime(rows["order_month"]) >= pd.Timestamp("2026-10-01")]
    expected_booked = in_quarter.groupby("region_id")["bookings_amount"].sum().to_dict()
    expected_booked["all"] = float(in_quarter["bookings_amount"].sum())
    quarters = tables["an_forecast_quarters"]
    this_quarter = quarters[quarters["quarter"] == "2026 Q4"].set_index("scope")
    for scope, booked in expected_booked.items():
        row = this_quarter.loc[scope]
        assert row["booked"] == booked, scope
        assert row["forecast"] >= row["booked"] and row["low_95"] >= row["booked"], scope
    # November is booked so far plus the model's own November forecast for the 7 of its 30 days
    # still to come (the raw chosen model rows, before any floor)
    raw = tables["an_forecast_model_months"]
    raw = raw[raw["is_chosen"] & (raw["ds"] == pd.Timestamp("2026-11-01"))]
    raw = raw[raw["scope"] == raw["unique_id"]].set_index("unique_id")["point"].clip(lower=0.0)
    expected_november = {r: huge[r] + raw[r] * 7 / 30 for r in huge}
    assert all(raw[r] * 7 / 30 > 0 for r in huge)
    months = tables["an_forecast_months"]
    november = months[months["ds"] == pd.Timestamp("2026-11-01")]
    own = november[(november["level"] == "region") & (november["scope"] != "all")]
    for region, point in own.set_index("scope")["point"].items():
        assert np.isclose(point, expected_november[region], rtol=1e-12), region
    total = november[november["level"] == "total"].iloc[0]
    assert np.isclose(total["point"], sum(expected_november.values()), rtol=1e-12)
    assert total["lo_95"] >= sum(huge.values())
    east_families = november[(november["scope"] == "east") & (november["level"] == "family")]
    assert np.isclose(east_families["point"].sum(), expected_november["east"], rtol=1e-12)
    for scope in ("east", "west", "all"):  # forecast = complete October + November + December
        december = months[(months["scope"] == scope) & (months["ds"] == pd.Timestamp("2026-12-01"))
                          & months["level"].isin(["region", "total"])]  # fmt: skip
        if scope == "all":
            december = december[december["level"] == "total"]
        october = float(
            rows[(pd.to_datetime(rows["order_month"]) == pd.Timestamp("2026-10-01"))
                 & ((rows["region_id"] == scope) | (scope == "all"))]["bookings_amount"].sum()
        )  # fmt: skip
        november_so_far = expected_november.get(scope, sum(expected_november.values()))
        assert np.isclose(
            this_quarter.loc[scope, "forecast"],
            october + november_so_far + float(december["point"].sum()),
            rtol=1e-12,
        ), scope


def test_summary_and_pipeline_section_state_the_same_booked_so_far() -> None:
    as_of = dt.date(2026, 11, 23)
    closed_so_far = 40.0 + 70.0  # October + November to the 23rd, as the pipeline counts it
    forecast = shown(["2026-11-01", "2026-12-01"], [30.0, 42.0])
    quarters = statistical_views.quarter_outlook(
        HISTORY, forecast, TARGETS, as_of, month_to_date=70.0
    ).assign(scope="east")
    months = forecast.assign(scope="east", level="region", unique_id="east", region_id="east")
    components = pd.DataFrame(
        [{"scope": "east", "region_id": "east", "quarter_start": pd.Timestamp("2026-10-01"),
          "closed_so_far": closed_so_far, "expected": 160.0, "commit": 130.0,
          "best_case": 150.0, "p10": float("nan"), "p90": float("nan"), "quota": 300.0,
          "target": 300.0, "n_draws": 1, "seed": 1}]
    )  # fmt: skip
    report = report_of(
        {
            "an_forecast_quarters": statistical_views.typed(quarters, "an_forecast_quarters"),
            "an_forecast_months": statistical_views.typed(months, "an_forecast_months"),
            "an_forecast_model_choices": statistical_views.typed(
                pd.DataFrame(
                    [{"scope": "east", "unique_id": "east", "model": "AutoETS", "scale_season": 12}]
                ),
                "an_forecast_model_choices",
            ),
            "an_pipeline_quarter_components": pipeline_typed(
                components, "an_pipeline_quarter_components"
            ),
        },
        "east",
        {"east": "East"},
        as_of,
    )
    money = narrative.format_money(closed_so_far)
    first = display.summary_sentences(report)[0]
    assert f"{money} booked so far" in first
    assert display.headline_numbers(report)["quarter_booked"] == closed_so_far
    from salesops_lib.reports.forecast import pipeline_display

    assert f"Closed so far {money}" in str(pipeline_display.pipeline_summary(report))
