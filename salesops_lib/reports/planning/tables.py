"""The planning report's tables: what one notebook cell shows, formatted and escaped.

Every function takes a :class:`~salesops_lib.reports.planning.report.PlanningReport` and
returns a display (a :class:`~salesops_lib.reports.charts.DisplayTable`, which escapes names
from the data) or, when the snapshot lacks the tables the report needs, the sentence saying so.
The ``*_frame`` functions return the unformatted rows behind a table (for tests and analysts).
"""

from __future__ import annotations

import pandas as pd

from salesops_lib.core.config import ALL_REGIONS
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.planning.compute import Plan
from salesops_lib.reports.planning.report import PlanningReport

TOP_TERRITORIES = 25
"""Territories shown in the company view's balance table (largest deviation first)."""
TOP_MOVES = 30
"""Proposed moves shown (largest potential first); the CLI writes them all."""


def _names(plan: Plan) -> dict[str, str]:
    return dict(zip(plan.data.reps["rep_id"], plan.data.reps["rep_name"], strict=True))


def _labels(plan: Plan, rep_ids: pd.Series) -> pd.Series:
    """``Name (REP-ID)`` per rep id: two reps may share a name."""
    names = _names(plan)
    return rep_ids.map(lambda rep: f"{names.get(rep, rep)} ({rep})")


def capacity_frame(plan: Plan) -> pd.DataFrame:
    """One row per region: headcount, ramped equivalents, inputs, target, capacity, gap, hires.

    Columns: region_id, headcount (first quarter), ramped_equivalents (mean over the year),
    quota_per_ramped_rep, productivity, target_amount, capacity, gap, coverage, needs_hires,
    hires_by_january (hires starting in January that close the gap).
    """
    capacity = plan.capacity
    first = capacity.loc[capacity["quarter"] == capacity["quarter"].min()]
    heads = first.set_index("region_id")["headcount"]
    equivalents = capacity.groupby("region_id")["ramped_equivalents"].mean()
    prod = plan.productivity.set_index("region_id")["productivity"]
    january = pd.Timestamp(f"{plan.year}-01-01")
    hires = plan.hiring.loc[pd.to_datetime(plan.hiring["start_month"]) == january]
    hires = hires.set_index("region_id")["hires_needed"]
    out = plan.capacity_gap.assign(
        headcount=lambda f: f["region_id"].map(heads).fillna(0).astype("int64"),
        ramped_equivalents=lambda f: f["region_id"].map(equivalents),
        quota_per_ramped_rep=lambda f: f["region_id"].map(plan.quota_per_rep),
        productivity=lambda f: f["region_id"].map(prod),
        hires_by_january=lambda f: f["region_id"].map(hires).fillna(0).astype("int64"),
    )
    cols = [
        "region_id", "headcount", "ramped_equivalents", "quota_per_ramped_rep", "productivity",
        "target_amount", "capacity", "gap", "coverage", "needs_hires", "hires_by_january",
    ]  # fmt: skip
    return out[cols].reset_index(drop=True)


def capacity_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """Capacity of today's team next year against the target, and the hires that close it."""
    if report.plan is None:
        return report.missing
    frame = capacity_frame(report.plan).assign(
        ramped_equivalents=lambda f: f["ramped_equivalents"].map(lambda v: f"{v:,.1f}"),
        needs_hires=lambda f: f["needs_hires"].map({True: "yes", False: "no"}),
    )
    return charts.format_table(
        frame,
        money=["quota_per_ramped_rep", "target_amount", "capacity", "gap"],
        pct=["productivity", "coverage"],
        counts=["headcount", "hires_by_january"],
        labels={
            "region_id": "Region",
            "headcount": "Reps",
            "ramped_equivalents": "Ramped equivalents",
            "quota_per_ramped_rep": "Quota per ramped rep",
            "productivity": "Expected attainment",
            "target_amount": f"Target {report.plan.year}",
            "capacity": "Capacity",
            "gap": "Gap",
            "coverage": "Capacity / target",
            "needs_hires": "Needs hires",
            "hires_by_january": "Hires starting January",
        },
    )


def hiring_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """Hires needed per region by start month (later starts ramp into fewer months)."""
    if report.plan is None:
        return report.missing
    rows = report.plan.hiring
    if rows.empty:
        return narrative.paragraph(
            f"No region needs hires: today's team can carry the {report.plan.year} target."
        )
    frame = rows.assign(
        start_month=pd.to_datetime(rows["start_month"]).dt.strftime("%Y-%m"),
        hires_needed=rows["hires_needed"].map(lambda v: "never closes" if pd.isna(v) else int(v)),
    )[["region_id", "start_month", "contribution_per_hire", "hires_needed", "capacity_added"]]
    return charts.format_table(
        frame,
        money=["contribution_per_hire", "capacity_added"],
        labels={
            "region_id": "Region",
            "start_month": "Hires start",
            "contribution_per_hire": "Bookings per hire this year",
            "hires_needed": "Hires needed",
            "capacity_added": "Capacity added",
        },
    )


def quota_gap_frame(plan: Plan) -> pd.DataFrame:
    """Top-down against bottom-up per company, region and manager (with manager names)."""
    names = _names(plan)
    rows = plan.quota_gap
    if plan.data.region != ALL_REGIONS:
        rows = rows.loc[rows["level"] != "company"]
    return rows.assign(
        manager_name=rows["manager_id"].map(lambda m: names.get(m, m) if m else "")
    ).reset_index(drop=True)


def quota_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """The quota proposal: top-down (target x (1 + over-assignment)) vs bottom-up capacity."""
    if report.plan is None:
        return report.missing
    frame = quota_gap_frame(report.plan)[
        ["level", "region_id", "manager_name", "top_down", "bottom_up", "gap", "gap_share"]
    ]
    return charts.format_table(
        frame,
        money=["top_down", "bottom_up", "gap"],
        pct=["gap_share"],
        labels={
            "level": "Level",
            "region_id": "Region",
            "manager_name": "Manager",
            "top_down": "Top-down quota",
            "bottom_up": "Bottom-up capacity",
            "gap": "Gap",
            "gap_share": "Gap / top-down",
        },
    )


def quota_rep_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """Each rep's proposed annual quota, top-down and bottom-up."""
    if report.plan is None:
        return report.missing
    plan = report.plan
    names = _names(plan)
    td = plan.top_down.groupby("rep_id")["quota_amount"].sum().rename("top_down")
    bu = plan.bottom_up.groupby("rep_id")["quota_amount"].sum().rename("bottom_up")
    frame = pd.concat([td, bu], axis=1).fillna(0.0).reset_index(names="rep_id")
    region = plan.data.reps.set_index("rep_id")["region_id"]
    frame = frame.assign(
        region_id=frame["rep_id"].map(region), rep_name=frame["rep_id"].map(names)
    ).sort_values(["region_id", "top_down", "rep_id"], ascending=[True, False, True])
    return charts.format_table(
        frame[["region_id", "rep_name", "top_down", "bottom_up"]],
        money=["top_down", "bottom_up"],
        labels={
            "region_id": "Region",
            "rep_name": "Rep",
            "top_down": f"Top-down quota {plan.year}",
            "bottom_up": "Bottom-up capacity",
        },
    )


_HEALTH_LABELS = {
    "period": "Period",
    "region_id": "Region",
    "reps": "Reps",
    "share_at_or_above_100": "At or above 100%",
    "share_80_120": "80-120%",
    "share_below_80": "Below 80%",
    "median": "Median attainment",
    "skew": "Skew",
    "concentration": "Top-20% share of bookings",
    "band": "Against the 60-70% band",
}
_HEALTH_PCT = ["share_at_or_above_100", "share_80_120", "share_below_80", "median", "concentration"]


def _health_display(
    frame: pd.DataFrame, keys: list[str], extra: dict[str, str]
) -> charts.DisplayTable:
    shown = frame.assign(skew=frame["skew"].map(lambda v: "n/a" if pd.isna(v) else f"{v:+.2f}"))
    cols = [*keys, "reps", *_HEALTH_PCT[:3], "median", "skew", "concentration", "band"]
    return charts.format_table(
        shown[cols], pct=_HEALTH_PCT, counts=["reps"], labels={**_HEALTH_LABELS, **extra}
    )


def health_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """Attainment distribution per period and region, against the healthy 60-70% band."""
    if report.plan is None:
        return report.missing
    return _health_display(report.plan.health, ["period", "region_id"], {})


def health_cuts_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """This year's attainment distribution by tenure band and by first-line manager."""
    if report.plan is None:
        return report.missing
    plan = report.plan
    tenure = plan.health_by_tenure.assign(cut="tenure " + plan.health_by_tenure["tenure_band"])
    manager = plan.health_by_manager.assign(
        cut="manager " + plan.health_by_manager["manager_name"].fillna("(none)").astype(str)
    )
    both = pd.concat([tenure, manager], ignore_index=True)
    return _health_display(both, ["region_id", "cut"], {"cut": "Cut"})


def coverage_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """Pipeline coverage of this quarter's remaining quota against 1 / the region's win rate."""
    if report.plan is None:
        return report.missing
    frame = report.plan.coverage.assign(
        coverage_needed=lambda f: f["coverage_needed"].map(_times),
        coverage_actual=lambda f: f["coverage_actual"].map(_times),
        sufficient=lambda f: f["sufficient"].map({True: "yes", False: "no"}),
    )
    cols = [
        "region_id", "win_rate", "coverage_needed", "open_pipeline", "quota_remaining",
        "coverage_actual", "sufficient",
    ]  # fmt: skip
    return charts.format_table(
        frame[cols],
        money=["open_pipeline", "quota_remaining"],
        pct=["win_rate"],
        labels={
            "region_id": "Region",
            "win_rate": "Win rate (12 months)",
            "coverage_needed": "Coverage needed (1 / win rate)",
            "open_pipeline": "Open pipeline this quarter",
            "quota_remaining": "Quota still to book",
            "coverage_actual": "Coverage",
            "sufficient": "Enough",
        },
    )


def _times(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:,.1f}x"


def territory_frame(plan: Plan) -> pd.DataFrame:
    """One row per territory: before and after the proposed moves.

    Columns: region_id, rep_id, rep_name, accounts_before, accounts_after, potential_before,
    potential_after, deviation_before, deviation_after, within_before, within_after,
    open_deals, accounts_deviation. Sorted by |deviation_before|, largest first.
    """
    before = plan.rebalance.before.set_index("rep_id")
    after = plan.rebalance.after.set_index("rep_id")
    out = pd.DataFrame(
        {
            "region_id": before["region_id"],
            "rep_id": before.index,
            "rep_name": before.index.map(_names(plan)),
            "accounts_before": before["accounts"],
            "accounts_after": after["accounts"].reindex(before.index),
            "potential_before": before["potential"],
            "potential_after": after["potential"].reindex(before.index),
            "deviation_before": before["deviation_from_mean"],
            "deviation_after": after["deviation_from_mean"].reindex(before.index),
            "within_before": before["within_tolerance"],
            "within_after": after["within_tolerance"].reindex(before.index),
            "open_deals": before["open_deals"],
            "accounts_deviation": before["accounts_deviation"],
        }
    ).reset_index(drop=True)
    order = out["deviation_before"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order].reset_index(drop=True)


def territory_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """Territory balance before and after the proposal (company view: largest deviations)."""
    if report.plan is None:
        return report.missing
    frame = territory_frame(report.plan)
    if report.context.is_company:
        frame = frame.head(TOP_TERRITORIES)
    yes_no = {True: "yes", False: "no"}
    frame = frame.assign(
        rep_name=_labels(report.plan, frame["rep_id"]),
        within_before=frame["within_before"].map(yes_no),
        within_after=frame["within_after"].map(yes_no),
    )
    cols = [
        "region_id", "rep_name", "accounts_before", "accounts_after", "potential_before",
        "potential_after", "deviation_before", "deviation_after", "within_after",
    ]  # fmt: skip
    return charts.format_table(
        frame[cols],
        money=["potential_before", "potential_after"],
        counts=["accounts_before", "accounts_after"],
        changes=["deviation_before", "deviation_after"],
        labels={
            "region_id": "Region",
            "rep_name": "Rep",
            "accounts_before": "Accounts",
            "accounts_after": "Accounts after",
            "potential_before": "Potential",
            "potential_after": "Potential after",
            "deviation_before": "From region mean",
            "deviation_after": "From mean after",
            "within_after": "Within tolerance after",
        },
    )


def moves_frame(plan: Plan) -> pd.DataFrame:
    """The proposed moves with account and rep names, largest potential first.

    Columns: account_id, account_name, region_id, from_rep, from_rep_name, to_rep,
    to_rep_name, potential.
    """
    moves = plan.rebalance.moves
    names = _names(plan)
    accounts = plan.data.accounts.set_index("account_id")["account_name"]
    out = moves.assign(
        account_name=moves["account_id"].map(accounts),
        from_rep_name=moves["from_rep"].map(names),
        to_rep_name=moves["to_rep"].map(names),
    )
    cols = [
        "account_id", "account_name", "region_id", "from_rep", "from_rep_name", "to_rep",
        "to_rep_name", "potential",
    ]  # fmt: skip
    return (
        out[cols]
        .sort_values(["potential", "account_id"], ascending=[False, True])
        .reset_index(drop=True)
    )


def moves_table(report: PlanningReport) -> charts.DisplayTable | narrative.Html:
    """The largest proposed account moves (all of them: ``salesops plan territories``)."""
    if report.plan is None:
        return report.missing
    frame = moves_frame(report.plan)
    if frame.empty:
        return narrative.paragraph("The proposal moves no account.")
    frame = frame.assign(
        from_rep_name=_labels(report.plan, frame["from_rep"]),
        to_rep_name=_labels(report.plan, frame["to_rep"]),
    )
    return charts.format_table(
        frame.head(TOP_MOVES)[
            ["region_id", "account_name", "from_rep_name", "to_rep_name", "potential"]
        ],
        money=["potential"],
        labels={
            "region_id": "Region",
            "account_name": "Account",
            "from_rep_name": "From",
            "to_rep_name": "To",
            "potential": "Potential moved",
        },
    )
