"""Period rules against hand-worked figures: gates, caps, SPIFs, draws, clawbacks, true-ups,
ramp and proration, splits and overlays, and the one rounding point."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pandas as pd
import pytest

from salesops_lib.analytics.compensation import calculate_payouts, plan_book_from_text
from salesops_lib.core.errors import CompInputError
from tests.analytics.compensation.comp_cases import (
    FLAT_10,
    book_text,
    credits,
    payout,
    plan_yaml,
    quotas,
    run,
)

TWO_REPS = (
    "  - {rep_id: A, plan: P, start: 2026-01-01}\n  - {rep_id: B, plan: P, start: 2026-01-01}\n"
)


def flat(extra: str = "", period: str = "month", plan_id: str = "P", rate: str = "0.10") -> str:
    tiers = FLAT_10.replace("0.10", rate)
    return plan_yaml(
        tiers=tiers, period=period, accumulate="period_to_date", extra=extra, plan_id=plan_id
    )


@pytest.mark.parametrize(
    ("credit", "factor", "expected", "met"),
    [
        (40_000, "0", 0.00, False),  # below 50%: no payout
        (50_000, "0", 4050.00, True),  # exactly 50% meets the gate: 500 + 1,050 + 2,500
        (40_000, "0.5", 1525.00, False),  # reduced rate: (500 + 1,050 + 1,500) x 0.5
    ],
)
def test_gate_zero_or_reduced_rate_below_minimum_attainment(
    credit: float, factor: str, expected: float, met: bool
) -> None:
    extra = f"    gate: {{min_attainment: 50, rate_factor: {factor}}}\n"
    text = book_text(plan_yaml(accumulate="period_to_date", extra=extra))
    row = payout(run(text, [("A", "2026-01-10", credit)], quotas("A", 100_000, months=1)))
    assert (row["payout"], row["gate_met"]) == (expected, met)


def test_deal_cap_limits_one_deals_commission() -> None:
    text = book_text(plan_yaml(extra="    deal_cap: 1000\n"))
    result = run(text, [("A", "2026-01-10", 30_000, "BIG"), ("A", "2026-01-11", 5_000, "SMALL")])
    # BIG earns 2,050, capped at 1,000; SMALL 250
    assert payout(result)["payout"] == 1250.00
    cap = result.lines.loc[result.lines["kind"] == "cap"]
    assert cap[["deal_id", "amount"]].values.tolist() == [["BIG", -1050.0]]


def test_period_cap_with_carry_over_releases_the_excess_later() -> None:
    text = book_text(flat("    period_cap: {amount: 1000, carry_over: true}\n"))
    deals = [("A", "2026-01-10", 15_000), ("A", "2026-02-10", 7_000)]
    result = run(text, deals, as_of=dt.date(2026, 3, 31))
    got = result.payouts.set_index("period")[["payout", "capped_excess", "held", "cap_release"]]
    # Jan: earned 1,500, paid 1,000, 500 held; Feb: earned 700 + 300 released; Mar: 200 released
    assert got.loc["2026-01"].tolist() == [1000.0, 500.0, 500.0, 0.0]
    assert got.loc["2026-02"].tolist() == [1000.0, 0.0, 200.0, 300.0]
    assert got.loc["2026-03"].tolist() == [200.0, 0.0, 0.0, 200.0]
    assert bool(result.payouts.set_index("period").loc["2026-01", "capped"])


def test_period_cap_without_carry_over_forfeits_the_excess() -> None:
    text = book_text(flat("    period_cap: {amount: 1000}\n"))
    result = run(text, [("A", "2026-01-10", 15_000), ("A", "2026-02-10", 7_000)])
    assert result.payouts["payout"].tolist() == [1000.0, 700.0]
    assert result.payouts["held"].tolist() == [0.0, 0.0]


def test_spif_pays_inside_its_window_until_the_budget_is_used_up() -> None:
    extra = (
        "    spifs:\n"
        "      - {name: Push, start: 2026-01-10, end: 2026-01-20, per_deal: 500,"
        " min_amount: 1000, budget: 1200}\n"
    )
    text = book_text(
        flat(extra, rate="0"),
        TWO_REPS,
    )
    deals = [
        ("A", "2026-01-09", 5_000, "BEFORE"),
        ("A", "2026-01-10", 5_000, "A1"),  # 500
        ("B", "2026-01-12", 2_000, "B1"),  # 500
        ("A", "2026-01-15", 500, "SMALL"),  # below min_amount
        ("B", "2026-01-20", 3_000, "B2"),  # 200 left in the budget
        ("A", "2026-01-21", 5_000, "AFTER"),
    ]
    result = run(text, deals)
    spif = result.lines.loc[result.lines["kind"] == "spif"].set_index("deal_id")["amount"]
    assert spif.to_dict() == {"A1": 500.0, "B1": 500.0, "B2": 200.0}
    assert (payout(result, "A")["spif"], payout(result, "B")["spif"]) == (500.0, 700.0)


@pytest.mark.parametrize("recoverable", [True, False])
def test_draw_tops_up_new_hires_and_a_recoverable_draw_is_recovered(recoverable: bool) -> None:
    flag = "true" if recoverable else "false"
    extra = f"    draw: {{amount: 1000, periods: 2, recoverable: {flag}, recovery_pct: 50}}\n"
    deals = [
        ("A", "2026-01-10", 4_000),  # 400 earned: draw 600
        ("A", "2026-02-10", 12_000),  # 1,200: above the draw, still a draw period
        ("A", "2026-03-10", 8_000),  # 800: recover min(600, 50% x 800) = 400
        ("A", "2026-04-10", 10_000),  # 1,000: recover the last 200
    ]
    got = run(book_text(flat(extra)), deals).payouts.set_index("period")
    assert got["draw"].tolist() == [600.0, 0.0, 0.0, 0.0]
    if recoverable:
        assert got["draw_recovery"].tolist() == [0.0, 0.0, -400.0, -200.0]
        assert got["payout"].tolist() == [1000.0, 1200.0, 400.0, 800.0]
    else:
        assert got["draw_recovery"].tolist() == [0.0, 0.0, 0.0, 0.0]
        assert got["payout"].tolist() == [1000.0, 1200.0, 800.0, 1000.0]


def test_draw_is_prorated_by_days_when_the_plan_covers_part_of_the_period() -> None:
    extra = "    draw: {amount: 3100, periods: 2, recoverable: false}\n"
    text = book_text(flat(extra), "  - {rep_id: A, plan: P, start: 2026-01-17}\n")
    result = run(text, [("A", "2026-02-10", 1_000)])
    # Jan 17-31 is 15 of 31 days: 3,100 x 15/31 = 1,500; Feb: full 3,100 minus 100 earned
    assert result.payouts["draw"].tolist() == [1500.0, 3000.0]


def test_clawback_takes_back_the_paid_part_at_the_paid_rate_inside_the_window() -> None:
    extra = "    period_cap: {amount: 600}\n    clawback: {window_days: 90}\n"
    deals = [("A", "2026-01-10", 10_000, "D1"), ("A", "2026-01-12", 5_000, "D2")]
    cancels = pd.DataFrame(
        {"deal_id": ["D1", "D2"], "cancel_date": pd.to_datetime(["2026-03-05", "2026-05-01"])}
    )
    result = run(book_text(flat(extra)), deals, cancellations=cancels, as_of=dt.date(2026, 5, 31))
    got = result.payouts.set_index("period")
    # Jan earned 1,500, the cap let 600 through (40%): D1 was paid 1,000 x 40% = 400.
    # D1 cancelled 54 days later -> -400 in March; D2 cancelled after 109 days -> kept.
    assert got.loc["2026-01", "payout"] == 600.0
    assert got.loc["2026-03", "clawback"] == -400.0
    assert got["clawback"].sum() == -400.0
    line = result.lines.loc[result.lines["kind"] == "clawback"].iloc[0]
    assert (line["deal_id"], line["period"], line["amount"]) == ("D1", "2026-03", -400.0)


def test_quarterly_true_up_pays_year_to_date_earned_minus_paid() -> None:
    tiers = """
          - {from: 0, to: 100, rate: 0.05}
          - {from: 100, rate: 0.10}"""
    extra = "    gate: {min_attainment: 50}\n    true_up: quarterly\n"
    text = book_text(
        plan_yaml(tiers=tiers, basis="attainment", accumulate="period_to_date", extra=extra)
    )
    deals = [("A", "2026-01-10", 2_000), ("A", "2026-02-10", 8_000), ("A", "2026-03-10", 8_000)]
    got = run(text, deals, quotas("A", 10_000, months=3)).payouts.set_index("period")
    # Jan 20% < gate: 0; Feb 400; Mar 400. Year to date 18,000 / 30,000 = 60%: 900 -> +100
    assert got["commission"].tolist() == [0.0, 400.0, 400.0]
    assert got["true_up"].tolist() == [0.0, 0.0, 100.0]
    assert got.loc["2026-03", "payout"] == 500.0


def test_ramp_and_mid_period_start_prorate_the_quota_by_days() -> None:
    extra = "    ramp: [50, 75]\n"
    text = book_text(flat(extra), "  - {rep_id: A, plan: P, start: 2026-02-10}\n")
    result = run(text, [("A", "2026-04-10", 1_000)], quotas("A", 10_000, months=4))
    got = result.payouts.set_index("period")["quota"]
    # Feb: 10,000 x 50% x 19/28 days = 3,392.857... -> 3,392.86; Mar: 75%; Apr: full
    assert got.to_dict() == {"2026-02": 3392.86, "2026-03": 7500.0, "2026-04": 10000.0}


def test_ramp_counts_from_the_hire_date_when_given() -> None:
    text = book_text(flat("    ramp: [50, 75]\n"))
    hires = pd.DataFrame({"rep_id": ["A"], "hire_date": pd.to_datetime(["2025-12-15"])})
    result = run(
        text, [("A", "2026-02-10", 1_000)], quotas("A", 10_000, months=2), hire_dates=hires
    )
    assert result.payouts["quota"].tolist() == [7500.0, 10000.0]  # Dec = period 1, Jan = 2


def test_mid_period_plan_change_prorates_by_days_into_one_row() -> None:
    plans = flat(plan_id="P1") + flat(plan_id="P2", rate="0.20")
    assignments = (
        "  - {rep_id: A, plan: P1, start: 2026-01-01, end: 2026-01-15}\n"
        "  - {rep_id: A, plan: P2, start: 2026-01-16}\n"
    )
    deals = [("A", "2026-01-10", 1_000), ("A", "2026-01-20", 1_000)]
    result = run(book_text(plans, assignments), deals, quotas("A", 31_000, months=1))
    row = payout(result)
    # P1 pays 10% on the first deal, P2 20% on the second; quota 15/31 + 16/31 of 31,000
    assert (row["payout"], row["quota"], row["plans"], row["plan_id"]) == (
        300.0,
        31000.0,
        "P1, P2",
        "P2",
    )
    assert result.lines.groupby("plan_id")["amount"].sum().to_dict() == {"P1": 100.0, "P2": 200.0}


def test_territory_change_mid_period_prorates_each_quota_by_days() -> None:
    assignments = (
        "  - {rep_id: A, plan: P, start: 2026-01-01, end: 2026-01-10, quota: 31000}\n"
        "  - {rep_id: A, plan: P, start: 2026-01-11, quota: 62000}\n"
    )
    result = run(book_text(flat(), assignments), [("A", "2026-01-20", 1_000)])
    # 31,000 x 10/31 + 62,000 x 21/31 = 10,000 + 42,000, in one row for January
    row = payout(result)
    assert (row["quota"], row["payout"]) == (52000.0, 100.0)


def test_revenue_split_and_overlay_credit() -> None:
    plans = flat("    credit: {rule: split, type: revenue}\n", plan_id="REV") + flat(
        "    credit: {rule: split, type: overlay}\n", plan_id="OVL", rate="0.05"
    )
    text = book_text(
        plans,
        "  - {rep_id: A, plan: REV, start: 2026-01-01}\n"
        "  - {rep_id: B, plan: REV, start: 2026-01-01}\n"
        "  - {rep_id: C, plan: OVL, start: 2026-01-01}\n",
    ) + (
        "splits:\n"
        "  - {deal_id: D1, type: revenue, shares: {A: 60, B: 40}}\n"
        "  - {deal_id: D1, type: overlay, shares: {C: 100}}\n"
    )
    deals = [
        ("A", "2026-01-10", 10_000, "D1"),
        ("A", "2026-01-11", 1_000, "D2", 50),
        ("B", "2026-01-11", 1_000, "D2", 50),
    ]
    result = run(text, deals)
    # D1: A 6,000 x 10%, B 4,000 x 10%, C overlay 10,000 x 5%; D2: 500 x 10% each
    assert payout(result, "A")["payout"] == 650.0
    assert payout(result, "B")["payout"] == 450.0
    assert payout(result, "C")["payout"] == 500.0


def test_revenue_split_not_summing_to_100_is_an_input_error() -> None:
    text = book_text(
        flat("    credit: {rule: split, type: revenue}\n"),
        TWO_REPS,
    )
    deals = [("A", "2026-01-10", 1_000, "D9", 60), ("B", "2026-01-10", 1_000, "D9", 50)]
    with pytest.raises(CompInputError, match=r"deal D9, column split_pct: .*110%, not 100%"):
        run(text, deals)


def test_many_sub_cent_lines_are_summed_exactly_and_rounded_once() -> None:
    text = book_text(flat(rate="0.015"))
    deals = [("A", "2026-01-10", 0.33, f"D{i}") for i in range(1000)]
    result = run(text, deals)
    # each line 0.33 x 1.5% = 0.00495 (0.00 if rounded per line); 1,000 of them = 4.95 exactly
    assert payout(result)["payout"] == 4.95
    assert sum(Fraction(a).limit_denominator(10**9) for a in result.lines["amount"]) == Fraction(
        495, 100
    )


def test_half_cent_rounds_half_up() -> None:
    text = book_text(flat(rate="0.05"))
    assert payout(run(text, [("A", "2026-01-10", 0.15)]))["payout"] == 0.01  # 0.0075 -> 0.01
    assert payout(run(text, [("A", "2026-01-10", -0.15)]))["payout"] == -0.01  # halves away from 0


def test_payout_is_the_sum_of_its_lines_and_period_filter_keeps_overlapping_periods() -> None:
    extra = (
        "    period_cap: {amount: 1000, carry_over: true}\n"
        "    draw: {amount: 500, periods: 1}\n"
        "    clawback: {window_days: 60}\n"
    )
    deals = [
        ("A", "2026-01-10", 3_000, "D1"),
        ("A", "2026-02-10", 20_000, "D2"),
        ("A", "2026-04-02", 1_000, "D3"),
    ]
    cancels = pd.DataFrame({"deal_id": ["D2"], "cancel_date": pd.to_datetime(["2026-03-01"])})
    book = plan_book_from_text(book_text(flat(extra)))
    result = calculate_payouts(book, credits(deals), quotas("A", 1), cancellations=cancels)
    sums = result.lines.groupby("period")["amount"].sum().round(2)
    assert result.payouts.set_index("period")["payout"].to_dict() == sums.to_dict()
    quarter = calculate_payouts(
        book, credits(deals), quotas("A", 1), cancellations=cancels, period="2026-Q1"
    )
    assert quarter.payouts["period"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert set(quarter.lines["period"]) <= {"2026-01", "2026-02", "2026-03"}


def test_credits_outside_every_assignment_and_after_as_of_are_not_paid() -> None:
    text = book_text(flat(), "  - {rep_id: A, plan: P, start: 2026-01-05}\n")
    deals = [
        ("A", "2026-01-02", 1_000),
        ("A", "2026-01-10", 1_000),
        ("A", "2026-02-10", 1_000),
        ("Z", "2026-01-10", 1_000),
    ]
    result = run(text, deals, as_of=dt.date(2026, 1, 31))
    assert result.payouts[["rep_id", "period", "payout"]].values.tolist() == [
        ["A", "2026-01", 100.0]
    ]
    unassigned = result.unassigned.sort_values(["rep_id", "credit_date"])
    assert unassigned[["rep_id", "deal_id"]].values.tolist() == [["A", "D1"], ["Z", "D4"]]
