"""The segmentation report's words: executive summary, method notes, headlines, provenance."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pandas as pd

from salesops_lib.analytics.segmentation.clusters import ClusterResult
from salesops_lib.analytics.segmentation.clv import (
    CLV_MONTHS,
    MIN_CLV_CUSTOMERS,
    MIN_REPEAT_CUSTOMERS,
    ClvOutcome,
)
from salesops_lib.analytics.segmentation.migration import MigrationResult, biggest_moves
from salesops_lib.reports import narrative
from salesops_lib.reports.base import Headlines, headline_base, report_provenance
from salesops_lib.reports.segmentation.load import NOTEBOOK, SegmentationReport


def html_list(sentences: list[str], css: str = "summary") -> narrative.Html:
    """Sentences as an escaped ``<ul>``."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return narrative.Html(f'<ul class="{css}">{items}</ul>')


def paragraph(text: str) -> narrative.Html:
    """One escaped paragraph."""
    return narrative.Html(f"<p>{html.escape(text)}</p>")


def _customers(count: int) -> str:
    return f"{count:,} customer" + ("" if count == 1 else "s")


def segment_sentence(segments: pd.DataFrame, region_name: str, as_of: dt.date) -> str:
    """Customers and the three segments with the largest revenue shares."""
    total = int(segments["customers"].sum())
    if not total:
        return f"{region_name} has no customers with orders up to {as_of:%d %b %Y}."
    top = segments[segments["customers"] > 0].sort_values(
        ["revenue_share", "segment"], ascending=[False, True], kind="stable"
    )
    parts = [
        f"{row.segment} ({_customers(row.customers)}, {narrative.format_pct(row.customer_share)}) "
        f"hold {narrative.format_pct(row.revenue_share)}"
        for row in top.head(3).itertuples()
    ]
    return (
        f"{region_name} has {total:,} customers with orders up to {as_of:%d %b %Y}; by revenue, "
        + "; ".join(parts)
        + "."
    )


def abc_sentence(abc_customers: pd.DataFrame | None) -> str:
    """How concentrated revenue is: the A customers' count and share."""
    if abc_customers is None or abc_customers.empty:
        return "There is no revenue to rank customers by."
    a = abc_customers[abc_customers["abc_class"] == "A"]
    share = float(a["share"].sum())
    return (
        f"{len(a):,} A customers ({narrative.format_pct(len(a) / len(abc_customers))} of "
        f"customers) bring {narrative.format_pct(share)} of revenue."
    )


def cluster_sentence(found: ClusterResult) -> str:
    """How many behavioural clusters, how k was chosen, and the top cluster by revenue."""
    if found.k <= 1 or found.profiles.empty:
        return found.note or "The customers form one behavioural group."
    how = {
        "silhouette": "chosen automatically by silhouette",
        "given": "as requested",
    }.get(found.method, found.method)
    top = found.profiles.iloc[0]
    return (
        f"Customers fall into {found.k} behavioural clusters ({how}); the largest by revenue, "
        f"{top['cluster_name']}, has {narrative.format_pct(top['account_share'])} of customers "
        f"and {narrative.format_pct(top['revenue_share'])} of revenue."
    )


def migration_sentence(migration: MigrationResult | None, compare_to: dt.date | None) -> str:
    """The biggest migrations since the earlier snapshot, or why there are none."""
    if compare_to is None:
        return "There is no earlier snapshot to compare with, so no migration is shown."
    if migration is None:
        return f"The snapshot of {compare_to:%d %b %Y} has no data for this region to compare with."
    moves = biggest_moves(migration)
    if moves.empty:
        return f"No customer changed segment since {compare_to:%d %b %Y}."
    parts = [
        f"{row.segment_before} to {row.segment_after} ({_customers(int(row.customers))}, "
        f"{narrative.format_money(row.revenue)})"
        for row in moves.itertuples()
    ]
    return f"Since {compare_to:%d %b %Y} the biggest moves were " + " and ".join(parts) + "."


def risk_sentence(save: pd.DataFrame, migration: MigrationResult | None) -> str:
    """Money at risk: the Save list's yearly revenue at stake and valuable customers slipping."""
    at_stake = float(save["revenue_at_stake"].sum()) if len(save) else 0.0
    text = (
        f"{len(save):,} high-value customers are at risk, with "
        f"{narrative.format_money(at_stake)} of yearly revenue at stake"
    )
    if migration is not None:
        slipping = len(migration.valuable_at_risk)
        text += (
            f"; {slipping:,} of the most valuable customers moved into a risk segment since the "
            "last snapshot"
        )
    return text + "."


def clv_sentence(clv: ClvOutcome) -> str:
    """Total expected 12-month value and its concentration, or why there is none."""
    if clv.table is None:
        return clv.note
    values = clv.table["clv"].sort_values(ascending=False)
    total = float(values.sum())
    top_tenth = float(values.head(max(1, len(values) // 10)).sum())
    return (
        f"Expected spend over the next {CLV_MONTHS} months (CLV) totals "
        f"{narrative.format_money(total)}; the top 10% of customers hold "
        f"{narrative.format_pct(top_tenth / total if total else None)} of it."
    )


def summary_sentences(report: SegmentationReport) -> list[str]:
    """The executive summary as plain sentences (names not escaped)."""
    context = report.context
    return [
        segment_sentence(report.segments, context.region_name, context.as_of),
        abc_sentence(report.result.abc_customers),
        cluster_sentence(report.clusters),
        clv_sentence(report.clv),
        migration_sentence(report.migration, report.compare_to),
        risk_sentence(report.save_list, report.migration),
    ]


def executive_summary(report: SegmentationReport) -> narrative.Html:
    """The executive summary, every sentence escaped."""
    return html_list(summary_sentences(report))


METHOD_NOTES: tuple[str, ...] = (
    "RFM: recency (days since the last order), frequency (distinct orders) and monetary value "
    "(revenue) up to the snapshot date, scored 1-5 by quintile (5 best, ties broken by account "
    "id); segments come from the rules table in the RFM section (first matching rule wins).",
    "ABC: customers and products ranked by revenue; A until 80% of revenue is reached, B until "
    "95%, C after; the item that crosses a cut-off keeps the better class.",
    "Clusters: per customer, RFM, tenure, share of order lines per product family, mean line "
    "discount and 12-month growth ((last - prior) / (last + prior)); recency, frequency and "
    "revenue log-transformed, everything standardised. k-means (k = 2..8, fixed seed) picks k by "
    "silhouette; a Gaussian mixture picks k by BIC as a check. Clusters are numbered by revenue "
    "share and named after the two features that set them apart most.",
    "CLV: BG/NBD (repeat purchasing) and Gamma-Gamma (spend per purchase), fitted by maximum "
    "likelihood on the order book in weeks; expected spend over 12 months discounted at 1% a "
    "month. Purchases on one day count as one transaction. No CLV with fewer than "
    f"{MIN_CLV_CUSTOMERS} customers or {MIN_REPEAT_CUSTOMERS} repeat buyers, or when a fit fails.",
    "Migration: RFM segments at the earlier snapshot against this one; the most valuable fifth "
    "of customers (by revenue at the earlier snapshot) moving into At risk, Can't lose, "
    "Hibernating or Lost are listed.",
    "Save list: top-40% spenders in At risk, Can't lose or Hibernating, by the larger of their "
    "last-12-month and prior-12-month revenue. Grow list: Champions, Loyal, Potential or New "
    "customers whose last 12 months beat the prior 12, by the increase. Five per rep and list.",
    "Where the numbers come from: everything is computed once per snapshot in the analytics "
    "store, over this report's customers alone (a region's customers among themselves), with "
    "the number of clusters chosen automatically and the migration against the previous weekly "
    "snapshot. A number of clusters or an earlier snapshot given as a parameter is computed "
    "when the report runs.",
)
"""The method notes every segmentation report ends with."""


def method_notes(report: SegmentationReport) -> list[str]:
    """The method notes, plus what this report computed when it ran."""
    notes = list(METHOD_NOTES)
    if "clusters" in report.computed_now:
        notes.append(
            f"This report asked for {report.clusters.k} clusters, so its clusters were computed "
            "when it ran (the analytics store holds the automatic choice)."
        )
    if "migration" in report.computed_now and report.compare_to is not None:
        notes.append(
            f"This report compares with the snapshot of {report.compare_to:%d %b %Y}, so its "
            "migration was computed when it ran (the analytics store holds the migration since "
            "the previous weekly snapshot)."
        )
    return notes


def method_appendix(report: SegmentationReport) -> narrative.Html:
    """The method notes, as an escaped list."""
    return html_list(method_notes(report), "method")


def headline_numbers(report: SegmentationReport) -> dict[str, Any]:
    """The report's headline numbers (plain JSON values)."""
    segments = report.segments.set_index("segment")
    champions = (
        segments.loc["Champions", "revenue_share"] if "Champions" in segments.index else None
    )
    clv_total = None if report.clv.table is None else round(float(report.clv.table["clv"].sum()), 2)
    at_stake = float(report.save_list["revenue_at_stake"].sum()) if len(report.save_list) else 0.0
    return {
        **headline_base(report.context),
        "compare_to": None if report.compare_to is None else report.compare_to.isoformat(),
        "customers": len(report.rfm),
        "clusters": report.clusters.k,
        "champions_revenue_share": None
        if champions is None or pd.isna(champions)
        else round(float(champions), 4),
        "customers_at_risk": len(report.save_list),
        "revenue_at_stake": round(at_stake, 2),
        "clv_12m_total": clv_total,
    }


def headlines(report: SegmentationReport) -> Headlines:
    """The headline numbers as a display for the cell tagged ``headlines``."""
    return Headlines(headline_numbers(report))


def provenance(
    report: SegmentationReport, region: str, as_of: str, compare_to: str, n_clusters: int
) -> narrative.Html:
    """The provenance block: snapshot(s), parameters, code version, run time, command."""
    return report_provenance(
        report.context,
        NOTEBOOK,
        {"region": region, "as_of": as_of, "compare_to": compare_to, "n_clusters": n_clusters},
        compared_with=report.compare_to,
    )
