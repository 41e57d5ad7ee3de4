"""Small builders for hand-worked compensation cases (plans YAML, credits, quotas)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from salesops_lib.analytics.compensation import PayoutResult, calculate_payouts, plan_book_from_text

BRACKETS = """
          - {from: 0, to: 10000, rate: 0.05}
          - {from: 10000, to: 25000, rate: 0.07}
          - {from: 25000, rate: 0.10}"""
"""The public example: 0-10k at 5%, 10k-25k at 7%, above 25k at 10%."""

FLAT_10 = """
          - {from: 0, rate: 0.10}"""


def plan_yaml(
    *,
    tiers: str = BRACKETS,
    period: str = "month",
    basis: str = "amount",
    mode: str = "marginal",
    accumulate: str = "per_transaction",
    extra: str = "",
    plan_id: str = "P",
) -> str:
    """One plan's YAML block (indented under ``plans:``)."""
    return f"""
  {plan_id}:
    period: {period}
    tier_basis: {basis}
    tier_mode: {mode}
    accumulate: {accumulate}
    rate_tables:
      - tiers:{tiers}
{extra}"""


def book_text(
    plans: str, assignments: str = "  - {rep_id: A, plan: P, start: 2026-01-01}\n"
) -> str:
    """A whole plans file from plan blocks and assignment lines."""
    return f"plans:{plans}\nassignments:\n{assignments}"


def credits(rows: Sequence[tuple]) -> pd.DataFrame:
    """Credits from ``(rep_id, date, amount[, deal_id[, split_pct]])`` tuples."""
    full = []
    for number, row in enumerate(rows):
        rep, day, amount = row[:3]
        deal = row[3] if len(row) > 3 else f"D{number + 1}"
        split = row[4] if len(row) > 4 else 100.0
        full.append((rep, pd.Timestamp(day), float(amount), deal, float(split)))
    return pd.DataFrame(full, columns=["rep_id", "credit_date", "amount", "deal_id", "split_pct"])


def quotas(rep: str, amount: float, months: int = 12, start: str = "2026-01-01") -> pd.DataFrame:
    """The same monthly quota for ``months`` months."""
    return pd.DataFrame(
        {
            "rep_id": rep,
            "period_start": pd.date_range(start, periods=months, freq="MS"),
            "quota": float(amount),
        }
    )


NO_QUOTAS = pd.DataFrame({"rep_id": [], "period_start": pd.to_datetime([]), "quota": []})


def run(
    text: str,
    rows: Sequence[tuple],
    quota: pd.DataFrame = NO_QUOTAS,
    **kwargs: object,
) -> PayoutResult:
    """Parse the plans text and calculate the payouts."""
    return calculate_payouts(plan_book_from_text(text), credits(rows), quota, **kwargs)  # type: ignore[arg-type]


def payout(result: PayoutResult, rep: str = "A", period: str | None = None) -> pd.Series:
    """The one payout row of a rep (and period)."""
    rows = result.payouts.loc[result.payouts["rep_id"] == rep]
    if period is not None:
        rows = rows.loc[rows["period"] == period]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def day(text: str) -> dt.date:
    """A date from ``YYYY-MM-DD``."""
    return dt.date.fromisoformat(text)
