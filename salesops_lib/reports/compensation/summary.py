"""The compensation report's numbers and words: payout summary against plan, exceptions,
anomalies, adjustments, headlines and provenance.

Definitions (one each):

* *cost of sales*: payout / credited revenue of the period's reps;
* *effective rate*: commission (before SPIFs, draws and clawbacks) / credited revenue;
* *target variable* of a rep for a period: OTE x (100 - base %) / 100 / periods per year of the
  rep's plan; *payout vs target*: payout / target variable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from salesops_lib.reports import narrative
from salesops_lib.reports.base import Headlines, headline_base, needs, report_provenance
from salesops_lib.reports.charts import DisplayTable, format_table
from salesops_lib.reports.compensation.load import NEEDS, NOTEBOOK, CompReport

PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
ENDING_WITHIN_DAYS = 90
"""A rep's last assignment ending within this many days of as_of counts as a plan ending."""


def payouts_gap(report: CompReport, enables: str) -> narrative.Html | None:
    """The missing-data sentence of a section built on the payouts (:data:`NEEDS`), or ``None``."""
    return needs(report.context, NEEDS, enables)


def _money(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64").fillna(0.0)


def rep_period_table(report: CompReport) -> pd.DataFrame:
    """One row per rep of the period: payout columns, name, target variable, payout vs target.

    Returns:
        A new frame sorted by payout, largest first, then rep id.
    """
    current = report.current
    if current.empty:
        return current.assign(target_variable=[], payout_vs_target=[])
    terms = report.assignments.drop_duplicates("rep_id", keep="last")[
        ["rep_id", "ote", "base_pct", "period_grain"]
    ]
    out = current.merge(terms, on="rep_id", how="left")
    per_year = out["period_grain"].map(PERIODS_PER_YEAR).astype("float64")
    target = _money(out["ote"]) * (100 - _money(out["base_pct"])) / 100 / per_year
    out = out.assign(
        target_variable=target,
        payout_vs_target=np.where(target > 0, _money(out["payout"]) / target, np.nan),
    )
    return out.sort_values(["payout", "rep_id"], ascending=[False, True], kind="stable")


def period_summary(report: CompReport) -> dict[str, Any]:
    """Totals of the period: reps, credit, commission, payout, cost of sales, effective rate,
    target variable, payout vs target, reps capped and below gate."""
    table = rep_period_table(report)
    credit = float(_money(table.get("credit", pd.Series(dtype=float))).sum())
    payout = float(_money(table.get("payout", pd.Series(dtype=float))).sum())
    commission = float(_money(table.get("commission", pd.Series(dtype=float))).sum())
    target = float(_money(table.get("target_variable", pd.Series(dtype=float))).sum())
    return {
        "period": report.period,
        "reps": int(table["rep_id"].nunique()) if not table.empty else 0,
        "credit": round(credit, 2),
        "commission": round(commission, 2),
        "payout": round(payout, 2),
        "cost_of_sales": payout / credit if credit else float("nan"),
        "effective_rate": commission / credit if credit else float("nan"),
        "target_variable": round(target, 2),
        "payout_vs_target": payout / target if target else float("nan"),
        "reps_capped": int(table["capped"].astype(bool).sum()) if not table.empty else 0,
        "reps_below_gate": int((~table["gate_met"].astype(bool)).sum()) if not table.empty else 0,
    }


def anomalies(report: CompReport) -> pd.DataFrame:
    """Payouts without bookings, reps with bookings on no plan, plans ending with reps on them.

    Returns:
        A new frame, one row per finding: ``kind``, ``rep_id``, ``rep_name``, ``detail``.
    """
    rows: list[dict[str, str]] = []
    names = dict(zip(report.assignments["rep_id"], report.assignments["rep_name"], strict=True))
    table = rep_period_table(report)
    for row in table.itertuples():
        if float(row.payout) != 0 and float(row.credit) == 0:
            rows.append(
                {
                    "kind": "payout without bookings",
                    "rep_id": row.rep_id,
                    "rep_name": names.get(row.rep_id, ""),
                    "detail": f"paid {narrative.format_money(float(row.payout))} in {row.period} "
                    "with no credited bookings",
                }
            )
    for note in report.notes[report.notes["kind"] == "no_plan"].itertuples():
        rows.append(
            {
                "kind": "bookings on no plan",
                "rep_id": str(note.rep_id),
                "rep_name": "",
                "detail": str(note.detail),
            }
        )
    horizon = pd.Timestamp(report.context.as_of + dt.timedelta(days=ENDING_WITHIN_DAYS))
    last = report.assignments.sort_values(["rep_id", "start_date"]).drop_duplicates(
        "rep_id", keep="last"
    )
    ends = pd.to_datetime(last["end_date"])
    for row, end in zip(last.itertuples(), ends, strict=True):
        if pd.notna(end) and end <= horizon:
            rows.append(
                {
                    "kind": "plan ending with rep on it",
                    "rep_id": row.rep_id,
                    "rep_name": str(row.rep_name),
                    "detail": f"{row.plan_id} ends {end:%Y-%m-%d} and no later plan is assigned",
                }
            )
    return pd.DataFrame(rows, columns=["kind", "rep_id", "rep_name", "detail"])


def summary_sentences(report: CompReport) -> list[str]:
    """The executive summary, generated from the numbers."""
    name = report.context.region_name
    if report.book is None:
        return [f"{name}: this snapshot has no compensation plans file, so there are no payouts."]
    if not report.period:
        return [f"{name}: no rep on a plan has a payout period up to {report.context.as_of}."]
    s = period_summary(report)
    found = anomalies(report)
    return [
        f"{name}, {s['period']}: {s['reps']:,} reps on a plan earned "
        f"{narrative.format_money(s['payout'])} on {narrative.format_money(s['credit'])} of "
        f"credited bookings: cost of sales {narrative.format_pct(s['cost_of_sales'])} "
        f"(effective commission rate {s['effective_rate'] * 100:.2f}%).",
        f"Payout is {narrative.format_pct(s['payout_vs_target'])} of the reps' target variable "
        f"pay ({narrative.format_money(s['target_variable'])}).",
        f"{s['reps_capped']:,} rep(s) hit their period cap; {s['reps_below_gate']:,} rep(s) were "
        "below their plan's gate.",
        f"{len(found):,} anomaly(ies) to check (see below).",
        report.ledger_note,
    ]


def executive_summary(report: CompReport) -> narrative.Html:
    """The summary as an escaped list (or the missing-data sentence)."""
    gap = payouts_gap(report, "the payout calculation")
    return gap if gap is not None else narrative.bullet_list(summary_sentences(report))


def payout_table(report: CompReport, limit: int = 50) -> DisplayTable | narrative.Html:
    """The period's payouts per rep (largest first, up to ``limit`` reps)."""
    gap = payouts_gap(report, "the payouts per rep")
    if gap is not None:
        return gap
    table = rep_period_table(report).head(limit)
    if table.empty:
        return narrative.paragraph("No payouts in the period.")
    columns = [
        "rep_id",
        "rep_name",
        "plan_id",
        "quota",
        "credit",
        "attainment",
        "commission",
        "spif",
        "clawback",
        "draw",
        "payout",
        "payout_vs_target",
    ]
    shown = table.reindex(columns=columns)
    return format_table(
        shown,
        money=["quota", "credit", "commission", "spif", "clawback", "draw", "payout"],
        pct=["attainment", "payout_vs_target"],
        labels={
            "rep_id": "Rep",
            "rep_name": "Name",
            "plan_id": "Plan",
            "quota": "Quota",
            "credit": "Credit",
            "attainment": "Attainment",
            "commission": "Commission",
            "spif": "SPIF",
            "clawback": "Clawback",
            "draw": "Draw",
            "payout": "Payout",
            "payout_vs_target": "vs target",
        },
    )


def exceptions_table(report: CompReport) -> DisplayTable | narrative.Html:
    """Reps above their cap or below their gate in the period."""
    gap = payouts_gap(report, "the list of reps above a cap or below a gate")
    if gap is not None:
        return gap
    table = rep_period_table(report)
    if table.empty:
        return narrative.paragraph("No payouts in the period.")
    flagged = table[table["capped"].astype(bool) | ~table["gate_met"].astype(bool)]
    if flagged.empty:
        return narrative.paragraph("No rep hit a cap or fell below a gate in the period.")
    flagged = flagged.assign(
        exception=np.where(flagged["capped"].astype(bool), "above cap", "below gate")
    )
    return format_table(
        flagged[
            ["rep_id", "rep_name", "plan_id", "exception", "attainment", "capped_excess", "payout"]
        ],
        money=["capped_excess", "payout"],
        pct=["attainment"],
        labels={
            "rep_id": "Rep",
            "rep_name": "Name",
            "plan_id": "Plan",
            "exception": "Exception",
            "attainment": "Attainment",
            "capped_excess": "Above cap",
            "payout": "Payout",
        },
    )


def anomaly_table(report: CompReport) -> DisplayTable | narrative.Html:
    """The anomalies, or a sentence saying there are none."""
    gap = payouts_gap(report, "the payout anomalies")
    if gap is not None:
        return gap
    found = anomalies(report)
    if found.empty:
        return narrative.paragraph(
            "No anomalies: every payout has bookings, every rep with "
            "bookings is on a plan, and no plan is ending with reps on it."
        )
    return format_table(
        found, labels={"kind": "Anomaly", "rep_id": "Rep", "rep_name": "Name", "detail": "Detail"}
    )


def adjustments_table(report: CompReport) -> DisplayTable | narrative.Html:
    """Prior-period adjustments since the last ledger run (or the sentence saying none)."""
    if report.adjustments.empty:
        return narrative.paragraph(report.ledger_note)
    columns = [
        "rep_id",
        "plan_id",
        "period",
        "posted_period",
        "old_value",
        "new_value",
        "amount",
        "reason",
    ]
    return format_table(report.adjustments[columns], money=["old_value", "new_value", "amount"])


def headline_numbers(report: CompReport) -> dict[str, Any]:
    """The headline numbers: payout, cost of sales, reps capped / below gate of the period."""
    s = period_summary(report)
    cost = s["cost_of_sales"]
    return {
        "comp_period": s["period"],
        "comp_payout": s["payout"],
        "comp_cost_of_sales": None if np.isnan(cost) else round(float(cost), 6),
        "comp_reps_capped": s["reps_capped"],
        "comp_reps_below_gate": s["reps_below_gate"],
        "comp_anomalies": len(anomalies(report)),
    }


def headlines(report: CompReport) -> Headlines:
    """The report's headlines for the runner (``headline_base`` + the numbers)."""
    return Headlines({**headline_base(report.context), **headline_numbers(report)})


def provenance(report: CompReport, **parameters: Any) -> narrative.Html:
    """The provenance block that ends the report."""
    return report_provenance(report.context, NOTEBOOK, parameters)
