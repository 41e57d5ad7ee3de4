"""Price / volume / mix and target variance on hand-made order lines with worked answers."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_lib.analytics.performance import variance
from salesops_lib.core.errors import ParameterError


def lines(spec: dict[str, list[tuple[int, float]]], day: str) -> pd.DataFrame:
    rows = [
        {"product_id": product, "quantity": q, "amount": amount, "order_date": pd.Timestamp(day)}
        for product, entries in spec.items()
        for q, amount in entries
    ]
    return pd.DataFrame(rows)


# Base: A 100 units for 1000 (P 10), B 50 units for 1000 (P 20), C not sold. QT0 = 150.
BASE = lines({"A": [(60, 600.0), (40, 400.0)], "B": [(50, 1000.0)]}, "2025-03-10")
# Current: A 120 units for 1320 (P 11), B 30 for 540 (P 18), C (new) 50 for 250 (P 5). QT1 = 200.
CURRENT = lines(
    {"A": [(120, 1320.0)], "B": [(30, 540.0)], "C": [(25, 125.0), (25, 125.0)]}, "2026-03-10"
)


def test_two_products_and_a_new_one_worked_by_hand() -> None:
    out = variance.price_volume_mix(BASE, CURRENT).set_index("product_id")
    # m0 = A 2/3, B 1/3, C 0; m1 = A 0.6, B 0.15, C 0.25; QT1 - QT0 = 50.
    # A: volume 50 x 2/3 x 10 = 333.33; mix 200 x (0.6 - 2/3) x 10 = -133.33;
    #    price (11 - 10) x 120 = 120; total 1320 - 1000 = 320
    assert out.loc["A", "volume_effect"] == pytest.approx(333.33)
    assert out.loc["A", "mix_effect"] == pytest.approx(-133.33)
    assert out.loc["A", "price_effect"] == pytest.approx(120.00)
    assert out.loc["A", "total_variance"] == pytest.approx(320.00)
    # B: volume 50 x 1/3 x 20 = 333.33; mix 200 x (0.15 - 1/3) x 20 = -733.33;
    #    price (18 - 20) x 30 = -60; total 540 - 1000 = -460
    assert out.loc["B", "volume_effect"] == pytest.approx(333.33)
    assert out.loc["B", "mix_effect"] == pytest.approx(-733.33)
    assert out.loc["B", "price_effect"] == pytest.approx(-60.00)
    # C (new): P0 := P1 = 5, m0 = 0 -> volume 0, price 0, mix 200 x 0.25 x 5 = 250 = its amount
    assert out.loc["C", "volume_effect"] == 0
    assert out.loc["C", "price_effect"] == 0
    assert out.loc["C", "mix_effect"] == pytest.approx(250.00)
    assert out.loc["C", "price_base"] == 5
    parts = out[["volume_effect", "mix_effect", "price_effect"]].sum(axis=1)
    assert ((parts - out["total_variance"]).abs() < 0.005).all()
    totals = variance.price_volume_mix_totals(out.reset_index()).iloc[0]
    # 2110 - 2000 = 110 = 666.66 - 616.66 + 60 (volume/mix rounded per product)
    assert totals["total_variance"] == pytest.approx(110.00)
    assert totals["volume_effect"] + totals["mix_effect"] + totals["price_effect"] == (
        pytest.approx(110.00, abs=0.005)
    )


def test_product_sold_only_in_the_base_period() -> None:
    base = lines({"A": [(10, 100.0)], "D": [(10, 100.0)]}, "2025-01-01")
    current = lines({"A": [(10, 100.0)]}, "2026-01-01")
    out = variance.price_volume_mix(base, current).set_index("product_id")
    # QT0 20, QT1 10; m0 0.5 / 0.5; m1 A 1, D 0.
    # A: volume -10 x 0.5 x 10 = -50; mix 10 x 0.5 x 10 = +50; price 0 -> total 0
    # D: volume -50; mix 10 x (0 - 0.5) x 10 = -50; price 0 (P1 := P0) -> total -100
    assert out.loc["A", ["volume_effect", "mix_effect", "price_effect"]].tolist() == [-50, 50, 0]
    assert out.loc["D", ["volume_effect", "mix_effect", "price_effect"]].tolist() == [-50, -50, 0]
    assert out.loc["D", "total_variance"] == -100


def test_cents_stay_exact() -> None:
    base = lines({"A": [(1, 0.10), (1, 0.20)]}, "2025-01-01")
    current = lines({"A": [(3, 0.70)]}, "2026-01-01")
    out = variance.price_volume_mix(base, current).iloc[0]
    # 0.70 - 0.30 = 0.40; volume 1 x 1 x 0.15 = 0.15; mix 0; price (0.2333 - 0.15) x 3 = 0.25
    assert out["amount_base"] == 0.30
    assert out["total_variance"] == 0.40
    assert out["volume_effect"] == pytest.approx(0.15)
    assert out["price_effect"] == pytest.approx(0.25)


def test_period_bookings_and_missing_column() -> None:
    both = pd.concat([BASE, CURRENT], ignore_index=True)
    assert len(variance.period_bookings(both, "2026-01-01", "2026-12-31")) == len(CURRENT)
    with pytest.raises(ParameterError, match=r"price_volume_mix \(current\).*quantity"):
        variance.price_volume_mix(BASE, CURRENT.drop(columns="quantity"))


def test_target_variance() -> None:
    targets = pd.DataFrame(
        {
            "region_id": ["east", "east", "east", "west"],
            "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-01-01"]),
            "target_amount": [1000.0, 1000.0, 9999.0, 0.0],
            "bookings_amount": [900.10, 1200.20, 1.0, 50.0],
        }
    )
    out = variance.target_variance(targets, "2026-01-15", "2026-02-28").set_index("region_id")
    # east Jan + Feb: booked 2100.30 vs 2000 -> +100.30, +5.015%; March is outside the range
    assert out.loc["east", "months"] == 2
    assert out.loc["east", "variance"] == pytest.approx(100.30, abs=0.005)
    assert out.loc["east", "variance_pct"] == pytest.approx(100.30 / 2000)
    # west has a zero target: variance 50, percentage NaN (not inf)
    assert out.loc["west", "variance"] == 50
    assert pd.isna(out.loc["west", "variance_pct"])
