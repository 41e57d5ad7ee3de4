"""Who to save and who to grow: the customer table and the action lists per owner rep.

Definitions (one place for every report and analyst):

* *High-value customers at risk* (the Save list): m_score >= :data:`HIGH_VALUE_M_SCORE` (top
  40% by spend) and an RFM segment in :data:`SAVE_SEGMENTS`. Their *yearly revenue at stake* is
  the larger of their last-12-month and prior-12-month revenue (what they brought in a year at
  their recent best); *money at risk* is its total.
* *Growth candidates* (the Grow list): customers in :data:`GROW_SEGMENTS` whose last-12-month
  revenue is above the prior 12 months; ranked by that increase.
* Action lists keep the top :data:`ACTIONS_PER_REP` customers per owner rep and list, ordered by
  rep name, list, then the list's ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HIGH_VALUE_M_SCORE = 4
"""Lowest m_score (1..5) of a high-value customer."""

SAVE_SEGMENTS: tuple[str, ...] = ("At risk", "Can't lose", "Hibernating")
"""RFM segments whose high-value customers go on the Save list."""

GROW_SEGMENTS: tuple[str, ...] = ("Champions", "Loyal", "Potential", "New")
"""RFM segments whose growing customers go on the Grow list."""

ACTIONS_PER_REP = 5
"""Customers kept per owner rep and list."""


def customer_table(
    customers: pd.DataFrame,
    clv: pd.DataFrame | None,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
) -> pd.DataFrame:
    """One row per customer with everything the action lists need.

    Args:
        customers: One row per customer: the :func:`~salesops_lib.analytics.segmentation.rfm.
            rfm_table` columns plus last_12m, prior_12m and cluster_name (as in
            ``an_customer_segments``).
        clv: CLV table (account_id, probability_alive, clv), or None.
        accounts: account_id, account_name, owner_rep_id.
        reps: rep_id, rep_name.

    Returns:
        The customer rows (sorted by account_id) with account_name, owner_rep_id, rep_name,
        probability_alive and clv (NaN when no CLV) added; unknown names read "(unknown)",
        missing 12-month revenue reads 0.
    """
    table = customers.merge(
        accounts[["account_id", "account_name", "owner_rep_id"]], "left", "account_id"
    )
    table = table.merge(
        reps[["rep_id", "rep_name"]].rename(columns={"rep_id": "owner_rep_id"}),
        "left",
        "owner_rep_id",
    )
    value = (
        clv[["account_id", "probability_alive", "clv"]]
        if clv is not None
        else pd.DataFrame(
            {"account_id": pd.Series([], dtype=object), "probability_alive": [], "clv": []}
        )
    )
    table = table.merge(
        value.astype({"probability_alive": float, "clv": float}), "left", "account_id"
    )
    return (
        table.assign(
            account_name=table["account_name"].fillna("(unknown)"),
            owner_rep_id=table["owner_rep_id"].fillna(""),
            rep_name=table["rep_name"].fillna("(unknown)"),
            last_12m=table["last_12m"].fillna(0.0),
            prior_12m=table["prior_12m"].fillna(0.0),
        )
        .sort_values("account_id", kind="stable")
        .reset_index(drop=True)
    )


def save_list(customers: pd.DataFrame) -> pd.DataFrame:
    """High-value customers at risk, largest yearly revenue at stake first (ties: account id).

    Args:
        customers: :func:`customer_table` output.

    Returns:
        The matching rows plus revenue_at_stake = max(last_12m, prior_12m).
    """
    chosen = customers[
        (customers["m_score"] >= HIGH_VALUE_M_SCORE) & customers["segment"].isin(SAVE_SEGMENTS)
    ]
    chosen = chosen.assign(revenue_at_stake=np.maximum(chosen["last_12m"], chosen["prior_12m"]))
    return chosen.sort_values(
        ["revenue_at_stake", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def grow_list(customers: pd.DataFrame) -> pd.DataFrame:
    """Growth candidates, largest 12-month revenue increase first (ties: account id).

    Args:
        customers: :func:`customer_table` output.

    Returns:
        The matching rows plus revenue_change = last_12m - prior_12m (> 0).
    """
    chosen = customers[
        customers["segment"].isin(GROW_SEGMENTS) & (customers["last_12m"] > customers["prior_12m"])
    ]
    chosen = chosen.assign(revenue_change=chosen["last_12m"] - chosen["prior_12m"])
    return chosen.sort_values(
        ["revenue_change", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def action_lists(
    save: pd.DataFrame, grow: pd.DataFrame, per_rep: int = ACTIONS_PER_REP
) -> pd.DataFrame:
    """The top customers per owner rep in each list, with the numbers behind each.

    Args:
        save: :func:`save_list` output.
        grow: :func:`grow_list` output.
        per_rep: Customers kept per rep and list.

    Returns:
        One row per (rep, list, customer): rep_name, owner_rep_id, action ("Save" or "Grow"),
        account_id, account_name, segment, cluster_name, recency_days, frequency, last_12m,
        prior_12m, key_number (revenue at stake or revenue change), clv; sorted by rep name,
        rep id, action (Save first), rank.
    """
    columns = [
        "rep_name", "owner_rep_id", "action", "account_id", "account_name", "segment",
        "cluster_name", "recency_days", "frequency", "last_12m", "prior_12m", "key_number", "clv",
    ]  # fmt: skip
    parts = []
    for order, (action, frame, number) in enumerate(
        (("Save", save, "revenue_at_stake"), ("Grow", grow, "revenue_change"))
    ):
        ranked = frame.assign(
            action=action, action_order=order, key_number=frame[number], rank=np.arange(len(frame))
        )
        parts.append(ranked.groupby("owner_rep_id", sort=False).head(per_rep))
    joined = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    joined = joined.sort_values(
        ["rep_name", "owner_rep_id", "action_order", "rank"], kind="stable"
    ).reset_index(drop=True)
    return joined[columns]
