"""Funnel conversion, win rate, cycle length, time in stage and bottleneck detection.

Pure functions over frames with the ``fct_stage_changes`` columns (opportunity_id, sequence,
stage, stage_order, days_in_stage, is_current) and the ``fct_opportunities`` columns
(opportunity_id, amount, is_closed, is_won, created_date, close_date and the grouping column).
A group is one value of a column of ``fct_opportunities`` (region_id, owner_rep_id,
product_family) or ``deal_size_band`` (added by :func:`add_deal_size_band`).

Definitions:

Stages are the stage model's (``stages``: the warehouse's ``stage_model``; by default the
workspace's configured one, :mod:`salesops_lib.core.stages`).

* **Stage conversion** of open stage *s* (first .. last open stage, e.g. Prospecting ..
  Negotiation): among deals that entered *s*, the share that later (at a higher sequence)
  entered a stage with a higher stage_order that is not a lost stage, i.e. the next stage, any
  stage past it, or the won stage. A deal whose
  current stage is still *s* (open, undecided) is left out of the denominator when
  ``exclude_undecided`` is True (the default). A stage nobody entered has ``entered`` 0 and a
  NaN rate.
* **Win rate** = won deals / closed deals (NaN when none closed): :func:`win_rate_of`, the one
  rule every win rate uses (per group over all closed deals in :func:`win_rate`, over the deals
  closed in a period in :func:`~salesops_lib.analytics.performance.velocity.velocity_factors`).
* **Cycle length** = close_date - created_date in days, for closed deals.
* **Time in stage** = days_in_stage of completed stays (rows that are not current and have a
  days_in_stage); current stays are still running and left out.
* **Bottleneck**: for each group and open stage, the group is compared with the rest of the
  company (all other groups): time in stage by a two-sided Mann-Whitney U test
  (effect: time_ratio = group median / rest median) and conversion by a two-sided Fisher exact
  test (effect: conversion_diff = group rate - rest rate). A test is run only when the group and
  the rest each have at least ``min_deals`` observations. All p-values of one call are adjusted
  together (Holm by default, or Benjamini-Hochberg). A stage is flagged slow when the adjusted
  p < ``alpha`` AND time_ratio >= ``min_time_ratio``; weak when adjusted p < ``alpha`` AND
  conversion_diff <= -``min_conversion_drop``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.core.config import stage_model_or_configured
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns
from salesops_lib.core.stages import StageModel

DEAL_SIZE_EDGES: tuple[float, ...] = (10_000.0, 50_000.0, 100_000.0)
"""Upper bounds (exclusive) of the deal size bands; a deal >= the last edge is the last band."""

DEAL_SIZE_LABELS: tuple[str, ...] = ("<10k", "10k-50k", "50k-100k", ">=100k")
"""Deal size bands by amount: [0, 10k), [10k, 50k), [50k, 100k), [100k, inf)."""

CORRECTIONS: tuple[str, ...] = ("holm", "bh")


def add_deal_size_band(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``opportunities`` with a ``deal_size_band`` column.

    Args:
        opportunities: Rows of ``fct_opportunities`` (needs amount).

    Returns:
        The same rows plus deal_size_band: one of :data:`DEAL_SIZE_LABELS`, from amount with
        the lower bound included ([0, 10k) is "<10k", [10k, 50k) "10k-50k", ...).

    Raises:
        ParameterError: If amount is missing.
    """
    require_columns(opportunities, ["amount"], "add_deal_size_band")
    bins = [-np.inf, *DEAL_SIZE_EDGES, np.inf]
    band = pd.cut(
        opportunities["amount"].astype(float), bins=bins, labels=DEAL_SIZE_LABELS, right=False
    )
    return opportunities.assign(deal_size_band=band.astype(str))


def _with_group(
    stage_changes: pd.DataFrame, opportunities: pd.DataFrame, group_by: str, where: str
) -> pd.DataFrame:
    require_columns(opportunities, ["opportunity_id", group_by], f"{where} (opportunities)")
    groups = opportunities[["opportunity_id", group_by]].drop_duplicates("opportunity_id")
    changes = stage_changes.drop(columns=[group_by], errors="ignore")
    return changes.merge(groups, on="opportunity_id", how="inner")


def stage_conversion(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    group_by: str = "region_id",
    exclude_undecided: bool = True,
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Stage-to-stage conversion per group and open stage.

    Args:
        stage_changes: Rows of ``fct_stage_changes`` (opportunity_id, sequence, stage,
            stage_order, is_current).
        opportunities: Rows of ``fct_opportunities`` (opportunity_id and ``group_by``).
        group_by: Column of ``opportunities`` to group by.
        exclude_undecided: Leave out deals still sitting (open) in the stage.
        stages: The stage model; default the workspace's.

    Returns:
        One row per group and open stage (every open stage for every group, in funnel order):
        ``group_by``, stage, entered (deals in the denominator), converted, conversion_rate =
        converted / entered (NaN when entered is 0).

    Raises:
        ParameterError: If a column is missing.
    """
    cols = ["opportunity_id", "sequence", "stage", "stage_order", "is_current"]
    require_columns(stage_changes, cols, "stage_conversion (stage_changes)")
    model = stage_model_or_configured(stages)
    outcomes = _deal_stage_outcomes(
        stage_changes, opportunities, group_by, "stage_conversion", model
    )
    if exclude_undecided:
        outcomes = outcomes[~outcomes["undecided"]]
    counts = outcomes.groupby([group_by, "stage"]).agg(
        entered=("converted", "size"), converted=("converted", "sum")
    )
    groups = sorted(opportunities[group_by].dropna().unique())
    full = pd.MultiIndex.from_product([groups, list(model.open_stages)], names=[group_by, "stage"])
    out = counts.reindex(full, fill_value=0).reset_index()
    out["entered"] = out["entered"].astype("int64")
    out["converted"] = out["converted"].astype("int64")
    out["conversion_rate"] = out["converted"] / out["entered"].where(out["entered"] > 0)
    return out


def _deal_stage_outcomes(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    group_by: str,
    where: str,
    model: StageModel,
) -> pd.DataFrame:
    changes = _with_group(stage_changes, opportunities, group_by, where)
    rows = changes.sort_values(["opportunity_id", "sequence"], ascending=[True, False])
    progress = rows["stage_order"].where(~rows["stage"].isin(model.lost_stages), 0)
    # Highest non-lost stage_order entered at a later sequence of the same deal.
    later = progress.groupby(rows["opportunity_id"]).shift(1).fillna(0)
    later_best = later.groupby(rows["opportunity_id"]).cummax()
    rows = rows.assign(
        converted=later_best > rows["stage_order"],
        undecided=rows["is_current"].astype(bool),
    )
    rows = rows[rows["stage"].isin(model.open_stages)]
    return rows.groupby(["opportunity_id", group_by, "stage"], as_index=False).agg(
        converted=("converted", "any"), undecided=("undecided", "any")
    )


def win_rate_of(won: pd.Series, closed: pd.Series) -> pd.Series:
    """Win rate = won deals / closed deals, NaN where none closed.

    Args:
        won: Won deals per group.
        closed: Closed (won or lost) deals per group, aligned with ``won``.

    Returns:
        The win rate per group (float).
    """
    return won.astype(float) / closed.where(closed > 0).astype(float)


def win_rate(opportunities: pd.DataFrame, group_by: str = "region_id") -> pd.DataFrame:
    """Win rate and cycle length of closed deals per group.

    Args:
        opportunities: Rows of ``fct_opportunities`` (is_closed, is_won, created_date,
            close_date and ``group_by``).
        group_by: Column to group by.

    Returns:
        One row per group: ``group_by``, closed, won, win_rate = won / closed (NaN when none
        closed), median_cycle_days and mean_cycle_days (close_date - created_date in days over
        closed deals).

    Raises:
        ParameterError: If a column is missing.
    """
    cols = ["is_closed", "is_won", "created_date", "close_date", group_by]
    require_columns(opportunities, cols, "win_rate")
    closed = opportunities.loc[opportunities["is_closed"].astype(bool), cols]
    cycle = (pd.to_datetime(closed["close_date"]) - pd.to_datetime(closed["created_date"])).dt.days
    closed = closed.assign(cycle_days=cycle, won=closed["is_won"].astype(bool))
    per_group = closed.groupby(group_by).agg(
        closed=("won", "size"),
        won=("won", "sum"),
        median_cycle_days=("cycle_days", "median"),
        mean_cycle_days=("cycle_days", "mean"),
    )
    groups = sorted(opportunities[group_by].dropna().unique())
    out = per_group.reindex(groups).rename_axis(group_by).reset_index()
    out["closed"] = out["closed"].fillna(0).astype("int64")
    out["won"] = out["won"].fillna(0).astype("int64")
    out["win_rate"] = win_rate_of(out["won"], out["closed"])
    return out[[group_by, "closed", "won", "win_rate", "median_cycle_days", "mean_cycle_days"]]


def completed_stays(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    group_by: str = "region_id",
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Completed stays in open stages, with the deal's group.

    Args:
        stage_changes: Rows of ``fct_stage_changes`` (opportunity_id, stage, days_in_stage,
            is_current).
        opportunities: Rows of ``fct_opportunities`` (opportunity_id and ``group_by``).
        group_by: Column of ``opportunities`` to attach.
        stages: The stage model; default the workspace's.

    Returns:
        One row per completed stay (not current, days_in_stage not null) in an open stage:
        opportunity_id, ``group_by``, stage, days_in_stage.

    Raises:
        ParameterError: If a column is missing.
    """
    cols = ["opportunity_id", "stage", "days_in_stage", "is_current"]
    require_columns(stage_changes, cols, "completed_stays (stage_changes)")
    changes = _with_group(stage_changes, opportunities, group_by, "completed_stays")
    done = (
        ~changes["is_current"].astype(bool)
        & changes["days_in_stage"].notna()
        & changes["stage"].isin(stage_model_or_configured(stages).open_stages)
    )
    rows = changes.loc[done, ["opportunity_id", group_by, "stage", "days_in_stage"]]
    return rows.assign(days_in_stage=rows["days_in_stage"].astype(float)).reset_index(drop=True)


def time_in_stage(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    group_by: str = "region_id",
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Median days in each open stage per group, over completed stays.

    Args:
        stage_changes: Rows of ``fct_stage_changes``.
        opportunities: Rows of ``fct_opportunities`` (opportunity_id and ``group_by``).
        group_by: Column to group by.
        stages: The stage model; default the workspace's.

    Returns:
        One row per group and open stage: ``group_by``, stage, stays, median_days (NaN when
        no completed stay).

    Raises:
        ParameterError: If a column is missing.
    """
    model = stage_model_or_configured(stages)
    stays = completed_stays(stage_changes, opportunities, group_by, model)
    agg = stays.groupby([group_by, "stage"]).agg(
        stays=("days_in_stage", "size"), median_days=("days_in_stage", "median")
    )
    groups = sorted(opportunities[group_by].dropna().unique())
    full = pd.MultiIndex.from_product([groups, list(model.open_stages)], names=[group_by, "stage"])
    out = agg.reindex(full).reset_index()
    out["stays"] = out["stays"].fillna(0).astype("int64")
    return out


def adjust_p_values(p_values: pd.Series, method: str = "holm") -> pd.Series:
    """Adjust p-values for multiple testing; NaN p-values are ignored and stay NaN.

    Args:
        p_values: Raw p-values.
        method: ``"holm"`` (Holm step-down, family-wise error) or ``"bh"``
            (Benjamini-Hochberg step-up, false discovery rate).

    Returns:
        Adjusted p-values, same index, capped at 1.

    Raises:
        ParameterError: If ``method`` is unknown.
    """
    if method not in CORRECTIONS:
        raise ParameterError(
            f"adjust_p_values: unknown method {method!r}; use one of {CORRECTIONS}"
        )
    valid = p_values.dropna().astype(float)
    m = len(valid)
    out = pd.Series(np.nan, index=p_values.index, dtype=float)
    if m == 0:
        return out
    order = np.argsort(valid.to_numpy(), kind="stable")
    p_sorted = valid.to_numpy()[order]
    ranks = np.arange(1, m + 1)
    if method == "holm":
        adjusted = np.maximum.accumulate((m - ranks + 1) * p_sorted)
    else:
        adjusted = np.minimum.accumulate(((m / ranks) * p_sorted)[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out.loc[valid.index] = result
    return out


def detect_bottlenecks(
    stage_changes: pd.DataFrame,
    opportunities: pd.DataFrame,
    group_by: str = "region_id",
    min_deals: int = 30,
    alpha: float = 0.05,
    min_time_ratio: float = 1.5,
    min_conversion_drop: float = 0.10,
    correction: str = "holm",
    stages: StageModel | None = None,
) -> pd.DataFrame:
    """Find groups whose stages are significantly and materially slower or weaker.

    Args:
        stage_changes: Rows of ``fct_stage_changes``.
        opportunities: Rows of ``fct_opportunities`` (opportunity_id and ``group_by``).
        group_by: Column to compare groups on.
        min_deals: Minimum observations in the group and in the rest for a test to run.
        alpha: Significance level applied to the adjusted p-values.
        min_time_ratio: Smallest time_ratio that counts as material.
        min_conversion_drop: Smallest conversion drop (as a fraction: 0.10 = 10 points).
        correction: ``"holm"`` or ``"bh"``, applied over all tests of the call.
        stages: The stage model; default the workspace's.

    Returns:
        One row per group and open stage: ``group_by``, stage; time: stays_group, stays_rest,
        median_days_group, median_days_rest, time_ratio (NaN when the rest median is 0),
        time_p_value, time_p_adjusted, is_slow; conversion: entered_group, entered_rest,
        conversion_group, conversion_rest, conversion_diff, conversion_p_value,
        conversion_p_adjusted, is_weak; is_bottleneck = is_slow or is_weak; reason (text, empty
        when not flagged). P-values are NaN when a test did not run (too few observations).

    Raises:
        ParameterError: If a column is missing or ``correction`` is unknown.
    """
    if correction not in CORRECTIONS:
        raise ParameterError(
            f"detect_bottlenecks: unknown correction {correction!r}; use one of {CORRECTIONS}"
        )
    model = stage_model_or_configured(stages)
    stays = completed_stays(stage_changes, opportunities, group_by, model)
    cols = ["opportunity_id", "sequence", "stage", "stage_order", "is_current"]
    require_columns(stage_changes, cols, "detect_bottlenecks (stage_changes)")
    outcomes = _deal_stage_outcomes(
        stage_changes, opportunities, group_by, "detect_bottlenecks", model
    )
    outcomes = outcomes[~outcomes["undecided"]]
    groups = sorted(opportunities[group_by].dropna().unique())
    rows = []
    for stage in model.open_stages:
        in_stage = stays[stays["stage"] == stage]
        days = in_stage["days_in_stage"].to_numpy(dtype=float)
        day_groups = in_stage[group_by].to_numpy()
        deals = outcomes[outcomes["stage"] == stage]
        converted = deals["converted"].to_numpy(dtype=bool)
        deal_groups = deals[group_by].to_numpy()
        for group in groups:
            stay_in, deal_in = day_groups == group, deal_groups == group
            row = _compare(
                days[stay_in], days[~stay_in], converted[deal_in], converted[~deal_in], min_deals
            )
            rows.append({group_by: group, "stage": stage, **row})
    stage_rank = {stage: i for i, stage in enumerate(model.open_stages)}
    group_rank = {group: i for i, group in enumerate(groups)}
    rows.sort(key=lambda r: (group_rank[r[group_by]], stage_rank[r["stage"]]))
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    p_all = pd.concat([out["time_p_value"], out["conversion_p_value"]], ignore_index=True)
    adjusted = adjust_p_values(p_all, correction).to_numpy()
    out["time_p_adjusted"] = adjusted[: len(out)]
    out["conversion_p_adjusted"] = adjusted[len(out) :]
    out["is_slow"] = (out["time_p_adjusted"] < alpha) & (out["time_ratio"] >= min_time_ratio)
    out["is_weak"] = (out["conversion_p_adjusted"] < alpha) & (
        out["conversion_diff"] <= -min_conversion_drop
    )
    out["is_bottleneck"] = out["is_slow"] | out["is_weak"]
    out["reason"] = [_reason(row) for row in out.to_dict("records")]
    order = [
        group_by, "stage", "stays_group", "stays_rest", "median_days_group", "median_days_rest",
        "time_ratio", "time_p_value", "time_p_adjusted", "is_slow", "entered_group",
        "entered_rest", "conversion_group", "conversion_rest", "conversion_diff",
        "conversion_p_value", "conversion_p_adjusted", "is_weak", "is_bottleneck", "reason",
    ]  # fmt: skip
    return out[order]


def _compare(
    mine: np.ndarray,
    rest: np.ndarray,
    conv_g: np.ndarray,
    conv_r: np.ndarray,
    min_deals: int,
) -> dict[str, float | int]:
    """Time and conversion of one group and stage against the rest of the company."""
    from scipy import stats  # heavy: loaded only when a test runs (in the store build)

    med_g = float(np.median(mine)) if len(mine) else np.nan
    med_r = float(np.median(rest)) if len(rest) else np.nan
    time_p = np.nan
    if len(mine) >= min_deals and len(rest) >= min_deals:
        time_p = float(stats.mannwhitneyu(mine, rest, alternative="two-sided").pvalue)
    n_g, n_r = len(conv_g), len(conv_r)
    k_g, k_r = int(conv_g.sum()), int(conv_r.sum())
    rate_g = k_g / n_g if n_g else np.nan
    rate_r = k_r / n_r if n_r else np.nan
    conv_p = np.nan
    if n_g >= min_deals and n_r >= min_deals:
        conv_p = float(stats.fisher_exact([[k_g, n_g - k_g], [k_r, n_r - k_r]]).pvalue)
    return {
        "stays_group": len(mine),
        "stays_rest": len(rest),
        "median_days_group": med_g,
        "median_days_rest": med_r,
        "time_ratio": med_g / med_r if med_r > 0 else np.nan,
        "time_p_value": time_p,
        "entered_group": n_g,
        "entered_rest": n_r,
        "conversion_group": rate_g,
        "conversion_rest": rate_r,
        "conversion_diff": rate_g - rate_r,
        "conversion_p_value": conv_p,
    }


def _reason(row: dict[str, Any]) -> str:
    parts = []
    if row["is_slow"]:
        parts.append(
            f"{row['stage']} takes {row['time_ratio']:.1f}x as long as the rest of the company "
            f"(median {row['median_days_group']:.0f} vs {row['median_days_rest']:.0f} days)"
        )
    if row["is_weak"]:
        parts.append(
            f"{row['stage']} converts {row['conversion_group']:.0%} vs "
            f"{row['conversion_rest']:.0%} for the rest of the company"
        )
    return "; ".join(parts)
