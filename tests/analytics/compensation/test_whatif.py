"""What-if on plan design, on hand-made plans with hand-worked payouts.

Tiers (both books): 0-10k at 5%, 10k-25k at 7%, 25k and up at 10% of the deal amount, monthly.
Book A is marginal, book B retroactive (the tier reached pays its rate on everything).
Credits: R1 30,000 in January; R2 8,000 in January and 12,000 in February.

By hand, A: R1 Jan 500 + 1,050 + 500 = 2,050 (the public bracket example); R2 Jan 8,000 x 5% =
400; R2 Feb 500 + 2,000 x 7% = 640. Total 3,090 on 50,000 credited: cost of sales 6.18%.
B: R1 30,000 x 10% = 3,000; R2 Jan 400; R2 Feb 12,000 x 7% = 840. Total 4,240: 8.48%.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from salesops_lib.analytics.compensation import PlanBook, plan_book_from_text
from salesops_lib.analytics.compensation.whatif import (
    accelerator_exposure,
    attainment_scenarios,
    compare_plan_books,
    find_cliffs,
    payout_curve,
    scale_credits,
    scenario_label,
    summarize_payouts,
    winners_losers,
)
from salesops_lib.core.errors import ParameterError

PLANS = """\
version: 1
currency: USD
plans:
  BRACKETS:
    name: Brackets
    period: month
    ote: 100000
    base_pct: 50
    credit: {{rule: owner}}
    tier_basis: amount
    tier_mode: {mode}
    accumulate: period_to_date
    rate_tables:
      - effective: 2026-01-01
        tiers:
          - {{from: 0, to: 10000, rate: 0.05}}
          - {{from: 10000, to: 25000, rate: 0.07}}
          - {{from: 25000, rate: 0.10}}
assignments:
  - {{rep_id: R1, plan: BRACKETS, start: 2026-01-01}}
  - {{rep_id: R2, plan: BRACKETS, start: 2026-01-01}}
"""
MARGINAL = plan_book_from_text(PLANS.format(mode="marginal"), "marginal.yml")
RETRO = plan_book_from_text(PLANS.format(mode="retroactive"), "retro.yml")
CREDITS = pd.DataFrame(
    {
        "rep_id": ["R1", "R2", "R2"],
        "credit_date": pd.to_datetime(["2026-01-10", "2026-01-12", "2026-02-03"]),
        "amount": [30000.0, 8000.0, 12000.0],
        "deal_id": ["D1", "D2", "D3"],
        "split_pct": 100.0,
    }
)
QUOTAS = pd.DataFrame(
    {
        "rep_id": ["R1", "R1", "R2", "R2"],
        "period_start": pd.to_datetime(["2026-01-01", "2026-02-01"] * 2),
        "quota": [50000.0, 50000.0, 40000.0, 40000.0],
    }
)
ENGINE = {"as_of": dt.date(2026, 2, 28), "period": None}


def _payouts(book: PlanBook) -> pd.DataFrame:
    from salesops_lib.analytics.compensation import calculate_payouts

    return calculate_payouts(book, CREDITS, QUOTAS, **ENGINE).payouts


def test_scaling_and_labels() -> None:
    scaled = scale_credits(CREDITS.assign(amount=[0.05, 10.0, 3.33]), 1.2)
    assert scaled["amount"].tolist() == [0.06, 12.0, 4.0]
    assert CREDITS["amount"].tolist() == [30000.0, 8000.0, 12000.0], "input unchanged"
    assert [scenario_label(f) for f in (0.8, 1.0, 1.2, 1.1)] == ["-20%", "plan", "+20%", "+10%"]
    with pytest.raises(ParameterError, match="factor"):
        scale_credits(CREDITS, -1)


def test_cost_of_sales_of_both_books() -> None:
    a, b = summarize_payouts(_payouts(MARGINAL)), summarize_payouts(_payouts(RETRO))
    assert (a["payout"], a["credit"], a["reps"]) == (3090.0, 50000.0, 2)
    assert a["cost_of_sales"] == pytest.approx(0.0618)
    assert (b["payout"], b["credit"]) == (4240.0, 50000.0)
    assert b["cost_of_sales"] == pytest.approx(0.0848)


def test_attainment_scenarios_rescale_credits() -> None:
    # -20%: R1 24,000 -> 500 + 14,000 x 7% = 1,480; R2 6,400 -> 320; 9,600 -> 480: 2,280.
    # +20%: R1 36,000 -> 500 + 1,050 + 1,100 = 2,650; R2 9,600 -> 480; 14,400 -> 808: 3,938.
    frame = attainment_scenarios(MARGINAL, CREDITS, QUOTAS, **ENGINE)
    assert frame["scenario"].tolist() == ["-20%", "plan", "+20%"]
    assert frame["payout"].tolist() == [2280.0, 3090.0, 3938.0]
    assert frame["credit"].tolist() == [40000.0, 50000.0, 60000.0]
    assert frame["cost_of_sales"].tolist() == pytest.approx([0.057, 0.0618, 3938 / 60000])


def test_accelerator_exposure_per_rep() -> None:
    # +10%: R1 33,000 -> 2,350 (+300); R2 Jan 8,800 -> 440 (+40); Feb 13,200 -> 724 (+84).
    frame = accelerator_exposure(MARGINAL, CREDITS, QUOTAS, **ENGINE)
    paid = frame[frame["payout"] != 0].sort_values(["rep_id", "period"])
    assert paid[["rep_id", "period", "payout", "payout_uplift", "extra_cost"]].values.tolist() == [
        ["R1", "2026-01", 2050.0, 2350.0, 300.0],
        ["R2", "2026-01", 400.0, 440.0, 40.0],
        ["R2", "2026-02", 640.0, 724.0, 84.0],
    ]
    assert paid["marginal_rate"].tolist() == pytest.approx([0.10, 0.05, 0.07])
    assert frame["extra_cost"].sum() == pytest.approx(424.0)


def test_payout_curve_follows_the_brackets() -> None:
    curve = payout_curve(
        MARGINAL, "BRACKETS", quota=20000, attainments=[0.0, 0.25, 0.5, 1.0, 1.5, 2.0]
    )
    assert curve["credit"].tolist() == [0.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0]
    assert curve["payout"].tolist() == [0.0, 250.0, 500.0, 1200.0, 2050.0, 3050.0]
    assert find_cliffs(payout_curve(MARGINAL, "BRACKETS", quota=20000)).empty


def test_a_retroactive_plan_has_cliffs_at_its_boundaries() -> None:
    # retroactive, quota 20,000, 1% steps = 200 of credit: 9,800 pays 490, 10,000 pays 700
    # (all at 7%); 24,800 pays 1,736, 25,000 pays 2,500 (all at 10%). Ordinary steps: 10-20.
    curve = payout_curve(RETRO, "BRACKETS", quota=20000)
    assert len(curve) == 201
    cliffs = find_cliffs(curve)
    assert cliffs[
        ["attainment_from", "attainment_to", "payout_from", "payout_to", "jump"]
    ].values.tolist() == [
        [0.49, 0.50, 490.0, 700.0, 210.0],
        [1.24, 1.25, 1736.0, 2500.0, 764.0],
    ]
    assert cliffs["threshold"].iloc[0] == pytest.approx(42.0)  # 3 x the median step of 14
    assert find_cliffs(curve, threshold=500)["attainment_to"].tolist() == [1.25]


def test_winners_and_losers() -> None:
    frame = winners_losers(_payouts(MARGINAL), _payouts(RETRO))
    assert frame[["rep_id", "payout_a", "payout_b", "change", "outcome"]].values.tolist() == [
        ["R1", 2050.0, 3000.0, 950.0, "wins"],
        ["R2", 1040.0, 1240.0, 200.0, "wins"],
    ]
    reverse = winners_losers(_payouts(RETRO), _payouts(MARGINAL), tolerance=200)
    assert reverse["outcome"].tolist() == ["same", "loses"]


def test_compare_plan_books_side_by_side() -> None:
    comparison = compare_plan_books(
        {"A": MARGINAL, "B": RETRO}, CREDITS, QUOTAS, curve_quota=20000, **ENGINE
    )
    summary = comparison.summary
    assert summary[["book", "payout", "credit"]].values.tolist() == [
        ["A", 3090.0, 50000.0],
        ["B", 4240.0, 50000.0],
    ]
    assert summary["plan_version"].tolist() == [MARGINAL.version, RETRO.version]
    assert comparison.changes["book"].unique().tolist() == ["B"]
    assert comparison.scenarios.groupby("book").size().to_dict() == {"A": 3, "B": 3}
    assert comparison.cliffs["book"].tolist() == ["B", "B"]
    assert set(comparison.curves["book"]) == {"A", "B"}
    with pytest.raises(ParameterError, match="at least one"):
        compare_plan_books({}, CREDITS, QUOTAS)


def test_payout_curve_bad_arguments() -> None:
    with pytest.raises(ParameterError, match=r"plan 'NOPE' is not in marginal\.yml"):
        payout_curve(MARGINAL, "NOPE", quota=1000)
    with pytest.raises(ParameterError, match="quota"):
        payout_curve(MARGINAL, "BRACKETS", quota=0)
