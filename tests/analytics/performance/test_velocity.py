"""Sales velocity factors and the Shapley split of its change, with worked answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.performance import velocity as vel
from salesops_lib.core.errors import ParameterError


def opportunities() -> pd.DataFrame:
    """Hand-made deals; the period is March 2026 (31 days).

    east: o1 won 2026-03-11 (created 01-01, 69 days, 1000); o2 won 03-03 (created 02-01,
    30 days, 3000); o3 lost 03-20; o4 open (created 03-10); o5 won 04-10, after March, so open
    at the end of March; o6 created 04-05 (after March); o7 open since 2025-12-01.
    west: o8 open, nothing closed.
    """
    rows = [
        ("o1", "east", "2026-01-01", "2026-03-11", True, True, 1000.0),
        ("o2", "east", "2026-02-01", "2026-03-03", True, True, 3000.0),
        ("o3", "east", "2026-02-15", "2026-03-20", True, False, 500.0),
        ("o4", "east", "2026-03-10", "2026-05-01", False, False, 700.0),
        ("o5", "east", "2026-03-01", "2026-04-10", True, True, 2000.0),
        ("o6", "east", "2026-04-05", "2026-06-01", False, False, 900.0),
        ("o7", "east", "2025-12-01", "2026-04-30", False, False, 100.0),
        ("o8", "west", "2026-01-10", "2026-04-30", False, False, 100.0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "opportunity_id", "region_id", "created_date", "close_date", "is_closed", "is_won",
            "amount",
        ],
    )  # fmt: skip
    frame["created_date"] = pd.to_datetime(frame["created_date"])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    return frame


def test_prior_period() -> None:
    assert vel.prior_period("2026-03-01", "2026-03-31") == (
        pd.Timestamp("2026-01-29"),
        pd.Timestamp("2026-02-28"),
    )
    with pytest.raises(ParameterError, match="before start"):
        vel.prior_period("2026-03-31", "2026-03-01")


def test_velocity_factors_by_region() -> None:
    out = vel.velocity_factors(opportunities(), "2026-03-01", "2026-03-31", "region_id")
    east = out.set_index("region_id").loc["east"]
    # Open at the end of March: o4, o5 (won only in April), o7 -> 3
    assert east["open_deals"] == 3
    # Closed in March: o1, o2, o3; won o1, o2 -> W = 2/3
    assert east["closed_deals"] == 3
    assert east["win_rate"] == pytest.approx(2 / 3)
    assert east["avg_deal_size"] == 2000  # (1000 + 3000) / 2
    assert east["cycle_days"] == 49.5  # (69 + 30) / 2
    # V = 3 x 2/3 x 2000 / 49.5 = 80.8080...
    assert east["velocity_per_day"] == pytest.approx(4000 / 49.5)
    assert east["velocity_per_period"] == pytest.approx(4000 / 49.5 * 31)
    west = out.set_index("region_id").loc["west"]
    assert west["open_deals"] == 1
    assert np.isnan(west["win_rate"]) and np.isnan(west["velocity_per_day"])


def test_velocity_factors_company() -> None:
    out = vel.velocity_factors(opportunities(), "2026-03-01", "2026-03-31")
    assert len(out) == 1
    assert out.loc[0, "open_deals"] == 4  # east's 3 + west's o8


def factor_frame(n: float, w: float, a: float, cycle: float) -> pd.DataFrame:
    v = vel.velocity(n, w, a, cycle)
    return pd.DataFrame(
        {
            "region_id": ["east"],
            "open_deals": [n],
            "win_rate": [w],
            "avg_deal_size": [a],
            "cycle_days": [cycle],
            "velocity_per_day": [v],
        }
    )


def test_single_factor_change_goes_to_that_factor() -> None:
    # V0 = 10 x 0.5 x 1000 / 50 = 100; halving the cycle to 25 days doubles it to 200.
    out = vel.velocity_change(
        factor_frame(10, 0.5, 1000, 50), factor_frame(10, 0.5, 1000, 25), "region_id"
    )
    row = out.iloc[0]
    assert row["change"] == pytest.approx(100)
    assert row["contribution_cycle_days"] == pytest.approx(100)
    assert row["contribution_open_deals"] == 0
    assert row["contribution_win_rate"] == 0


def test_two_factor_change_split_evenly() -> None:
    # N 10 -> 20 and A 1000 -> 2000: V 100 -> 400. N: 1/2 (200 - 100) + 1/2 (400 - 200) = 150;
    # A the same by symmetry.
    parts = vel.shapley_contributions(
        {"open_deals": 10, "win_rate": 0.5, "avg_deal_size": 1000, "cycle_days": 50},
        {"open_deals": 20, "win_rate": 0.5, "avg_deal_size": 2000, "cycle_days": 50},
    )
    assert parts["open_deals"] == pytest.approx(150)
    assert parts["avg_deal_size"] == pytest.approx(150)
    assert parts["win_rate"] == 0 and parts["cycle_days"] == 0


def test_three_factor_change_worked_by_hand() -> None:
    # N 10 -> 20, W 0.5 -> 0.25, A 1000 -> 3000, L 50: V 100 -> 300.
    # Shapley weights over 3 changing factors: 1/3 (none switched), 1/6, 1/6, 1/3 (both).
    # N: 1/3 (200-100) + 1/6 (100-50) + 1/6 (600-300) + 1/3 (300-150) = 425/3
    # W: 1/3 (50-100) + 1/6 (100-200) + 1/6 (150-300) + 1/3 (300-600) = -475/3
    # A: 1/3 (300-100) + 1/6 (600-200) + 1/6 (150-50) + 1/3 (300-100) = 650/3
    out = vel.velocity_change(
        factor_frame(10, 0.5, 1000, 50), factor_frame(20, 0.25, 3000, 50), "region_id"
    ).iloc[0]
    assert out["velocity_prior"] == pytest.approx(100)
    assert out["velocity_current"] == pytest.approx(300)
    assert out["contribution_open_deals"] == pytest.approx(425 / 3)
    assert out["contribution_win_rate"] == pytest.approx(-475 / 3)
    assert out["contribution_avg_deal_size"] == pytest.approx(650 / 3)
    assert out["contribution_cycle_days"] == pytest.approx(0)
    parts = [out[f"contribution_{f}"] for f in vel.FACTORS]
    assert sum(parts) == pytest.approx(out["change"], abs=1e-9)


def test_parts_sum_to_change_when_all_factors_move_and_from_zero() -> None:
    before = {"open_deals": 0.0, "win_rate": 0.3, "avg_deal_size": 1234.5, "cycle_days": 41.0}
    after = {"open_deals": 17.0, "win_rate": 0.45, "avg_deal_size": 987.25, "cycle_days": 33.5}
    parts = vel.shapley_contributions(before, after)
    total = vel.velocity(*after.values()) - vel.velocity(*before.values())
    # V0 = 0 (no open deals), V1 = 17 x 0.45 x 987.25 / 33.5
    assert total == pytest.approx(17 * 0.45 * 987.25 / 33.5)
    assert math.fsum(parts.values()) == pytest.approx(total, abs=1e-9)


def test_change_from_real_periods_and_nan_group() -> None:
    opps = opportunities()
    prior = vel.velocity_factors(opps, *vel.prior_period("2026-03-01", "2026-03-31"), "region_id")
    current = vel.velocity_factors(opps, "2026-03-01", "2026-03-31", "region_id")
    out = vel.velocity_change(prior, current, "region_id").set_index("region_id")
    # Nothing closed in east before March: the prior velocity and every part are NaN.
    assert np.isnan(out.loc["east", "velocity_prior"])
    assert np.isnan(out.loc["east", "contribution_open_deals"])
    assert out.loc["east", "velocity_current"] == pytest.approx(4000 / 49.5)


def test_missing_column() -> None:
    with pytest.raises(ParameterError, match=r"velocity_factors.*is_won"):
        vel.velocity_factors(opportunities().drop(columns="is_won"), "2026-03-01", "2026-03-31")
