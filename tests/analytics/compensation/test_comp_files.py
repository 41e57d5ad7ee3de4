"""Bad plan files and bad input files: each gives the named error with file and line (or row and
column); the shipped example plans file is valid and uses every feature."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops_lib.analytics.compensation import (
    load_plan_book,
    plan_book_from_text,
    read_cancellations_csv,
    read_credits_csv,
    read_quotas_csv,
)
from salesops_lib.core.errors import CompInputError, CompPlanError
from tests.conftest import ROOT

GOOD = """\
plans:
  P:
    period: month
    tier_basis: amount
    tier_mode: marginal
    accumulate: period_to_date
    rate_tables:
      - effective: 2026-01-01
        tiers:
          - {from: 0, to: 10000, rate: 0.05}
          - {from: 10000, to: 25000, rate: 0.07}
          - {from: 25000, rate: 0.10}
assignments:
  - {rep_id: A, plan: P, start: 2026-01-01}
"""


def test_a_good_file_parses_with_version_and_text() -> None:
    book = plan_book_from_text(GOOD, "plans.yml")
    assert [float(t.rate) for t in book.plans["P"].rate_tables[0].tiers] == [0.05, 0.07, 0.10]
    assert book.text == GOOD and len(book.version) == 64
    assert book.assignments[["rep_id", "plan_id"]].values.tolist() == [["A", "P"]]


@pytest.mark.parametrize(
    ("old", "new", "line", "rule"),
    [
        ("{from: 10000, to: 25000", "{from: 9000, to: 25000", 11, "overlaps the tier before it"),
        ("{from: 10000, to: 25000", "{from: 12000, to: 25000", 11, "gap in coverage"),
        (
            "{from: 25000, rate: 0.10}",
            "{from: 25000, to: 50000, rate: 0.10}",
            12,
            "gap in coverage above",
        ),
        ("{from: 0, to: 10000", "{from: 100, to: 10000", 10, "gap in coverage"),
        (
            "tier_mode: marginal",
            "tier_mode: stepped",
            5,
            "tier_mode must be one of marginal, retroactive",
        ),
        ("effective: 2026-01-01", "effective: 2026-13-01", 8, "must be a date YYYY-MM-DD"),
        ("plan: P, start", "plan: Q, start", 14, "plan 'Q' is not defined"),
        ("rate: 0.05}", "rate: 0.0512345}", 10, "at most 6 decimals"),
        ("accumulate: period_to_date", "accumulate: per_deal", 6, "accumulate must be one of"),
        ("    period: month\n", "    period: month\n    colour: red\n", 4, "unknown key 'colour'"),
    ],
)
def test_bad_plan_files_name_file_line_and_rule(old: str, new: str, line: int, rule: str) -> None:
    assert old in GOOD
    with pytest.raises(CompPlanError) as caught:
        plan_book_from_text(GOOD.replace(old, new), "plans.yml")
    message = str(caught.value)
    assert message.startswith(f"plans.yml:{line}: "), message
    assert rule in message


def test_rep_on_two_plans_at_once_is_rejected() -> None:
    text = GOOD.replace(
        "  P:\n", "  Q:\n" + GOOD.split("  P:\n")[1].split("assignments:")[0] + "  P:\n"
    )
    text += "  - {rep_id: A, plan: Q, start: 2026-03-01, end: 2026-06-30}\n"
    with pytest.raises(CompPlanError, match=r"plans.yml:\d+: rep A is on two plans at once"):
        plan_book_from_text(text, "plans.yml")


def test_revenue_split_shares_must_sum_to_100_overlay_may_exceed() -> None:
    overlay = GOOD + "splits:\n  - {deal_id: D1, type: overlay, shares: {A: 100, B: 50}}\n"
    assert len(plan_book_from_text(overlay).splits) == 2
    revenue = GOOD + "splits:\n  - {deal_id: D1, type: revenue, shares: {A: 60, B: 50}}\n"
    with pytest.raises(
        CompPlanError, match=r"plans.yml:16: split of deal D1: .* sum to 110%, not 100%"
    ):
        plan_book_from_text(revenue, "plans.yml")


def test_retro_from_tier_needs_retroactive_and_a_tier_that_exists() -> None:
    with pytest.raises(CompPlanError, match="retro_from_tier needs tier_mode retroactive"):
        plan_book_from_text(
            GOOD.replace("    accumulate:", "    retro_from_tier: 2\n    accumulate:")
        )
    retro = GOOD.replace("marginal", "retroactive")
    with pytest.raises(CompPlanError, match="retro_from_tier 4 but a rate table has only 3 tiers"):
        plan_book_from_text(
            retro.replace("    accumulate:", "    retro_from_tier: 4\n    accumulate:")
        )


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CompPlanError, match=r"plans.yml:\d+: not valid YAML"):
        plan_book_from_text("plans: [", "plans.yml")
    with pytest.raises(CompPlanError, match="cannot read the plans file"):
        load_plan_book(tmp_path / "absent.yml")


def test_the_example_plans_file_is_valid_and_uses_every_feature() -> None:
    book = load_plan_book(ROOT / "config" / "comp_plans.example.yml")
    plans = book.plans.values()
    assert {p.tier_mode for p in plans} == {"marginal", "retroactive"}
    assert {p.accumulate for p in plans} == {"per_transaction", "period_to_date"}
    assert any(p.retro_from_tier for p in plans) and any(len(p.rate_tables) > 1 for p in plans)
    for feature in ("gate", "deal_cap", "period_cap", "draw", "clawback_days"):
        assert any(getattr(p, feature) is not None for p in plans), feature
    assert any(p.spifs for p in plans) and any(p.ramp for p in plans)
    assert {p.true_up for p in plans} >= {"quarterly", "annual"}
    assert set(book.splits["split_type"]) == {"revenue", "overlay"}


CREDITS = (
    "rep_id,credit_date,amount,deal_id,split_pct\n"
    "A,2026-01-10,100.50,D1,100\n"
    "B,2026-01-11,-20,D2,\n"
)


def test_a_good_credits_file(tmp_path: Path) -> None:
    path = tmp_path / "credits.csv"
    path.write_text(CREDITS)
    frame = read_credits_csv(path)
    assert frame[["rep_id", "amount", "deal_id", "split_pct"]].values.tolist() == [
        ["A", 100.5, "D1", 100.0],
        ["B", -20.0, "D2", 100.0],
    ]
    assert str(frame["credit_date"].dtype) == "datetime64[ns]"


@pytest.mark.parametrize(
    ("text", "where", "rule"),
    [
        ("rep_id,amount\nA,1\n", "row 1, column credit_date", "missing required column"),
        (CREDITS.replace("2026-01-11", "2026-02-30"), "row 3, column credit_date", "not a date"),
        (CREDITS.replace("100.50", "1OO"), "row 2, column amount", "not a number"),
        (CREDITS.replace("100.50", "100.505"), "row 2, column amount", "at most 2 decimals"),
        (CREDITS.replace("B,2026", ",2026"), "row 3, column rep_id", "rep_id is blank"),
        (CREDITS.replace("D1,100", "D1,abc"), "row 2, column split_pct", "not a percentage"),
        (CREDITS + "A,2026-01-12,5,D1,100\n", "row 4, column deal_id", "duplicate credit"),
    ],
)
def test_bad_credits_files_name_file_row_and_column(
    tmp_path: Path, text: str, where: str, rule: str
) -> None:
    path = tmp_path / "credits.csv"
    path.write_text(text)
    with pytest.raises(CompInputError) as caught:
        read_credits_csv(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: "), message
    assert rule in message


def test_quota_and_cancellation_files(tmp_path: Path) -> None:
    quotas = tmp_path / "quotas.csv"
    quotas.write_text("rep_id,period_start,quota\nA,2026-01-01,1000\nA,2026-01-01,900\n")
    with pytest.raises(CompInputError, match=r"quotas.csv: row 3, column rep_id: duplicate quota"):
        read_quotas_csv(quotas)
    quotas.write_text("rep_id,period_start,quota\nA,2026-01-01,-5\n")
    with pytest.raises(CompInputError, match=r"row 2, column quota: must not be negative"):
        read_quotas_csv(quotas)
    cancels = tmp_path / "cancels.csv"
    cancels.write_text("deal_id,cancel_date\nD1,2026-03-01\n")
    assert read_cancellations_csv(cancels)["deal_id"].tolist() == ["D1"]
    cancels.write_text("deal_id,cancel_date\nD1,01/03/2026\n")
    with pytest.raises(CompInputError, match=r"row 2, column cancel_date: not a date"):
        read_cancellations_csv(cancels)
    with pytest.raises(CompInputError, match="file not found"):
        read_credits_csv(tmp_path / "absent.csv")


def test_files_to_payouts_and_a_bad_period_label(tmp_path: Path) -> None:
    from salesops_lib.analytics.compensation import calculate_payouts
    from salesops_lib.core.errors import ParameterError

    (tmp_path / "plans.yml").write_text(GOOD)
    (tmp_path / "credits.csv").write_text("rep_id,credit_date,amount\nA,2026-01-10,30000.00\n")
    (tmp_path / "quotas.csv").write_text("rep_id,period_start,quota\nA,2026-01-01,50000\n")
    book = load_plan_book(tmp_path / "plans.yml")
    credits = read_credits_csv(tmp_path / "credits.csv")
    quotas = read_quotas_csv(tmp_path / "quotas.csv")
    result = calculate_payouts(book, credits, quotas, period="2026-01")
    assert result.payouts[["rep_id", "period", "payout"]].values.tolist() == [
        ["A", "2026-01", 2050.0]
    ]
    with pytest.raises(ParameterError, match="use YYYY-MM, YYYY-Qn or YYYY"):
        calculate_payouts(book, credits, quotas, period="2026-13")
