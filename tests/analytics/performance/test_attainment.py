"""Attainment, gap to quota, distribution, leaderboard and ramp on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.performance import attainment as at
from salesops_lib.core.errors import ParameterError

MONTHS = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01"])
AS_OF = "2026-05-20"  # Q2 = Apr..Jun; May has 31 days, so 11 days are left after May 20.


def quota_frame() -> pd.DataFrame:
    """Four reps, Jan..May 2026.

    r1 (m1, east): quota 1000/month; bookings 1200, 800, 1000, 900, 300.45
    r2 (m1, east): quota 0 every month; bookings 100 in April only
    r3 (m2, west): quota 500/month; bookings 100, 100, 100, 200, 50.10
    r4 (m2, west): quota 100/month; bookings 150 every month
    """
    spec = {
        ("r1", "m1", "east"): ([1000] * 5, [1200, 800, 1000, 900, 300.45]),
        ("r2", "m1", "east"): ([0] * 5, [0, 0, 0, 100, 0]),
        ("r3", "m2", "west"): ([500] * 5, [100, 100, 100, 200, 50.10]),
        ("r4", "m2", "west"): ([100] * 5, [150] * 5),
    }
    rows = []
    for (rep, manager, region), (quotas, bookings) in spec.items():
        for month, quota, booked in zip(MONTHS, quotas, bookings, strict=True):
            rows.append(
                {
                    "rep_id": rep,
                    "rep_name": rep.upper(),
                    "region_id": region,
                    "manager_id": manager,
                    "month": month,
                    "quota_amount": float(quota),
                    "bookings_amount": float(booked),
                    "is_complete_month": month < pd.Timestamp("2026-05-01"),
                }
            )
    return pd.DataFrame(rows)


def by_id(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.set_index(key)


def test_period_bounds() -> None:
    assert at.period_bounds("2026-05-20", "qtd") == (
        pd.Timestamp("2026-04-01"),
        pd.Timestamp("2026-06-01"),
    )
    assert at.period_bounds("2026-05-20", "month") == (pd.Timestamp("2026-05-01"),) * 2
    assert at.period_bounds("2026-05-20", "ytd") == (
        pd.Timestamp("2026-01-01"),
        pd.Timestamp("2026-12-01"),
    )
    with pytest.raises(ParameterError, match="period"):
        at.period_bounds("2026-05-20", "week")


def test_future_quota_rows_give_full_period_gap_and_days() -> None:
    base = quota_frame()
    june = base[base["month"] == pd.Timestamp("2026-05-01")].assign(
        month=pd.Timestamp("2026-06-01"), bookings_amount=0.0, is_complete_month=False
    )
    frame = pd.concat([base, june], ignore_index=True)
    rows = by_id(at.attainment(frame, AS_OF, "rep", "qtd"), "rep_id")
    # r1 Apr..Jun quota 3000, bookings 1200.45 -> gap 1799.55 over May 21 .. Jun 30 = 41 days
    assert rows.loc["r1", "quota_amount"] == 3000
    assert rows.loc["r1", "gap_to_quota"] == pytest.approx(1799.55, abs=0.005)
    assert rows.loc["r1", "days_left"] == 41
    assert rows.loc["r1", "daily_run_rate_needed"] == pytest.approx(1799.55 / 41)
    # Without June the horizon is the end of May: 11 days.
    assert at.attainment(quota_frame(), AS_OF, "rep", "qtd")["days_left"].iloc[0] == 11


def test_month_attainment_gap_and_run_rate() -> None:
    rows = by_id(at.attainment(quota_frame(), AS_OF, "rep", "month"), "rep_id")
    # r1 May: 300.45 / 1000 = 0.30045; gap 699.55 over 11 days = 63.5954...; x 30.4375 monthly.
    assert rows.loc["r1", "attainment"] == pytest.approx(0.30045)
    assert rows.loc["r1", "gap_to_quota"] == pytest.approx(699.55, abs=0.005)
    assert rows.loc["r1", "days_left"] == 11
    assert rows.loc["r1", "daily_run_rate_needed"] == pytest.approx(699.55 / 11)
    assert rows.loc["r1", "monthly_run_rate_needed"] == pytest.approx(699.55 / 11 * 30.4375)
    # r4 booked 150 against 100: over quota, so no gap and nothing needed.
    assert rows.loc["r4", "gap_to_quota"] == 0
    assert rows.loc["r4", "daily_run_rate_needed"] == 0


def test_zero_quota_is_nan_and_flagged_never_inf() -> None:
    rows = by_id(at.attainment(quota_frame(), AS_OF, "rep", "qtd"), "rep_id")
    # r2 booked 100 in April against a zero quota.
    assert np.isnan(rows.loc["r2", "attainment"])
    assert bool(rows.loc["r2", "zero_quota"]) is True
    assert bool(rows.loc["r1", "zero_quota"]) is False
    assert not np.isinf(rows["attainment"]).any()


def test_qtd_and_ytd_sums() -> None:
    qtd = by_id(at.attainment(quota_frame(), AS_OF, "rep", "qtd"), "rep_id")
    # r1 Apr+May: bookings 900 + 300.45 = 1200.45; quota 2000 -> 0.600225
    assert qtd.loc["r1", "bookings_amount"] == pytest.approx(1200.45, abs=0.005)
    assert qtd.loc["r1", "attainment"] == pytest.approx(0.600225)
    assert qtd.loc["r1", "months"] == 2
    ytd = by_id(at.attainment(quota_frame(), AS_OF, "rep", "ytd"), "rep_id")
    # r1: 1200 + 800 + 1000 + 900 + 300.45 = 4200.45 over 5000 -> 0.84009
    assert ytd.loc["r1", "attainment"] == pytest.approx(0.84009)
    # r3: 100 * 3 + 200 + 50.10 = 550.10 over 2500 -> 0.22004
    assert ytd.loc["r3", "attainment"] == pytest.approx(0.22004)


def test_manager_region_company_levels() -> None:
    managers = by_id(at.attainment(quota_frame(), AS_OF, "manager", "ytd"), "manager_id")
    # m1 = r1 + r2: bookings 4200.45 + 100 = 4300.45 over 5000 + 0 -> 0.86009
    assert managers.loc["m1", "attainment"] == pytest.approx(0.86009)
    # m2 = r3 + r4: 550.10 + 750 = 1300.10 over 2500 + 500 = 3000
    assert managers.loc["m2", "attainment"] == pytest.approx(1300.10 / 3000)
    regions = by_id(at.attainment(quota_frame(), AS_OF, "region", "ytd"), "region_id")
    assert regions.loc["east", "quota_amount"] == 5000
    company = at.attainment(quota_frame(), AS_OF, "company", "ytd")
    assert len(company) == 1
    # Every amount in cents: 4300.45 + 1300.10 = 5600.55 exactly.
    assert abs(company.loc[0, "bookings_amount"] - 5600.55) < 0.005
    assert company.loc[0, "quota_amount"] == 8000


def test_no_days_left_gives_nan_run_rate_only_when_a_gap_remains() -> None:
    rows = by_id(at.attainment(quota_frame(), "2026-05-31", "rep", "month"), "rep_id")
    assert rows.loc["r1", "days_left"] == 0
    assert np.isnan(rows.loc["r1", "daily_run_rate_needed"])
    assert rows.loc["r4", "daily_run_rate_needed"] == 0


def test_distribution_and_leaderboard() -> None:
    reps = at.attainment(quota_frame(), AS_OF, "rep", "ytd")
    dist = at.attainment_distribution(reps).iloc[0]
    # With quota: r4 1.5, r1 0.84009, r3 0.22004; r2 has zero quota.
    assert dist["reps"] == 4
    assert dist["reps_with_quota"] == 3
    assert dist["reps_zero_quota"] == 1
    assert dist["share_at_or_above_100"] == pytest.approx(1 / 3)
    assert dist["share_below_50"] == pytest.approx(1 / 3)
    assert dist["median_attainment"] == pytest.approx(0.84009)
    board = at.leaderboard(reps)
    assert list(board["rep_id"]) == ["r4", "r1", "r3", "r2"]
    assert list(board["rank"].iloc[:3]) == [1, 2, 3]
    assert pd.isna(board["rank"].iloc[3])
    assert list(at.leaderboard(reps, top=2)["rep_id"]) == ["r4", "r1"]


def test_inputs_not_mutated_and_missing_column_named() -> None:
    frame = quota_frame()
    before = frame.copy()
    at.attainment(frame, AS_OF, "region", "qtd")
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(ParameterError, match=r"attainment.*quota_amount"):
        at.attainment(frame.drop(columns="quota_amount"), AS_OF)
    with pytest.raises(ParameterError, match="level"):
        at.attainment(frame, AS_OF, level="planet")


def test_bookings_by_tenure() -> None:
    quota = pd.DataFrame(
        {
            "rep_id": ["a", "a", "a", "a", "z"],
            "month": pd.to_datetime(
                ["2025-10-01", "2025-11-01", "2026-01-01", "2026-02-01", "2026-01-01"]
            ),
            "bookings_amount": [5.0, 10.0, 20.0, 30.0, 99.0],
            "is_complete_month": [True, True, True, False, True],
        }
    )
    reps = pd.DataFrame({"rep_id": ["a"], "hire_date": pd.to_datetime(["2025-11-20"])})
    out = at.bookings_by_tenure(quota, reps)
    # Oct is before the hire month, Feb is incomplete, z has no hire date.
    assert list(out["tenure_month"]) == [0, 2]
    assert list(out["bookings_amount"]) == [10.0, 20.0]


def test_ramp_curve_and_time_to_full_productivity() -> None:
    values = {
        0: [0, 100, 200],
        1: [300, 500, 700],
        2: [900, 1000, 1100],
        3: [900, 950, 2000],
        4: [50, 60, 70],  # beyond plateau_to=3: left out of the plateau
    }
    tenure = pd.DataFrame(
        [{"tenure_month": t, "bookings_amount": float(v)} for t, vs in values.items() for v in vs]
    )
    curve = at.ramp_curve(tenure, plateau_from=2, plateau_to=3, threshold=0.9)
    curve = curve.set_index("tenure_month")
    # Medians: 100, 500, 1000, 950, 60; plateau = median(1000, 950) = 975; 90% of it = 877.5.
    assert list(curve["median_bookings"]) == [100, 500, 1000, 950, 60]
    assert curve["plateau"].iloc[0] == 975
    assert curve.loc[1, "share_of_plateau"] == pytest.approx(500 / 975)
    assert at.time_to_full_productivity(curve.reset_index()) == 2
    # At 50%, tenure month 1 (500 / 975 = 0.513) is already productive.
    half = at.ramp_curve(tenure, plateau_from=2, plateau_to=3, threshold=0.5)
    assert at.time_to_full_productivity(half) == 1
    # With no upper bound month 4 joins: plateau = median(1000, 950, 60) = 950.
    open_ended = at.ramp_curve(tenure, plateau_from=2, plateau_to=None)
    assert open_ended["plateau"].iloc[0] == 950
    # No tenure month >= 10: no plateau, never productive.
    assert at.time_to_full_productivity(at.ramp_curve(tenure, plateau_from=10)) is None


def test_reps_below_cohort() -> None:
    # tenure 0: a 100, b 200, c 300 -> median 200; tenure 1: a 400, b 600, c 100 -> median 400
    tenure = pd.DataFrame(
        {
            "rep_id": ["a", "b", "c", "a", "b", "c"],
            "month": pd.to_datetime(["2026-01-01"] * 3 + ["2026-02-01"] * 3),
            "tenure_month": [0, 0, 0, 1, 1, 1],
            "bookings_amount": [100.0, 200.0, 300.0, 400.0, 600.0, 100.0],
        }
    )
    last = at.reps_below_cohort(tenure, last_months=1, threshold=0.5).set_index("rep_id")
    # Latest month only: a 400/400 = 1.0, b 600/400 = 1.5, c 100/400 = 0.25 -> only c flagged.
    assert last.loc["c", "ratio_to_cohort"] == pytest.approx(0.25)
    assert list(last.index[last["is_below_cohort"]]) == ["c"]
    both = at.reps_below_cohort(tenure, last_months=2, threshold=0.7).set_index("rep_id")
    # Two months: a 500/600 = 0.833, b 800/600 = 1.333, c 400/600 = 0.667 -> c below 0.7.
    assert both.loc["a", "ratio_to_cohort"] == pytest.approx(500 / 600)
    assert both.loc["c", "cohort_bookings"] == 600
    assert list(both.index[both["is_below_cohort"]]) == ["c"]


def test_scope_bookings_replace_the_reps_bookings_of_a_region() -> None:
    # east QTD from the reps: quota 2000 (r1) + 0 (r2), bookings 1200.45 + 100. The lines booked
    # in east (whoever sold them) total 1500.10: attainment 0.75005, gap 499.90 over 11 days.
    east = at.attainment(quota_frame(), AS_OF, "region", "qtd")
    east = east[east["region_id"] == "east"]
    frozen = east.copy()
    row = at.with_scope_bookings(east, 1500.104).iloc[0]
    assert row["bookings_amount"] == 1500.10
    assert row["quota_amount"] == 2000
    assert row["attainment"] == pytest.approx(0.75005)
    assert row["gap_to_quota"] == pytest.approx(499.90, abs=1e-9)
    assert row["daily_run_rate_needed"] == pytest.approx(499.90 / 11)
    assert row["monthly_run_rate_needed"] == pytest.approx(499.90 / 11 * 30.4375)
    over = at.with_scope_bookings(east, 2500.0).iloc[0]
    assert over["gap_to_quota"] == 0 and over["daily_run_rate_needed"] == 0
    assert at.with_scope_bookings(east.head(0), 10.0).empty  # no quota: no attainment row
    pd.testing.assert_frame_equal(east, frozen)
