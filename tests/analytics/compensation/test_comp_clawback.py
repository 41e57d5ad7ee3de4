"""Clawbacks take back what a cancelled deal was paid, at the rate it was paid, per tier semantics.

Every figure is worked by hand in the comments. Under a retroactive plan a deal is finally paid
at the tier the rep reached in the period, whatever its own line held when it was credited (a
period-to-date line also carries the re-rating of the deals before it); under a marginal plan it
is paid at the rate(s) of the slice(s) of the running total it filled; a deal cap, a gate and a
period cap limit what was paid, so they limit what is taken back.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.analytics.compensation.comp_cases import book_text, payout, plan_yaml, quotas, run

RETRO_ATTAINMENT = """
          - {from: 0, to: 80, rate: 0.03}
          - {from: 80, to: 100, rate: 0.05}
          - {from: 100, rate: 0.07}"""
"""The demo's retroactive tiers: under 80% of quota 3%, 80-100% 5%, from 100% 7%."""

CLAWBACK = "    clawback: {window_days: 90}\n"

# Monthly quota 10,000. D1 2,000 (20%: 3% -> 60); D2 7,000 (90%: T2, the line re-rates D1 too:
# 9,000 x 5% - 60 = 390); D3 2,000 (110%: T3, 11,000 x 7% - 450 = 320). January pays 770.
# Under T3, finally reached, D1 was paid 2,000 x 7% = 140 and D2 7,000 x 7% = 490.
RETRO_DEALS = [
    ("A", "2026-01-05", 2_000, "D1"),
    ("A", "2026-01-10", 7_000, "D2"),
    ("A", "2026-01-20", 2_000, "D3"),
    ("A", "2026-02-10", 1_000, "D4"),  # February: 10% -> 3% = 30
]


def cancels(*deals: tuple[str, str]) -> pd.DataFrame:
    """Cancellations from ``(deal_id, YYYY-MM-DD)`` pairs."""
    return pd.DataFrame(
        {
            "deal_id": [d for d, _ in deals],
            "cancel_date": pd.to_datetime([c for _, c in deals]),
        }
    )


def clawback_lines(result: object) -> list[list[object]]:
    """deal_id, period, tier, rate, amount of each clawback line."""
    lines = result.lines  # type: ignore[attr-defined]
    claws = lines.loc[lines["kind"] == "clawback"].sort_values("deal_id")
    return claws[["deal_id", "period", "tier", "rate", "amount"]].values.tolist()


def retro_book(extra: str = "", accumulate: str = "period_to_date") -> str:
    return book_text(
        plan_yaml(
            tiers=RETRO_ATTAINMENT,
            basis="attainment",
            mode="retroactive",
            accumulate=accumulate,
            extra=CLAWBACK + extra,
        )
    )


def test_retroactive_to_date_claws_back_at_the_tier_finally_reached() -> None:
    result = run(
        retro_book(),
        RETRO_DEALS,
        quotas("A", 10_000, months=2),
        cancellations=cancels(("D1", "2026-02-15"), ("D2", "2026-02-15")),
        as_of=dt.date(2026, 2, 28),
    )
    assert payout(result, period="2026-01")["payout"] == 770.0
    # D1 first priced at 3% (60) and D2's line (390) held D1's re-rating: both paid at 7% finally
    assert clawback_lines(result) == [
        ["D1", "2026-02", "T3", 0.07, -140.0],
        ["D2", "2026-02", "T3", 0.07, -490.0],
    ]
    february = payout(result, period="2026-02")
    assert (february["clawback"], february["payout"]) == (-630.0, 30 - 630.0)


def test_retroactive_to_date_clawback_of_a_deal_priced_at_a_lower_tier() -> None:
    # the demo's REP-0014 case: a deal priced at 3% when credited, the period ending at 5%.
    deals = [("A", "2026-01-05", 1_000, "SMALL"), ("A", "2026-01-25", 8_000, "LATE")]
    result = run(
        retro_book(),
        deals,
        quotas("A", 10_000, months=2),
        cancellations=cancels(("SMALL", "2026-02-01")),
        as_of=dt.date(2026, 2, 28),
    )
    # January 9,000 = 90%: T2 5% on everything = 450; SMALL was paid 1,000 x 5% = 50 (not 30)
    assert payout(result, period="2026-01")["payout"] == 450.0
    assert clawback_lines(result) == [["SMALL", "2026-02", "T2", 0.05, -50.0]]


def test_retroactive_clawback_inside_the_period_of_the_deal() -> None:
    result = run(
        retro_book(),
        RETRO_DEALS[:3],
        quotas("A", 10_000, months=1),
        cancellations=cancels(("D2", "2026-01-25")),
        as_of=dt.date(2026, 1, 31),
    )
    # paid 770, D2 takes back 7,000 x 7% = 490 the same month
    row = payout(result, period="2026-01")
    assert (row["commission"], row["clawback"], row["payout"]) == (770.0, -490.0, 280.0)


def test_retroactive_deal_cap_caps_the_deals_final_pay_and_its_clawback() -> None:
    result = run(
        retro_book("    deal_cap: 400\n"),
        RETRO_DEALS,
        quotas("A", 10_000, months=2),
        cancellations=cancels(("D2", "2026-02-15")),
        as_of=dt.date(2026, 2, 28),
    )
    # finally D1 140, D2 490 capped at 400 (cap line -90), D3 140: January 680
    assert payout(result, period="2026-01")["payout"] == 680.0
    cap = result.lines.loc[result.lines["kind"] == "cap"]
    assert cap[["deal_id", "amount"]].values.tolist() == [["D2", -90.0]]
    assert clawback_lines(result) == [["D2", "2026-02", "T3", 0.07, -400.0]]


def test_retroactive_per_transaction_deal_capped_takes_back_only_what_was_paid() -> None:
    text = book_text(
        plan_yaml(mode="retroactive", extra=CLAWBACK + "    deal_cap: 1000\n"),
    )
    deals = [("A", "2026-01-10", 30_000, "BIG"), ("A", "2026-01-11", 5_000, "SMALL")]
    result = run(
        text,
        deals,
        cancellations=cancels(("BIG", "2026-02-01"), ("SMALL", "2026-02-01")),
        as_of=dt.date(2026, 2, 28),
    )
    # BIG reaches T3 on its own: 30,000 x 10% = 3,000, capped at 1,000; SMALL 5,000 x 5% = 250
    assert payout(result, period="2026-01")["payout"] == 1250.0
    assert clawback_lines(result) == [
        ["BIG", "2026-02", "T3", 0.10, -1000.0],
        ["SMALL", "2026-02", "T1", 0.05, -250.0],
    ]


def test_marginal_to_date_claws_back_the_slices_the_deal_was_paid_in() -> None:
    text = book_text(plan_yaml(accumulate="period_to_date", extra=CLAWBACK))
    deals = [
        ("A", "2026-01-05", 8_000, "D1"),  # 0-8k at 5% = 400
        ("A", "2026-01-10", 5_000, "D2"),  # 8-10k at 5% + 10-13k at 7% = 100 + 210 = 310
        ("A", "2026-01-20", 20_000, "D3"),  # 13-25k at 7% + 25-33k at 10% = 840 + 800 = 1,640
    ]
    result = run(
        text,
        deals,
        cancellations=cancels(("D1", "2026-02-01"), ("D2", "2026-02-01"), ("D3", "2026-02-01")),
        as_of=dt.date(2026, 2, 28),
    )
    assert payout(result, period="2026-01")["payout"] == 2350.0  # 500 + 1,050 + 800 on 33,000
    # one rate: its tier and rate on the line; several: no single tier or rate
    assert clawback_lines(result) == [
        ["D1", "2026-02", "T1", 0.05, -400.0],
        ["D2", "2026-02", "", 0.0, -310.0],
        ["D3", "2026-02", "", 0.0, -1640.0],
    ]
    assert payout(result, period="2026-02")["payout"] == -2350.0


def test_retro_from_tier_to_date_claws_back_the_rerated_slices_not_the_rerate_line() -> None:
    extra = "    retro_from_tier: 2\n" + CLAWBACK
    text = book_text(plan_yaml(mode="retroactive", accumulate="period_to_date", extra=extra))
    deals = [
        ("A", "2026-01-05", 6_000, "D1"),  # 0-6k at 5% = 300
        # 6-10k at 5% = 200, 10-14k at 7% = 280, and the re-rate line: 10,000 x 2% = 200
        ("A", "2026-01-10", 8_000, "D2"),
        ("A", "2026-01-20", 20_000, "D3"),  # 14-25k at 7% = 770, 25-34k at 10% = 900
    ]
    result = run(
        text,
        deals,
        cancellations=cancels(("D1", "2026-02-01"), ("D2", "2026-02-01")),
        as_of=dt.date(2026, 2, 28),
    )
    # 10,000 x 7% + 15,000 x 7% + 9,000 x 10% = 700 + 1,050 + 900 = 2,650
    assert payout(result, period="2026-01")["payout"] == 2650.0
    # T2 reached: D1 6,000 x 7% = 420 (priced 300); D2 8,000 x 7% = 560 (its lines: 680)
    assert clawback_lines(result) == [
        ["D1", "2026-02", "T2", 0.07, -420.0],
        ["D2", "2026-02", "T2", 0.07, -560.0],
    ]


def test_retroactive_clawback_follows_the_gate_factor_of_the_deals_period() -> None:
    extra = "    gate: {min_attainment: 50, rate_factor: 0.5}\n"
    result = run(
        retro_book(extra),
        [("A", "2026-01-05", 2_000, "D1"), ("A", "2026-01-06", 1_000, "D2")],
        quotas("A", 10_000, months=2),
        cancellations=cancels(("D1", "2026-02-01")),
        as_of=dt.date(2026, 2, 28),
    )
    # 30% < 50%: paid half; D1 2,000 x 3% x 0.5 = 30
    assert payout(result, period="2026-01")["payout"] == 45.0
    assert clawback_lines(result) == [["D1", "2026-02", "T1", 0.03, -30.0]]
