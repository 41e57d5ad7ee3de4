"""Health of the current quota plan: how attainment is spread, and pipeline coverage needed.

Pure functions, frames in and frames out; inputs are never changed.

Definitions:

* **Rep attainment of a period** = bookings / quota of the rep's months in the period
  (:func:`rep_period_attainment`); reps with a zero quota are left out of every share.
* **Distribution** per group: share_at_or_above_100 (attainment >= 1.0), share_80_120
  (0.8 <= attainment <= 1.2), share_below_80 (< 0.8), median, skew (adjusted Fisher-Pearson
  sample skewness, pandas ``Series.skew``; NaN with fewer than 3 reps) and **concentration** =
  the share of the group's bookings booked by its top 20% of reps (ceil(0.2 x reps) reps, by
  bookings): 0.2 means perfectly even, 1.0 means the top fifth book everything.
* **Healthy** plan: 60% to 70% of reps at or above quota (Alexander Group's quota diagnostics);
  ``band`` says "below" (quota too high or team under-performing), "in" or "above" (quota too
  low).
* **Coverage needed** = 1 / win rate (the pipeline that, at the region's own win rate, books the
  remaining quota), not a fixed 3x.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

HEALTHY_BAND = (0.60, 0.70)
"""Share of reps at or above quota of a healthy plan (inclusive bounds)."""

TOP_SHARE = 0.2
"""The top share of reps whose bookings share is the concentration measure."""

TENURE_BANDS: tuple[tuple[int, str], ...] = ((12, "0-1y"), (24, "1-2y"), (10**6, "2y+"))
"""Tenure bands by whole months since hire (upper bound exclusive)."""

FREQUENCIES = {"Q": "quarter", "Y": "year"}


def rep_period_attainment(quota_attainment: pd.DataFrame, *, freq: str = "Q") -> pd.DataFrame:
    """Attainment of every rep per calendar quarter or year.

    Args:
        quota_attainment: ``fct_quota_attainment`` rows: rep_id, region_id, manager_id, month,
            quota_amount, bookings_amount[, is_complete_month].
        freq: ``"Q"`` (quarters) or ``"Y"`` (years).

    Returns:
        One row per rep and period: rep_id, region_id, manager_id, period ("2026Q3" or "2026"),
        months, complete (every month of the period present and complete), quota_amount,
        bookings_amount, attainment (NaN for a zero quota).

    Raises:
        ParameterError: Missing column or unknown ``freq``.
    """
    if freq not in FREQUENCIES:
        raise ParameterError(f"rep_period_attainment: freq must be 'Q' or 'Y', got {freq!r}")
    cols = ["rep_id", "region_id", "manager_id", "month", "quota_amount", "bookings_amount"]
    require_columns(quota_attainment, cols, "rep_period_attainment")
    month = pd.to_datetime(quota_attainment["month"]).dt.to_period("M")
    complete = (
        quota_attainment["is_complete_month"].astype(bool)
        if "is_complete_month" in quota_attainment
        else pd.Series(True, index=quota_attainment.index)
    )
    rows = quota_attainment[cols].assign(
        period=month.dt.asfreq(freq).astype(str), _complete=complete
    )
    keys = ["rep_id", "region_id", "manager_id", "period"]
    out = rows.groupby(keys, as_index=False, dropna=False).agg(
        months=("month", "nunique"),
        _all_complete=("_complete", "all"),
        quota_amount=("quota_amount", "sum"),
        bookings_amount=("bookings_amount", "sum"),
    )
    out["complete"] = out["_all_complete"] & (out["months"] == (3 if freq == "Q" else 12))
    quota = out["quota_amount"].where(out["quota_amount"] != 0)
    out["attainment"] = out["bookings_amount"] / quota
    return out.drop(columns="_all_complete").sort_values(keys).reset_index(drop=True)


def tenure_band(hire_date: pd.Series, as_of: dt.date | str | pd.Timestamp) -> pd.Series:
    """Tenure band of each hire date as of a date: "0-1y", "1-2y" or "2y+".

    Whole months since hire = calendar months from the hire month to the as-of month, less one
    when the as-of day is before the hire day (as ``dim_reps.tenure_months``).
    """
    hire = pd.to_datetime(hire_date)
    day = pd.Timestamp(as_of)
    months = (day.year - hire.dt.year) * 12 + day.month - hire.dt.month
    months = months - (day.day < hire.dt.day).astype(int)
    bounds = [-(10**6)] + [b for b, _ in TENURE_BANDS]
    labels = [label for _, label in TENURE_BANDS]
    return pd.cut(months, bins=bounds, labels=labels, right=False).astype(str)


def _top_share(bookings: pd.Series) -> float:
    values = np.sort(bookings.astype(float).to_numpy())[::-1]
    total = values.sum()
    if not len(values) or total <= 0:
        return np.nan
    top = max(math.ceil(TOP_SHARE * len(values) - 1e-9), 1)
    return float(values[:top].sum() / total)


def _distribution(group: pd.DataFrame) -> pd.Series:
    value = group["attainment"].dropna().astype(float)
    n = len(value)
    share = (lambda mask: float(mask.sum()) / n) if n else (lambda mask: np.nan)
    at_quota = share(value >= 1.0)
    low, high = HEALTHY_BAND
    if n == 0:
        band = None
    else:
        band = "below" if at_quota < low - 1e-12 else "above" if at_quota > high + 1e-12 else "in"
    with_quota = group.loc[group["attainment"].notna()]
    return pd.Series(
        {
            "reps": n,
            "share_at_or_above_100": at_quota,
            "share_80_120": share((value >= 0.8) & (value <= 1.2)),
            "share_below_80": share(value < 0.8),
            "median": float(value.median()) if n else np.nan,
            "skew": float(value.skew()) if n >= 3 else np.nan,
            "concentration": _top_share(with_quota["bookings_amount"]) if n else np.nan,
            "band": band,
            "healthy": band == "in",
        }
    )


def attainment_health(
    attainment: pd.DataFrame, *, by: Sequence[str] = ("period", "region_id"), company: bool = True
) -> pd.DataFrame:
    """Attainment distribution per period and region (or any other cut).

    Args:
        attainment: :func:`rep_period_attainment` rows (rep_id, attainment, bookings_amount and
            the ``by`` columns; add tenure_band or keep manager_id for those cuts).
        by: Grouping columns, e.g. ("period", "region_id"), ("period", "region_id",
            "manager_id") or ("period", "region_id", "tenure_band").
        company: With ``region_id`` in ``by``, add rows with region_id "all" over every rep.

    Returns:
        One row per group: the ``by`` columns, reps, share_at_or_above_100, share_80_120,
        share_below_80, median, skew, concentration (top-20% bookings share), band ("below",
        "in", "above" the 60-70% band) and healthy (band == "in"). Sorted by ``by``.

    Raises:
        ParameterError: If a column is missing or the frame is empty.
    """
    keys = list(by)
    require_columns(attainment, ["rep_id", "attainment", "bookings_amount", *keys], "health")
    if attainment.empty:
        raise ParameterError("attainment_health: no rep attainment to summarise (empty history)")
    frames = [attainment]
    if company and "region_id" in keys:
        frames.append(attainment.assign(region_id="all"))
    rows = pd.concat(frames, ignore_index=True)
    parts = [
        _distribution(group).rename(name if isinstance(name, tuple) else (name,))
        for name, group in rows.groupby(keys, sort=True, dropna=False)
    ]
    out = pd.DataFrame(parts)
    out.index = pd.MultiIndex.from_tuples(out.index, names=keys)
    out = out.reset_index()
    out["reps"] = out["reps"].astype("int64")
    out["healthy"] = out["healthy"].astype(bool)
    return out


def coverage_needed(win_rate: float) -> float:
    """Pipeline coverage the win rate needs: 1 / win rate.

    Raises:
        ParameterError: If the win rate is not in (0, 1].
    """
    value = float(win_rate)
    if not np.isfinite(value) or not 0.0 < value <= 1.0:
        raise ParameterError(f"coverage_needed: win rate must be in (0, 1], got {win_rate}")
    return 1.0 / value


def coverage_check(regions: pd.DataFrame) -> pd.DataFrame:
    """Actual pipeline coverage against the coverage each region's win rate needs.

    Args:
        regions: region_id, win_rate, open_pipeline, quota_remaining.

    Returns:
        The input columns plus coverage_needed = 1 / win_rate (NaN for a zero or missing win
        rate), coverage_actual = open_pipeline / quota_remaining (NaN when nothing remains),
        coverage_ratio = actual / needed, sufficient = actual >= needed (True when no quota
        remains).

    Raises:
        ParameterError: Missing column, or a win rate outside [0, 1].
    """
    cols = ["region_id", "win_rate", "open_pipeline", "quota_remaining"]
    require_columns(regions, cols, "coverage_check")
    rate = regions["win_rate"].astype(float)
    if ((rate < 0) | (rate > 1)).any():
        raise ParameterError("coverage_check: win_rate must be in [0, 1]")
    out = regions.copy()
    out["coverage_needed"] = 1.0 / rate.where(rate > 0)
    remaining = out["quota_remaining"].astype(float)
    out["coverage_actual"] = out["open_pipeline"] / remaining.where(remaining > 0)
    out["coverage_ratio"] = out["coverage_actual"] / out["coverage_needed"]
    out["sufficient"] = (remaining <= 0) | (out["coverage_actual"] >= out["coverage_needed"])
    return out
