"""Monthly series built from a hand-made fct_bookings_monthly frame."""

import pandas as pd

from salesops_lib.forecast_series import monthly_series_from_bookings


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
