"""The open pipeline: by stage and forecast category, its summary, and coverage of the quota left.

Pure functions over ``fct_opportunities`` rows (stage, is_closed, amount, forecast_category,
close_date). *Open pipeline* is the amount of opportunities that are not closed. Stages are
the stage model's open stages in funnel order (``stages``; default the workspace's).
**Coverage** = open pipeline with a close date from the as-of date to the period's end / the
quota still to book (the period's full quota minus bookings so far, at least 0).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesops_lib.core.config import stage_model_or_configured
from salesops_lib.core.frames import to_cents
from salesops_lib.core.stages import OPEN_CATEGORIES as OPEN_FORECAST_CATEGORIES
from salesops_lib.core.stages import StageModel

OPEN_CATEGORIES: tuple[str, ...] = OPEN_FORECAST_CATEGORIES
"""Forecast categories of open deals: Pipeline, Best Case, Commit (whatever the stages)."""


@dataclass(frozen=True)
class PipelineSummary:
    """Where the open pipeline sits.

    Attributes:
        open_amount: Total amount of open opportunities.
        open_count: Number of open opportunities.
        top_stage: Stage holding the largest amount (``None`` when nothing is open).
        top_stage_share: That stage's share of the open amount (0 when nothing is open).
        commit_amount: Open amount in the Commit forecast category.
    """

    open_amount: float
    open_count: int
    top_stage: str | None
    top_stage_share: float
    commit_amount: float


def _open(opportunities: pd.DataFrame) -> pd.DataFrame:
    return opportunities[~opportunities["is_closed"].astype(bool)]


def pipeline_by_stage(
    opportunities: pd.DataFrame, stages: StageModel | None = None
) -> pd.DataFrame:
    """Open pipeline per stage, in funnel order.

    Args:
        opportunities: Rows of ``fct_opportunities`` (stage, is_closed, amount, ...).
        stages: The stage model; default the workspace's.

    Returns:
        One row per open stage (stage, opportunities, amount, share_of_amount), every open
        stage present; ``share_of_amount`` is 0 when nothing is open.
    """
    open_stages = list(stage_model_or_configured(stages).open_stages)
    grouped = _open(opportunities).groupby("stage")["amount"].agg(["size", "sum"])
    grouped = grouped.reindex(open_stages, fill_value=0)
    amounts = grouped["sum"].astype(float)
    total = amounts.sum()
    return pd.DataFrame(
        {
            "stage": open_stages,
            "opportunities": grouped["size"].astype(int).to_numpy(),
            "amount": amounts.to_numpy(),
            "share_of_amount": (amounts / total).to_numpy() if total else 0.0,
        }
    )


def pipeline_by_stage_and_category(
    opportunities: pd.DataFrame, stages: StageModel | None = None
) -> pd.DataFrame:
    """Open pipeline amount per stage (rows) and forecast category (columns).

    Args:
        opportunities: Rows of ``fct_opportunities``.
        stages: The stage model; default the workspace's.

    Returns:
        One row per open stage with a column per open forecast category and a ``Total``
        column, zeros where nothing sits.
    """
    pivot = _open(opportunities).pivot_table(
        index="stage", columns="forecast_category", values="amount", aggfunc="sum", fill_value=0
    )
    open_stages = list(stage_model_or_configured(stages).open_stages)
    pivot = pivot.reindex(index=open_stages, columns=list(OPEN_CATEGORIES), fill_value=0)
    pivot = pivot.astype(float)
    pivot["Total"] = pivot.sum(axis=1)
    pivot.columns.name = None
    return pivot.rename_axis("stage").reset_index()


def summarize_pipeline(
    opportunities: pd.DataFrame, stages: StageModel | None = None
) -> PipelineSummary:
    """Summarize the open pipeline: total, count, largest stage and Commit amount.

    Args:
        opportunities: Rows of ``fct_opportunities``.
        stages: The stage model; default the workspace's.

    Returns:
        The summary.
    """
    open_deals = _open(opportunities)
    by_stage = pipeline_by_stage(opportunities, stages)
    total = float(by_stage["amount"].sum())
    top = by_stage.loc[by_stage["amount"].idxmax()] if total else None
    commit = open_deals.loc[open_deals["forecast_category"] == "Commit", "amount"].sum()
    return PipelineSummary(
        open_amount=total,
        open_count=len(open_deals),
        top_stage=None if top is None else str(top["stage"]),
        top_stage_share=0.0 if top is None else float(top["share_of_amount"]),
        commit_amount=float(commit),
    )


def pipeline_coverage(
    opportunities: pd.DataFrame,
    quota_attainment: pd.DataFrame,
    as_of: dt.date,
    window: tuple[pd.Timestamp, pd.Timestamp],
) -> pd.DataFrame:
    """Open pipeline due in the rest of the period against the quota still to book.

    Args:
        opportunities: ``fct_opportunities`` rows (is_closed, close_date, amount,
            forecast_category) of the region.
        quota_attainment: Quota rows of the region covering the whole period (month,
            quota_amount, bookings_amount), as from
            :func:`~salesops_lib.analytics.performance.attainment.with_later_quotas`.
        as_of: The as-of date.
        window: First and last day of the period.

    Returns:
        One row per open forecast category plus ``All open``: forecast_category, deals,
        pipeline_amount (close date from ``as_of`` to the window's end), remaining_quota
        (period quota - period bookings so far, at least 0), coverage = pipeline /
        remaining quota (NaN when nothing remains) and cumulative_coverage (Commit, then
        Commit + Best Case, then all).
    """
    first, last = window
    months = pd.to_datetime(quota_attainment["month"])
    in_period = (months >= first) & (months <= last)
    booked = int(to_cents(quota_attainment.loc[in_period, "bookings_amount"]).sum())
    quota = int(to_cents(quota_attainment.loc[in_period, "quota_amount"]).sum())
    remaining = max(quota - booked, 0) / 100
    close = pd.to_datetime(opportunities["close_date"])
    due = opportunities[
        ~opportunities["is_closed"].astype(bool) & (close >= pd.Timestamp(as_of)) & (close <= last)
    ]
    rows = []
    cumulative = 0.0
    for category in ("Commit", "Best Case", "Pipeline"):
        part = due[due["forecast_category"] == category]
        amount = float(to_cents(part["amount"]).sum()) / 100
        cumulative += amount
        rows.append((category, len(part), amount, cumulative))
    total = float(to_cents(due["amount"]).sum()) / 100
    rows.append(("All open", len(due), total, total))
    out = pd.DataFrame(
        rows, columns=["forecast_category", "deals", "pipeline_amount", "cumulative_amount"]
    )
    out["remaining_quota"] = remaining
    out["coverage"] = out["pipeline_amount"] / remaining if remaining else np.nan
    out["cumulative_coverage"] = out["cumulative_amount"] / remaining if remaining else np.nan
    return out.drop(columns="cumulative_amount")
