"""Reps over the last 12 complete months: the leaderboard and attainment trend breaks.

Both use the one attainment rule (bookings / quota over the same rep-months, in exact cents)
over the last complete months before the as-of date, and only reps with a quota above 0 in
each of those months, so reps hired or moved during the year are not ranked against a full year.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.analytics.performance import attainment
from salesops_lib.analytics.performance.periods import last_complete_month, month_range
from salesops_lib.core.frames import to_cents

LEADERBOARD_MONTHS = 12
"""Complete months in the leaderboard window."""


def rep_leaderboard_12m(quota_attainment: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Rank reps by attainment over the last 12 complete months (full-year reps only).

    Args:
        quota_attainment: ``fct_quota_attainment`` rows (rep_id, rep_name, region_id, month,
            quota_amount, bookings_amount).
        as_of: The as-of date.

    Returns:
        :func:`attainment.leaderboard` of the reps with quota > 0 in each of the 12 months:
        rank, rep_id, rep_name, region_id, months, quota_amount, bookings_amount, attainment.
    """
    window = month_range(last_complete_month(as_of), LEADERBOARD_MONTHS)
    rows = quota_attainment[pd.to_datetime(quota_attainment["month"]).isin(window)]
    rows = rows.assign(
        quota_cents=to_cents(rows["quota_amount"]),
        bookings_cents=to_cents(rows["bookings_amount"]),
        has_quota=to_cents(rows["quota_amount"]) > 0,
    )
    per_rep = rows.groupby(["rep_id", "rep_name", "region_id"], as_index=False).agg(
        months=("has_quota", "sum"),
        quota_cents=("quota_cents", "sum"),
        bookings_cents=("bookings_cents", "sum"),
    )
    full_year = per_rep[per_rep["months"] == LEADERBOARD_MONTHS]
    table = full_year.assign(
        quota_amount=full_year["quota_cents"] / 100,
        bookings_amount=full_year["bookings_cents"] / 100,
        attainment=full_year["bookings_cents"] / full_year["quota_cents"],
    ).drop(columns=["quota_cents", "bookings_cents"])
    return attainment.leaderboard(table.astype({"months": "int64"}))


def attainment_trend_breaks(
    quota_attainment: pd.DataFrame,
    as_of: dt.date,
    recent_months: int = 3,
    prior_months: int = 9,
    ratio: float = 0.5,
) -> pd.DataFrame:
    """Reps whose recent attainment breaks from their own earlier attainment.

    Over the last ``recent_months + prior_months`` complete months, for reps with a quota above
    0 in each of them: recent attainment = bookings / quota of the last ``recent_months``;
    prior attainment = the same over the ``prior_months`` before. A rep's trend **breaks**
    when recent < ``ratio`` x prior (a drop) or recent > prior / ``ratio`` (a jump).

    Args:
        quota_attainment: ``fct_quota_attainment`` rows (rep_id, rep_name, region_id, month,
            quota_amount, bookings_amount).
        as_of: The as-of date.
        recent_months: Months in the recent window.
        prior_months: Months in the earlier window.
        ratio: How far recent must fall below (or rise above) prior to break.

    Returns:
        One row per flagged rep: rep_id, rep_name, region_id, prior_attainment,
        recent_attainment, change_ratio = recent / prior, direction (``drop``/``jump``);
        largest drops first, then jumps.
    """
    months = month_range(last_complete_month(as_of), recent_months + prior_months)
    rows = quota_attainment[pd.to_datetime(quota_attainment["month"]).isin(months)]
    recent_start = months[prior_months]
    rows = rows.assign(
        quota_cents=to_cents(rows["quota_amount"]),
        bookings_cents=to_cents(rows["bookings_amount"]),
        recent=pd.to_datetime(rows["month"]) >= recent_start,
    )
    keys = ["rep_id", "rep_name", "region_id"]
    with_quota = rows[rows["quota_cents"] > 0].groupby(keys)["month"].nunique()
    full = with_quota[with_quota == len(months)].index
    sums = rows.groupby([*keys, "recent"])[["quota_cents", "bookings_cents"]].sum()
    rate = (sums["bookings_cents"] / sums["quota_cents"]).unstack("recent")
    columns = ["rep_id", "rep_name", "region_id", "prior_attainment", "recent_attainment",
               "change_ratio", "direction"]  # fmt: skip
    if rate.empty or True not in rate or False not in rate:
        return pd.DataFrame(columns=columns)
    rate = rate.loc[rate.index.isin(full)]
    out = pd.DataFrame(
        {"prior_attainment": rate[False], "recent_attainment": rate[True]}
    ).reset_index()
    out["change_ratio"] = out["recent_attainment"] / out["prior_attainment"].where(
        out["prior_attainment"] > 0
    )
    drop = out["recent_attainment"] < ratio * out["prior_attainment"]
    jump = out["recent_attainment"] * ratio > out["prior_attainment"]
    out["direction"] = np.where(drop, "drop", np.where(jump, "jump", ""))
    out = out[out["direction"] != ""]
    return out.sort_values(["direction", "change_ratio"], ascending=[True, True])[
        columns
    ].reset_index(drop=True)
