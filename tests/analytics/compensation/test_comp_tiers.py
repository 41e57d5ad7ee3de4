"""Tier semantics against hand-worked figures.

The public brackets: 0-10k at 5%, 10k-25k at 7%, above 25k at 10%.
"""

from __future__ import annotations

import pytest

from tests.analytics.compensation.comp_cases import book_text, payout, plan_yaml, run


def one_deal(
    amount: float, mode: str, extra: str = "", accumulate: str = "per_transaction"
) -> float:
    text = book_text(plan_yaml(mode=mode, accumulate=accumulate, extra=extra))
    return float(payout(run(text, [("A", "2026-01-10", amount)]))["payout"])


def test_public_example_marginal_pays_2050_on_30000() -> None:
    # 10,000 x 5% + 15,000 x 7% + 5,000 x 10% = 500 + 1,050 + 500
    assert one_deal(30_000, "marginal") == 2050.00
    assert one_deal(30_000, "marginal", accumulate="period_to_date") == 2050.00


def test_public_example_retroactive_pays_3000_on_30000() -> None:
    # tier reached: 10% on everything
    assert one_deal(30_000, "retroactive") == 3000.00
    assert one_deal(30_000, "retroactive", accumulate="period_to_date") == 3000.00


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (
            30_000,
            2250.00,
        ),  # reached T3 (>= T2): 10k below T2 at 7% = 700, 15k x 7% = 1,050, 5k x 10% = 500
        (20_000, 1400.00),  # reached T2: 10k at 7% + 10k x 7%
        (10_000, 700.00),  # exactly on T2's lower bound: belongs to T2, so re-rated at 7%
        (8_000, 400.00),  # T1 only: plain marginal
    ],
)
def test_retro_from_tier_2_rerates_below_and_keeps_above_marginal(
    amount: float, expected: float
) -> None:
    extra = "    retro_from_tier: 2\n"
    assert one_deal(amount, "retroactive", extra) == expected
    assert one_deal(amount, "retroactive", extra, "period_to_date") == expected


def test_value_exactly_on_a_boundary_belongs_to_the_higher_tier() -> None:
    # marginal: [0, 10,000) is all T1 -> 500; retroactive: 10,000 is in T2 -> 700; 25,000 in T3
    assert one_deal(10_000, "marginal") == 500.00
    assert one_deal(10_000, "retroactive") == 700.00
    assert one_deal(25_000, "retroactive") == 2500.00
    result = run(book_text(plan_yaml(mode="retroactive")), [("A", "2026-01-10", 24_999.99)])
    assert payout(result)["payout"] == 1750.00  # 24,999.99 x 7% = 1,749.9993 -> 1,750.00
    line = result.lines.iloc[0]
    assert (line["tier"], line["rate"]) == ("T2", 0.07)


def test_per_transaction_and_period_to_date_differ_when_a_deal_crosses_a_tier() -> None:
    deals = [("A", "2026-01-05", 8_000, "D1"), ("A", "2026-01-20", 6_000, "D2")]
    each = run(book_text(plan_yaml(accumulate="per_transaction")), deals)
    # each deal on its own: 8,000 x 5% = 400 and 6,000 x 5% = 300
    assert payout(each)["payout"] == 700.00
    to_date = run(book_text(plan_yaml(accumulate="period_to_date")), deals)
    # running total 8,000 -> 14,000: D2 pays 2,000 x 5% + 4,000 x 7% = 100 + 280
    assert payout(to_date)["payout"] == 780.00
    d2 = to_date.lines.loc[to_date.lines["deal_id"] == "D2", ["tier", "rate", "amount"]]
    assert d2.values.tolist() == [["T1", 0.05, 100.0], ["T2", 0.07, 280.0]]


def test_retroactive_period_to_date_pays_the_increment_and_rerates_earlier_deals() -> None:
    deals = [("A", "2026-01-05", 20_000, "D1"), ("A", "2026-01-20", 10_000, "D2")]
    result = run(book_text(plan_yaml(mode="retroactive", accumulate="period_to_date")), deals)
    lines = result.lines.set_index("deal_id")
    assert lines.loc["D1", "amount"] == 1400.0  # 20,000 in T2 at 7%
    assert lines.loc["D2", "amount"] == 1600.0  # 30,000 x 10% = 3,000 minus 1,400 already earned
    assert payout(result)["payout"] == 3000.00


def test_refunds_reduce_credit_with_the_right_sign() -> None:
    deals = [("A", "2026-01-05", 30_000, "D1"), ("A", "2026-01-25", -10_000, "R1")]
    to_date = run(book_text(plan_yaml(accumulate="period_to_date")), deals)
    # 30,000 -> 20,000 walks back 5,000 at 10% and 5,000 at 7%: -850; total = M(20,000) = 1,200
    refund = to_date.lines.loc[to_date.lines["deal_id"] == "R1", "amount"].sum()
    assert refund == -850.0
    assert payout(to_date)["payout"] == 1200.00
    assert payout(to_date)["credit"] == 20_000.00
    each = run(book_text(plan_yaml()), deals)
    # per transaction, the refund reverses its own climb: -(10,000 x 5%)
    assert payout(each)["payout"] == 2050.00 - 500.00


def test_rate_change_never_rerates_deals_credited_before_it() -> None:
    plan = """
  P:
    period: month
    tier_basis: amount
    tier_mode: marginal
    accumulate: period_to_date
    rate_tables:
      - effective: 2026-01-01
        tiers: [{from: 0, rate: 0.05}]
      - effective: 2026-01-16
        tiers: [{from: 0, rate: 0.08}]
"""
    deals = [("A", "2026-01-10", 10_000, "OLD"), ("A", "2026-01-16", 10_000, "NEW")]
    result = run(book_text(plan), deals)
    # 10,000 x 5% (credited before the change) + 10,000 x 8% (on the effective date)
    assert payout(result)["payout"] == 1300.00
    assert result.lines.set_index("deal_id").loc["OLD", "rate"] == 0.05


def test_retroactive_rate_change_rerates_earlier_deals_at_their_own_table() -> None:
    plan = """
  P:
    period: month
    tier_basis: amount
    tier_mode: retroactive
    accumulate: period_to_date
    rate_tables:
      - effective: 2026-01-01
        tiers: [{from: 0, to: 10000, rate: 0.05}, {from: 10000, rate: 0.10}]
      - effective: 2026-01-16
        tiers: [{from: 0, to: 10000, rate: 0.06}, {from: 10000, rate: 0.12}]
"""
    deals = [("A", "2026-01-10", 8_000, "OLD"), ("A", "2026-01-20", 4_000, "NEW")]
    result = run(book_text(plan), deals)
    # total 12,000 reaches T2: OLD re-rated at ITS table's T2 (10%) = 800, NEW at 12% = 480
    assert payout(result)["payout"] == 1280.00
    assert result.lines.set_index("deal_id").loc["NEW", "amount"] == 880.0  # 1,280 - 400


def test_attainment_tiers_are_percent_of_the_period_quota() -> None:
    tiers = """
          - {from: 0, to: 100, rate: 0.05}
          - {from: 100, rate: 0.10}"""
    text = book_text(plan_yaml(tiers=tiers, basis="attainment", accumulate="period_to_date"))
    from tests.analytics.compensation.comp_cases import quotas

    result = run(text, [("A", "2026-01-10", 15_000)], quotas("A", 10_000, months=1))
    row = payout(result)
    # 10,000 (100% of quota) x 5% + 5,000 x 10%
    assert row["payout"] == 1000.00
    assert row["attainment"] == pytest.approx(1.5)
