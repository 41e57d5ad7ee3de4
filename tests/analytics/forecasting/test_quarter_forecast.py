"""Quarter forecast on hand-made frames: every amount worked out by hand, the simulation checked
against the analytic mean, seeded determinism, and regions adding up to all."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.forecasting import pipeline_quarter as qf
from salesops_lib.analytics.forecasting import win_probability as wm
from salesops_lib.core.errors import ParameterError

AS_OF = dt.date(2026, 11, 23)
REGIONS = ("r1", "r2")

BOOKINGS = pd.DataFrame(
    [
        ("r1", "2026-10-01", 100.0),  # quarter to date
        ("r1", "2026-11-23", 50.0),  # quarter to date (the as-of day counts)
        ("r1", "2026-09-30", 1000.0),  # last quarter: trailing 12 months only
        ("r2", "2026-10-15", 30.0),  # quarter to date
        ("r1", "2025-11-23", 7.0),  # the day a year ago: not in the window (c', e']
        ("r1", "2025-12-01", 200.0),  # last year's window
        ("r1", "2025-12-31", 100.0),  # last year's window (its last day)
        ("r2", "2025-12-10", 80.0),  # last year's window
        ("r1", "2025-01-15", 718.0),  # the year before the trailing 12 months
    ],
    columns=["region_id", "order_date", "amount"],
).assign(order_date=lambda f: pd.to_datetime(f["order_date"]))
"""r1: window 300, prior year 7 + 718 = 725, trailing year 1450 -> growth 2; r2: growth 1."""

OPEN_DEALS = [
    # id, region, category, amount, close date, probability
    ("O1", "r1", "Commit", 100.0, "2026-12-10", 0.5),
    ("O2", "r1", "Best Case", 200.0, "2026-12-31", 0.25),
    ("O3", "r1", "Commit", 1000.0, "2027-01-05", 0.1),  # closes after the quarter
    ("O4", "r2", "Commit", 40.0, "2026-11-01", 1.0),  # overdue, still in the quarter
    ("O5", "r2", "Best Case", 10.0, "2026-12-01", 0.0),
    ("O6", "r2", "Pipeline", 500.0, "2026-12-01", 0.2),
]
CLOSED_DEALS = [
    # id, region, won, amount, close date, created date
    ("W1", "r1", True, 60.0, "2025-12-05", "2025-11-01"),  # open a year ago, won in window
    ("W2", "r1", True, 70.0, "2025-12-05", "2025-11-30"),  # created after c': run-rate
    ("W3", "r1", False, 80.0, "2025-12-05", "2025-11-01"),  # lost
    ("W4", "r2", True, 100.0, "2025-12-20", "2025-10-01"),  # more than r2's window: floor 0
]


def opportunities() -> pd.DataFrame:
    rows = [
        (oid, region, "2026-09-01", False, False, amount, close, category)
        for oid, region, category, amount, close, _ in OPEN_DEALS
    ] + [
        (oid, region, created, True, won, amount, close, "Closed" if won else "Omitted")
        for oid, region, won, amount, close, created in CLOSED_DEALS
    ]
    columns = [
        "opportunity_id",
        "region_id",
        "created_date",
        "is_closed",
        "is_won",
        "amount",
        "close_date",
        "forecast_category",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(
        created_date=pd.to_datetime(frame["created_date"]),
        close_date=pd.to_datetime(frame["close_date"]),
    )


def win_result(probabilities: dict[str, float] | None = None) -> wm.WinModelResult:
    """A win model result with hand-set probabilities for the open deals."""
    rows = [
        {
            "opportunity_id": oid,
            "region_id": region,
            "stage": "Negotiation",
            "forecast_category": category,
            "amount": amount,
            "close_date": pd.Timestamp(close),
            "push_count": 0,
            "probability": (probabilities or {}).get(oid, p),
        }
        for oid, region, category, amount, close, p in OPEN_DEALS
    ]
    empty = pd.DataFrame()
    return wm.WinModelResult(
        as_of=AS_OF,
        horizon_days=38,
        method=wm.METHOD_SNAPSHOTS,
        method_note="hand-made",
        features=(),
        cutoffs=(),
        n_examples=0,
        n_deals=0,
        brier_model=math.nan,
        brier_stage_only=math.nan,
        odds_ratio_per_push=math.nan,
        empirical_ratio_per_push=math.nan,
        reliability=empty,
        stage_rates=empty,
        slip_effect=empty,
        empirical_slips=empty,
        predictions=pd.DataFrame(rows),
    )


def inputs(probabilities: dict[str, float] | None = None) -> qf.QuarterInputs:
    months = pd.to_datetime(["2026-10-01", "2026-11-01", "2026-12-01"])
    quotas = pd.DataFrame(
        {
            "rep_id": ["q1"] * 3 + ["q2"] * 3,
            "region_id": ["r1"] * 3 + ["r2"] * 3,
            "month": list(months) * 2,
            "quota_amount": [100.0] * 3 + [50.0] * 3,
        }
    )
    targets = pd.DataFrame(
        {
            "region_id": ["r1"] * 3 + ["r2"] * 3,
            "month": list(months) * 2,
            "target_amount": [100.0, 100.0, 200.0, 50.0, 50.0, 100.0],
        }
    )
    return qf.QuarterInputs(
        as_of=AS_OF,
        region_ids=REGIONS,
        region_names={"r1": "Region One", "r2": "Region Two"},
        bookings=BOOKINGS,
        opportunities=opportunities(),
        quotas=quotas,
        targets=targets,
        win=win_result(probabilities),
    )


def test_closed_so_far_counts_the_quarter_to_the_as_of_day() -> None:
    closed = qf.closed_so_far(BOOKINGS, AS_OF, REGIONS)
    assert closed.to_dict() == {"r1": 150.0, "r2": 30.0}


def test_run_rate_formula_by_hand() -> None:
    table = qf.run_rate(BOOKINGS, opportunities(), AS_OF, REGIONS)
    assert table.loc["r1"].to_dict() == {
        "last_year_bookings": 300.0,
        "last_year_pipeline_won": 60.0,
        "growth": 1450.0 / 725.0,
        "run_rate": (300.0 - 60.0) * 2.0,
    }
    assert table.loc["r2", "growth"] == 1.0  # no bookings in the earlier year
    assert table.loc["r2", "run_rate"] == 0.0  # 80 - 100 floored at 0


def test_commit_and_best_case_amounts_in_the_quarter() -> None:
    deals = opportunities()
    commit = qf.category_in_quarter(deals, "Commit", AS_OF, REGIONS)
    best = qf.category_in_quarter(deals, "Best Case", AS_OF, REGIONS)
    assert commit.to_dict() == {"r1": 100.0, "r2": 40.0}
    assert best.to_dict() == {"r1": 200.0, "r2": 10.0}


def test_region_components_by_hand() -> None:
    table = qf.region_components(inputs())
    expected = {
        "r1": {
            "closed_so_far": 150.0,
            "pipeline_expected": 50.0 + 50.0 + 100.0,
            "run_rate": 480.0,
            "expected": 150.0 + 200.0 + 480.0,
            "commit": 250.0,
            "best_case": 450.0,
            "quota": 300.0,
            "target": 400.0,
        },
        "r2": {
            "closed_so_far": 30.0,
            "pipeline_expected": 40.0 + 0.0 + 100.0,
            "run_rate": 0.0,
            "expected": 170.0,
            "commit": 70.0,
            "best_case": 80.0,
            "quota": 150.0,
            "target": 200.0,
        },
    }
    for region, values in expected.items():
        for column, value in values.items():
            assert table.loc[region, column] == pytest.approx(value), (region, column)


def test_all_is_the_sum_of_the_regions() -> None:
    data = inputs()
    total = qf.quarter_forecast(data, "all", n_draws=2000)
    parts = [qf.quarter_forecast(data, r, n_draws=2000) for r in REGIONS]
    assert total.expected == pytest.approx(1000.0)
    assert total.quota == 450.0
    assert total.target == 600.0
    assert total.gap_to_quota == pytest.approx(550.0)
    assert total.gap_to_target == pytest.approx(400.0)
    for column in qf.AMOUNT_COLUMNS:
        assert getattr(total, column) == pytest.approx(sum(getattr(p, column) for p in parts))
    assert total.quarter_label == "2026-Q4"
    assert parts[0].region_name == "Region One"
    # Largest expected value first (100, 50, 50), ties by id.
    assert parts[0].deals["opportunity_id"].tolist() == ["O3", "O1", "O2"]


def test_simulation_mean_matches_the_analytic_mean() -> None:
    forecast = qf.quarter_forecast(inputs(), "all", n_draws=10_000, seed=5)
    # Variance: sum a^2 p (1 - p) over deals (100,000 + 40,000) + (0.25 x 480)^2 = 154,400,
    # so the standard error of the mean of 10,000 draws is about 3.9.
    assert forecast.simulated_mean == pytest.approx(forecast.expected, abs=20.0)
    r = forecast.range
    assert r["p5"] <= r["p10"] <= r["p50"] <= r["p90"] <= r["p95"]


def test_simulated_draws_by_hand_for_a_region_without_run_rate() -> None:
    data = inputs()
    table = qf.region_components(data)
    draws = qf.simulate(data.win.predictions, table, n_draws=5000, seed=1)
    # r2: O4 (p = 1) always adds 40, O5 (p = 0) never, O6 adds 500 with chance 0.2.
    assert set(draws["r2"].unique()) == {70.0, 570.0}
    assert (draws["r2"] == 570.0).mean() == pytest.approx(0.2, abs=0.03)


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    data = inputs()
    table = qf.region_components(data)
    first = qf.simulate(data.win.predictions, table, n_draws=500, seed=3)
    again = qf.simulate(data.win.predictions, table, n_draws=500, seed=3)
    other = qf.simulate(data.win.predictions, table, n_draws=500, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_missing_probabilities_give_no_range() -> None:
    forecast = qf.quarter_forecast(inputs({"O6": np.nan}), "r2")
    assert math.isnan(forecast.pipeline_expected)
    assert math.isnan(forecast.expected)
    assert forecast.range == {}
    assert qf.quarter_forecast(inputs({"O6": np.nan}), "r1").range == {}
    assert forecast.commit == 70.0  # commit and best case do not need the model


def test_unknown_region_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="unknown region 'mars'"):
        qf.quarter_forecast(inputs(), "mars")


def test_inputs_are_not_changed() -> None:
    data = inputs()
    before = data.win.predictions.copy()
    qf.quarter_forecast(data, "all", n_draws=100)
    pd.testing.assert_frame_equal(data.win.predictions, before)


def test_notes_explain_the_method_and_a_missing_run_rate() -> None:
    forecast = qf.quarter_forecast(inputs(), "r2", n_draws=100)
    assert forecast.notes[0] == "hand-made"  # the win model's note comes first
    assert any("Run-rate" in note for note in forecast.notes)
    assert not any("no bookings in those days" in note for note in forecast.notes)
    data = inputs()
    young = dataclasses.replace(data, bookings=BOOKINGS[BOOKINGS["order_date"] >= "2026-01-01"])
    forecast = qf.quarter_forecast(young, "r1", n_draws=100)
    assert forecast.run_rate == 0.0
    assert any("no bookings in those days" in note for note in forecast.notes)


def test_display_escapes_names_and_shows_the_numbers() -> None:
    from salesops_lib.analytics.forecasting.pipeline_views import pipeline_tables
    from salesops_lib.reports.forecast import pipeline_display as display
    from tests.forecast_reports import report_of

    names = {"r1": "<b>R&D</b>", "r2": "Two"}
    data = dataclasses.replace(inputs(), region_names=names)
    tables = pipeline_tables(qf.quarter_forecasts(data, n_draws=200))
    report = report_of(tables, "r1", names, AS_OF)
    sentence = display.pipeline_summary(report)._repr_html_()
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in sentence and "<b>R&D" not in sentence
    assert "$830 (80% range" in sentence  # expected 150 + 200 + 480
    assert "208% of the $400 target" in sentence
    table = display.pipeline_table(report).frame.set_index("Measure")
    assert table.loc["Commit", "Amount"] == "$250"
    assert table.loc["Best case", "Gap to target"] == "$50"
    assert table.loc["Expected", "% of quota ($300)"] == "277%"
    deals = display.pipeline_deals_table(report).frame
    assert deals["Opportunity"].tolist() == ["O3", "O1", "O2"]
    assert deals["Win probability"].tolist() == ["10%", "50%", "25%"]
    # A regional report lists its own region only; the company report every region and all.
    assert display.pipeline_components_table(report).frame["Region"].tolist() == ["<b>R&D</b>"]
    company = report_of(tables, "all", names, AS_OF)
    regions = display.pipeline_components_table(company).frame["Region"].tolist()
    assert regions == ["<b>R&D</b>", "Two", "All regions"]
    assert display.calibration_chart(report)._repr_png_().startswith(b"\x89PNG")


def test_note_when_the_plan_misses_months_of_the_quarter() -> None:
    data = inputs()
    short = dataclasses.replace(
        data, targets=data.targets[pd.to_datetime(data.targets["month"]) < "2026-12-01"]
    )
    forecast = qf.quarter_forecast(short, "all", n_draws=100)
    assert forecast.target == 100.0 + 100.0 + 50.0 + 50.0
    assert (
        "The plan has targets for 2 of the quarter's 3 months (Oct 2026, Nov 2026); "
        "the target shown covers only those months." in forecast.notes
    )
    assert not any("quotas for" in note for note in forecast.notes)
