"""Quota setting for a coming year: top-down allocation, bottom-up from capacity, and the gap.

Pure functions, frames in and frames out; inputs are never changed. A quota proposal has the
snapshot's ``quotas`` schema: one row per rep and month (first day), ``rep_id, month,
quota_amount``, so the attainment and compensation code can run on it.

Definitions:

* **Top-down**: a target (company-wide number, or one per region as a Series by region_id) x
  (1 + over-assignment) is split over reps by a **share** of one basis column of ``history``:
  ``prior_year`` (bookings in the calendar year before the planning year, to date if it is
  still running), ``t12m`` (bookings of the last 12 complete months), ``potential`` (open
  pipeline plus the account base, see :func:`quota_history`) or ``even`` (same share for every
  rep). A rep's annual quota is then split over the 12 months by seasonal weights (from history
  with :func:`seasonality_from_history`, or 1/12 each). If every rep of a group has a zero basis
  the group falls back to an even split.
* **Bottom-up**: what each rep of today's team can carry, month by month (annual quota of a
  ramped rep x seasonal weight x expected productivity x ramp), from
  :func:`salesops_lib.analytics.planning.capacity.rep_capacity`.
* **Money**: amounts are rounded to cents by the largest-remainder rule, so the cents of a
  top-down proposal add up exactly to round(target x (1 + over-assignment), 2) per allocation
  group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

METHODS: dict[str, str | None] = {
    "prior_year": "prior_year_bookings",
    "t12m": "t12m_bookings",
    "potential": "potential",
    "even": None,
}
"""Top-down allocation methods and the ``history`` column each one uses as its basis."""

QUOTA_SCHEMA = ["rep_id", "month", "quota_amount"]
"""Columns of a quota proposal (the snapshot's ``quotas`` table)."""


def _check_method(method: str) -> str | None:
    if method not in METHODS:
        raise ParameterError(f"unknown quota method {method!r}; use one of {', '.join(METHODS)}")
    return METHODS[method]


def check_over_assignment(over_assignment: float) -> float:
    """Return the over-assignment share, or fail when it is outside [0, 1].

    Raises:
        ParameterError: If not a number in [0, 1] (0.15 = 15% more quota than target).
    """
    value = float(over_assignment)
    if not np.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ParameterError(
            f"over-assignment must be in [0, 1] (0.15 = 15% above target), got {over_assignment}"
        )
    return value


def check_growth(growth: float) -> float:
    """Return a target growth rate, or fail when it is -100% or lower.

    Raises:
        ParameterError: If ``growth`` <= -1 or not finite.
    """
    value = float(growth)
    if not np.isfinite(value) or value <= -1.0:
        raise ParameterError(f"target growth must be above -100% (> -1), got {growth}")
    return value


def split_cents(total: float, weights: np.ndarray) -> np.ndarray:
    """Split an amount into cents proportional to weights (largest remainder, exact sum).

    Args:
        total: Amount to split (rounded to cents first).
        weights: Non-negative weights; all zero = an even split.

    Returns:
        Integer cents per weight, summing exactly to round(total x 100).
    """
    weights = np.asarray(weights, dtype=float)
    if len(weights) == 0:
        return np.zeros(0, dtype="int64")
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    cents = round(float(total) * 100)
    raw = cents * weights / weights.sum()
    base = np.floor(raw).astype("int64")
    left = cents - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:left]] += 1
    return base


def seasonality_from_history(monthly: pd.DataFrame, *, by_region: bool = False) -> pd.DataFrame:
    """Monthly seasonal weights from bookings history.

    Args:
        monthly: month, bookings_amount[, region_id] (any grain; rows are summed per month).
            Only complete calendar years (all 12 months present) count.
        by_region: One set of weights per region_id.

    Returns:
        month_of_year (1..12), weight (share of the complete years' bookings booked in that
        calendar month; sums to 1)[, region_id].

    Raises:
        ParameterError: If a column is missing or no complete year is in the history.
    """
    keys = ["region_id"] if by_region else []
    require_columns(monthly, ["month", "bookings_amount", *keys], "seasonality_from_history")
    month = pd.to_datetime(monthly["month"])
    rows = monthly.assign(year=month.dt.year, month_of_year=month.dt.month)
    months_per_year = rows.groupby("year")["month_of_year"].nunique()
    full = months_per_year[months_per_year == 12].index
    rows = rows.loc[rows["year"].isin(full)]
    if rows.empty:
        raise ParameterError("seasonality_from_history: no complete calendar year in the history")
    sums = rows.groupby([*keys, "month_of_year"], as_index=False)["bookings_amount"].sum()
    total = (
        sums.groupby(keys)["bookings_amount"].transform("sum")
        if keys
        else sums["bookings_amount"].sum()
    )
    out = sums.assign(weight=sums["bookings_amount"] / total).drop(columns="bookings_amount")
    grid = pd.DataFrame({"month_of_year": range(1, 13)})
    if keys:
        grid = grid.merge(out[keys].drop_duplicates(), how="cross")
    out = grid.merge(out, on=[*keys, "month_of_year"], how="left").fillna({"weight": 0.0})
    return out[["month_of_year", "weight", *keys]].sort_values([*keys, "month_of_year"])


def month_weights(seasonality: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """The seasonal weight of each row's month (and region, when the weights have region_id).

    Raises:
        ParameterError: On missing columns or weights that are negative or do not sum to 1.
    """
    require_columns(seasonality, ["month_of_year", "weight"], "seasonality")
    keys = ["region_id"] if "region_id" in seasonality else []
    sums = (
        seasonality.groupby(keys)["weight"].sum()
        if keys
        else pd.Series([seasonality["weight"].sum()])
    )
    if (seasonality["weight"] < 0).any() or not np.allclose(sums.to_numpy(), 1.0, atol=1e-6):
        raise ParameterError("seasonality: weights must be >= 0 and sum to 1 (per region)")
    look = rows.assign(month_of_year=pd.to_datetime(rows["month"]).dt.month)
    merged = look[[*keys, "month_of_year"]].merge(
        seasonality[[*keys, "month_of_year", "weight"]], on=[*keys, "month_of_year"], how="left"
    )
    if merged["weight"].isna().any():
        raise ParameterError("seasonality: a month (or region) of the plan has no weight")
    return pd.Series(merged["weight"].to_numpy(), index=rows.index)


def quota_history(
    bookings: pd.DataFrame,
    reps: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    year: int,
    potential: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The per-rep bases of the top-down methods.

    Args:
        bookings: rep_id, month, bookings_amount (e.g. ``fct_quota_attainment``) with
            is_complete_month optional (incomplete months are left out of t12m).
        reps: rep_id, region_id, manager_id, role: the team to set quotas for (role "rep").
        as_of: Snapshot date (t12m = the 12 complete months before its month).
        year: Planning year (prior year = ``year - 1``).
        potential: rep_id, potential (e.g. open pipeline + L12M bookings of the rep's accounts);
            missing reps get 0.

    Returns:
        One row per rep of the team: rep_id, region_id, manager_id, prior_year_bookings,
        t12m_bookings, potential.
    """
    require_columns(bookings, ["rep_id", "month", "bookings_amount"], "quota_history (bookings)")
    require_columns(reps, ["rep_id", "region_id", "manager_id", "role"], "quota_history (reps)")
    team = reps.loc[reps["role"] == "rep", ["rep_id", "region_id", "manager_id"]]
    month = pd.to_datetime(bookings["month"]).dt.to_period("M")
    complete = (
        bookings["is_complete_month"].astype(bool) if "is_complete_month" in bookings else True
    )
    as_of_month = pd.Timestamp(as_of).to_period("M")
    in_t12m = (month < as_of_month) & (month >= as_of_month - 12) & complete
    prior = bookings.loc[month.dt.year == year - 1].groupby("rep_id")["bookings_amount"].sum()
    t12m = bookings.loc[in_t12m].groupby("rep_id")["bookings_amount"].sum()
    out = team.assign(
        prior_year_bookings=team["rep_id"].map(prior).fillna(0.0),
        t12m_bookings=team["rep_id"].map(t12m).fillna(0.0),
        potential=0.0,
    )
    if potential is not None:
        require_columns(potential, ["rep_id", "potential"], "quota_history (potential)")
        per_rep = potential.groupby("rep_id")["potential"].sum()
        out["potential"] = out["rep_id"].map(per_rep).fillna(0.0)
    return out.sort_values("rep_id").reset_index(drop=True)


def _months(year: int) -> pd.DatetimeIndex:
    return pd.date_range(f"{int(year)}-01-01", periods=12, freq="MS")


def _spread(annual: pd.DataFrame, year: int, seasonality: pd.DataFrame | None) -> pd.DataFrame:
    """Split each rep's annual cents over the year's months, exactly to the cent."""
    grid = annual.merge(pd.DataFrame({"month": _months(year)}), how="cross")
    if seasonality is None:
        grid["_w"] = 1 / 12
    else:
        grid["_w"] = month_weights(seasonality, grid)
    parts = []
    for _, rows in grid.groupby("rep_id", sort=True):
        cents = split_cents(rows["_cents"].iloc[0] / 100, rows["_w"].to_numpy())
        parts.append(rows.assign(quota_amount=cents / 100))
    out = pd.concat(parts, ignore_index=True) if parts else grid.assign(quota_amount=0.0)
    out["month"] = out["month"].dt.date
    return out[QUOTA_SCHEMA].sort_values(["rep_id", "month"]).reset_index(drop=True)


def top_down_quotas(
    target: float | pd.Series,
    history: pd.DataFrame,
    *,
    method: str,
    over_assignment: float,
    seasonality: pd.DataFrame | None,
    year: int,
) -> pd.DataFrame:
    """Allocate a target over reps by a share, with over-assignment and seasonality.

    Args:
        target: Annual company target (one number, split over every rep of ``history``) or a
            Series of annual targets by region_id (each split over that region's reps).
        history: :func:`quota_history` rows (rep_id, region_id and the method's basis column).
        method: ``prior_year``, ``t12m``, ``potential`` or ``even``.
        over_assignment: Extra quota above target, in [0, 1] (0.1 = 10%).
        seasonality: month_of_year, weight[, region_id]; None = 1/12 per month.
        year: The planning year (12 months, January to December).

    Returns:
        The quotas schema: rep_id, month (date, first day), quota_amount. Per allocation group
        (company, or region) the amounts sum to target x (1 + over_assignment) to the cent.

    Raises:
        ParameterError: Unknown method, bad over-assignment, negative target, a region with a
            target but no rep, missing columns or an empty history.
    """
    basis = _check_method(method)
    extra = check_over_assignment(over_assignment)
    require_columns(history, ["rep_id", "region_id", *([basis] if basis else [])], "history")
    if history.empty:
        raise ParameterError("top_down_quotas: the history has no rep to give a quota to")
    if isinstance(target, pd.Series):
        targets = target.astype(float)
        missing = sorted(set(targets.index[targets > 0]) - set(history["region_id"]))
        if missing:
            raise ParameterError(
                f"top_down_quotas: region(s) {', '.join(map(str, missing))} have a target but "
                "no rep in the history"
            )
        groups = [(history.loc[history["region_id"] == r], float(t)) for r, t in targets.items()]
    else:
        groups = [(history, float(target))]
    annual = []
    for reps, amount in groups:
        if not np.isfinite(amount) or amount < 0:
            raise ParameterError(f"top_down_quotas: target must be >= 0, got {amount}")
        if reps.empty:
            continue
        weights = reps[basis].astype(float).clip(lower=0) if basis else pd.Series(1.0, reps.index)
        cents = split_cents(amount * (1 + extra), weights.to_numpy())
        annual.append(pd.DataFrame({"rep_id": reps["rep_id"].to_numpy(), "_cents": cents}))
    if not annual:
        return pd.DataFrame(columns=QUOTA_SCHEMA)
    return _spread(pd.concat(annual, ignore_index=True), year, seasonality)


def bottom_up_quotas(capacity: pd.DataFrame, *, year: int | None = None) -> pd.DataFrame:
    """Quotas equal to what each rep can carry (ramp-adjusted capacity), in the quotas schema.

    Args:
        capacity: :func:`salesops_lib.analytics.planning.capacity.rep_capacity` rows (rep_id,
            month, capacity) for the planning year's months.
        year: Keep only this calendar year's months; None keeps every month.

    Returns:
        rep_id, month (date), quota_amount = capacity rounded to the cent.

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(capacity, ["rep_id", "month", "capacity"], "bottom_up_quotas")
    month = pd.to_datetime(capacity["month"])
    rows = capacity.loc[month.dt.year == year] if year is not None else capacity
    out = pd.DataFrame(
        {
            "rep_id": rows["rep_id"].to_numpy(),
            "month": pd.to_datetime(rows["month"]).dt.date.to_numpy(),
            "quota_amount": np.round(rows["capacity"].astype(float).to_numpy(), 2),
        }
    )
    return out.sort_values(["rep_id", "month"]).reset_index(drop=True)


def quota_gap(
    top_down: pd.DataFrame, bottom_up: pd.DataFrame, *, reps: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Top-down quota against bottom-up capacity per company, region and manager.

    Args:
        top_down: Quotas schema rows (rep_id, month, quota_amount)[, region_id, manager_id].
        bottom_up: Quotas schema rows.
        reps: rep_id, region_id, manager_id; needed when the frames lack those columns.

    Returns:
        One row per level (``company``, ``region``, ``manager``) and group: level, region_id
        ("all" for the company), manager_id (None above manager level), top_down, bottom_up,
        gap = top_down - bottom_up (positive = quota the team cannot carry), gap_share = gap /
        top_down (NaN for a zero top-down).

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(top_down, QUOTA_SCHEMA, "quota_gap (top_down)")
    require_columns(bottom_up, QUOTA_SCHEMA, "quota_gap (bottom_up)")
    td = top_down.groupby("rep_id")["quota_amount"].sum().rename("top_down")
    bu = bottom_up.groupby("rep_id")["quota_amount"].sum().rename("bottom_up")
    per_rep = pd.concat([td, bu], axis=1).fillna(0.0).reset_index(names="rep_id")
    if reps is None:
        keys = [f for f in (top_down, bottom_up) if {"region_id", "manager_id"} <= set(f.columns)]
        if not keys:
            raise ParameterError("quota_gap: give reps (rep_id, region_id, manager_id)")
        reps = pd.concat([f[["rep_id", "region_id", "manager_id"]] for f in keys])
    require_columns(reps, ["rep_id", "region_id", "manager_id"], "quota_gap (reps)")
    people = reps[["rep_id", "region_id", "manager_id"]].drop_duplicates("rep_id")
    per_rep = per_rep.merge(people, on="rep_id", how="left")
    parts = [
        per_rep.assign(level="company", region_id="all", manager_id=None)
        .groupby(["level", "region_id"], as_index=False, dropna=False)[["top_down", "bottom_up"]]
        .sum()
        .assign(manager_id=None),
        per_rep.assign(level="region")
        .groupby(["level", "region_id"], as_index=False, dropna=False)[["top_down", "bottom_up"]]
        .sum()
        .assign(manager_id=None),
        per_rep.assign(level="manager")
        .groupby(["level", "region_id", "manager_id"], as_index=False, dropna=False)[
            ["top_down", "bottom_up"]
        ]
        .sum(),
    ]
    out = pd.concat(parts, ignore_index=True)
    out["gap"] = out["top_down"] - out["bottom_up"]
    out["gap_share"] = out["gap"] / out["top_down"].where(out["top_down"] != 0)
    cols = ["level", "region_id", "manager_id", "top_down", "bottom_up", "gap", "gap_share"]
    return out[cols].reset_index(drop=True)
