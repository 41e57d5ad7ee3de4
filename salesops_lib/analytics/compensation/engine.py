"""The payout engine: credits and quotas in, payouts per rep x period and their lines out.

Steps: declared splits expand the credit rows; each row goes to the segment (rep x plan x period
part, :mod:`.periods`) its credit date falls in and is filtered by the plan's measure; credits
become exact micro-units (owner: the amount; split: amount x split_pct); each segment's deals are
rated in credit order (:func:`.tiers.rate_deals`), each deal's final pay (at the rate it was
paid, :func:`.tiers.paid_by_deal`) capped by the deal cap; SPIFs are handed out
across reps first come first served; then :mod:`.adjust` applies, rep by rep in date order,
gates, period caps with carry-over, clawbacks, draws and recoveries and true-ups, and rounds
each money column to cents once, at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from salesops_lib.analytics.compensation.adjust import Ledger, SegmentCredits, settle
from salesops_lib.analytics.compensation.model import (
    MICRO,
    PayoutResult,
    Plan,
    PlanBook,
)
from salesops_lib.analytics.compensation.periods import build_segments, period_range
from salesops_lib.analytics.compensation.tiers import Paid, bands_of, paid_by_deal, rate_deals
from salesops_lib.core.errors import CompInputError


def _expand_splits(book: PlanBook, credits: pd.DataFrame) -> pd.DataFrame:
    """Replace the credit rows of deals with a declared split by one row per share."""
    if book.splits.empty:
        return credits
    split_deals = set(book.splits["deal_id"])
    declared = credits["deal_id"].isin(split_deals)
    if not declared.any():
        return credits
    originals = credits.loc[declared].drop(columns=["rep_id", "split_pct"])
    originals = originals.drop_duplicates(["deal_id", "credit_date", "amount"])
    shares = book.splits[["deal_id", "rep_id", "split_pct"]]
    expanded = originals.merge(shares, on="deal_id", how="inner")
    return pd.concat([credits.loc[~declared], expanded[credits.columns]], ignore_index=True)


def _assign(credits: pd.DataFrame, segments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each credit row with the segment holding its date; and the rows on no plan that day."""
    left = credits.assign(_day=credits["credit_date"].astype("datetime64[ns]"))
    left = left.sort_values("_day", kind="stable")
    right = segments[["seg_id", "rep_id", "seg_start", "seg_end", "plan_id"]].assign(
        _day=pd.to_datetime(segments["seg_start"]).astype("datetime64[ns]")
    )
    right = right.sort_values("_day", kind="stable")
    merged = pd.merge_asof(
        left,
        right.drop(columns="rep_id").assign(_rep=right["rep_id"]),
        on="_day",
        left_by="rep_id",
        right_by="_rep",
        direction="backward",
    )
    inside = merged["seg_id"].notna() & (
        merged["_day"] <= pd.to_datetime(merged["seg_end"]).astype("datetime64[ns]")
    )
    out = merged.loc[inside].drop(columns=["_day", "_rep", "seg_start", "seg_end"])
    unassigned = merged.loc[~inside, list(credits.columns)].reset_index(drop=True)
    return out.assign(seg_id=out["seg_id"].astype("int64")), unassigned


def _measure(plans: Mapping[str, Plan], rows: pd.DataFrame) -> pd.DataFrame:
    """Keep the rows each plan's measure counts (product family / deal type filters)."""
    keep = pd.Series(True, index=rows.index)
    for plan in plans.values():
        on_plan = rows["plan_id"] == plan.plan_id
        for column, allowed in (
            ("product_family", plan.product_families),
            ("deal_type", plan.deal_types),
        ):
            if not allowed or not on_plan.any():
                continue
            if column not in rows.columns:
                raise CompInputError(
                    f"credits: column {column}: missing, but plan {plan.plan_id} filters its "
                    f"measure on it ({', '.join(allowed)})"
                )
            keep &= ~on_plan | rows[column].isin(allowed)
    return rows.loc[keep]


def _credit_micro(plans: Mapping[str, Plan], rows: pd.DataFrame) -> pd.DataFrame:
    """Exact credit per row: the amount (owner rule) or amount x split_pct (split rule)."""
    amount_cents = (rows["amount"].to_numpy(dtype="float64") * 100).round().astype("int64")
    split_bp = (rows["split_pct"].to_numpy(dtype="float64") * 100).round().astype("int64")
    split_rule = rows["plan_id"].map({p: q.credit_rule == "split" for p, q in plans.items()})
    factor = np.where(split_rule.to_numpy(dtype=bool), split_bp, 10000)
    return rows.assign(credit_micro=amount_cents * factor)


def _check_revenue_splits(book: PlanBook, rows: pd.DataFrame) -> None:
    """A deal's revenue split shares (split-rule plans) must sum to exactly 100%."""
    roles = book.assignments.drop_duplicates(["rep_id", "plan_id"]).set_index(["rep_id", "plan_id"])
    role = pd.Series(
        roles["role"]
        .reindex(pd.MultiIndex.from_arrays([rows["rep_id"], rows["plan_id"]]))
        .to_numpy(),
        index=rows.index,
    )
    split_rule = rows["plan_id"].map({p: q.credit_rule == "split" for p, q in book.plans.items()})
    revenue = rows.loc[split_rule.astype(bool) & (role == "revenue") & (rows["deal_id"] != "")]
    if revenue.empty:
        return
    bp = (revenue["split_pct"] * 100).round().astype("int64")
    totals = bp.groupby(revenue["deal_id"]).sum()
    bad = totals[totals != 10000]
    if len(bad):
        deal = bad.index[0]
        where = revenue.loc[revenue["deal_id"] == deal]
        rows_text = ", ".join(str(r) for r in where.get("source_row", pd.Series(dtype=int)))
        raise CompInputError(
            f"credits: deal {deal}, column split_pct: revenue split shares sum to "
            f"{bad.iloc[0] / 100:g}%, not 100% (rows {rows_text or 'n/a'}; reps "
            f"{', '.join(where['rep_id'])})"
        )


def _table_index(plans: Mapping[str, Plan], rows: pd.DataFrame) -> np.ndarray:
    """Index of the rate table in effect on each row's credit date, within its plan."""
    index = np.zeros(len(rows), dtype="int64")
    plan_ids = rows["plan_id"].to_numpy()
    days = rows["day"].to_numpy()
    for plan in plans.values():
        if len(plan.rate_tables) < 2:
            continue
        on_plan = plan_ids == plan.plan_id
        effective = np.array([_day_number(t.effective) for t in plan.rate_tables], dtype="int64")
        found = np.searchsorted(effective, days[on_plan], side="right") - 1
        index[on_plan] = np.maximum(found, 0)
    return index


def _day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (dates before it, like an open start, clip to a large negative)."""
    return max((day - dt.date(1970, 1, 1)).days, -(10**6))


def _rate_segments(
    book: PlanBook, rows: pd.DataFrame, segments: pd.DataFrame
) -> tuple[dict[int, SegmentCredits], list[tuple]]:
    """Commission (and deal-cap) lines per segment; the credits each segment holds."""
    seg_ids = rows["seg_id"].to_numpy()
    credit = rows["credit_micro"].to_numpy()
    days = rows["day"].to_numpy()
    tables = _table_index(book.plans, rows)
    deals = rows["deal_id"].astype(str).to_numpy()
    bounds = np.flatnonzero(np.diff(seg_ids)) + 1
    starts = np.concatenate([[0], bounds]) if len(rows) else np.array([], dtype=int)
    ends = np.concatenate([bounds, [len(rows)]]) if len(rows) else np.array([], dtype=int)
    seg_plan = dict(zip(segments["seg_id"], segments["plan_id"], strict=True))
    seg_quota = dict(zip(segments["seg_id"], segments["quota_micro"], strict=True))
    held: dict[int, SegmentCredits] = {}
    lines: list[tuple] = []
    append = lines.append
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        seg = int(seg_ids[lo])
        plan = book.plans[seg_plan[seg]]
        quota = int(seg_quota[seg])
        if plan.tier_basis == "attainment" and quota <= 0:
            first = rows.iloc[lo]
            raise CompInputError(
                f"quotas: rep {first['rep_id']}, period {first['credit_date']:%Y-%m}: no quota, "
                f"but plan {plan.plan_id} tiers on attainment (add a quota row for the period)"
            )
        table_bands = [bands_of(t, plan.tier_basis, quota) for t in plan.rate_tables]
        seg_tables = tables[lo:hi].tolist()
        bands = [table_bands[i] for i in seg_tables]
        credits = credit[lo:hi].tolist()
        seg_deals = deals[lo:hi].tolist()
        semantics = (plan.tier_mode, plan.accumulate, plan.retro_from_tier)
        rated = rate_deals(credits, bands, *semantics)
        for index, tier, rate, amount, note in rated:
            append((seg, lo + index, tier, rate, amount, "commission", note))
        paid: list[Paid] = []  # read by deal caps and clawbacks only
        if plan.deal_cap is not None or plan.clawback_days:
            paid = paid_by_deal(credits, bands, *semantics, lines=rated)
        if plan.deal_cap is not None:
            cap = int(plan.deal_cap * MICRO) * MICRO
            for index, (earned, tier, rate) in enumerate(paid):
                if earned > cap:
                    append(
                        (seg, lo + index, "", 0, cap - earned, "cap", f"deal cap {plan.deal_cap}")
                    )
                    paid[index] = (cap, tier, rate)
        held[seg] = SegmentCredits(
            credits=credits,
            days=days[lo:hi].tolist(),
            tables=seg_tables,
            deals=seg_deals,
            paid_by_deal=paid,
            first_row=lo,
        )
    return held, lines


def _spif_lines(book: PlanBook, rows: pd.DataFrame) -> list[tuple]:
    """SPIF lines: qualifying deals in credit order until each SPIF's budget is used up."""
    lines: list[tuple] = []
    ordered = rows  # positions are the row numbers the lines refer to
    for plan in book.plans.values():
        for spif in plan.spifs:
            window = ordered.loc[
                (ordered["plan_id"] == plan.plan_id)
                & (ordered["credit_date"] >= pd.Timestamp(spif.start))
                & (ordered["credit_date"] <= pd.Timestamp(spif.end))
                & (ordered["credit_micro"] > 0)
                & (ordered["credit_micro"] >= int(spif.min_amount * MICRO))
            ].sort_values(["credit_date", "deal_id", "rep_id"], kind="stable")
            left = int(spif.budget * MICRO) * MICRO
            for position, seg, credit in zip(
                window.index.tolist(),
                window["seg_id"].tolist(),
                window["credit_micro"].tolist(),
                strict=True,
            ):
                if left <= 0:
                    break
                due = int(spif.per_deal * MICRO) * MICRO + int(spif.rate * MICRO) * credit
                paid = min(due, left)
                left -= paid
                note = spif.name if paid == due else f"{spif.name}: budget used up"
                rate = int(spif.rate * MICRO)
                lines.append((int(seg), position, "", rate, paid, "spif", note))
    return lines


def calculate_payouts(
    book: PlanBook,
    credits: pd.DataFrame,
    quotas: pd.DataFrame,
    *,
    period: str | None = None,
    cancellations: pd.DataFrame | None = None,
    hire_dates: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> PayoutResult:
    """Payouts per rep x period and their lines.

    Args:
        book: Validated plans (:func:`~.plans.load_plan_book`).
        credits: rep_id, credit_date, amount, deal_id, split_pct (+ product_family, deal_type
            when a plan filters on them); see :func:`~.inputs.read_credits_csv`.
        quotas: rep_id, period_start, quota (monthly or at the plan's period grain).
        period: Keep only the periods overlapping ``YYYY-MM`` / ``YYYY-Qn`` / ``YYYY`` (every
            earlier period is still computed: carry-overs, draws and true-ups depend on it).
        cancellations: deal_id, cancel_date (clawbacks).
        hire_dates: rep_id, hire_date (ramp quotas and draws).
        as_of: Ignore credits and cancellations after this day; periods run up to it.

    Returns:
        :class:`PayoutResult` (payouts and lines); see the package docstring for money.

    Raises:
        CompInputError: Revenue splits not summing to 100%, a missing quota where a plan needs
            one, a measure filter on a missing column.
    """
    credits = credits.copy()
    credits["rep_id"] = credits["rep_id"].astype(str)
    credits["credit_date"] = pd.to_datetime(credits["credit_date"]).astype("datetime64[ns]")
    if "deal_id" not in credits.columns:
        credits["deal_id"] = ""
    credits["deal_id"] = credits["deal_id"].fillna("").astype(str)
    if "split_pct" not in credits.columns:
        credits["split_pct"] = 100.0
    credits["split_pct"] = credits["split_pct"].fillna(100.0).astype("float64")
    if as_of is not None:
        credits = credits.loc[credits["credit_date"] <= pd.Timestamp(as_of)]
    credits = _expand_splits(book, credits)
    horizon = as_of or _default_horizon(book, credits)
    segments = build_segments(book, quotas, horizon, hire_dates)
    rows, unassigned = _assign(credits, segments)
    rows = _measure(book.plans, rows)
    rows = _credit_micro(book.plans, rows)
    rows = rows.assign(day=rows["credit_date"].to_numpy().astype("datetime64[D]").astype("int64"))
    _check_revenue_splits(book, rows)
    rows = rows.sort_values(["seg_id", "credit_date", "deal_id", "rep_id"], kind="stable")
    rows = rows.reset_index(drop=True)
    held, lines = _rate_segments(book, rows, segments)
    lines.extend(_spif_lines(book, rows))
    cancels = cancellations
    if cancels is not None and as_of is not None:
        cancels = cancels.loc[pd.to_datetime(cancels["cancel_date"]) <= pd.Timestamp(as_of)]
    payouts, all_lines = settle(Ledger(book, segments, rows, held, lines, cancels))
    if period is not None:
        first, last = period_range(period)
        keep = (payouts["period_start"] <= pd.Timestamp(last)) & (
            payouts["period_end"] >= pd.Timestamp(first)
        )
        payouts = payouts.loc[keep].reset_index(drop=True)
        kept = set(zip(payouts["rep_id"], payouts["period"], strict=True))
        line_keys = zip(all_lines["rep_id"], all_lines["period"], strict=True)
        all_lines = all_lines.loc[[k in kept for k in line_keys]].reset_index(drop=True)
    return PayoutResult(payouts=payouts, lines=all_lines, unassigned=unassigned)


def _default_horizon(book: PlanBook, credits: pd.DataFrame) -> dt.date:
    """Last credit date, else the last assignment start."""
    if len(credits):
        return pd.Timestamp(credits["credit_date"].max()).date()
    return pd.Timestamp(book.assignments["start_date"].max()).date()
