"""The data-quality checks: which record breaks which rule (pure; frames in, frames out).

Two sources of findings:

* the import's issue list (``_quarantine.json`` in the snapshot, written by the importers):
  rows quarantined, values imputed (for example a missing close date) or corrected (a product
  alias, a category typo), each with its rule, file, row, column and, where known, owner rep
  and region;
* checks over the snapshot's deals (``fct_opportunities``): open deals whose close date is
  before the as-of date, open deals with no stage change for more than :data:`STALE_DAYS`,
  duplicates (same account, product and amount created within :data:`DUPLICATE_DAYS` of each
  other), amounts more than :data:`EXTREME_FACTOR` times the larger of the product's list price
  and its median deal amount.

A *record* is a deal in the snapshot (by opportunity id) or a quarantined source row. A
*finding* is one record breaking one check.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

STALE_DAYS = 90
DUPLICATE_DAYS = 7
EXTREME_FACTOR = 10.0

CHECKS: dict[str, str] = {
    "missing_owner": "Missing or unknown owner",
    "missing_account": "Missing or unknown account",
    "missing_close_date": "Missing close date",
    "missing_amount": "Missing amount",
    "open_past_close": "Open deal, close date passed",
    "stale": f"No stage change for over {STALE_DAYS} days",
    "duplicate": f"Duplicate (same account, product, amount within {DUPLICATE_DAYS} days)",
    "close_before_create": "Close date before created date",
    "unmapped": "Unmapped stage or product",
    "negative_amount": "Negative amount",
    "extreme_amount": f"Amount over {EXTREME_FACTOR:g}x the product's typical deal",
    "other_rule": "Other import rule broken",
    "corrected": "Value corrected at import (alias, typo)",
}
"""Check id -> label, in report order."""

RULE_CHECK: dict[str, str] = {
    "missing_owner": "missing_owner",
    "unknown_owner": "missing_owner",
    "missing_account": "missing_account",
    "unknown_account": "missing_account",
    "missing_close_date": "missing_close_date",
    "missing_amount": "missing_amount",
    "close_before_create": "close_before_create",
    "unknown_stage": "unmapped",
    "missing_stage": "unmapped",
    "unknown_product": "unmapped",
    "missing_product": "unmapped",
    "negative_amount": "negative_amount",
}
"""Import rule -> check (rules not listed count as ``other_rule``; corrections as ``corrected``)."""

NOT_SCORED = frozenset({"corrected"})
"""Checks listed but not counted against the score (fixed by a documented rule)."""
CORRECTION_RULES = frozenset({"product_alias", "category_alias"})
"""Rules that correct a value (also on rows quarantined for another reason)."""
IGNORED_RULES = frozenset({"missing_hire_date", "missing_created_date"})
"""Imputations that are properties of the export format, not of a deal's upkeep."""

FINDING_COLUMNS: list[str] = ["record", "check", "owner_rep_id", "region_id", "detail"]
"""Columns of a findings frame: one row per record x check it breaks."""
DEAL_COLUMNS: list[str] = [
    "opportunity_id",
    "owner_rep_id",
    "region_id",
    "account_id",
    "product_id",
    "stage",
    "amount",
    "created_date",
    "close_date",
    "is_open",
    "list_price",
    "last_stage_date",
]
"""Columns of a deals frame (one row per opportunity), the input of :func:`deal_findings`."""


def duplicate_deals(deals: pd.DataFrame, days: int = DUPLICATE_DAYS) -> pd.Series:
    """Flag deals that have a twin: same account, product and amount, created close together.

    Args:
        deals: Deals with account_id, product_id, amount, created_date and opportunity_id.
        days: Largest gap in days between the created dates of two twins.

    Returns:
        A boolean Series on ``deals``' index, True for both deals of every twin pair.
    """
    keys = ["account_id", "product_id", "amount"]
    ordered = deals.sort_values([*keys, "created_date", "opportunity_id"], kind="stable")
    same = (ordered[keys] == ordered[keys].shift()).all(axis=1)
    gap = ordered["created_date"] - ordered["created_date"].shift()
    close_to_previous = same & (gap <= pd.Timedelta(days=days))
    flagged = close_to_previous | close_to_previous.shift(-1, fill_value=False)
    return flagged.reindex(deals.index)


def mark_imputed_amounts(deals: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``deals`` with ``amount_is_imputed``: the import filled the amount in.

    Args:
        deals: One row per opportunity (see :data:`DEAL_COLUMNS`).
        issues: The import's issue list.

    Returns:
        A new frame: ``deals`` plus a boolean ``amount_is_imputed`` column.
    """
    filled = issues.loc[
        (issues["rule"] == "missing_amount") & (issues["action"] == "imputed"), "record_id"
    ]
    return deals.assign(amount_is_imputed=deals["opportunity_id"].isin(set(filled)))


def deal_findings(
    deals: pd.DataFrame,
    as_of: dt.date,
    stale_days: int = STALE_DAYS,
    duplicate_days: int = DUPLICATE_DAYS,
    extreme_factor: float = EXTREME_FACTOR,
) -> pd.DataFrame:
    """Findings from the snapshot's deals (see the module docstring for each check).

    Args:
        deals: One row per opportunity (see :data:`DEAL_COLUMNS`); an optional boolean
            ``amount_is_imputed`` column (see :func:`mark_imputed_amounts`) keeps imputed
            amounts out of the duplicate and extreme-amount checks (they are list prices, not
            what a rep entered).
        as_of: The snapshot's as-of date.
        stale_days: Days without a stage change after which an open deal is stale.
        duplicate_days: Window for duplicates.
        extreme_factor: Multiple of the larger of the list price and the product's median deal
            amount above which an amount is extreme.

    Returns:
        One row per deal x check it breaks: record (the opportunity id), check, owner_rep_id,
        region_id, detail.
    """
    day = pd.Timestamp(as_of)
    imputed = deals.get("amount_is_imputed", pd.Series(False, index=deals.index)).astype(bool)
    real = deals[~imputed]
    # A deal's reference is the larger of its product's list price and the median amount of the
    # product's real deals: a one-unit catalogue (Maven) compares with the list price, a
    # multi-unit pipeline (the demo) with what deals of that product usually come to.
    product_median = real.groupby("product_id")["amount"].median()
    typical_amount = np.maximum(
        deals["list_price"].astype(float),
        deals["product_id"].map(product_median).astype(float).fillna(0.0),
    )
    masks = {
        "open_past_close": deals["is_open"] & (deals["close_date"] < day),
        "stale": deals["is_open"] & ((day - deals["last_stage_date"]).dt.days > stale_days),
        "duplicate": duplicate_deals(real, duplicate_days).reindex(deals.index, fill_value=False),
        "extreme_amount": ~imputed & (deals["amount"] > extreme_factor * typical_amount),
    }
    parts = []
    for check, mask in masks.items():
        rows = deals[mask.fillna(False).astype(bool)]
        parts.append(
            pd.DataFrame(
                {
                    "record": rows["opportunity_id"],
                    "check": check,
                    "owner_rep_id": rows["owner_rep_id"],
                    "region_id": rows["region_id"],
                    "detail": "deal " + rows["opportunity_id"].astype(str),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[FINDING_COLUMNS]


def issue_findings(issues: pd.DataFrame) -> pd.DataFrame:
    """Findings from the import's issue list, one per issue (imputed hire/created dates aside).

    Args:
        issues: The issue list (see :mod:`salesops_lib.sources.importer.quarantine`).

    Returns:
        One row per issue: record (the record id, or ``row file:row`` for a quarantined row),
        check, owner_rep_id, region_id, detail (action, rule, file, row, column, value).
    """
    kept = issues[~issues["rule"].isin(IGNORED_RULES)]
    check = kept["rule"].map(RULE_CHECK).fillna("other_rule")
    corrected = (kept["action"] == "corrected") | kept["rule"].isin(CORRECTION_RULES)
    check = check.where(~corrected, "corrected")
    location = kept["file"].astype(str) + ":" + kept["row"].astype(str)
    record = kept["record_id"].where(kept["record_id"].notna(), location)
    quarantined = kept["action"] == "quarantined"
    record = record.where(~quarantined, "row " + location)
    detail = (
        kept["action"]
        + " ("
        + kept["rule"]
        + ") "
        + location
        + " column "
        + kept["column"].astype(str)
        + " value "
        + kept["value"].fillna("blank").astype(str)
    )
    out = pd.DataFrame(
        {
            "record": record,
            "check": check,
            "owner_rep_id": kept["owner_rep_id"],
            "region_id": kept["region_id"],
            "detail": detail,
        }
    )
    return out.reset_index(drop=True)[FINDING_COLUMNS]


def deal_records(deals: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """Every record the score is over: snapshot deals and quarantined deal rows.

    Args:
        deals: One row per opportunity (see :data:`DEAL_COLUMNS`).
        issues: The import's issue list.

    Returns:
        One row per record: record, owner_rep_id, region_id.
    """
    snap = pd.DataFrame(
        {
            "record": deals["opportunity_id"],
            "owner_rep_id": deals["owner_rep_id"],
            "region_id": deals["region_id"],
        }
    )
    q = issues[issues["action"] == "quarantined"]
    quarantined = pd.DataFrame(
        {
            "record": "row " + q["file"].astype(str) + ":" + q["row"].astype(str),
            "owner_rep_id": q["owner_rep_id"],
            "region_id": q["region_id"],
        }
    )
    return pd.concat([snap, quarantined], ignore_index=True).drop_duplicates("record")


def snapshot_findings(
    deals: pd.DataFrame, issues: pd.DataFrame, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records and findings of one snapshot.

    Args:
        deals: One row per opportunity (see :data:`DEAL_COLUMNS`).
        issues: The snapshot's import issue list.
        as_of: The snapshot's as-of date.

    Returns:
        ``(records, findings)``: one row per record (see :func:`deal_records`) and one row per
        record x check it breaks (deal findings, then issue findings).
    """
    marked = mark_imputed_amounts(deals, issues)
    findings = pd.concat([deal_findings(marked, as_of), issue_findings(issues)], ignore_index=True)
    return deal_records(marked, issues), findings
