"""Monthly and weekly series built from hand-made bookings frames."""

from datetime import date

import pandas as pd
import pytest

from salesops_lib.analytics.forecasting.series import (
    monthly_series_from_bookings,
    weekly_series_from_bookings,
)
from salesops_lib.core.errors import ParameterError


def test_series_levels_zero_fill_and_incomplete_month() -> None:
    monthly = pd.DataFrame(
        {
            "region_id": ["dach", "dach", "dach", "nordics", "dach"],
            "product_family": ["Hardware", "Software", "Hardware", "Hardware", "Hardware"],
            "order_month": pd.to_datetime(
                ["2026-01-01", "2026-01-01", "2026-03-01", "2026-02-01", "2026-04-01"]
            ),
            "bookings_amount": [100.0, 50.0, 30.0, 20.0, 999.0],
        }
    )
    series = monthly_series_from_bookings(monthly, "2026-04-15")
    got = {(r.unique_id, r.ds.strftime("%Y-%m")): r.y for r in series.itertuples()}
    # April (the as-of month) is incomplete and dropped; Feb for dach is zero-filled.
    assert got == {
        ("total", "2026-01"): 150.0,
        ("total", "2026-02"): 20.0,
        ("total", "2026-03"): 30.0,
        ("dach", "2026-01"): 150.0,
        ("dach", "2026-02"): 0.0,
        ("dach", "2026-03"): 30.0,
        ("dach/Hardware", "2026-01"): 100.0,
        ("dach/Hardware", "2026-02"): 0.0,
        ("dach/Hardware", "2026-03"): 30.0,
        ("dach/Software", "2026-01"): 50.0,
        ("dach/Software", "2026-02"): 0.0,
        ("dach/Software", "2026-03"): 0.0,
        ("nordics", "2026-02"): 20.0,
        ("nordics", "2026-03"): 0.0,
        ("nordics/Hardware", "2026-02"): 20.0,
        ("nordics/Hardware", "2026-03"): 0.0,
    }
    assert list(monthly["bookings_amount"]) == [100.0, 50.0, 30.0, 20.0, 999.0]


def test_history_start_drops_the_partial_first_month() -> None:
    monthly = pd.DataFrame(
        {
            "region_id": ["dach", "dach", "dach"],
            "product_family": ["Hardware"] * 3,
            "order_month": pd.to_datetime(["2023-11-01", "2023-12-01", "2024-01-01"]),
            "bookings_amount": [7.0, 100.0, 120.0],
        }
    )
    partial = monthly_series_from_bookings(monthly, "2024-02-10", history_start=date(2023, 11, 23))
    assert sorted(partial["ds"].dt.strftime("%Y-%m").unique()) == ["2023-12", "2024-01"]
    full = monthly_series_from_bookings(monthly, "2024-02-10", history_start=date(2023, 11, 1))
    assert sorted(full["ds"].dt.strftime("%Y-%m").unique()) == ["2023-11", "2023-12", "2024-01"]
    assert full.query("unique_id == 'total'")["y"].tolist() == [7.0, 100.0, 120.0]


def test_weekly_series_complete_weeks_zero_fill_and_history_start() -> None:
    weekly = pd.DataFrame(
        {
            "region_id": ["uki", "uki", "uki", "latam", "uki"],
            "product_family": ["Support", "Support", "Hardware", "Support", "Support"],
            # Mondays: 2026-10-26, 11-02, 11-09, 11-16 (as-of week, incomplete).
            "order_week": pd.to_datetime(
                ["2026-10-26", "2026-11-09", "2026-11-09", "2026-11-02", "2026-11-16"]
            ),
            "bookings_amount": [5.0, 10.0, 1.0, 3.0, 50.0],
        }
    )
    series = weekly_series_from_bookings(weekly, "2026-11-18")
    got = {(r.unique_id, r.ds.strftime("%m-%d")): r.y for r in series.itertuples()}
    assert got == {
        ("total", "10-26"): 5.0,
        ("total", "11-02"): 3.0,
        ("total", "11-09"): 11.0,
        ("uki", "10-26"): 5.0,
        ("uki", "11-02"): 0.0,
        ("uki", "11-09"): 11.0,
        ("uki/Support", "10-26"): 5.0,
        ("uki/Support", "11-02"): 0.0,
        ("uki/Support", "11-09"): 10.0,
        ("uki/Hardware", "11-09"): 1.0,
        ("latam", "11-02"): 3.0,
        ("latam", "11-09"): 0.0,
        ("latam/Support", "11-02"): 3.0,
        ("latam/Support", "11-09"): 0.0,
    }
    # History from Wednesday 2026-10-28: the week of 10-26 is partial and dropped.
    later = weekly_series_from_bookings(weekly, "2026-11-18", history_start=date(2026, 10, 28))
    assert later["ds"].min() == pd.Timestamp("2026-11-02")
    assert later.query("unique_id == 'total'")["y"].tolist() == [3.0, 11.0]


def test_weekly_series_rejects_a_week_that_is_not_a_monday() -> None:
    weekly = pd.DataFrame(
        {
            "region_id": ["uki"],
            "product_family": ["Support"],
            "order_week": pd.to_datetime(["2026-11-04"]),
            "bookings_amount": [1.0],
        }
    )
    with pytest.raises(ParameterError, match="order_week must be a Monday"):
        weekly_series_from_bookings(weekly, "2026-11-18")
