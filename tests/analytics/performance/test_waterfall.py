"""Pipeline waterfall on a hand-made pair of snapshots, reconciled to the cent per region."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.performance import waterfall as wf
from salesops_lib.core.errors import ParameterError

WINDOW = ("2026-04-01", "2026-06-30")
COLUMNS = ["opportunity_id", "region_id", "amount", "close_date", "is_closed", "is_won"]

# id, region, earlier (amount, close, closed, won) or None, later (...) or None
# east, start pipeline = d1 + d2 + d3 + d4 + d7 + d8 + d9 + d12 = 3880.68
DEALS = [
    # d1 slipped within the window and grew: increased +200.50
    ("d1", "east", (1000.00, "2026-05-15", False, False), (1200.50, "2026-06-10", False, False)),
    # d2 slipped out of the window and shrank: pushed_out -500 (split: decreased -100, out -400)
    ("d2", "east", (500.00, "2026-06-20", False, False), (400.00, "2026-07-15", False, False)),
    ("d3", "east", (300.10, "2026-05-01", False, False), (300.10, "2026-05-01", True, True)),
    ("d4", "east", (250.25, "2026-04-15", False, False), (250.25, "2026-04-15", True, False)),
    ("d5", "east", None, (800.00, "2026-05-05", False, False)),  # new +800
    # d6 pulled in from August and grew: pulled_in +650 (split: pulled_in +600, increased +50)
    ("d6", "east", (600.00, "2026-08-01", False, False), (650.00, "2026-06-01", False, False)),
    ("d7", "east", (700.33, "2026-05-10", False, False), (700.33, "2026-05-10", False, False)),
    # d8 moved to before the window: pushed_out -90 (or pulled_out with the rule)
    ("d8", "east", (90.00, "2026-05-20", False, False), (90.00, "2026-03-15", False, False)),
    ("d9", "east", (40.00, "2026-06-01", False, False), None),  # removed -40
    ("d10", "east", (120.00, "2026-03-01", True, False), (120.00, "2026-06-15", False, False)),
    ("d11", "east", None, (75.00, "2026-05-05", True, True)),  # created and won: no row
    # d12 slipped within the window and shrank: decreased -100
    ("d12", "east", (1000.00, "2026-04-20", False, False), (900.00, "2026-06-25", False, False)),
    # west has no open pipeline in either snapshot
    ("w1", "west", (5000.00, "2026-02-01", True, True), (5000.00, "2026-02-01", True, True)),
    # north: cents that do not add up exactly in binary floating point
    ("n1", "north", (0.10, "2026-05-01", False, False), (0.30, "2026-05-01", False, False)),
    ("n2", "north", (0.20, "2026-05-01", False, False), (0.20, "2026-05-01", True, True)),
    ("n3", "north", None, (0.10, "2026-05-01", False, False)),
]


def snapshot(index: int) -> pd.DataFrame:
    rows = []
    for deal, region, *sides in DEALS:
        side = sides[index]
        if side is not None:
            amount, close, closed, won = side
            rows.append((deal, region, amount, pd.Timestamp(close), closed, won))
    return pd.DataFrame(rows, columns=COLUMNS)


def east_bars(rules: wf.WaterfallRules | None = None) -> pd.Series:
    bars = wf.pipeline_waterfall(snapshot(0), snapshot(1), *WINDOW, rules=rules, by_group=True)
    east = bars[bars["region_id"] == "east"]
    return east.set_index("category")["amount"]


def test_east_bars_default_rules() -> None:
    bars = east_bars()
    assert list(bars.index) == ["start", *wf.CATEGORIES, "end"]
    expected = {
        "start": 3880.68,
        "new": 800.00,
        "pulled_in": 650.00,
        "reopened": 120.00,
        "increased": 200.50,
        "decreased": -100.00,
        "pushed_out": -590.00,  # d2 -500, d8 -90
        "pulled_out": 0.0,
        "won": -300.10,
        "lost": -250.25,
        "removed": -40.00,
        "end": 4370.83,  # d1 1200.50 + d5 800 + d6 650 + d7 700.33 + d10 120 + d12 900
    }
    for category, amount in expected.items():
        assert bars[category] == pytest.approx(amount, abs=0.005), category
    flows = bars.drop(["start", "end"]).sum()
    assert abs(bars["start"] + flows - bars["end"]) < 0.005


def test_deal_table_backs_every_bar() -> None:
    deals = wf.waterfall_deals(snapshot(0), snapshot(1), *WINDOW).set_index("opportunity_id")
    assert deals.loc["d2", "category"] == "pushed_out"
    assert deals.loc["d2", ["amount_before", "amount_after", "contribution"]].tolist() == [
        500.0,
        400.0,
        -500.0,
    ]
    assert deals.loc["d1", "category"] == "increased"
    assert deals.loc["d12", "category"] == "decreased"
    assert deals.loc["d5", "category"] == "new" and np.isnan(deals.loc["d5", "amount_before"])
    assert deals.loc["d9", "category"] == "removed" and np.isnan(deals.loc["d9", "amount_after"])
    assert deals.loc["d10", "category"] == "reopened"
    # Unchanged d7, created-and-won d11 and west's closed w1 back no bar.
    assert not {"d7", "d11", "w1"} & set(deals.index)
    bars = wf.pipeline_waterfall(snapshot(0), snapshot(1), *WINDOW).set_index("category")
    for category, amount in deals.groupby("category")["contribution"].sum().items():
        assert bars.loc[category, "amount"] == pytest.approx(amount, abs=0.005)
    assert bars.loc["pushed_out", "deals"] == 2


def test_split_amount_change_rule() -> None:
    bars = east_bars(wf.WaterfallRules(split_amount_change=True))
    # d2 -> decreased -100 and pushed_out -400; d6 -> pulled_in +600 and increased +50
    assert bars["decreased"] == pytest.approx(-200.00)
    assert bars["pushed_out"] == pytest.approx(-490.00)
    assert bars["pulled_in"] == pytest.approx(600.00)
    assert bars["increased"] == pytest.approx(250.50)
    assert bars["end"] == pytest.approx(4370.83)
    deals = wf.waterfall_deals(
        snapshot(0), snapshot(1), *WINDOW, rules=wf.WaterfallRules(split_amount_change=True)
    )
    assert sorted(deals.loc[deals["opportunity_id"] == "d2", "category"]) == [
        "decreased",
        "pushed_out",
    ]


def test_moved_earlier_rule() -> None:
    bars = east_bars(wf.WaterfallRules(moved_earlier="pulled_out"))
    assert bars["pulled_out"] == pytest.approx(-90.00)
    assert bars["pushed_out"] == pytest.approx(-500.00)
    with pytest.raises(ParameterError, match="moved_earlier"):
        wf.waterfall_deals(
            snapshot(0), snapshot(1), *WINDOW, rules=wf.WaterfallRules(moved_earlier="gone")
        )


@pytest.mark.parametrize(
    "rules", [wf.WaterfallRules(), wf.WaterfallRules("pulled_out", split_amount_change=True)]
)
def test_reconciliation_per_region(rules: wf.WaterfallRules) -> None:
    rec = wf.waterfall_reconciliation(snapshot(0), snapshot(1), *WINDOW, rules=rules)
    rec = rec.set_index("region_id")
    assert list(rec.index) == ["east", "north", "west"]
    assert rec["reconciles"].all()
    assert (rec["difference"] == 0).all()
    assert rec.loc["east", "start_pipeline"] == pytest.approx(3880.68)
    assert rec.loc["east", "flows"] == pytest.approx(490.15)
    # north: 0.10 + 0.20 = 0.30 -> +0.20 (n1) - 0.20 (n2 won) + 0.10 (n3 new) -> 0.40
    assert rec.loc["north", "start_pipeline"] == pytest.approx(0.30)
    assert rec.loc["north", "end_pipeline"] == pytest.approx(0.40)
    # west has no open pipeline: zeros that reconcile
    assert rec.loc["west", ["start_pipeline", "flows", "end_pipeline"]].tolist() == [0, 0, 0]


def test_bad_inputs_and_no_mutation() -> None:
    earlier, later = snapshot(0), snapshot(1)
    before = earlier.copy()
    wf.pipeline_waterfall(earlier, later, *WINDOW)
    pd.testing.assert_frame_equal(earlier, before)
    with pytest.raises(ParameterError, match=r"later.*close_date"):
        wf.waterfall_deals(earlier, later.drop(columns="close_date"), *WINDOW)
    with pytest.raises(ParameterError, match="d1"):
        wf.waterfall_deals(pd.concat([earlier, earlier.head(1)]), later, *WINDOW)
    with pytest.raises(ParameterError, match="before"):
        wf.waterfall_deals(earlier, later, "2026-06-30", "2026-04-01")
