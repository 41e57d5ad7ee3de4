"""Deal risk flags from the current snapshot, earlier snapshots and stage history.

Pure functions over frames with the ``fct_opportunities`` columns (opportunity_id, region_id,
owner_rep_id, stage, amount, close_date, is_closed, push_count, days_in_current_stage) and the
``fct_stage_changes`` columns (stage, days_in_stage, is_current).

Only open deals of the current snapshot are checked. The flags:

* ``close_date_past``: close_date < as_of.
* ``pushed_repeatedly``: pushes >= ``min_pushes`` (default 2), where pushes = the larger of
  push_count and the number of times the close date increased between consecutive snapshots
  that had the deal (``history`` oldest first, then the current frame).
* ``amount_cut``: amount < the amount in the earliest snapshot (of ``history``) that had the deal.
* ``stale_in_stage``: days_in_current_stage > the stage's ``quantile`` (default 0.9) of
  days_in_stage over completed stays (is_current False, days_in_stage not null) in
  ``fct_stage_changes``, computed with linear interpolation (numpy's default). A stage with no
  completed stay has no threshold and never flags.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.core.config import stage_model_or_configured
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns
from salesops_lib.core.stages import StageModel

FLAGS: tuple[str, ...] = ("close_date_past", "pushed_repeatedly", "amount_cut", "stale_in_stage")
"""Risk flag columns, in the order reasons are written."""

OPPORTUNITY_COLUMNS = (
    "opportunity_id",
    "region_id",
    "owner_rep_id",
    "stage",
    "amount",
    "close_date",
    "is_closed",
    "push_count",
    "days_in_current_stage",
)


def stage_duration_thresholds(
    stage_changes: pd.DataFrame, quantile: float = 0.9, stages: StageModel | None = None
) -> pd.DataFrame:
    """The ``quantile`` of days in each open stage over completed stays.

    Args:
        stage_changes: Rows of ``fct_stage_changes`` (stage, days_in_stage, is_current).
        quantile: Quantile between 0 and 1.
        stages: The stage model (its open stages); default the workspace's.

    Returns:
        One row per open stage, in funnel order: stage, completed_stays, threshold_days (NaN
        when no stay of that stage is complete).

    Raises:
        ParameterError: If a column is missing or ``quantile`` is outside [0, 1].
    """
    require_columns(
        stage_changes, ["stage", "days_in_stage", "is_current"], "stage_duration_thresholds"
    )
    if not 0 <= quantile <= 1:
        raise ParameterError(
            f"stage_duration_thresholds: quantile must be in [0, 1], got {quantile}"
        )
    done = stage_changes[
        ~stage_changes["is_current"].astype(bool) & stage_changes["days_in_stage"].notna()
    ]
    rows = []
    for stage in stage_model_or_configured(stages).open_stages:
        days = done.loc[done["stage"] == stage, "days_in_stage"].astype(float).to_numpy()
        threshold = float(np.quantile(days, quantile)) if len(days) else np.nan
        rows.append({"stage": stage, "completed_stays": len(days), "threshold_days": threshold})
    return pd.DataFrame(rows)


def _history_facts(current: pd.DataFrame, history: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per deal: close-date increases seen across snapshots and the first amount seen."""
    frames = []
    for i, frame in enumerate([*history, current]):
        where = f"deal_risk_flags (history[{i}])" if i < len(history) else "deal_risk_flags"
        require_columns(frame, ["opportunity_id", "close_date", "amount"], where)
        part = frame[["opportunity_id", "close_date", "amount"]].assign(_snapshot=i)
        frames.append(part.assign(close_date=pd.to_datetime(part["close_date"])))
    seen = pd.concat(frames, ignore_index=True).sort_values(["opportunity_id", "_snapshot"])
    previous = seen.groupby("opportunity_id")["close_date"].shift(1)
    seen["pushed"] = (seen["close_date"] > previous).astype("int64")
    return seen.groupby("opportunity_id").agg(
        pushes_seen=("pushed", "sum"), first_amount=("amount", "first")
    )


def deal_risk_flags(
    opportunities: pd.DataFrame,
    stage_changes: pd.DataFrame,
    as_of: dt.date | str | pd.Timestamp,
    history: Sequence[pd.DataFrame] = (),
    min_pushes: int = 2,
    quantile: float = 0.9,
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Flag open deals that look at risk.

    Args:
        opportunities: The current snapshot's ``fct_opportunities`` rows.
        stage_changes: ``fct_stage_changes`` rows (for the stage duration thresholds).
        as_of: The current snapshot's as-of date.
        history: Earlier snapshots' ``fct_opportunities`` rows (opportunity_id, close_date,
            amount), oldest first.
        min_pushes: Pushes that make a deal ``pushed_repeatedly``.
        quantile: Quantile of completed stays a current stay must exceed to be stale.
        stages: The stage model; default the workspace's.

    Returns:
        One row per open deal with at least one flag: opportunity_id, region_id, owner_rep_id,
        stage, amount, close_date, pushes, first_amount, days_in_current_stage, threshold_days,
        the four flag columns of :data:`FLAGS`, flag_count and reasons (one sentence per flag,
        joined by "; "). Sorted by flag_count (most first), then amount (largest first), then
        opportunity_id.

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(opportunities, OPPORTUNITY_COLUMNS, "deal_risk_flags")
    day = pd.Timestamp(as_of).normalize()
    facts = _history_facts(opportunities, history)
    thresholds = stage_duration_thresholds(stage_changes, quantile, stages).set_index("stage")
    open_deals = opportunities.loc[
        ~opportunities["is_closed"].astype(bool), list(OPPORTUNITY_COLUMNS)
    ]
    deals = open_deals.join(facts, on="opportunity_id").join(
        thresholds["threshold_days"], on="stage"
    )
    deals = deals.assign(
        close_date=pd.to_datetime(deals["close_date"]),
        amount=deals["amount"].astype(float),
        pushes=np.maximum(deals["push_count"].fillna(0), deals["pushes_seen"]).astype("int64"),
    )
    deals["close_date_past"] = deals["close_date"] < day
    deals["pushed_repeatedly"] = deals["pushes"] >= min_pushes
    deals["amount_cut"] = np.round(deals["amount"] * 100) < np.round(deals["first_amount"] * 100)
    days_in_stage = deals["days_in_current_stage"].astype(float)  # NULL -> NaN -> not stale
    deals["stale_in_stage"] = days_in_stage > deals["threshold_days"]
    deals["flag_count"] = deals[list(FLAGS)].sum(axis=1).astype("int64")
    flagged = deals[deals["flag_count"] > 0].copy()
    flagged["reasons"] = [_reasons(row, quantile) for row in flagged.to_dict("records")]
    columns = [
        "opportunity_id", "region_id", "owner_rep_id", "stage", "amount", "close_date", "pushes",
        "first_amount", "days_in_current_stage", "threshold_days", *FLAGS, "flag_count",
        "reasons",
    ]  # fmt: skip
    return (
        flagged[columns]
        .sort_values(["flag_count", "amount", "opportunity_id"], ascending=[False, False, True])
        .reset_index(drop=True)
    )


def _reasons(row: dict[str, Any], quantile: float) -> str:
    parts = []
    if row["close_date_past"]:
        parts.append(f"close date {row['close_date']:%Y-%m-%d} is in the past")
    if row["pushed_repeatedly"]:
        parts.append(f"close date pushed {row['pushes']} times")
    if row["amount_cut"]:
        parts.append(f"amount cut from {row['first_amount']:,.2f} to {row['amount']:,.2f}")
    if row["stale_in_stage"]:
        parts.append(
            f"{row['days_in_current_stage']:.0f} days in {row['stage']}, longer than "
            f"{quantile:.0%} of completed stays ({row['threshold_days']:.0f} days)"
        )
    return "; ".join(parts)
