"""Attainment year to date rolled up: the company (or team) summary, managers and regions.

Inputs are :func:`~salesops_lib.analytics.performance.attainment.attainment_ytd` rows (one per
rep). A team's attainment is its reps' total bookings over their total quota (the one attainment
rule); a rep with zero quota has no attainment of their own and is left out of the share of reps
at or above 100%.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class AttainmentSummary:
    """Quota attainment year to date.

    Attributes:
        months: Complete months of the as-of year counted.
        quota: Total quota of those months.
        bookings: Total bookings of those months.
        attainment: ``bookings / quota``; ``None`` when the quota is 0.
        reps_with_quota: Reps whose year-to-date quota is above 0.
        reps_at_or_above_100: Of those, reps with attainment >= 100%.
        share_at_or_above_100: Their share; ``None`` when no rep has a quota.
    """

    months: int
    quota: float
    bookings: float
    attainment: float | None
    reps_with_quota: int
    reps_at_or_above_100: int
    share_at_or_above_100: float | None


def summarize_attainment(rep_ytd: pd.DataFrame) -> AttainmentSummary:
    """Summarize per-rep year-to-date attainment into company (or team) figures.

    Args:
        rep_ytd: Output of :func:`~salesops_lib.analytics.performance.attainment.attainment_ytd`.

    Returns:
        Totals, overall attainment and the share of reps with a quota at or above 100%.
    """
    quota = float(rep_ytd["quota_ytd"].sum())
    bookings = float(rep_ytd["bookings_ytd"].sum())
    with_quota = rep_ytd[rep_ytd["quota_ytd"] > 0]
    at_or_above = int((with_quota["attainment"] >= 1.0).sum())
    return AttainmentSummary(
        months=int(rep_ytd["months"].max()) if len(rep_ytd) else 0,
        quota=quota,
        bookings=bookings,
        attainment=bookings / quota if quota else None,
        reps_with_quota=len(with_quota),
        reps_at_or_above_100=at_or_above,
        share_at_or_above_100=at_or_above / len(with_quota) if len(with_quota) else None,
    )


def attainment_by_manager(rep_ytd: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Year-to-date attainment per region and first-line manager.

    Args:
        rep_ytd: Output of :func:`~salesops_lib.analytics.performance.attainment.attainment_ytd`.
        reps: Rows of ``dim_reps`` (rep_id, region_name, manager_name, ...).

    Returns:
        One row per region and manager (region_id, region_name, manager_id, manager_name, reps,
        quota_ytd, bookings_ytd, attainment, reps_at_or_above_100), sorted by region and manager;
        reps without a manager are grouped under ``(no manager)``.
    """
    names = reps[["rep_id", "region_name", "manager_name"]]
    joined = rep_ytd.merge(names, on="rep_id", how="left").assign(
        manager_name=lambda f: f["manager_name"].fillna("(no manager)"),
        manager_id=lambda f: f["manager_id"].fillna(""),
        region_name=lambda f: f["region_name"].fillna(f["region_id"]),
        at_or_above=lambda f: (f["attainment"] >= 1.0).astype(int),
    )
    keys = ["region_id", "region_name", "manager_id", "manager_name"]
    teams = joined.groupby(keys, as_index=False).agg(
        reps=("rep_id", "size"),
        quota_ytd=("quota_ytd", "sum"),
        bookings_ytd=("bookings_ytd", "sum"),
        reps_at_or_above_100=("at_or_above", "sum"),
    )
    teams["attainment"] = teams["bookings_ytd"] / teams["quota_ytd"].where(teams["quota_ytd"] > 0)
    columns = [*keys, "reps", "quota_ytd", "bookings_ytd", "attainment", "reps_at_or_above_100"]
    return teams[columns].sort_values(["region_id", "manager_name"]).reset_index(drop=True)


def attainment_by_region(teams: pd.DataFrame) -> pd.DataFrame:
    """Roll manager-level attainment (from :func:`attainment_by_manager`) up to regions.

    Args:
        teams: Output of :func:`attainment_by_manager`.

    Returns:
        One row per region (region_id, region_name, reps, quota_ytd, bookings_ytd, attainment,
        reps_at_or_above_100), sorted by region id.
    """
    regions = teams.groupby(["region_id", "region_name"], as_index=False)[
        ["reps", "quota_ytd", "bookings_ytd", "reps_at_or_above_100"]
    ].sum()
    regions["attainment"] = regions["bookings_ytd"] / regions["quota_ytd"].where(
        regions["quota_ytd"] > 0
    )
    columns = [
        *["region_id", "region_name", "reps", "quota_ytd", "bookings_ytd"],
        *["attainment", "reps_at_or_above_100"],
    ]
    return regions[columns].sort_values("region_id").reset_index(drop=True)
