"""The compensation report's what-if sections: accelerator exposure, attainment scenarios,
payout curves with their cliffs, and winners and losers under an alternative plan.

Every figure re-runs the payout engine on the region's reps' credits for the report's period
(:mod:`salesops_lib.analytics.compensation.whatif`), so a regional report shows its reps only.
"""

from __future__ import annotations

import html

import pandas as pd
import seaborn as sns

from salesops_lib.analytics.compensation import calculate_payouts
from salesops_lib.analytics.compensation.whatif import (
    accelerator_exposure,
    attainment_scenarios,
    find_cliffs,
    payout_curve,
    winners_losers,
)
from salesops_lib.core.errors import WorkbenchError
from salesops_lib.reports import narrative
from salesops_lib.reports.charts import (
    DisplayTable,
    PngFigure,
    format_table,
    money_formatter,
    new_axes,
)
from salesops_lib.reports.compensation.load import CompReport
from salesops_lib.reports.compensation.summary import payouts_gap, rep_period_table

UPLIFT = 0.10
"""Accelerator exposure: the cost of this much more attainment (credits x 1.1)."""


def _ready(report: CompReport, enables: str = "the what-if") -> narrative.Html | None:
    """Why a what-if section cannot be shown (missing data, no plans, no period), or ``None``."""
    gap = payouts_gap(report, enables)
    if gap is not None:
        return gap
    if report.book is None:
        return narrative.paragraph("No plans in this snapshot: no what-if.")
    if not report.period:
        return narrative.paragraph("No payout period to model.")
    return None


def exposure(report: CompReport) -> pd.DataFrame:
    """Per rep of the period: payout now, with another 10% attainment, and the extra cost."""
    if _ready(report) is not None:
        return pd.DataFrame()
    assert report.book is not None
    on_plan = report.credits[report.credits["rep_id"].isin(set(report.current["rep_id"]))]
    return accelerator_exposure(
        report.book, on_plan, report.quotas, uplift=UPLIFT, **report.engine_kwargs
    )


def exposure_summary(report: CompReport) -> narrative.Html:
    """What another 10% attainment would cost, in words, and the reps it costs most on."""
    gap = _ready(report, "the accelerator exposure")
    if gap is not None:
        return gap
    found = exposure(report)
    if found.empty:
        return narrative.paragraph("No rep has credits in the period.")
    extra = float(found["extra_cost"].sum())
    credit = float(found["extra_credit"].sum())
    top = found.sort_values(["marginal_rate", "rep_id"], ascending=[False, True]).head(3)
    sentences = [
        f"Another {UPLIFT:.0%} attainment for every rep in {report.period} would cost "
        f"{narrative.format_money(extra)} more on {narrative.format_money(credit)} more credit "
        f"(a marginal rate of {extra / credit * 100 if credit else 0:.2f}%).",
        "Highest marginal rates (accelerators): "
        + ", ".join(f"{r.rep_id} {float(r.marginal_rate) * 100:.1f}%" for r in top.itertuples())
        + ".",
    ]
    return narrative.bullet_list(sentences)


def scenarios_table(report: CompReport) -> DisplayTable | narrative.Html:
    """Cost of sales under attainment -20% / plan / +20% for the period."""
    gap = _ready(report, "the attainment scenarios")
    if gap is not None:
        return gap
    assert report.book is not None
    on_plan = report.credits[report.credits["rep_id"].isin(set(report.current["rep_id"]))]
    table = attainment_scenarios(report.book, on_plan, report.quotas, **report.engine_kwargs)
    shown = table[["scenario", "reps"]].assign(
        credit=table["credit"].map(narrative.format_money),
        payout=table["payout"].map(narrative.format_money),
        cost_of_sales=table["cost_of_sales"].map(lambda v: f"{v * 100:.2f}%"),
    )
    labels = {
        "scenario": "Attainment",
        "reps": "Reps",
        "credit": "Credit",
        "payout": "Payout",
        "cost_of_sales": "Cost of sales",
    }
    return DisplayTable(shown.rename(columns=labels).reset_index(drop=True))


def curves(report: CompReport) -> pd.DataFrame:
    """Payout curve (0-200% attainment) of each plan with reps in the period."""
    if _ready(report) is not None:
        return pd.DataFrame()
    assert report.book is not None
    table = rep_period_table(report)
    parts: list[pd.DataFrame] = []
    failed: list[str] = []
    for plan_id in sorted(set(table["plan_id"].astype(str))):
        quotas = pd.to_numeric(table.loc[table["plan_id"] == plan_id, "quota"], errors="coerce")
        quota = float(quotas[quotas > 0].median()) if (quotas > 0).any() else 100_000.0
        start = pd.Timestamp(table["period_start"].iloc[0]).date()
        try:
            curve = payout_curve(report.book, plan_id, quota=round(quota, 2), period_start=start)
        except WorkbenchError as exc:  # a plan the curve cannot price: say so, keep the others
            failed.append(f"{plan_id}: {exc}")
            continue
        parts.append(curve)
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    data.attrs["failed"] = failed
    return data


def curve_chart(report: CompReport) -> PngFigure | narrative.Html:
    """Payout by attainment per plan (a median-quota rep), cliffs marked."""
    gap = _ready(report, "the payout curves")
    if gap is not None:
        return gap
    data = curves(report)
    if data.empty:
        failed = "; ".join(data.attrs.get("failed", []))
        return narrative.paragraph(f"No payout curve to draw. {failed}".strip())
    figure, axes = new_axes()
    sns.lineplot(
        data=data.assign(attainment_pct=data["attainment"] * 100),
        x="attainment_pct",
        y="payout",
        hue="plan_id",
        ax=axes,
    )
    cliffs = cliffs_frame(data)
    for row in cliffs.itertuples():
        axes.axvline(float(row.attainment_to) * 100, color="grey", linestyle=":", linewidth=1)
    axes.yaxis.set_major_formatter(money_formatter())
    axes.set_xlabel("Attainment of the period quota (%)")
    axes.set_ylabel("Payout per period ($)")
    title = (
        f"{len(cliffs)} cliff(s): payout jumps where a gate opens or a retroactive tier is reached"
        if len(cliffs)
        else "Payout rises smoothly with attainment (no cliff)"
    )
    axes.set_title(title, loc="left")
    if data.attrs.get("failed"):
        axes.annotate(
            "Not drawn: " + "; ".join(data.attrs["failed"])[:160],
            (0, -0.2),
            xycoords="axes fraction",
            fontsize=7,
        )
    return PngFigure(figure)


def cliffs_frame(data: pd.DataFrame) -> pd.DataFrame:
    """The cliffs of every plan's curve."""
    parts = [find_cliffs(group) for _plan, group in data.groupby("plan_id", sort=True)]
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["plan_id", "attainment_from", "attainment_to", "jump"])
    )


def cliffs_table(report: CompReport) -> DisplayTable | narrative.Html:
    """Where each plan's payout jumps (a gate, a retroactive tier)."""
    gap = _ready(report, "the payout cliffs")
    if gap is not None:
        return gap
    data = curves(report)
    found = cliffs_frame(data) if not data.empty else pd.DataFrame()
    if found.empty:
        return narrative.paragraph("No plan has a cliff: payout rises smoothly with attainment.")
    return format_table(
        found[["plan_id", "attainment_from", "attainment_to", "payout_from", "payout_to", "jump"]],
        money=["payout_from", "payout_to", "jump"],
        pct=["attainment_from", "attainment_to"],
        labels={
            "plan_id": "Plan",
            "attainment_from": "From",
            "attainment_to": "To",
            "payout_from": "Payout before",
            "payout_to": "Payout after",
            "jump": "Jump",
        },
    )


def winners_losers_table(report: CompReport, limit: int = 10) -> DisplayTable | narrative.Html:
    """Who wins or loses in the period under the alternative plans (if any)."""
    gap = _ready(report, "the winners and losers of a plan change")
    if gap is not None:
        return gap
    if report.alternative is None:
        return narrative.paragraph(
            "No alternative plan to compare with: add comp_plans_alternative.yml to the snapshot "
            "or pass alternative_plans=PATH."
        )
    on_plan = report.credits[report.credits["rep_id"].isin(set(report.current["rep_id"]))]
    base = report.current
    other = calculate_payouts(report.alternative, on_plan, report.quotas, **report.engine_kwargs)
    changes = winners_losers(base, other.payouts)
    wins, loses = (changes["outcome"] == "wins").sum(), (changes["outcome"] == "loses").sum()
    total = float(changes["change"].sum())
    now = float(changes["payout_a"].sum())
    change = narrative.format_change(total / now) if now else "n/a"
    words = (
        f"Under {report.alternative_source}, {wins:,} rep(s) would earn more and {loses:,} less "
        f"in {report.period}; total payout {change} ({narrative.format_money(total)})."
    )
    shown = pd.concat([changes.head(limit // 2), changes.tail(limit // 2)]).drop_duplicates(
        "rep_id"
    )
    table = format_table(
        shown[["rep_id", "payout_a", "payout_b", "change", "change_pct", "outcome"]],
        money=["payout_a", "payout_b", "change"],
        changes=["change_pct"],
        labels={
            "rep_id": "Rep",
            "payout_a": "Now",
            "payout_b": "Alternative",
            "change": "Change",
            "change_pct": "Change %",
            "outcome": "Outcome",
        },
    )
    return narrative.Html(f"<p>{html.escape(words)}</p>" + table._repr_html_())
