"""Bottom-up total and family split on hand-made forecast frames."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops_lib.analytics.forecasting import coherence as fc
from salesops_lib.core.errors import ParameterError

JAN, FEB = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")


def rows(uid: str, points: list[float], width: float, model: str = "AutoETS") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": uid,
            "ds": [JAN, FEB][: len(points)],
            "model": model,
            "point": points,
            "lo_80": [p - width for p in points],
            "hi_80": [p + width for p in points],
            "lo_95": [p - 2 * width for p in points],
            "hi_95": [p + 2 * width for p in points],
        }
    )


def test_bottom_up_sums_regions_and_keeps_the_totals_widths() -> None:
    regions = pd.concat([rows("east", [100.0, 110.0], 5), rows("west", [50.0, 40.0], 5)])
    total = rows("total", [160.0, 140.0], 12)  # its own model says 160/140 with +-12 (80%)
    out = fc.bottom_up_total(regions, total)
    assert out["point"].tolist() == [150.0, 150.0]  # 100+50, 110+40
    assert out["lo_80"].tolist() == [138.0, 138.0]  # 150 - 12
    assert out["hi_95"].tolist() == [174.0, 174.0]  # 150 + 24
    assert set(out["model"]) == {"BottomUp"} and set(out["unique_id"]) == {"total"}


def test_bottom_up_refuses_months_the_regions_do_not_cover() -> None:
    regions = rows("east", [100.0], 5)
    total = rows("total", [160.0, 140.0], 12)
    with pytest.raises(ParameterError, match=r"ds=2026-02-01.*total only"):
        fc.bottom_up_total(regions, total)


def test_bottom_up_over_backtest_rows_keeps_actuals_per_origin() -> None:
    cut1, cut2 = pd.Timestamp("2025-12-01"), pd.Timestamp("2026-01-01")
    regions = pd.DataFrame(
        {"cutoff": [cut1, cut1, cut2, cut2], "ds": [JAN, JAN, FEB, FEB],
         "unique_id": ["a", "b", "a", "b"], "point": [1.0, 2.0, 3.0, 4.0]}
    )  # fmt: skip
    total = rows("total", [10.0, 20.0], 1).assign(cutoff=[cut1, cut2], y=[3.5, 6.5])
    out = fc.bottom_up_total(regions, total, key=("cutoff", "ds"))
    assert out["point"].tolist() == [3.0, 7.0]
    assert out["y"].tolist() == [3.5, 6.5]
    assert out["hi_80"].tolist() == [4.0, 8.0]


def test_family_shares_use_the_last_twelve_months_and_add_to_one() -> None:
    months = pd.date_range("2024-01-01", periods=24, freq="MS")
    history = pd.concat(
        [
            # first 12 months all "hw"; last 12 months 30 hw vs 90 sw
            pd.DataFrame({"unique_id": "east/hw", "ds": months, "y": [100.0] * 12 + [2.5] * 12}),
            pd.DataFrame({"unique_id": "east/sw", "ds": months, "y": [0.0] * 12 + [7.5] * 12}),
            pd.DataFrame({"unique_id": "west/hw", "ds": months, "y": [9.0] * 24}),
        ]
    )
    shares = fc.family_shares(history, "east").set_index("product_family")["share"]
    assert shares.to_dict() == pytest.approx({"hw": 0.25, "sw": 0.75})


def test_split_by_family_adds_up_to_the_region() -> None:
    shares = pd.DataFrame(
        {"unique_id": ["east/hw", "east/sw"], "product_family": ["hw", "sw"], "share": [0.25, 0.75]}
    )
    region = rows("east", [100.0, 200.0], 8)
    out = fc.split_by_family(region, shares)
    sums = out.groupby("ds")[["point", "lo_80", "hi_95"]].sum()
    assert sums["point"].tolist() == [100.0, 200.0]
    assert sums["lo_80"].tolist() == [92.0, 192.0]
    assert out.set_index(["product_family", "ds"]).loc[("sw", FEB), "point"] == 150.0


def test_chosen_rows_keeps_the_pick_only() -> None:
    frame = pd.concat(
        [rows("east", [1.0], 1).assign(is_chosen=True),
         rows("east", [2.0], 1, model="SeasonalNaive").assign(is_chosen=False)]
    )  # fmt: skip
    assert fc.chosen_rows(frame)["model"].tolist() == ["AutoETS"]
