"""The segmentation report's tables and lists: what its table cells display (names escaped)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation.clv import CLV_MONTHS
from salesops_lib.analytics.segmentation.rfm import RFM_SEGMENT_RULES
from salesops_lib.reports import charts, narrative
from salesops_lib.reports.base import needs
from salesops_lib.reports.segmentation.load import BOOKINGS_NEEDS, SegmentationReport
from salesops_lib.reports.segmentation.summary import (
    cluster_sentence,
    html_list,
    migration_sentence,
    paragraph,
)

TOP_CUSTOMERS = 10
"""Customers in the top-CLV table and the slipping-customers list."""


def segment_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Customers and revenue per RFM segment, with the suggested action."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the customer segments")
    if gap is not None:
        return gap
    return charts.format_table(
        report.segments,
        money=["revenue"],
        pct=["customer_share", "revenue_share"],
        counts=["customers"],
        labels={
            "segment": "Segment",
            "customers": "Customers",
            "customer_share": "Share of customers",
            "revenue": "Revenue",
            "revenue_share": "Share of revenue",
            "suggested_action": "Suggested action",
        },
    )


def rfm_rules_table() -> charts.DisplayTable:
    """The RFM segment rules, one row per segment."""
    rules = RFM_SEGMENT_RULES.assign(
        recency=lambda f: f["r_min"].astype(str) + "-" + f["r_max"].astype(str),
        frequency=lambda f: f["f_min"].astype(str) + "-" + f["f_max"].astype(str),
    )
    return charts.format_table(
        rules[["segment", "recency", "frequency", "description", "suggested_action"]],
        labels={
            "segment": "Segment",
            "recency": "R score",
            "frequency": "F score",
            "description": "Who",
            "suggested_action": "Suggested action",
        },
    )


def abc_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Count and revenue share of A, B and C customers and products."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the ABC classes")
    if gap is not None:
        return gap
    if report.result.abc_customers is None or report.result.abc_products is None:
        return paragraph("There is no revenue to classify.")
    rows = []
    for what, frame in (
        ("Customers", report.result.abc_customers),
        ("Products", report.result.abc_products),
    ):
        for label in ("A", "B", "C"):
            part = frame[frame["abc_class"] == label]
            rows.append(
                (what, label, len(part), len(part) / len(frame), float(part["share"].sum()))
            )
    table = pd.DataFrame(
        rows, columns=["items", "abc_class", "count", "count_share", "revenue_share"]
    )
    return charts.format_table(
        table,
        pct=["count_share", "revenue_share"],
        counts=["count"],
        labels={
            "items": "Ranked",
            "abc_class": "Class",
            "count": "Count",
            "count_share": "Share of count",
            "revenue_share": "Share of revenue",
        },
    )


def cluster_selection_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Silhouette (k-means) and BIC (Gaussian mixture) per k, with each model's choice."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the choice of the number of clusters")
    if gap is not None:
        return gap
    found = report.clusters
    if found.selection is None:
        reason = found.note or f"The number of clusters was given: {found.k}."
        return paragraph(reason)
    scores = found.selection.scores
    table = pd.DataFrame(
        {
            "k": scores["k"].astype(str),
            "silhouette": scores["silhouette"].map(lambda v: "n/a" if np.isnan(v) else f"{v:.3f}"),
            "bic": scores["bic"].map(lambda v: "n/a" if np.isnan(v) else f"{v:,.0f}"),
            "choice": [
                ", ".join(
                    name
                    for name, chosen in (
                        ("k-means (used)", found.selection.kmeans_k),
                        ("Gaussian mixture", found.selection.gmm_k),
                    )
                    if chosen == k
                )
                for k in scores["k"]
            ],
        }
    )
    return charts.DisplayTable(
        table.rename(
            columns={"silhouette": "Silhouette (higher is better)", "bic": "BIC (lower is better)"}
        )
    )


def cluster_notes(report: SegmentationReport) -> narrative.Html:
    """How the clusters were chosen, agreement with the mixture, and any fallback."""
    found = report.clusters
    sentences = [cluster_sentence(found)]
    if found.gmm_agreement is not None:
        sentences.append(
            f"A Gaussian mixture with the same k agrees with the k-means clusters at an adjusted "
            f"Rand index of {found.gmm_agreement:.2f} (1 = identical)."
        )
    if found.note and found.k > 1:
        sentences.append(found.note)
    return html_list(sentences, "notes")


def cluster_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Per cluster: size, revenue share and a few average features."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the cluster table")
    if gap is not None:
        return gap
    profiles = report.clusters.profiles
    columns = [
        "cluster_name", "accounts", "account_share", "revenue", "revenue_share", "recency_days",
        "frequency", "discount_depth", "growth",
    ]  # fmt: skip
    table = profiles[columns].assign(
        recency_days=profiles["recency_days"].round(0).astype("int64").astype(str),
        frequency=profiles["frequency"].map(lambda v: f"{v:.1f}"),
        discount_depth=profiles["discount_depth"].map(narrative.format_pct),
        growth=profiles["growth"].map(lambda v: f"{v:+.2f}"),
    )
    return charts.format_table(
        table,
        money=["revenue"],
        pct=["account_share", "revenue_share"],
        counts=["accounts"],
        labels={
            "cluster_name": "Cluster",
            "accounts": "Customers",
            "account_share": "Share of customers",
            "revenue": "Revenue",
            "revenue_share": "Share of revenue",
            "recency_days": "Avg days since last order",
            "frequency": "Avg orders",
            "discount_depth": "Avg discount",
            "growth": "Avg growth (-1..+1)",
        },
    )


def cluster_descriptions(report: SegmentationReport) -> narrative.Html:
    """One sentence per cluster describing what sets it apart."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the cluster descriptions")
    if gap is not None:
        return gap
    return html_list(list(report.clusters.profiles["description"]), "clusters")


def clv_parameters(report: SegmentationReport) -> narrative.Html:
    """The fitted model parameters, or why there are none."""
    clv = report.clv
    if clv.bgnbd is None or clv.gamma_gamma is None:
        return paragraph(clv.note)
    b, g = clv.bgnbd, clv.gamma_gamma
    return html_list(
        [
            f"BG/NBD (weeks): r = {b.r:.3f}, alpha = {b.alpha:.3f}, a = {b.a:.3f}, b = {b.b:.3f}.",
            f"Gamma-Gamma: p = {g.p:.3f}, q = {g.q:.3f}, gamma = {g.gamma:.3f}.",
        ],
        "notes",
    )


def top_customers_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """The customers with the highest 12-month CLV (names escaped)."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the top customers by lifetime value")
    if gap is not None:
        return gap
    if report.clv.table is None:
        return paragraph(report.clv.note)
    top = report.customers.dropna(subset=["clv"]).sort_values(
        ["clv", "account_id"], ascending=[False, True], kind="stable"
    )
    top = top.head(TOP_CUSTOMERS)
    return charts.format_table(
        top[
            [
                "account_name",
                "rep_name",
                "segment",
                "cluster_name",
                "monetary",
                "probability_alive",
                "clv",
            ]
        ],
        money=["monetary", "clv"],
        pct=["probability_alive"],
        labels={
            "account_name": "Customer",
            "rep_name": "Owner",
            "segment": "Segment",
            "cluster_name": "Cluster",
            "monetary": "Revenue to date",
            "probability_alive": "P(active)",
            "clv": f"CLV {CLV_MONTHS}m",
        },
    )


def migration_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Customers per (segment before, segment after), or why there is no comparison."""
    gap = needs(report.context, BOOKINGS_NEEDS, "segment migration")
    if gap is not None:
        return gap
    if report.migration is None:
        return paragraph(migration_sentence(None, report.compare_to))
    counts = report.migration.counts
    table = counts.copy()
    table.insert(0, "From \\ to", counts.index.astype(str))
    return charts.format_table(table, counts=[str(c) for c in counts.columns])


def migration_summary(report: SegmentationReport) -> narrative.Html:
    """The migration sentence and the valuable customers who slipped into risk segments."""
    sentences = [migration_sentence(report.migration, report.compare_to)]
    if report.migration is not None:
        names = dict(
            zip(report.customers["account_id"], report.customers["account_name"], strict=True)
        )
        for row in report.migration.valuable_at_risk.head(TOP_CUSTOMERS).itertuples():
            sentences.append(
                f"{names.get(row.account_id, row.account_id)}: {row.segment_before} to "
                f"{row.segment_after} (revenue to date {narrative.format_money(row.value_before)})."
            )
    return html_list(sentences, "notes")


def action_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Save and Grow lists per owner rep with the numbers behind each (names escaped)."""
    gap = needs(report.context, BOOKINGS_NEEDS, "the save and grow action lists")
    if gap is not None:
        return gap
    actions = report.actions
    if actions.empty:
        return paragraph("No customer is on a Save or Grow list.")
    table = actions.drop(columns=["owner_rep_id", "account_id"]).assign(
        clv=actions["clv"].astype(float)
    )
    return charts.format_table(
        table,
        money=["last_12m", "prior_12m", "key_number", "clv"],
        counts=["recency_days", "frequency"],
        labels={
            "rep_name": "Owner",
            "action": "Action",
            "account_name": "Customer",
            "segment": "Segment",
            "cluster_name": "Cluster",
            "recency_days": "Days since last order",
            "frequency": "Orders",
            "last_12m": "Last 12m",
            "prior_12m": "Prior 12m",
            "key_number": "At stake / increase",
            "clv": f"CLV {CLV_MONTHS}m",
        },
    )
