"""Training examples for the deal win-probability model: deal states at past cut-off dates.

One example is one deal open on a cut-off date c, with its features as they stood then and
``won`` = 1 when the as-of snapshot has it won (``is_won``, the stage model's won stage) with
a close date in (c, c + D], where D is the days left in the as-of date's quarter
(:func:`horizon_days`). Examples come from earlier
snapshots (:func:`snapshot_examples`) or, when those are too few, are rebuilt from the stage
history at weekly cut-offs (:func:`reconstructed_examples`). The model itself is in
:mod:`salesops_lib.analytics.forecasting.win_probability`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesops_lib.analytics.performance.attainment import period_bounds
from salesops_lib.core.config import configured_stage_model, stage_model_or_configured
from salesops_lib.core.frames import require_columns
from salesops_lib.core.stages import StageModel
from salesops_lib.data.snapshot import list_snapshots

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

OPPORTUNITY_COLUMNS = [
    "opportunity_id",
    "region_id",
    "created_date",
    "stage",
    "is_closed",
    "is_won",
    "amount",
    "close_date",
    "forecast_category",
    "push_count",
    "days_in_current_stage",
    "age_days",
]
"""``fct_opportunities`` columns the model reads (from every snapshot)."""
STAGE_CHANGE_COLUMNS = ["opportunity_id", "sequence", "stage", "entered_date"]
"""``fct_stage_changes`` columns the fallback reads."""
CATEGORICAL_FEATURES = ("stage", "forecast_category")
NUMERIC_FEATURES = (
    "days_in_stage",
    "age_days",
    "log_amount",
    "push_count",
    "days_to_close",
    "close_in_window",
)
RECONSTRUCTED_FEATURES = ("stage", "days_in_stage", "age_days", "log_amount")
"""Features the stage-history fallback can rebuild at a past cut-off."""
DAYS_TO_CLOSE_CLIP = (-60, 365)
"""Days from the cut-off to the expected close date are clipped to this range."""
FALLBACK_WEEKS = 26
"""Weekly cut-offs rebuilt from stage history when earlier snapshots are too few."""


def quarter_bounds(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the calendar quarter containing ``as_of``."""
    first_month, last_month = period_bounds(as_of, "qtd")
    return first_month.date(), (last_month + pd.offsets.MonthEnd(0)).date()


def horizon_days(as_of: dt.date) -> int:
    """Days from ``as_of`` (exclusive) to the end of its calendar quarter (inclusive)."""
    return (quarter_bounds(as_of)[1] - as_of).days


@dataclass(frozen=True)
class WinModelInputs:
    """Everything the win model reads, all regions.

    Attributes:
        as_of: The as-of snapshot's date.
        current: ``fct_opportunities`` of the as-of snapshot (:data:`OPPORTUNITY_COLUMNS`).
        history: Earlier snapshot date -> its ``fct_opportunities`` (same columns); only the
            dates c with c + horizon <= as_of.
        stage_changes: ``fct_stage_changes`` of the as-of snapshot (:data:`STAGE_CHANGE_COLUMNS`).
        stages: The snapshot's stage model (the warehouse's ``stage_model``; default the
            workspace's configured one).
    """

    as_of: dt.date
    current: pd.DataFrame = field(repr=False)
    history: dict[dt.date, pd.DataFrame] = field(repr=False)
    stage_changes: pd.DataFrame = field(repr=False)
    stages: StageModel = field(default_factory=configured_stage_model, repr=False)


def load_win_model_inputs(warehouse: Warehouse, snapshots_dir: Path) -> WinModelInputs:
    """Read the as-of snapshot and every earlier snapshot old enough to have a known outcome.

    Args:
        warehouse: The as-of snapshot's open warehouse.
        snapshots_dir: The snapshot folder (earlier snapshots are opened from it).

    Returns:
        The inputs of :func:`fit_win_model`.
    """
    from salesops_lib.data.warehouse import Warehouse

    as_of = warehouse.as_of
    horizon = horizon_days(as_of)
    history = {}
    for day in list_snapshots(snapshots_dir):
        if day + dt.timedelta(days=horizon) <= as_of:
            with Warehouse.open(day, snapshots_dir=snapshots_dir) as old:
                history[day] = old.table("fct_opportunities", columns=OPPORTUNITY_COLUMNS)
    return WinModelInputs(
        as_of=as_of,
        current=warehouse.table("fct_opportunities", columns=OPPORTUNITY_COLUMNS),
        history=history,
        stage_changes=warehouse.table("fct_stage_changes", columns=STAGE_CHANGE_COLUMNS),
        stages=warehouse.stage_model,
    )


def _days(later: pd.Series | pd.Timestamp, earlier: pd.Series | pd.Timestamp) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def deal_features(open_deals: pd.DataFrame, cutoff: dt.date, horizon: int) -> pd.DataFrame:
    """Model features of the deals open on a cut-off date, as they stood then.

    Args:
        open_deals: Open deals of a snapshot taken on ``cutoff`` (:data:`OPPORTUNITY_COLUMNS`).
        cutoff: The snapshot's date.
        horizon: Window length D in days.

    Returns:
        A new frame: opportunity_id, cutoff and the features (:data:`CATEGORICAL_FEATURES`,
        :data:`NUMERIC_FEATURES`).
    """
    require_columns(open_deals, OPPORTUNITY_COLUMNS, "deal_features(open_deals)")
    day = pd.Timestamp(cutoff)
    to_close = (pd.to_datetime(open_deals["close_date"]) - day).dt.days
    return pd.DataFrame(
        {
            "opportunity_id": open_deals["opportunity_id"].to_numpy(),
            "cutoff": day,
            "stage": open_deals["stage"].astype(str).to_numpy(),
            "forecast_category": open_deals["forecast_category"].astype(str).to_numpy(),
            "days_in_stage": open_deals["days_in_current_stage"].astype(float).to_numpy(),
            "age_days": open_deals["age_days"].astype(float).to_numpy(),
            "log_amount": np.log1p(open_deals["amount"].astype(float).clip(lower=0)).to_numpy(),
            "push_count": open_deals["push_count"].fillna(0).astype(float).to_numpy(),
            "days_to_close": to_close.clip(*DAYS_TO_CLOSE_CLIP).astype(float).to_numpy(),
            "close_in_window": ((to_close > 0) & (to_close <= horizon)).astype(float).to_numpy(),
        }
    )


def won_within(outcome: pd.DataFrame, cutoff: dt.date, horizon: int) -> pd.Series:
    """Opportunity ids (index) -> 1.0 if won with close date in (cutoff, cutoff + horizon].

    Args:
        outcome: The as-of snapshot's opportunities (opportunity_id, is_won, close_date).
        cutoff: Start of the window (exclusive).
        horizon: Window length in days.

    Returns:
        A float series indexed by opportunity_id (every id of ``outcome``).
    """
    days = _days(outcome["close_date"], pd.Timestamp(cutoff))
    won = outcome["is_won"].astype(bool) & (days > 0) & (days <= horizon)
    return pd.Series(won.astype(float).to_numpy(), index=outcome["opportunity_id"].to_numpy())


def snapshot_examples(
    history: dict[dt.date, pd.DataFrame], outcome: pd.DataFrame, horizon: int
) -> pd.DataFrame:
    """Training examples from earlier snapshots: every deal open on each snapshot date.

    Args:
        history: Snapshot date -> that snapshot's opportunities (:data:`OPPORTUNITY_COLUMNS`).
        outcome: The as-of snapshot's opportunities (the known outcomes).
        horizon: Window length D in days.

    Returns:
        A new frame of :func:`deal_features` rows plus ``won`` (0/1); a deal missing from the
        as-of snapshot counts as not won.
    """
    frames = []
    for cutoff in sorted(history):
        deals = history[cutoff]
        open_deals = deals[~deals["is_closed"].astype(bool)]
        examples = deal_features(open_deals, cutoff, horizon)
        label = won_within(outcome, cutoff, horizon)
        examples["won"] = examples["opportunity_id"].map(label).fillna(0.0).to_numpy()
        frames.append(examples)
    if not frames:
        return empty_examples()
    return pd.concat(frames, ignore_index=True)


def empty_examples() -> pd.DataFrame:
    columns = ["opportunity_id", "cutoff", *CATEGORICAL_FEATURES, *NUMERIC_FEATURES, "won"]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def reconstructed_examples(
    current: pd.DataFrame,
    stage_changes: pd.DataFrame,
    as_of: dt.date,
    horizon: int,
    weeks: int = FALLBACK_WEEKS,
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Training examples rebuilt from the as-of snapshot's stage history at weekly cut-offs.

    Cut-offs are c = as_of - horizon - 7k (k = 0 .. weeks - 1) on or after the earliest created
    date. A deal is open at c when created on or before c and its last stage entered on or
    before c is an open stage. Push count, forecast category and the close date then are not
    known; the amount is today's.

    Args:
        current: The as-of snapshot's opportunities (:data:`OPPORTUNITY_COLUMNS`).
        stage_changes: Its stage history (:data:`STAGE_CHANGE_COLUMNS`).
        as_of: The as-of date.
        horizon: Window length D in days.
        weeks: Number of weekly cut-offs to try.
        stages: The stage model (which stages are open); default the workspace's.

    Returns:
        A new frame: opportunity_id, cutoff, :data:`RECONSTRUCTED_FEATURES`, won.
    """
    require_columns(current, OPPORTUNITY_COLUMNS, "reconstructed_examples(current)")
    require_columns(stage_changes, STAGE_CHANGE_COLUMNS, "reconstructed_examples(stage_changes)")
    columns = ["opportunity_id", "cutoff", *RECONSTRUCTED_FEATURES, "won"]
    if current.empty or stage_changes.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    open_stages = stage_model_or_configured(stages).open_stages
    changes = stage_changes.assign(entered_date=pd.to_datetime(stage_changes["entered_date"]))
    changes = changes.sort_values(["opportunity_id", "sequence"])
    deals = current.set_index("opportunity_id")
    created = pd.to_datetime(deals["created_date"])
    earliest = created.min()
    frames = []
    for k in range(weeks):
        cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=horizon + 7 * k)
        if cutoff < earliest:
            break
        seen = changes[changes["entered_date"] <= cutoff]
        last = seen.groupby("opportunity_id", sort=True).tail(1).set_index("opportunity_id")
        last = last[last["stage"].isin(open_stages)]
        last = last[created.reindex(last.index) <= cutoff]
        if last.empty:
            continue
        label = won_within(current, cutoff.date(), horizon)
        amount = deals.loc[last.index, "amount"].astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "opportunity_id": last.index.to_numpy(),
                    "cutoff": cutoff,
                    "stage": last["stage"].astype(str).to_numpy(),
                    "days_in_stage": (cutoff - last["entered_date"])
                    .dt.days.astype(float)
                    .to_numpy(),
                    "age_days": (cutoff - created.loc[last.index]).dt.days.astype(float).to_numpy(),
                    "log_amount": np.log1p(amount.clip(lower=0)).to_numpy(),
                    "won": label.reindex(last.index).fillna(0.0).to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)
