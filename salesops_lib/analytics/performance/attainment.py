"""Quota attainment, gap to quota, and rep ramp (the formula core of performance diagnosis).

Pure functions over frames with the ``fct_quota_attainment`` mart columns (rep_id, rep_name,
region_id, manager_id, month, quota_amount, bookings_amount, attainment, is_complete_month) and,
for ramp, ``dim_reps`` (rep_id, hire_date). They return new frames and never change their inputs.

Definitions used throughout:

* **Periods** (as of a date ``as_of``): ``month`` is the calendar month of ``as_of``; ``qtd`` is
  the calendar quarter of ``as_of`` and ``ytd`` the calendar year. A period's rows are the
  frame's rows whose month is in the period. The mart holds months up to the as-of month, so
  from the mart the quota of a QTD or YTD period is the quota *to date* (with the full quota of
  the as-of month); a frame that also holds the quotas of the period's later months (bookings
  0) gives the full-period quota.
* **Attainment** (the one rule, whatever the window) = sum(bookings_amount) / sum(quota_amount)
  over the rep-months of a group and window. When the quota sum is 0 the attainment is NaN and
  ``zero_quota`` is True (never infinity). Windows, each with one function:

  - **period attainment** (:func:`attainment`): the rep-months of the period's months present in
    the frame; with the later months' planned quotas added (:func:`with_later_quotas`, bookings
    0) this is bookings so far against the *whole* period's quota (the performance report);
  - **attainment year to date** (:func:`attainment_ytd`): the *complete* months of the as-of
    year, January to the last complete month, so a partly elapsed month never counts (the
    overview);
  - the 12-month leaderboard and trend breaks (:mod:`.rep_trends`): the last 12 complete months.
* **Gap to quota** = max(quota - bookings, 0). **Days left** = days after ``as_of`` up to and
  including the last day of the quota horizon: the latest month of the period present in the
  frame (at least the as-of month). From the mart that is the end of the as-of month; with the
  later months' quotas it is the end of the quarter or year.
  **Daily run rate needed** = gap / days left; **monthly run rate needed** = daily run rate x
  30.4375 (average days per month). With no days left the run rates are NaN when a gap remains
  and 0 when there is none.
* Money sums are done in integer cents, so totals are exact to the cent.
* **Tenure month** of a rep-month = whole calendar months from the hire month to the month
  (0 = the month of hire). The **ramp curve** is the median bookings of complete rep-months per
  tenure month; its **plateau** is the median of the curve over tenure months ``plateau_from``
  to ``plateau_to`` (default 12 to 23: reps in their second year, so that the few long-tenured
  reps who alone fill the far end of the curve do not set the bar);
  **time to full productivity** is the first tenure month whose curve value reaches
  ``threshold`` x plateau.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.analytics.performance.periods import PERIODS as PERIODS
from salesops_lib.analytics.performance.periods import last_complete_month
from salesops_lib.analytics.performance.periods import period_bounds as period_bounds
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns, to_cents

LEVELS: dict[str, list[str]] = {
    "rep": ["rep_id", "rep_name", "region_id", "manager_id"],
    "manager": ["manager_id", "region_id"],
    "region": ["region_id"],
    "company": [],
}
"""Grouping columns for each attainment level."""

DAYS_PER_MONTH = 30.4375
"""Average days in a calendar month (365.25 / 12), used for the monthly run rate."""

QUOTA_COLUMNS = ("rep_id", "region_id", "manager_id", "month", "quota_amount", "bookings_amount")


def _timestamp(value: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _ratio(bookings_cents: pd.Series, quota_cents: pd.Series) -> pd.Series:
    """Attainment = bookings / quota, NaN where the quota is 0 (the one rule for every window)."""
    return bookings_cents / quota_cents.where(quota_cents != 0)


def attainment(
    quota_attainment: pd.DataFrame,
    as_of: dt.date | str | pd.Timestamp,
    level: str = "rep",
    period: str = "ytd",
) -> pd.DataFrame:
    """Attainment, gap to quota and run rate needed per rep, manager, region or company.

    Args:
        quota_attainment: Rows of ``fct_quota_attainment`` (rep_id, rep_name for level "rep",
            region_id, manager_id, month, quota_amount, bookings_amount).
        as_of: The as-of date; fixes the period and the days left.
        level: ``"rep"``, ``"manager"``, ``"region"`` or ``"company"``.
        period: ``"month"``, ``"qtd"`` or ``"ytd"`` (see the module docstring).

    Returns:
        One row per group of ``level`` with at least one month in the period: the group columns,
        period, months, quota_amount, bookings_amount (both exact to the cent), attainment =
        bookings / quota (NaN when quota is 0), zero_quota, gap_to_quota = max(quota - bookings,
        0), days_left, daily_run_rate_needed = gap / days_left and monthly_run_rate_needed =
        daily x 30.4375. Sorted by attainment (highest first, NaN last), then group keys.

    Raises:
        ParameterError: If a column is missing or ``level``/``period`` is unknown.
    """
    if level not in LEVELS:
        raise ParameterError(f"attainment: unknown level {level!r}; use one of {list(LEVELS)}")
    keys = LEVELS[level]
    require_columns(quota_attainment, [*QUOTA_COLUMNS, *keys], "attainment")
    first, last = period_bounds(as_of, period)
    months = pd.to_datetime(quota_attainment["month"])
    in_period = (months >= first) & (months <= last)
    rows = quota_attainment.loc[in_period].assign(
        quota_cents=lambda f: to_cents(f["quota_amount"]),
        bookings_cents=lambda f: to_cents(f["bookings_amount"]),
        _one=1,
    )
    by = keys or ["_one"]
    out = rows.groupby(by, as_index=False, dropna=False).agg(
        months=("month", "nunique"),
        quota_cents=("quota_cents", "sum"),
        bookings_cents=("bookings_cents", "sum"),
    )
    out = out.drop(columns="_one", errors="ignore")
    out.insert(len(keys), "period", period)
    out["quota_amount"] = out["quota_cents"] / 100
    out["bookings_amount"] = out["bookings_cents"] / 100
    out["zero_quota"] = out["quota_cents"] == 0
    out["attainment"] = _ratio(out["bookings_cents"], out["quota_cents"])
    gap_cents = (out["quota_cents"] - out["bookings_cents"]).clip(lower=0)
    out["gap_to_quota"] = gap_cents / 100
    day = _timestamp(as_of)
    as_of_month, latest = pd.Timestamp(day.year, day.month, 1), months[in_period].max()
    horizon = as_of_month if pd.isna(latest) or latest < as_of_month else latest
    days_left = int((horizon + pd.offsets.MonthEnd(0) - day).days)
    out["days_left"] = max(days_left, 0)
    out = _with_run_rates(out, gap_cents)
    out = out.drop(columns=["quota_cents", "bookings_cents"])
    return out.sort_values(
        ["attainment", *keys], ascending=[False, *[True] * len(keys)], na_position="last"
    ).reset_index(drop=True)


def _with_run_rates(rows: pd.DataFrame, gap_cents: pd.Series) -> pd.DataFrame:
    """``rows`` (with gap_to_quota and days_left) plus the daily and monthly run rates needed."""
    days_left = rows["days_left"]
    daily = (rows["gap_to_quota"] / days_left.where(days_left > 0)).where(
        days_left > 0, np.where(gap_cents > 0, np.nan, 0.0)
    )
    return rows.assign(daily_run_rate_needed=daily, monthly_run_rate_needed=daily * DAYS_PER_MONTH)


def with_scope_bookings(scope_attainment: pd.DataFrame, booked: float) -> pd.DataFrame:
    """A region's (or the company's) attainment row with the bookings of its order lines.

    A booking counts in the region of its order line, and a rep may sell in several regions:
    a rep's attainment counts all their bookings (:func:`attainment`, level ``rep``), while a
    region's counts the lines booked in the region, against the quota of the region's reps.

    Args:
        scope_attainment: :func:`attainment` at level ``region`` or ``company`` for one scope
            (one row, or none without quotas).
        booked: The scope's order lines booked in the period to date (any rep).

    Returns:
        The rows with bookings_amount = ``booked`` (to the cent) and attainment, gap to quota
        and run rates recomputed by the same rules.
    """
    if scope_attainment.empty:
        return scope_attainment.copy()
    quota_cents = to_cents(scope_attainment["quota_amount"])
    bookings_cents = pd.Series(round(booked * 100), index=scope_attainment.index, dtype="int64")
    gap_cents = (quota_cents - bookings_cents).clip(lower=0)
    rows = scope_attainment.assign(
        bookings_amount=bookings_cents / 100,
        attainment=_ratio(bookings_cents, quota_cents),
        gap_to_quota=gap_cents / 100,
    )
    return _with_run_rates(rows, gap_cents)


def attainment_ytd(quota_attainment: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Attainment year to date per rep: bookings / quota over the complete months of the year.

    Args:
        quota_attainment: Rows of ``fct_quota_attainment`` (rep_id, rep_name, region_id,
            manager_id, month, quota_amount, bookings_amount, is_complete_month).
        as_of: The snapshot's as-of date.

    Returns:
        One row per rep with a quota row in a complete month of the as-of year: rep_id,
        rep_name, region_id, manager_id, months (complete months counted), quota_ytd,
        bookings_ytd (exact to the cent) and attainment = bookings_ytd / quota_ytd (NaN for a
        zero quota). Sorted by rep_id.

    Raises:
        ParameterError: If a column is missing.
    """
    keys = ["rep_id", "rep_name", "region_id", "manager_id"]
    cols = [*keys, "month", "quota_amount", "bookings_amount", "is_complete_month"]
    require_columns(quota_attainment, cols, "attainment_ytd")
    months = pd.to_datetime(quota_attainment["month"])
    year_start = pd.Timestamp(as_of.year, 1, 1)
    in_ytd = (months >= year_start) & (months <= last_complete_month(as_of))
    rows = quota_attainment.loc[in_ytd & quota_attainment["is_complete_month"].astype(bool)]
    rows = rows.assign(
        quota_cents=to_cents(rows["quota_amount"]), bookings_cents=to_cents(rows["bookings_amount"])
    )
    per_rep = rows.groupby(keys, as_index=False, dropna=False).agg(
        months=("month", "size"),
        quota_cents=("quota_cents", "sum"),
        bookings_cents=("bookings_cents", "sum"),
    )
    out = per_rep.assign(
        quota_ytd=per_rep["quota_cents"] / 100,
        bookings_ytd=per_rep["bookings_cents"] / 100,
        attainment=_ratio(per_rep["bookings_cents"], per_rep["quota_cents"]),
    )
    columns = [*keys, "months", "quota_ytd", "bookings_ytd", "attainment"]
    return out[columns].sort_values("rep_id").reset_index(drop=True)


def with_later_quotas(
    quota_attainment: pd.DataFrame, period_quotas: pd.DataFrame, reps: pd.DataFrame
) -> pd.DataFrame:
    """Add the period's months after the as-of month (quota from the plan, bookings 0).

    ``fct_quota_attainment`` stops at the as-of month; with the later months of the period
    :func:`attainment` measures against the full period's quota and spreads the gap over the
    days left to the period's end.

    Args:
        quota_attainment: ``fct_quota_attainment`` rows.
        period_quotas: Planned quotas of the period's months (rep_id, month, quota_amount).
        reps: ``dim_reps`` rows (rep_id, rep_name, region_id, manager_id).

    Returns:
        The rows of ``quota_attainment`` plus one row per rep and later month of the period
        (bookings_amount 0, attainment NaN, is_complete_month False).
    """
    months = pd.to_datetime(quota_attainment["month"])
    latest = months.max() if len(months) else pd.Timestamp.min
    later = period_quotas[pd.to_datetime(period_quotas["month"]) > latest]
    if later.empty:
        return quota_attainment
    people = reps[["rep_id", "rep_name", "region_id", "manager_id"]]
    extra = later[["rep_id", "month", "quota_amount"]].merge(people, on="rep_id", how="inner")
    extra = extra.assign(
        month=pd.to_datetime(extra["month"]),
        bookings_amount=0.0,
        attainment=np.nan,
        is_complete_month=False,
    )
    base = quota_attainment.assign(month=months)
    return pd.concat([base, extra[base.columns]], ignore_index=True)


def attainment_distribution(rep_attainment: pd.DataFrame) -> pd.DataFrame:
    """Summarize how per-rep attainment is spread.

    Args:
        rep_attainment: Output of :func:`attainment` with ``level="rep"`` (needs attainment
            and zero_quota).

    Returns:
        One row: reps (all rows), reps_with_quota, reps_zero_quota, share_at_or_above_100 =
        reps with attainment >= 1.0 / reps with quota, share_below_50 = reps with attainment
        < 0.5 / reps with quota, median_attainment (over reps with quota). Shares and median
        are NaN when no rep has a quota.

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(rep_attainment, ["attainment", "zero_quota"], "attainment_distribution")
    with_quota = rep_attainment.loc[~rep_attainment["zero_quota"].astype(bool), "attainment"]
    n = len(with_quota)
    return pd.DataFrame(
        {
            "reps": [len(rep_attainment)],
            "reps_with_quota": [n],
            "reps_zero_quota": [len(rep_attainment) - n],
            "share_at_or_above_100": [(with_quota >= 1.0).sum() / n if n else np.nan],
            "share_below_50": [(with_quota < 0.5).sum() / n if n else np.nan],
            "median_attainment": [with_quota.median() if n else np.nan],
        }
    )


def leaderboard(rep_attainment: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Rank reps by attainment.

    Args:
        rep_attainment: Output of :func:`attainment` with ``level="rep"``.
        top: Keep only the first ``top`` rows; all rows when None.

    Returns:
        One row per rep, best first: rank (1 = best; ties on attainment share the lowest rank),
        then the input columns. Ties are ordered by bookings_amount (highest first), then rep_id.
        Reps with zero quota have no attainment and no rank (rank NaN) and come last.

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(rep_attainment, ["rep_id", "attainment", "bookings_amount"], "leaderboard")
    ordered = rep_attainment.sort_values(
        ["attainment", "bookings_amount", "rep_id"],
        ascending=[False, False, True],
        na_position="last",
    ).reset_index(drop=True)
    rank = ordered["attainment"].rank(method="min", ascending=False)
    ordered.insert(0, "rank", rank.astype("Int64"))
    return ordered if top is None else ordered.head(top).reset_index(drop=True)


# --- ramp and productivity -------------------------------------------------------------------


def bookings_by_tenure(quota_attainment: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Monthly bookings of each rep indexed by months since hire.

    Args:
        quota_attainment: Rows of ``fct_quota_attainment`` (rep_id, month, bookings_amount,
            is_complete_month).
        reps: Rows of ``dim_reps`` (rep_id, hire_date) of the people to include, e.g. those
            with role "rep".

    Returns:
        One row per rep and complete month on or after the hire month: rep_id, month,
        tenure_month = (month.year - hire.year) x 12 + month.month - hire.month (0 = month of
        hire), bookings_amount. Incomplete months (the as-of month unless it has ended) are
        left out, as are reps missing from ``reps``.

    Raises:
        ParameterError: If a column is missing.
    """
    cols = ["rep_id", "month", "bookings_amount", "is_complete_month"]
    require_columns(quota_attainment, cols, "bookings_by_tenure (quota_attainment)")
    require_columns(reps, ["rep_id", "hire_date"], "bookings_by_tenure (reps)")
    rows = quota_attainment.loc[quota_attainment["is_complete_month"].astype(bool), cols[:3]]
    rows = rows.merge(reps[["rep_id", "hire_date"]], on="rep_id", how="inner")
    month = pd.to_datetime(rows["month"])
    hire = pd.to_datetime(rows["hire_date"])
    tenure = (month.dt.year - hire.dt.year) * 12 + (month.dt.month - hire.dt.month)
    out = rows.assign(
        month=month, tenure_month=tenure.astype("int64"), bookings_amount=rows["bookings_amount"]
    )
    out = out.loc[out["tenure_month"] >= 0, ["rep_id", "month", "tenure_month", "bookings_amount"]]
    return out.sort_values(["rep_id", "month"]).reset_index(drop=True)


def ramp_curve(
    tenure_bookings: pd.DataFrame,
    plateau_from: int = 12,
    plateau_to: int | None = 23,
    threshold: float = 0.9,
) -> pd.DataFrame:
    """Median bookings per tenure month, and how close each month is to full productivity.

    Args:
        tenure_bookings: Output of :func:`bookings_by_tenure`.
        plateau_from: First tenure month counted in the plateau.
        plateau_to: Last tenure month counted in the plateau; None for no upper bound.
        threshold: Share of the plateau that counts as fully productive.

    Returns:
        One row per tenure month present: tenure_month, reps (rep-months), median_bookings,
        plateau (the same value on every row: median of median_bookings over tenure months
        ``plateau_from`` to ``plateau_to``; NaN if none), share_of_plateau =
        median_bookings / plateau, and is_productive = share_of_plateau >= ``threshold``.

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(tenure_bookings, ["tenure_month", "bookings_amount"], "ramp_curve")
    curve = (
        tenure_bookings.assign(bookings_amount=lambda f: f["bookings_amount"].astype(float))
        .groupby("tenure_month", as_index=False)
        .agg(reps=("bookings_amount", "size"), median_bookings=("bookings_amount", "median"))
    )
    tenure = curve["tenure_month"]
    in_plateau = (tenure >= plateau_from) & (
        tenure <= (plateau_to if plateau_to is not None else tenure.max())
    )
    settled = curve.loc[in_plateau, "median_bookings"]
    plateau = float(settled.median()) if len(settled) else np.nan
    curve["plateau"] = plateau
    curve["share_of_plateau"] = (
        curve["median_bookings"] / plateau if plateau and plateau > 0 else np.nan
    )
    curve["is_productive"] = curve["share_of_plateau"] >= threshold
    return curve


def time_to_full_productivity(curve: pd.DataFrame) -> int | None:
    """First tenure month at which the ramp curve reaches full productivity.

    Args:
        curve: Output of :func:`ramp_curve`.

    Returns:
        The smallest tenure_month with is_productive True, or None if the curve never gets there
        (or has no plateau).

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(curve, ["tenure_month", "is_productive"], "time_to_full_productivity")
    productive = curve.loc[curve["is_productive"].astype(bool), "tenure_month"]
    return int(productive.min()) if len(productive) else None


def reps_below_cohort(
    tenure_bookings: pd.DataFrame, last_months: int = 3, threshold: float = 0.5
) -> pd.DataFrame:
    """Compare each rep's recent bookings with the median of reps at the same tenure.

    Args:
        tenure_bookings: Output of :func:`bookings_by_tenure`.
        last_months: How many of each rep's latest complete months to compare.
        threshold: A rep is flagged when their bookings are below ``threshold`` x the cohort's.

    Returns:
        One row per rep: rep_id, months_compared, rep_bookings (sum over the rep's last
        ``last_months`` rows), cohort_bookings (sum over the same tenure months of the median
        bookings of all reps at that tenure month, the ramp curve), ratio_to_cohort =
        rep_bookings / cohort_bookings (NaN when the cohort figure is 0) and is_below_cohort =
        ratio_to_cohort < ``threshold``. Sorted by ratio_to_cohort, lowest first.

    Raises:
        ParameterError: If a column is missing or ``last_months`` < 1.
    """
    cols = ["rep_id", "month", "tenure_month", "bookings_amount"]
    require_columns(tenure_bookings, cols, "reps_below_cohort")
    if last_months < 1:
        raise ParameterError(f"reps_below_cohort: last_months must be >= 1, got {last_months}")
    rows = tenure_bookings[cols].assign(
        bookings_amount=lambda f: f["bookings_amount"].astype(float)
    )
    cohort = rows.groupby("tenure_month")["bookings_amount"].median().rename("cohort_median")
    recent = (
        rows.sort_values(["rep_id", "month"]).groupby("rep_id", group_keys=False).tail(last_months)
    )
    recent = recent.join(cohort, on="tenure_month")
    out = recent.groupby("rep_id", as_index=False).agg(
        months_compared=("month", "size"),
        rep_bookings=("bookings_amount", "sum"),
        cohort_bookings=("cohort_median", "sum"),
    )
    out["ratio_to_cohort"] = out["rep_bookings"] / out["cohort_bookings"].where(
        out["cohort_bookings"] != 0
    )
    out["is_below_cohort"] = out["ratio_to_cohort"] < threshold
    return out.sort_values(["ratio_to_cohort", "rep_id"], na_position="last").reset_index(drop=True)
