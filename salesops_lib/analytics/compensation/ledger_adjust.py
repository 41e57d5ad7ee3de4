"""Prior-period adjustments of the payout ledger: price them, explain them, post them.

Pure functions over frames, used by :func:`.ledger.record_payout_run`. Money is handled in whole
cents (int64) and turned back into currency units (two decimals) only in the returned frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.compensation.ledger_files import next_period, period_range

KEY = ["rep_id", "plan_id", "period"]
ADJUSTMENT_COLUMNS = [
    "run_id",
    "rep_id",
    "plan_id",
    "period",
    "posted_period",
    "old_value",
    "new_value",
    "amount",
    "reason",
]
"""One row per adjustment: the locked ``period`` it corrects, the ``posted_period`` it is paid
in, the booked ``old_value``, the recomputed ``new_value``, ``amount`` = new - old, ``reason``."""
STORED_ADJUSTMENT_COLUMNS = ADJUSTMENT_COLUMNS[1:]
MAX_REASON_ITEMS = 3

LockRange = tuple[pd.Timestamp, pd.Timestamp]


def lock_ranges(locks: Iterable[dict[str, Any]]) -> list[LockRange]:
    """(start, end) of every lock record."""
    return [(pd.Timestamp(r["period_start"]), pd.Timestamp(r["period_end"])) for r in locks]


def is_locked_label(label: str, ranges: Sequence[LockRange]) -> bool:
    """Whether the whole period ``label`` lies inside one locked period."""
    start, end = period_range(label)
    return any(low <= start and end <= high for low, high in ranges)


def in_locks(labels: pd.Series, ranges: Sequence[LockRange]) -> pd.Series:
    """Boolean Series: which period labels lie wholly inside a locked period."""
    verdict = {label: is_locked_label(label, ranges) for label in pd.unique(labels)}
    return labels.map(verdict).astype(bool)


def first_unlocked_after(label: str, ranges: Sequence[LockRange]) -> str:
    """The first period of ``label``'s grain after it that is not locked."""
    candidate = next_period(label)
    while is_locked_label(candidate, ranges):
        candidate = next_period(candidate)
    return candidate


def cents(values: pd.Series) -> pd.Series:
    """Money as whole cents (int64); missing counts as zero."""
    return np.round(pd.to_numeric(values).astype("float64").fillna(0.0) * 100).astype("int64")


def _money(value: int) -> str:
    return f"{value / 100:,.2f}"


_DEAL_KEY = [*KEY, "deal", "kind"]


def _by_deal(lines: pd.DataFrame) -> pd.DataFrame:
    """Amount (summed) and credit (once per credited row, not per tier slice) per key x deal x
    kind, indexed by ``rep_id, plan_id, period, deal, kind``."""
    frame = lines.assign(
        deal=lines["deal_id"].astype("object").where(lines["deal_id"].notna(), "").astype(str),
        amount_c=cents(lines["amount"]),
        credit_c=cents(lines["credit"]) if "credit" in lines else 0,
    )
    amounts = frame.groupby(_DEAL_KEY, sort=True)["amount_c"].sum()
    dated = ["credit_date"] if "credit_date" in frame.columns else []
    once = frame.drop_duplicates([*_DEAL_KEY, *dated, "credit_c"])
    credits = once.groupby(_DEAL_KEY, sort=True)["credit_c"].sum()
    return pd.concat({"amount_c": amounts, "credit_c": credits}, axis=1)


def _item(
    deal: str, kind: str, old: float, new: float, old_credit: float, new_credit: float
) -> str:
    """One change, or "" for none (amounts and credits in cents; NaN = absent)."""
    name = f"deal {deal} {kind}" if deal else str(kind)
    if pd.isna(old):
        return f"{name} added ({_money(int(new))})"
    if pd.isna(new):
        return f"{name} removed (was {_money(int(old))})"
    if old_credit != new_credit:
        return (
            f"{name}: credit {_money(int(old_credit))} -> {_money(int(new_credit))}, amount "
            f"{_money(int(old))} -> {_money(int(new))}"
        )
    return f"{name} {_money(int(old))} -> {_money(int(new))}" if old != new else ""


def explain_changes(
    old_lines: pd.DataFrame, new_lines: pd.DataFrame, keys: pd.DataFrame, reason: str = ""
) -> dict[tuple[Any, Any, Any], str]:
    """Deterministic text per key saying which deals and line kinds changed.

    Args:
        old_lines: The lines the booked values came from.
        new_lines: The recomputed lines.
        keys: The changed ``rep_id, plan_id, period`` (only these are explained).
        reason: The caller's reason, put first.

    Returns:
        Key -> text such as ``"cancelled order: deal D7 clawback added (-150.00)"``: at most
        :data:`MAX_REASON_ITEMS` changes, then ``"and N more"``; keys whose lines did not change
        get ``"recalculated (quota, plan or assignment changed)"``.
    """
    parts = [_by_deal(lines.merge(keys[KEY], on=KEY)) for lines in (old_lines, new_lines)]
    both = parts[0].join(parts[1], how="outer", lsuffix="_old", rsuffix="_new").reset_index()
    old_amount, new_amount = both["amount_c_old"], both["amount_c_new"]
    moved = old_amount.isna() | new_amount.isna() | (old_amount != new_amount)
    moved |= both["credit_c_old"] != both["credit_c_new"]
    both = both[moved]
    rank = both.groupby(KEY, sort=False).cumcount()
    count = both.groupby(KEY, sort=False)["deal"].transform("size")
    shown = both[rank < MAX_REASON_ITEMS]
    items = [
        _item(*values)
        for values in zip(
            shown["deal"],
            shown["kind"],
            shown["amount_c_old"],
            shown["amount_c_new"],
            shown["credit_c_old"],
            shown["credit_c_new"],
            strict=True,
        )
    ]
    shown = shown[KEY].assign(item=items, more=(count[rank < MAX_REASON_ITEMS] - MAX_REASON_ITEMS))
    texts = {}
    for key, part in shown.groupby(KEY, sort=False):
        extra = int(part["more"].iloc[0])
        texts[tuple(key)] = "; ".join(
            [*part["item"], *([f"and {extra} more"] if extra > 0 else [])]
        )
    fallback = "recalculated (quota, plan or assignment changed)"
    return {
        key: (f"{reason}: " if reason else "") + texts.get(key, fallback)
        for key in keys[KEY].itertuples(index=False, name=None)
    }


def price_adjustments(
    *,
    paid: pd.DataFrame,
    recomputed: pd.DataFrame,
    posted: pd.DataFrame,
    old_lines: pd.DataFrame,
    new_lines: pd.DataFrame,
    ranges: Sequence[LockRange],
    reason: str,
) -> pd.DataFrame:
    """Adjustments for locked rows whose recomputed payout differs from the booked value.

    Args:
        paid: The paid (locked) rows of the covered reps and locked periods.
        recomputed: The engine's rows for the same locked periods.
        posted: Adjustments already in the ledger (:data:`ADJUSTMENT_COLUMNS`).
        old_lines: The previous run's computed lines (for the reasons).
        new_lines: The engine's lines of the locked periods.
        ranges: Locked periods.
        reason: The caller's reason.

    Returns:
        A new frame with :data:`STORED_ADJUSTMENT_COLUMNS`, sorted by rep, plan and period.
    """
    frames = []
    if not paid.empty:
        frames.append(paid[KEY].assign(cents=cents(paid["payout"])))
    if not posted.empty and not recomputed.empty:
        earlier = posted[
            posted["period"].isin(set(recomputed["period"]))
            & posted["rep_id"].isin(set(recomputed["rep_id"]) | set(paid.get("rep_id", [])))
        ]
        frames.append(earlier[KEY].assign(cents=cents(earlier["amount"])))
    booked = (
        pd.concat(frames, ignore_index=True).groupby(KEY, sort=True, as_index=False)["cents"].sum()
        if frames
        else pd.DataFrame({c: pd.Series(dtype="object") for c in KEY}).assign(cents=0)
    )
    recomputed_cents = recomputed[KEY].assign(cents=cents(recomputed["payout"]))
    both = booked.merge(recomputed_cents, on=KEY, how="outer", suffixes=("_old", "_new"))
    both = both.fillna({"cents_old": 0, "cents_new": 0})
    changed = both[both["cents_old"] != both["cents_new"]].sort_values(KEY, ignore_index=True)
    rows = []
    texts = explain_changes(old_lines, new_lines, changed, reason) if len(changed) else {}
    for change in changed.itertuples(index=False):
        key = (change.rep_id, change.plan_id, change.period)
        old_cents, new_cents = int(change.cents_old), int(change.cents_new)
        rows.append(
            {
                "rep_id": change.rep_id,
                "plan_id": change.plan_id,
                "period": change.period,
                "posted_period": first_unlocked_after(change.period, ranges),
                "old_value": old_cents / 100,
                "new_value": new_cents / 100,
                "amount": (new_cents - old_cents) / 100,
                "reason": texts[key],
            }
        )
    frame = pd.DataFrame(rows, columns=STORED_ADJUSTMENT_COLUMNS)
    return frame.astype({c: "float64" for c in ("old_value", "new_value", "amount")})


def attach_adjustments(
    *,
    unlocked: pd.DataFrame,
    paid: pd.DataFrame,
    posted: pd.DataFrame,
    new: pd.DataFrame,
    covered_reps: set[Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The recorded payouts (paid rows + computed rows with adjustments) and adjustment lines.

    Adjustments posted into one of the run's unlocked periods (earlier ones for covered reps, and
    all of this run's) add to the ``adjustment`` of the rep's first row (by plan) in that period;
    a rep without a row there gets one with zero payout.

    Returns:
        ``(payouts, adjustment_lines)``, both new frames.
    """
    periods = set(unlocked["period"])
    earlier = posted
    if not earlier.empty:
        keep = earlier["posted_period"].isin(periods) & earlier["rep_id"].isin(covered_reps)
        earlier = earlier[keep]
    adjustments = pd.concat([f for f in (earlier, new) if not f.empty] or [new], ignore_index=True)
    rows = unlocked.sort_values(["rep_id", "period", "plan_id"], kind="stable")
    missing = adjustments[["rep_id", "posted_period", "plan_id"]].drop_duplicates(
        ["rep_id", "posted_period"]
    )
    missing = missing.merge(
        rows[["rep_id", "period"]].drop_duplicates(),
        left_on=["rep_id", "posted_period"],
        right_on=["rep_id", "period"],
        how="left",
        indicator=True,
    )
    missing = missing[missing["_merge"] == "left_only"]
    created = [
        _empty_row(unlocked, r.rep_id, r.plan_id, r.posted_period) for r in missing.itertuples()
    ]
    if created:
        rows = pd.concat([rows, pd.DataFrame(created)], ignore_index=True)
        rows = rows.sort_values(["rep_id", "period", "plan_id"], kind="stable")
    first = rows.groupby(["rep_id", "period"], sort=False).cumcount() == 0
    target = rows.loc[first, ["rep_id", "period", "plan_id"]].rename(
        columns={"period": "posted_period", "plan_id": "row_plan_id"}
    )
    adjustments = adjustments.merge(target, on=["rep_id", "posted_period"], how="left")
    totals = (
        adjustments.assign(c=cents(adjustments["amount"]))
        .groupby(["rep_id", "posted_period", "row_plan_id"])["c"]
        .sum()
    )
    index = pd.MultiIndex.from_frame(rows[["rep_id", "period", "plan_id"]])
    adjustment_cents = pd.Series(totals.reindex(index).fillna(0).to_numpy(), index=rows.index)
    adjustment_cents = adjustment_cents.astype("int64")
    computed = rows.assign(
        locked=False,
        adjustment=adjustment_cents / 100,
        payout_due=(cents(rows["payout"]) + adjustment_cents) / 100,
    )
    payouts = pd.concat(
        [computed, paid.assign(locked=True)] if not paid.empty else [computed], ignore_index=True
    ).sort_values(["rep_id", "period", "plan_id"], kind="stable", ignore_index=True)
    lines = pd.DataFrame(
        {
            "rep_id": adjustments["rep_id"],
            "plan_id": adjustments["row_plan_id"],
            "period": adjustments["posted_period"],
            "deal_id": "",
            "credit_date": pd.NaT,
            "credit": np.nan,
            "tier": "",
            "rate": np.nan,
            "amount": adjustments["amount"].astype("float64"),
            "kind": "adjustment",
            "note": [
                f"prior-period adjustment for {r.period}: {r.reason} (booked "
                f"{r.old_value:,.2f}, now {r.new_value:,.2f})"
                for r in adjustments.itertuples()
            ],
            "locked": False,
        }
    )
    return payouts, lines


def _empty_row(template: pd.DataFrame, rep_id: Any, plan_id: Any, period: str) -> dict[str, Any]:
    start, end = period_range(period)
    row: dict[str, Any] = {column: np.nan for column in template.columns}
    for column in template.columns:
        if pd.api.types.is_bool_dtype(template[column]):
            row[column] = False
    row.update(
        rep_id=rep_id,
        plan_id=plan_id,
        period=period,
        period_start=start,
        period_end=end,
        payout=0.0,
    )
    return row
