"""Funnel conversion, win rate, time in stage and bottleneck detection on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesops_lib.analytics.performance import funnel
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.schema import STAGES

ORDER = {stage: i + 1 for i, stage in enumerate(STAGES)}
P, Q, PR, N, W, L = STAGES  # Prospecting, Qualification, Proposal, Negotiation, Won, Lost


def changes_from(paths: dict[str, list[tuple[str, float | None]]]) -> pd.DataFrame:
    """Stage history rows; the last stage of each path is the current one."""
    rows = []
    for deal, path in paths.items():
        for seq, (stage, days) in enumerate(path, start=1):
            rows.append(
                {
                    "opportunity_id": deal,
                    "sequence": seq,
                    "stage": stage,
                    "stage_order": ORDER[stage],
                    "days_in_stage": days,
                    "is_current": seq == len(path),
                }
            )
    return pd.DataFrame(rows)


# east: e1 P->Q->PR->Won, e2 P->Q->Lost, e3 P->Lost, e4 P->Q (open, current Q),
#       e5 P->PR->N->Won (skips Qualification)
# west: w1 P->Lost, w2 P (open); north: n1 P (open)
PATHS = {
    "e1": [(P, 5), (Q, 10), (PR, 15), (W, None)],
    "e2": [(P, 3), (Q, 8), (L, None)],
    "e3": [(P, 7), (L, None)],
    "e4": [(P, 4), (Q, 12)],
    "e5": [(P, 6), (PR, 20), (N, 9), (W, None)],
    "w1": [(P, 2), (L, None)],
    "w2": [(P, 30)],
    "n1": [(P, 1)],
}


def opportunities() -> pd.DataFrame:
    start = pd.Timestamp("2026-01-01")
    closes = {"e1": 30, "e2": 10, "e3": 20, "e5": 60, "w1": 5}
    won = {"e1", "e5"}
    rows = []
    for deal in PATHS:
        rows.append(
            {
                "opportunity_id": deal,
                "region_id": {"e": "east", "w": "west", "n": "north"}[deal[0]],
                "amount": 1000.0,
                "created_date": start,
                "close_date": start + pd.Timedelta(days=closes.get(deal, 90)),
                "is_closed": deal in closes,
                "is_won": deal in won,
            }
        )
    return pd.DataFrame(rows)


def test_stage_conversion_by_region() -> None:
    out = funnel.stage_conversion(changes_from(PATHS), opportunities()).set_index(
        ["region_id", "stage"]
    )
    # east Prospecting: e1, e2, e4, e5 moved on, e3 was lost -> 4 / 5
    assert out.loc[("east", P), "entered"] == 5
    assert out.loc[("east", P), "conversion_rate"] == pytest.approx(0.8)
    # east Qualification: e1 moved on, e2 lost, e4 still there (undecided, left out) -> 1 / 2
    assert out.loc[("east", Q), "conversion_rate"] == pytest.approx(0.5)
    # east Proposal: e1 -> Won (past it), e5 -> Negotiation -> 2 / 2; Negotiation: e5 won
    assert out.loc[("east", PR), "conversion_rate"] == 1.0
    assert out.loc[("east", N), "conversion_rate"] == 1.0
    # west Prospecting: w1 lost, w2 undecided -> 0 / 1
    assert out.loc[("west", P), "conversion_rate"] == 0.0
    # Stages nobody reached: entered 0, NaN rate (no error).
    assert out.loc[("west", Q), "entered"] == 0
    assert np.isnan(out.loc[("west", Q), "conversion_rate"])
    assert np.isnan(out.loc[("north", P), "conversion_rate"])
    assert len(out) == 3 * 4


def test_stage_conversion_keeping_undecided_deals() -> None:
    out = funnel.stage_conversion(
        changes_from(PATHS), opportunities(), exclude_undecided=False
    ).set_index(["region_id", "stage"])
    # e4 now counts as not converted: 1 / 3
    assert out.loc[("east", Q), "conversion_rate"] == pytest.approx(1 / 3)
    assert out.loc[("north", P), "conversion_rate"] == 0.0


def test_win_rate_and_cycle_length() -> None:
    out = funnel.win_rate(opportunities()).set_index("region_id")
    # east closed e1 (won, 30 d), e2 (lost, 10 d), e3 (lost, 20 d), e5 (won, 60 d)
    assert out.loc["east", "win_rate"] == 0.5
    assert out.loc["east", "median_cycle_days"] == 25  # median(10, 20, 30, 60)
    assert out.loc["east", "mean_cycle_days"] == 30
    assert out.loc["west", "win_rate"] == 0.0
    assert out.loc["north", "closed"] == 0
    assert np.isnan(out.loc["north", "win_rate"])


def test_time_in_stage_uses_completed_stays_only() -> None:
    out = funnel.time_in_stage(changes_from(PATHS), opportunities()).set_index(
        ["region_id", "stage"]
    )
    # east Prospecting: 5, 3, 7, 4, 6 -> median 5; Qualification: 10, 8 (e4's 12 is current)
    assert out.loc[("east", P), "median_days"] == 5
    assert out.loc[("east", Q), "stays"] == 2
    assert out.loc[("east", Q), "median_days"] == 9
    # west: w2's 30 days are a current stay -> only w1's 2 days
    assert out.loc[("west", P), "median_days"] == 2
    assert np.isnan(out.loc[("west", N), "median_days"])


def test_deal_size_band_edges() -> None:
    frame = pd.DataFrame({"amount": [9999.99, 10_000.0, 49_999.0, 50_000.0, 100_000.0]})
    out = funnel.add_deal_size_band(frame)
    assert list(out["deal_size_band"]) == ["<10k", "10k-50k", "10k-50k", "50k-100k", ">=100k"]
    assert "deal_size_band" not in frame.columns


def test_adjust_p_values_by_hand() -> None:
    p = pd.Series([0.01, 0.04, 0.03, 0.005, np.nan])
    # Holm, sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running
    # max 0.02, 0.03, 0.06, 0.06
    holm = funnel.adjust_p_values(p, "holm")
    assert list(holm.iloc[:4]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: p x 4 / rank = 0.02, 0.02, 0.04, 0.04 -> running min from the top keeps them
    bh = funnel.adjust_p_values(p, "bh")
    assert list(bh.iloc[:4]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(holm.iloc[4]) and np.isnan(bh.iloc[4])
    with pytest.raises(ParameterError):
        funnel.adjust_p_values(p, "bonferroni")


def synthetic_funnel() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four regions x 60 deals, all Prospecting -> Qualification -> Proposal -> ...

    base: Qualification 9..11 days; 80% of deals pass Proposal.
    slow: Qualification takes 3x as long (significant and material).
    mild: Qualification takes 1.3x as long (significant with 60 deals, but not material).
    weak: only 20% pass Proposal (significant and material drop of 60+ points).
    """
    rng = np.random.default_rng(7)
    paths: dict[str, list[tuple[str, float | None]]] = {}
    regions = {}
    for region in ("base", "slow", "mild", "weak"):
        for i in range(60):
            deal = f"{region}-{i}"
            regions[deal] = region
            qual = float(rng.integers(9, 12))
            qual *= {"slow": 3.0, "mild": 1.3}.get(region, 1.0)
            passes = (i % 5 == 0) if region == "weak" else (i % 5 != 0)
            tail = [(N, 4.0), (W, None)] if passes else [(L, None)]
            paths[deal] = [(P, float(rng.integers(3, 9))), (Q, qual), (PR, 6.0), *tail]
    opps = pd.DataFrame({"opportunity_id": list(regions), "region_id": list(regions.values())})
    return changes_from(paths), opps


def test_bottlenecks_flag_only_significant_and_material() -> None:
    changes, opps = synthetic_funnel()
    out = funnel.detect_bottlenecks(changes, opps, min_deals=30)
    flagged = out.loc[out["is_bottleneck"], ["region_id", "stage"]].apply(tuple, axis=1)
    assert set(flagged) == {("slow", Q), ("weak", PR)}
    row = out.set_index(["region_id", "stage"])
    assert bool(row.loc[("slow", Q), "is_slow"])
    assert row.loc[("slow", Q), "time_ratio"] >= 2.5
    assert bool(row.loc[("weak", PR), "is_weak"])
    # weak passes 12 / 60 = 20%; the other 180 deals pass 144 / 180 = 80%
    assert row.loc[("weak", PR), "conversion_diff"] == pytest.approx(0.2 - 0.8)
    assert "Proposal converts 20% vs 80%" in row.loc[("weak", PR), "reason"]
    # mild is significantly slower but below the 1.5x materiality bar.
    assert row.loc[("mild", Q), "time_p_adjusted"] < 0.05
    assert not bool(row.loc[("mild", Q), "is_bottleneck"])
    assert row.loc[("base", P), "reason"] == ""


def test_bottlenecks_need_minimum_sample() -> None:
    changes, opps = synthetic_funnel()
    out = funnel.detect_bottlenecks(changes, opps, min_deals=61)
    assert out["time_p_value"].isna().all()
    assert out["conversion_p_value"].isna().all()
    assert not out["is_bottleneck"].any()


def test_bottlenecks_with_bh_and_unreached_stage() -> None:
    changes, opps = synthetic_funnel()
    out = funnel.detect_bottlenecks(changes, opps, min_deals=30, correction="bh")
    assert set(out.loc[out["is_bottleneck"], "region_id"]) == {"slow", "weak"}
    # No deal in the hand-made set reached Negotiation in west: NaN, not an error.
    small = funnel.detect_bottlenecks(changes_from(PATHS), opportunities(), min_deals=1)
    west_neg = small.set_index(["region_id", "stage"]).loc[("west", N)]
    assert np.isnan(west_neg["conversion_group"])
    assert np.isnan(west_neg["median_days_group"])
    assert not bool(west_neg["is_bottleneck"])


def test_missing_column_and_no_mutation() -> None:
    changes, opps = changes_from(PATHS), opportunities()
    before = changes.copy()
    funnel.stage_conversion(changes, opps)
    pd.testing.assert_frame_equal(changes, before)
    with pytest.raises(ParameterError, match=r"stage_conversion.*stage_order"):
        funnel.stage_conversion(changes.drop(columns="stage_order"), opps)
    with pytest.raises(ParameterError, match=r"win_rate.*product_family"):
        funnel.win_rate(opps, group_by="product_family")


def test_win_rate_of_is_won_over_closed_and_nan_without_closed_deals() -> None:
    rates = funnel.win_rate_of(pd.Series([3, 0, 2]), pd.Series([4, 0, 2]))
    assert rates.iloc[0] == pytest.approx(0.75)
    assert np.isnan(rates.iloc[1])
    assert rates.iloc[2] == 1.0
