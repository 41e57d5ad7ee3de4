"""The planning report's sentences: the executive summary and one finding per section.

Every sentence is built from the report's own numbers (deterministic text) and escaped by
:mod:`salesops_lib.reports.narrative` (rep and region names are untrusted data).
"""

from __future__ import annotations

from salesops_lib.analytics.planning.health import HEALTHY_BAND
from salesops_lib.reports import narrative
from salesops_lib.reports.narrative import format_money, format_pct
from salesops_lib.reports.planning.compute import Plan
from salesops_lib.reports.planning.report import PlanningReport
from salesops_lib.reports.planning.tables import capacity_frame, territory_frame


def capacity_sentences(plan: Plan) -> list[str]:
    """Which regions cannot carry next year's target with today's team, worst first."""
    frame = capacity_frame(plan)
    short = frame.loc[frame["needs_hires"]].sort_values(["coverage", "region_id"])
    total_target, total_capacity = frame["target_amount"].sum(), frame["capacity"].sum()
    share = format_pct(_ratio(total_capacity, total_target))
    first = (
        f"Today's team can carry {format_money(total_capacity)} in {plan.year} against a "
        f"target of {format_money(total_target)} ({share})."
    )
    if short.empty:
        return [first, "No region needs hires to reach its target."]
    worst = short.iloc[0]
    return [
        first,
        f"{len(short)} of {len(frame)} region(s) need hires; {worst['region_id']} is furthest "
        f"short: capacity {format_money(worst['capacity'])} covers "
        f"{format_pct(worst['coverage'])} of its {format_money(worst['target_amount'])} target, "
        f"a gap of {format_money(worst['gap'])} that {int(worst['hires_by_january'])} hire(s) "
        "starting in January would close.",
    ]


def quota_sentences(plan: Plan) -> list[str]:
    """The top-down proposal against bottom-up capacity."""
    params = plan.data.parameters
    rows = plan.quota_gap.loc[plan.quota_gap["level"] == "region"]
    top, bottom = rows["top_down"].sum(), rows["bottom_up"].sum()
    widest = rows.sort_values(["gap_share", "region_id"], ascending=[False, True]).iloc[0]
    return [
        f"The {params.method} top-down proposal sets {format_money(top)} of quota for "
        f"{plan.year} (target x (1 + {format_pct(params.over_assignment)} over-assignment)); "
        f"bottom-up capacity is {format_money(bottom)}, a gap of {format_money(top - bottom)}.",
        f"The widest gap is {widest['region_id']}'s: {format_pct(widest['gap_share'])} of its "
        "top-down quota is more than its reps can carry.",
    ]


def health_sentences(plan: Plan) -> list[str]:
    """Regions outside the healthy band this year, and where coverage falls short."""
    low, high = HEALTHY_BAND
    ytd = plan.health.loc[(plan.health["period"] == plan.ytd_period)]
    regions = ytd.loc[ytd["region_id"] != "all"] if len(ytd) > 1 else ytd
    below = regions.loc[regions["band"] == "below"].sort_values(
        ["share_at_or_above_100", "region_id"]
    )
    above = regions.loc[regions["band"] == "above"]
    out = []
    if below.empty and above.empty:
        out.append(
            f"Every region has {format_pct(low)}-{format_pct(high)} of its reps at or above "
            f"quota in {plan.ytd_period}: a healthy plan."
        )
    if len(below):
        worst = below.iloc[0]
        out.append(
            f"{len(below)} region(s) below the healthy {format_pct(low)}-{format_pct(high)} "
            f"band in {plan.ytd_period}; lowest {worst['region_id']}: "
            f"{format_pct(worst['share_at_or_above_100'])} of {int(worst['reps'])} reps at or "
            f"above quota (median attainment {format_pct(worst['median'])}): the quota looks "
            "too high for the team."
        )
    if len(above):
        out.append(
            f"{len(above)} region(s) above the band ({', '.join(above['region_id'])}): "
            "quotas may be too low."
        )
    short = plan.coverage.loc[~plan.coverage["sufficient"]]
    if len(short):
        out.append(
            f"{len(short)} region(s) have less pipeline this quarter than their own win rate "
            "needs (1 / win rate)."
        )
    return out


def territory_sentences(plan: Plan) -> list[str]:
    """How unbalanced the territories are and what the proposal changes."""
    tol = plan.data.parameters.tolerance
    frame = territory_frame(plan)
    rebalance = plan.rebalance
    moved = float(rebalance.moves["potential"].sum()) if len(rebalance.moves) else 0.0
    out = [
        f"{int((~frame['within_before']).sum())} of {len(frame)} territories are outside "
        f"+-{format_pct(tol)} of their region's mean potential; after the proposal "
        f"{int((~frame['within_after']).sum())} are ({rebalance.status}).",
    ]
    if len(frame):
        top = frame.sort_values(["deviation_before", "rep_id"], ascending=[False, True]).iloc[0]
        out.append(
            f"Most overloaded: {top['rep_name']} ({top['region_id']}) holds "
            f"{format_money(top['potential_before'])} of potential in "
            f"{int(top['accounts_before'])} accounts, "
            f"{narrative.format_change(top['deviation_before'])} against the region's mean."
        )
    out.append(
        f"The proposal moves {len(rebalance.moves)} account(s) with {format_money(moved)} of "
        "potential."
    )
    if rebalance.reason:
        out.append(f"Not balanced: {rebalance.reason}")
    return out


def _ratio(a: float, b: float) -> float | None:
    return None if not b else a / b


def summary_sentences(report: PlanningReport) -> list[str]:
    """The executive summary: the first finding of every section."""
    if report.plan is None:
        return []
    plan = report.plan
    return [
        capacity_sentences(plan)[-1],
        quota_sentences(plan)[0],
        health_sentences(plan)[0],
        territory_sentences(plan)[0],
    ]


def summary_html(report: PlanningReport) -> narrative.Html:
    """The executive summary as an escaped list (or the missing-data sentence)."""
    if report.plan is None:
        return report.missing
    return narrative.bullet_list(summary_sentences(report))


def _note(report: PlanningReport, sentences: list[str] | None) -> narrative.Html:
    if report.plan is None or sentences is None:
        return report.missing
    return narrative.bullet_list(sentences)


def capacity_note(report: PlanningReport) -> narrative.Html:
    """The capacity section's finding."""
    return _note(report, report.plan and capacity_sentences(report.plan))


def quota_note(report: PlanningReport) -> narrative.Html:
    """The quota section's finding."""
    return _note(report, report.plan and quota_sentences(report.plan))


def health_note(report: PlanningReport) -> narrative.Html:
    """The plan health section's finding."""
    return _note(report, report.plan and health_sentences(report.plan))


def territory_note(report: PlanningReport) -> narrative.Html:
    """The territory section's finding."""
    return _note(report, report.plan and territory_sentences(report.plan))
