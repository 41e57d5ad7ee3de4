"""Capacity planning on hand-made frames: every expected figure is worked out by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.planning import (
    capacity_gap,
    hiring_plan,
    productivity,
    ramp_from_curve,
    ramped_equivalents,
    rep_capacity,
    team_capacity,
)
from salesops_lib.core.errors import ParameterError

YEAR_2027 = ["2027Q1", "2027Q2", "2027Q3", "2027Q4"]


def _reps(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """rep_id, region_id, role, hire_date (manager M1 for everyone)."""
    frame = pd.DataFrame(rows, columns=["rep_id", "region_id", "role", "hire_date"])
    return frame.assign(manager_id="M1", hire_date=pd.to_datetime(frame["hire_date"]).dt.date)


def _issue_team() -> pd.DataFrame:
    """7 ramped reps (hired 2020) and 3 hired in December 2026 (ramping through 2027)."""
    ramped = [(f"R{i}", "EU", "rep", "2020-01-01") for i in range(7)]
    ramping = [(f"N{i}", "EU", "rep", "2026-12-01") for i in range(3)]
    manager = [("M1", "EU", "manager", "2015-01-01")]
    return _reps(ramped + ramping + manager)


def test_issue_example_7_ramped_and_3_ramping_reps_make_1_072_500() -> None:
    # A ramping rep produces 40% of quota when ramped reps produce 85%: ramp factor 0.40/0.85
    # for tenure months 1..24 (the December hires are in tenure months 2..13 during 2027).
    ramp = pd.DataFrame({"tenure_month": range(1, 25), "productivity": 0.40 / 0.85})
    out = team_capacity(_issue_team(), ramp, 150_000, 0.85, 0.0, YEAR_2027)
    assert out["capacity"].sum() == pytest.approx(7 * 150_000 * 0.85 + 3 * 150_000 * 0.40)
    assert out["capacity"].sum() == pytest.approx(1_072_500)
    assert list(out["quarter"]) == YEAR_2027
    assert list(out["capacity"]) == pytest.approx([1_072_500 / 4] * 4)
    assert (out["headcount"] == 10).all()  # the manager carries no quota
    assert out["ramped_equivalents"].iloc[0] == pytest.approx(7 + 3 * 0.40 / 0.85)


def test_ramped_equivalents_by_region_and_month() -> None:
    reps = _reps(
        [
            ("A", "R1", "rep", "2026-01-15"),  # tenure month 2 in Feb, 3 in Mar, 4 in Apr
            ("B", "R1", "rep", "2026-03-01"),  # joins in March
            ("C", "R2", "rep", "2026-04-10"),
            ("M", "R1", "manager", "2010-01-01"),
        ]
    )
    ramp = pd.DataFrame({"tenure_month": [1, 2, 3], "productivity": [0.25, 0.5, 0.75]})
    months = [dt.date(2026, 2, 1), dt.date(2026, 3, 20), dt.date(2026, 4, 1)]
    out = ramped_equivalents(reps, ramp, months)
    got = {
        (r.region_id, r.month.month): (r.headcount, r.ramped_reps, r.ramping_reps)
        for r in out.itertuples()
    }
    assert got == {
        ("R1", 2): (1, 0, 1),
        ("R1", 3): (2, 0, 2),
        ("R1", 4): (2, 1, 1),
        ("R2", 4): (1, 0, 1),
    }
    equivalents = out.set_index(["region_id", out["month"].dt.month])["ramped_equivalents"]
    assert equivalents[("R1", 2)] == pytest.approx(0.5)
    assert equivalents[("R1", 3)] == pytest.approx(0.75 + 0.25)
    assert equivalents[("R1", 4)] == pytest.approx(1.0 + 0.5)
    assert equivalents[("R2", 4)] == pytest.approx(0.25)


def test_leavers_with_an_end_date_leave_the_team() -> None:
    reps = _reps([("A", "R1", "rep", "2020-01-01"), ("B", "R1", "rep", "2020-01-01")])
    reps["end_date"] = [None, dt.date(2026, 2, 15)]
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    out = ramped_equivalents(reps, ramp, ["2026-02-01", "2026-03-01"])
    assert list(out["headcount"]) == [2, 1]


def test_attrition_discounts_each_month_by_the_annual_rate() -> None:
    reps = _reps([("A", "R1", "rep", "2020-01-01")])
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    out = team_capacity(reps, ramp, 120_000, 1.0, 0.5, ["2027Q1"])
    # 10,000 a month; survival 1, 0.5^(1/12), 0.5^(2/12)
    assert out["capacity"].iloc[0] == pytest.approx(10_000 * (1 + 2 ** (-1 / 12) + 2 ** (-2 / 12)))


def test_capacity_per_region_quota_and_productivity_series() -> None:
    reps = _reps([("A", "R1", "rep", "2020-01-01"), ("B", "R2", "rep", "2020-01-01")])
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    quota = pd.Series({"R1": 120_000.0, "R2": 240_000.0})
    prod = pd.Series({"R1": 0.5, "R2": 1.0, "all": 0.8})
    out = team_capacity(reps, ramp, quota, prod, 0.0, ["2027Q1"]).set_index("region_id")
    assert out.loc["R1", "capacity"] == pytest.approx(3 * 10_000 * 0.5)
    assert out.loc["R2", "capacity"] == pytest.approx(3 * 20_000 * 1.0)


def test_seasonality_weights_the_months() -> None:
    reps = _reps([("A", "R1", "rep", "2020-01-01")])
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    weights = [0.2] + [0.8 / 11] * 11
    season = pd.DataFrame({"month_of_year": range(1, 13), "weight": weights})
    rows = rep_capacity(
        reps,
        ramp,
        quota_per_rep=100_000,
        productivity=0.9,
        months=["2027-01-01"],
        seasonality=season,
    )
    assert rows["capacity"].iloc[0] == pytest.approx(100_000 * 0.2 * 0.9)


def _history() -> pd.DataFrame:
    """Monthly quota 100; bookings per rep-quarter as below, spread evenly over the months."""
    quarterly = {
        # rep: (region, hire date, Q1 bookings, Q2 bookings) against a quarterly quota of 300
        "r1": ("R1", "2020-01-01", 270, 330),  # 0.9, 1.1
        "r3": ("R1", "2019-05-01", 150, 240),  # 0.5, 0.8
        "r2": ("R1", "2025-10-01", 0, 0),  # not ramped (< 12 months before either quarter)
        "r4": ("R2", "2018-01-01", 300, 360),  # 1.0, 1.2
    }
    rows = []
    for rep, (region, hired, q1, q2) in quarterly.items():
        for month in range(1, 8):
            booked = (q1 if month <= 3 else q2 if month <= 6 else 999) / 3
            rows.append((rep, region, hired, dt.date(2026, month, 1), 100.0, booked, month < 7))
    cols = [
        "rep_id",
        "region_id",
        "hire_date",
        "month",
        "quota_amount",
        "bookings_amount",
        "is_complete_month",
    ]
    return pd.DataFrame(rows, columns=cols)


def test_productivity_is_the_median_attainment_of_ramped_reps() -> None:
    out = productivity(_history(), quarters=6).set_index("region_id")
    # July is incomplete, so Q3 is out: Q1 and Q2 only
    assert out.loc["R1", "productivity"] == pytest.approx((0.8 + 0.9) / 2)  # 0.5 .8 .9 1.1
    assert out.loc["R2", "productivity"] == pytest.approx(1.1)
    assert out.loc["all", "productivity"] == pytest.approx((0.9 + 1.0) / 2)
    assert out.loc["all", "rep_quarters"] == 6
    assert out.loc["all", "first_quarter"] == "2026Q1"
    assert out.loc["all", "last_quarter"] == "2026Q2"
    last = productivity(_history(), quarters=1).set_index("region_id")
    assert last.loc["R1", "productivity"] == pytest.approx((0.8 + 1.1) / 2)
    assert last.loc["all", "productivity"] == pytest.approx(1.1)  # 0.8, 1.1, 1.2


def test_productivity_takes_hire_dates_from_reps() -> None:
    history = _history()
    reps = history[["rep_id", "hire_date"]].drop_duplicates()
    out = productivity(history.drop(columns="hire_date"), reps=reps)
    assert out.set_index("region_id").loc["R2", "productivity"] == pytest.approx(1.1)


def test_hiring_plan_needs_more_hires_the_later_they_start() -> None:
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    plan = hiring_plan(
        200_000,
        start_months=["2027-01-01", "2027-10-01", "2028-01-01"],
        ramp=ramp,
        quota_per_rep=120_000,
        productivity=1.0,
        horizon_end="2027-12-31",
    )
    # one hire: 10,000 a month at full productivity, 5,000 in the first month
    assert list(plan["contribution_per_hire"]) == pytest.approx([115_000, 25_000, 0])
    assert plan["hires_needed"].iloc[0] == 2  # ceil(200/115)
    assert plan["hires_needed"].iloc[1] == 8  # ceil(200/25)
    assert math.isnan(plan["hires_needed"].iloc[2])
    assert list(plan["closes_gap"]) == [True, True, False]
    exact = hiring_plan(
        230_000,
        start_months=["2027-01-01"],
        ramp=ramp,
        quota_per_rep=120_000,
        productivity=1.0,
        horizon_end="2027-12-31",
    )
    assert exact["hires_needed"].iloc[0] == 2
    none = hiring_plan(
        -5,
        start_months=["2027-01-01"],
        ramp=ramp,
        quota_per_rep=120_000,
        productivity=1.0,
        horizon_end="2027-12-31",
    )
    assert none["hires_needed"].iloc[0] == 0 and none["closes_gap"].iloc[0]


def test_capacity_gap_per_region() -> None:
    targets = pd.DataFrame({"region_id": ["R1", "R2"], "target_amount": [1000.0, 500.0]})
    cap = pd.DataFrame({"region_id": ["R1", "R1", "R2"], "capacity": [300.0, 400.0, 600.0]})
    out = capacity_gap(targets, cap).set_index("region_id")
    assert out.loc["R1", "gap"] == 300 and out.loc["R1", "needs_hires"]
    assert out.loc["R2", "gap"] == 0 and not out.loc["R2", "needs_hires"]
    assert out.loc["R2", "coverage"] == pytest.approx(1.2)


def test_ramp_from_curve_shifts_tenure_and_caps_at_one() -> None:
    curve = pd.DataFrame(
        {"tenure_month": [0, 1, 3], "share_of_plateau": [0.2, 0.6, 1.3]}
    )  # tenure 2 missing
    out = ramp_from_curve(curve, months=5)
    assert list(out["tenure_month"]) == [1, 2, 3, 4, 5]
    assert list(out["productivity"]) == pytest.approx([0.2, 0.6, 0.6, 1.0, 1.0])


@pytest.mark.parametrize("attrition", [-0.1, 1.0, 1.5, float("nan")])
def test_attrition_outside_zero_to_one_is_refused(attrition: float) -> None:
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    with pytest.raises(ParameterError, match="attrition"):
        team_capacity(_issue_team(), ramp, 150_000, 0.85, attrition, YEAR_2027)


def test_bad_ramps_and_quarters_are_refused() -> None:
    team = _issue_team()
    gap = pd.DataFrame({"tenure_month": [1, 3], "productivity": [0.5, 0.7]})
    with pytest.raises(ParameterError, match="without gaps"):
        team_capacity(team, gap, 150_000, 0.85, 0.1, YEAR_2027)
    above = pd.DataFrame({"tenure_month": [1], "productivity": [1.5]})
    with pytest.raises(ParameterError, match=r"tenure_month 1 has 1\.5"):
        team_capacity(team, above, 150_000, 0.85, 0.1, YEAR_2027)
    ramp = pd.DataFrame({"tenure_month": [1], "productivity": [0.5]})
    with pytest.raises(ParameterError, match="not a quarter"):
        team_capacity(team, ramp, 150_000, 0.85, 0.1, ["next year"])
    with pytest.raises(ParameterError, match="no value for region"):
        team_capacity(team, ramp, pd.Series({"US": 1.0}), 0.85, 0.1, YEAR_2027)


def test_productivity_refuses_empty_history_and_bad_quarters() -> None:
    with pytest.raises(ParameterError, match="empty history"):
        productivity(_history().iloc[0:0])
    with pytest.raises(ParameterError, match="quarters must be >= 1"):
        productivity(_history(), quarters=0)
    with pytest.raises(ParameterError, match="missing column"):
        productivity(_history().drop(columns="quota_amount"))


def test_inputs_are_not_changed() -> None:
    team = _issue_team()
    copy = team.copy()
    ramp = pd.DataFrame({"tenure_month": [2, 1], "productivity": [0.6, 0.3]})
    team_capacity(team, ramp, 150_000, 0.85, 0.1, YEAR_2027)
    pd.testing.assert_frame_equal(team, copy)
    assert list(ramp["tenure_month"]) == [2, 1]
    assert np.isfinite(ramped_equivalents(team, ramp, ["2027-01-01"])["headcount"]).all()
