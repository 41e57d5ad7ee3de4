"""Quota setting on hand-made frames: shares and amounts worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.planning import (
    bottom_up_quotas,
    check_growth,
    quota_gap,
    quota_history,
    rep_capacity,
    seasonality_from_history,
    top_down_quotas,
)
from salesops_lib.analytics.planning.quotas import split_cents
from salesops_lib.core.errors import ParameterError


def _history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["a", "b", "c", "d"],
            "region_id": ["R1", "R1", "R2", "R2"],
            "manager_id": ["m1", "m1", "m2", "m2"],
            "prior_year_bookings": [300.0, 100.0, 600.0, 0.0],
            "t12m_bookings": [100.0, 100.0, 100.0, 200.0],
            "potential": [0.0, 50.0, 25.0, 25.0],
        }
    )


def _annual(quotas: pd.DataFrame) -> dict[str, float]:
    return quotas.groupby("rep_id")["quota_amount"].sum().round(2).to_dict()


def test_quotas_have_the_snapshot_schema_for_the_planning_year() -> None:
    out = top_down_quotas(
        1000, _history(), method="even", over_assignment=0.0, seasonality=None, year=2027
    )
    assert list(out.columns) == ["rep_id", "month", "quota_amount"]
    assert set(out["month"]) == {dt.date(2027, m, 1) for m in range(1, 13)}
    assert len(out) == 4 * 12
    assert not out.duplicated(["rep_id", "month"]).any()


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # company target 1000 x 1.2 = 1200 split by each basis (shares by hand)
        ("prior_year", {"a": 360.0, "b": 120.0, "c": 720.0, "d": 0.0}),  # 3/10 1/10 6/10 0
        ("t12m", {"a": 240.0, "b": 240.0, "c": 240.0, "d": 480.0}),  # 1/5 1/5 1/5 2/5
        ("potential", {"a": 0.0, "b": 600.0, "c": 300.0, "d": 300.0}),  # 0 1/2 1/4 1/4
        ("even", {"a": 300.0, "b": 300.0, "c": 300.0, "d": 300.0}),
    ],
)
def test_company_target_is_allocated_by_share_with_over_assignment(
    method: str, expected: dict[str, float]
) -> None:
    out = top_down_quotas(
        1000, _history(), method=method, over_assignment=0.2, seasonality=None, year=2027
    )
    assert _annual(out) == pytest.approx(expected)
    assert round(out["quota_amount"].sum(), 2) == 1200.00


def test_region_targets_are_allocated_within_each_region() -> None:
    targets = pd.Series({"R1": 800.0, "R2": 300.0})
    out = top_down_quotas(
        targets,
        _history(),
        method="prior_year",
        over_assignment=0.1,
        seasonality=None,
        year=2027,
    )
    # R1: 880 split 3:1; R2: 330 split 600:0
    assert _annual(out) == pytest.approx({"a": 660.0, "b": 220.0, "c": 330.0, "d": 0.0})


def test_zero_basis_falls_back_to_an_even_split() -> None:
    history = _history().assign(potential=0.0)
    out = top_down_quotas(
        400, history, method="potential", over_assignment=0.0, seasonality=None, year=2027
    )
    assert _annual(out) == pytest.approx({"a": 100.0, "b": 100.0, "c": 100.0, "d": 100.0})


def test_months_follow_seasonality_and_add_up_to_the_cent() -> None:
    weights = [0.05] * 12
    weights[0], weights[6] = 0.25, 0.25  # January and July heavy: 2 x 0.25 + 10 x 0.05 = 1
    season = pd.DataFrame({"month_of_year": range(1, 13), "weight": weights})
    out = top_down_quotas(
        1000,
        _history().iloc[:2],
        method="prior_year",
        over_assignment=0.2,
        seasonality=season,
        year=2027,
    )  # a: 900, b: 300
    a = out.loc[out["rep_id"] == "a"].set_index("month")["quota_amount"]
    assert a[dt.date(2027, 1, 1)] == pytest.approx(225.0)
    assert a[dt.date(2027, 7, 1)] == pytest.approx(225.0)
    assert a[dt.date(2027, 2, 1)] == pytest.approx(45.0)
    odd = top_down_quotas(
        100, _history().iloc[:3], method="even", over_assignment=0.0, seasonality=None, year=2027
    )  # 33.33... a rep, 2.777... a month: cents must still add up exactly
    assert round(odd["quota_amount"].sum() * 100) == 10_000
    assert (odd["quota_amount"] * 100).round(6).mod(1).eq(0).all()


def test_split_cents_is_exact() -> None:
    cents = split_cents(10.0, np.array([1.0, 1.0, 1.0]))
    assert list(cents) == [334, 333, 333]
    assert split_cents(0.05, np.array([0.0, 0.0])).sum() == 5


def test_seasonality_from_complete_years_only() -> None:
    months = pd.date_range("2024-01-01", "2026-03-01", freq="MS")
    bookings = [10.0 if m.month == 12 else 1.0 for m in months]
    out = seasonality_from_history(pd.DataFrame({"month": months, "bookings_amount": bookings}))
    # 2024 and 2025 complete: December 20 of 42 in total, every other month 2 of 42
    assert out["weight"].sum() == pytest.approx(1.0)
    assert out.set_index("month_of_year")["weight"][12] == pytest.approx(20 / 42)
    assert out.set_index("month_of_year")["weight"][1] == pytest.approx(2 / 42)


def test_quota_history_prior_year_and_trailing_twelve_months() -> None:
    months = pd.date_range("2025-01-01", "2026-11-01", freq="MS")
    bookings = pd.DataFrame(
        {
            "rep_id": "a",
            "month": months,
            "bookings_amount": 10.0,
            "is_complete_month": [m < pd.Timestamp("2026-11-01") for m in months],
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["a", "b", "m"],
            "region_id": "R1",
            "manager_id": "m",
            "role": ["rep", "rep", "manager"],
        }
    )
    potential = pd.DataFrame({"rep_id": ["b", "b"], "potential": [5.0, 7.0]})
    out = quota_history(bookings, reps, as_of="2026-11-23", year=2027, potential=potential)
    a, b = out.set_index("rep_id").loc["a"], out.set_index("rep_id").loc["b"]
    assert list(out["rep_id"]) == ["a", "b"]  # the manager carries no quota
    assert a["prior_year_bookings"] == 110.0  # 2026: January to November (to date)
    assert a["t12m_bookings"] == 120.0  # 2025-11 to 2026-10
    assert b["potential"] == 12.0 and b["t12m_bookings"] == 0.0


def _team() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ["a", "b", "c"],
            "region_id": ["R1", "R1", "R2"],
            "manager_id": ["m1", "m2", "m3"],
            "role": "rep",
            "hire_date": [dt.date(2020, 1, 1), dt.date(2020, 1, 1), dt.date(2026, 12, 1)],
        }
    )


def test_bottom_up_quotas_are_ramp_adjusted_capacity() -> None:
    ramp = pd.DataFrame({"tenure_month": range(1, 25), "productivity": 0.5})
    months = pd.date_range("2027-01-01", periods=12, freq="MS")
    cap = rep_capacity(_team(), ramp, quota_per_rep=120_000, productivity=0.9, months=months)
    out = bottom_up_quotas(cap, year=2027)
    assert list(out.columns) == ["rep_id", "month", "quota_amount"]
    assert _annual(out) == pytest.approx({"a": 108_000.0, "b": 108_000.0, "c": 54_000.0})
    assert out.loc[out["rep_id"] == "c", "quota_amount"].iloc[0] == pytest.approx(4500.0)


def test_quota_gap_per_company_region_and_manager() -> None:
    td = pd.DataFrame(
        {"rep_id": ["a", "b", "c"], "month": dt.date(2027, 1, 1), "quota_amount": [100.0, 50, 80]}
    )
    bu = pd.DataFrame(
        {"rep_id": ["a", "b", "c"], "month": dt.date(2027, 1, 1), "quota_amount": [70.0, 60, 80]}
    )
    out = quota_gap(td, bu, reps=_team())
    company = out.loc[out["level"] == "company"].iloc[0]
    assert (company["top_down"], company["bottom_up"], company["gap"]) == (230, 210, 20)
    region = out.loc[out["level"] == "region"].set_index("region_id")
    assert region.loc["R1", "gap"] == 20 and region.loc["R2", "gap"] == 0
    assert region.loc["R1", "gap_share"] == pytest.approx(20 / 150)
    manager = out.loc[out["level"] == "manager"].set_index("manager_id")
    assert manager.loc["m1", "gap"] == 30 and manager.loc["m2", "gap"] == -10


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "magic"}, "unknown quota method 'magic'"),
        ({"over_assignment": -0.1}, "over-assignment"),
        ({"over_assignment": 1.5}, "over-assignment"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict, match: str) -> None:
    args = {"method": "even", "over_assignment": 0.1, "seasonality": None, "year": 2027}
    with pytest.raises(ParameterError, match=match):
        top_down_quotas(1000, _history(), **(args | kwargs))


def test_empty_history_bad_growth_and_bad_targets_are_refused() -> None:
    args = {"method": "even", "over_assignment": 0.1, "seasonality": None, "year": 2027}
    with pytest.raises(ParameterError, match="no rep"):
        top_down_quotas(1000, _history().iloc[0:0], **args)
    with pytest.raises(ParameterError, match="R9"):
        top_down_quotas(pd.Series({"R9": 5.0}), _history(), **args)
    with pytest.raises(ParameterError, match="target must be >= 0"):
        top_down_quotas(-1, _history(), **args)
    with pytest.raises(ParameterError, match="-100%"):
        check_growth(-1.0)
    assert check_growth(-0.5) == -0.5
    bad = pd.DataFrame({"month_of_year": range(1, 13), "weight": 0.5})
    with pytest.raises(ParameterError, match="sum to 1"):
        top_down_quotas(1000, _history(), **(args | {"seasonality": bad}))
