"""The customer segmentation report (``notebooks/30-segmentation.ipynb``): load, analyse, show.

Pure functions take frames and return new frames or sentences; :func:`load_segmentation` reads
the warehouse (the region's ``fct_bookings`` rows at ``as_of`` and at ``compare_to``,
``dim_accounts``, ``dim_reps``); :func:`build_report` runs every analysis once; the display
functions at the end return objects a notebook cell shows (escaped tables, PNG charts, HTML).

Definitions used throughout:

* A *customer* is an account with at least one order up to the as-of date. Orders belong to the
  region of the rep who sold them (the demo's accounts never buy across regions).
* *Last 12 months* / *prior 12 months*: the 365 days ending on the as-of date and the 365 days
  before (:func:`salesops_lib.analytics.segmentation.clusters.revenue_windows`).
* *High-value customers at risk* (the "Save" list): m_score >= :data:`HIGH_VALUE_M_SCORE` (top
  40% by spend) and an RFM segment in :data:`SAVE_SEGMENTS`. Their *yearly revenue at stake* is
  the larger of their last-12-month and prior-12-month revenue (what they brought in a year at
  their recent best); *money at risk* is its total.
* *Growth candidates* (the "Grow" list): customers in :data:`GROW_SEGMENTS` whose last-12-month
  revenue is above the prior 12 months; ranked by that increase.
* Action lists keep the top :data:`ACTIONS_PER_REP` customers per owner rep and list, ordered by
  rep name, list, then the list's ranking.
* CLV: BG/NBD + Gamma-Gamma fitted on the region's order book with weekly periods, 12-month
  horizon, 1% monthly discount (:mod:`salesops_lib.analytics.segmentation.clv`). With fewer than
  :data:`MIN_CLV_CUSTOMERS` customers or :data:`MIN_REPEAT_CUSTOMERS` repeat buyers, or when a
  fit fails, the report shows no CLV and says why.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation import clusters
from salesops_lib.analytics.segmentation.abc import abc_classes, concentration_curve
from salesops_lib.analytics.segmentation.clv import (
    BGNBDParams,
    GammaGammaParams,
    clv_table,
    fit_bgnbd,
    fit_gamma_gamma,
    summary_from_orders,
)
from salesops_lib.analytics.segmentation.migration import (
    GONE,
    NEW_CUSTOMER,
    MigrationResult,
    segment_migration,
)
from salesops_lib.analytics.segmentation.rfm import RFM_SEGMENT_RULES, rfm_table, segment_summary
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.snapshot import snapshot_dates_before
from salesops_lib.reports import charts, missing_data, narrative
from salesops_lib.reports import segmentation_charts as seg_charts
from salesops_lib.reports.base import Headlines
from salesops_lib.reports.base import open_report_warehouse as open_report_warehouse
from salesops_lib.reports.provenance import provenance as report_provenance

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse


BOOKING_COLUMNS: list[str] = [
    "account_id", "order_id", "order_date", "amount", "discount", "product_id", "product_family",
]  # fmt: skip
"""Columns of ``fct_bookings`` the report reads."""

HIGH_VALUE_M_SCORE = 4
SAVE_SEGMENTS: tuple[str, ...] = ("At risk", "Can't lose", "Hibernating")
GROW_SEGMENTS: tuple[str, ...] = ("Champions", "Loyal", "Potential", "New")
ACTIONS_PER_REP = 5
MIN_CLV_CUSTOMERS = 30
MIN_REPEAT_CUSTOMERS = 10
CLV_MONTHS = 12
MAX_CLUSTERS = 12
TOP_CUSTOMERS = 10


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentationData:
    """Everything the segmentation report reads from the warehouse.

    Attributes:
        region: Region id or ``all``.
        region_name: Display name (untrusted text).
        as_of: The snapshot's as-of date.
        snapshot_id: The snapshot's id.
        snapshot_checksum: The snapshot's content checksum.
        compare_to: The earlier snapshot's date, or None when there is none.
        bookings: ``fct_bookings`` rows (:data:`BOOKING_COLUMNS`) of the region at ``as_of``.
        previous_bookings: The same at ``compare_to`` (None without an earlier snapshot, or
            when the region is not in it).
        accounts: ``dim_accounts`` rows (account_id, account_name, owner_rep_id) of the region.
        reps: ``dim_reps`` rows (rep_id, rep_name) of the whole snapshot.
        n_clusters: Requested number of clusters (0 = automatic).
        empty_tables: The snapshot's tables without rows (their sections say what is missing).
    """

    region: str
    region_name: str
    as_of: dt.date
    snapshot_id: str
    snapshot_checksum: str
    compare_to: dt.date | None
    bookings: pd.DataFrame
    previous_bookings: pd.DataFrame | None
    accounts: pd.DataFrame
    reps: pd.DataFrame
    n_clusters: int
    empty_tables: frozenset[str] = frozenset()


def resolve_compare_to(snapshots_dir: Path, as_of: dt.date, compare_to: str) -> dt.date | None:
    """The earlier snapshot to compare with.

    Args:
        snapshots_dir: Snapshot folder.
        as_of: The report's snapshot date.
        compare_to: ``YYYY-MM-DD`` of an earlier snapshot, or ``""`` for the one just before.

    Returns:
        The date, or None when ``compare_to`` is ``""`` and no earlier snapshot exists.

    Raises:
        ParameterError: ``compare_to`` names no snapshot, or one not before ``as_of``.
    """
    earlier = snapshot_dates_before(snapshots_dir, as_of)
    if not compare_to:
        return earlier[0] if earlier else None
    allowed = ", ".join(d.isoformat() for d in earlier[:10]) or "none"
    try:
        wanted = dt.date.fromisoformat(compare_to)
    except ValueError as exc:
        raise ParameterError(
            f"compare_to {compare_to!r} is not a date YYYY-MM-DD; snapshots before "
            f"{as_of.isoformat()}: {allowed} (or '' for the previous one)"
        ) from exc
    if wanted not in earlier:
        raise ParameterError(
            f"compare_to {compare_to!r}: no snapshot of that date before {as_of.isoformat()} "
            f"in {snapshots_dir}; available: {allowed} (or '' for the previous one)"
        )
    return wanted


def check_n_clusters(n_clusters: int) -> int:
    """Return ``n_clusters`` if it is 0 (automatic) or 2..:data:`MAX_CLUSTERS`.

    Raises:
        ParameterError: Any other value.
    """
    if (
        isinstance(n_clusters, bool)
        or not isinstance(n_clusters, int | np.integer)
        or not (n_clusters == 0 or 2 <= n_clusters <= MAX_CLUSTERS)
    ):
        raise ParameterError(
            f"n_clusters {n_clusters!r} is not allowed; use 0 (automatic) or 2 to {MAX_CLUSTERS}"
        )
    return int(n_clusters)


def _region_bookings(warehouse: Warehouse, region: str) -> pd.DataFrame:
    frame = warehouse.table("fct_bookings", region=region, columns=BOOKING_COLUMNS)
    return frame.assign(
        order_date=pd.to_datetime(frame["order_date"]).astype("datetime64[ns]"),
        amount=frame["amount"].astype(float),
        discount=frame["discount"].astype(float),
    )


def load_segmentation(
    warehouse: Warehouse,
    region: str,
    compare_to: str = "",
    n_clusters: int = 0,
    snapshots_dir: Path | None = None,
) -> SegmentationData:
    """Check the remaining parameters and read what the report needs.

    Args:
        warehouse: The open warehouse of the report's snapshot.
        region: Region id or ``all``.
        compare_to: Earlier snapshot date, or ``""`` for the previous one.
        n_clusters: 0 for automatic, else 2..:data:`MAX_CLUSTERS`.
        snapshots_dir: Snapshot folder; defaults to the configured one.

    Returns:
        The report's data.

    Raises:
        ParameterError: Bad ``compare_to`` or ``n_clusters``.
    """
    from salesops_lib.data.warehouse import Warehouse

    folder = Path(snapshots_dir or settings().snapshots_dir)
    n_clusters = check_n_clusters(n_clusters)
    snapshot = warehouse.snapshot
    earlier = resolve_compare_to(folder, snapshot.as_of, compare_to)
    previous = None
    if earlier is not None:
        with Warehouse.open(earlier, snapshots_dir=folder) as old:
            if region == ALL_REGIONS or region in old.region_ids():
                previous = _region_bookings(old, region)
    regions = warehouse.regions()
    names = dict(zip(regions["region_id"], regions["region_name"], strict=True))
    return SegmentationData(
        region=region,
        region_name="All regions" if region == ALL_REGIONS else str(names[region]),
        as_of=snapshot.as_of,
        snapshot_id=snapshot.snapshot_id,
        snapshot_checksum=snapshot.checksum,
        compare_to=earlier,
        bookings=_region_bookings(warehouse, region),
        previous_bookings=previous,
        accounts=warehouse.table(
            "dim_accounts", region=region, columns=["account_id", "account_name", "owner_rep_id"]
        ),
        reps=warehouse.table("dim_reps", columns=["rep_id", "rep_name"]),
        n_clusters=n_clusters,
        empty_tables=missing_data.empty_tables(snapshot),
    )


BOOKINGS_NEEDS: tuple[str, ...] = ("order_lines",)


# --- CLV -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClvOutcome:
    """The lifetime-value fit of a region, or why there is none.

    Attributes:
        table: One row per customer (summary_from_orders columns plus probability_alive,
            expected_purchases, expected_average_spend, clv), or None.
        bgnbd: Fitted BG/NBD parameters, or None.
        gamma_gamma: Fitted Gamma-Gamma parameters, or None.
        note: Why CLV is missing ("" when it is there).
    """

    table: pd.DataFrame | None
    bgnbd: BGNBDParams | None
    gamma_gamma: GammaGammaParams | None
    note: str


def fit_clv(bookings: pd.DataFrame, as_of: dt.date, months: int = CLV_MONTHS) -> ClvOutcome:
    """Fit BG/NBD and Gamma-Gamma on an order book (weekly periods) and predict CLV.

    Args:
        bookings: Order book (account_id, order_date, amount).
        as_of: End of the calibration period.
        months: CLV horizon.

    Returns:
        The predictions, or a note saying why there are none (too few customers or repeat
        buyers, or a fit that did not converge or has no finite mean spend).
    """
    if bookings.empty:
        return ClvOutcome(None, None, None, "No orders, so no lifetime value.")
    summary = summary_from_orders(bookings, as_of, period="W")
    repeaters = int((summary["x"] > 0).sum())
    if len(summary) < MIN_CLV_CUSTOMERS or repeaters < MIN_REPEAT_CUSTOMERS:
        return ClvOutcome(
            None,
            None,
            None,
            f"Only {len(summary)} customer(s), {repeaters} with repeat purchases: the lifetime "
            f"value models need at least {MIN_CLV_CUSTOMERS} customers and "
            f"{MIN_REPEAT_CUSTOMERS} repeat buyers, so no CLV is shown.",
        )
    try:
        bgnbd = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
        spend = fit_gamma_gamma(summary["x"], summary["zbar"])
        table = clv_table(summary, bgnbd, spend, months=months)
    except ParameterError as exc:
        return ClvOutcome(
            None, None, None, f"The lifetime value models could not be fitted: {exc}."
        )
    return ClvOutcome(table, bgnbd, spend, "")


# --- the analysis ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentationReport:
    """Every result the report shows, computed once by :func:`build_report`.

    Attributes:
        data: The loaded data.
        rfm: :func:`salesops_lib.analytics.segmentation.rfm.rfm_table` at as_of.
        segments: :func:`salesops_lib.analytics.segmentation.rfm.segment_summary` of ``rfm``.
        abc_customers: ABC classes of customers by revenue.
        abc_products: ABC classes of products by revenue.
        curve: Concentration curve of revenue over customers.
        clusters: The behavioural clusters.
        clv: The lifetime-value fit.
        migration: Segment migration since compare_to, or None.
        customers: One row per customer joining names, owner, RFM, 12-month windows, cluster,
            ABC class and CLV.
        save_list: High-value customers at risk (see the module docstring).
        grow_list: Growth candidates.
        actions: The action lists per owner rep.
    """

    data: SegmentationData
    rfm: pd.DataFrame
    segments: pd.DataFrame
    abc_customers: pd.DataFrame | None
    abc_products: pd.DataFrame | None
    curve: pd.DataFrame | None
    clusters: clusters.ClusterResult
    clv: ClvOutcome
    migration: MigrationResult | None
    customers: pd.DataFrame
    save_list: pd.DataFrame
    grow_list: pd.DataFrame
    actions: pd.DataFrame


def customer_table(
    rfm: pd.DataFrame,
    windows: pd.DataFrame,
    assignments: pd.DataFrame,
    abc_customers: pd.DataFrame | None,
    clv: pd.DataFrame | None,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
) -> pd.DataFrame:
    """One row per customer with everything the action lists need.

    Args:
        rfm: :func:`salesops_lib.analytics.segmentation.rfm.rfm_table` output.
        windows: :func:`salesops_lib.analytics.segmentation.clusters.revenue_windows` output.
        assignments: Cluster assignments (account_id, cluster_name).
        abc_customers: ABC classes by account_id (account_id, abc_class), or None.
        clv: CLV table (account_id, probability_alive, clv), or None.
        accounts: account_id, account_name, owner_rep_id.
        reps: rep_id, rep_name.

    Returns:
        The rfm rows (sorted by account_id) with account_name, owner_rep_id, rep_name,
        last_12m, prior_12m, cluster_name, abc_class, probability_alive and clv (NaN when no
        CLV); unknown names read "(unknown)".
    """
    table = rfm.merge(
        accounts[["account_id", "account_name", "owner_rep_id"]], "left", "account_id"
    )
    table = table.merge(
        reps[["rep_id", "rep_name"]].rename(columns={"rep_id": "owner_rep_id"}),
        "left",
        "owner_rep_id",
    )
    table = table.merge(windows, "left", "account_id")
    table = table.merge(assignments[["account_id", "cluster_name"]], "left", "account_id")
    abc = (
        abc_customers[["account_id", "abc_class"]]
        if abc_customers is not None
        else pd.DataFrame({"account_id": pd.Series([], dtype=object), "abc_class": []})
    )
    table = table.merge(abc, "left", "account_id")
    value = (
        clv[["account_id", "probability_alive", "clv"]]
        if clv is not None
        else pd.DataFrame(
            {"account_id": pd.Series([], dtype=object), "probability_alive": [], "clv": []}
        )
    )
    table = table.merge(
        value.astype({"probability_alive": float, "clv": float}), "left", "account_id"
    )
    return (
        table.assign(
            account_name=table["account_name"].fillna("(unknown)"),
            owner_rep_id=table["owner_rep_id"].fillna(""),
            rep_name=table["rep_name"].fillna("(unknown)"),
            last_12m=table["last_12m"].fillna(0.0),
            prior_12m=table["prior_12m"].fillna(0.0),
        )
        .sort_values("account_id", kind="stable")
        .reset_index(drop=True)
    )


def save_list(customers: pd.DataFrame) -> pd.DataFrame:
    """High-value customers at risk, largest yearly revenue at stake first (ties: account id).

    Args:
        customers: :func:`customer_table` output.

    Returns:
        The matching rows plus revenue_at_stake = max(last_12m, prior_12m).
    """
    chosen = customers[
        (customers["m_score"] >= HIGH_VALUE_M_SCORE) & customers["segment"].isin(SAVE_SEGMENTS)
    ]
    chosen = chosen.assign(revenue_at_stake=np.maximum(chosen["last_12m"], chosen["prior_12m"]))
    return chosen.sort_values(
        ["revenue_at_stake", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def grow_list(customers: pd.DataFrame) -> pd.DataFrame:
    """Growth candidates, largest 12-month revenue increase first (ties: account id).

    Args:
        customers: :func:`customer_table` output.

    Returns:
        The matching rows plus revenue_change = last_12m - prior_12m (> 0).
    """
    chosen = customers[
        customers["segment"].isin(GROW_SEGMENTS) & (customers["last_12m"] > customers["prior_12m"])
    ]
    chosen = chosen.assign(revenue_change=chosen["last_12m"] - chosen["prior_12m"])
    return chosen.sort_values(
        ["revenue_change", "account_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def action_lists(
    save: pd.DataFrame, grow: pd.DataFrame, per_rep: int = ACTIONS_PER_REP
) -> pd.DataFrame:
    """The top customers per owner rep in each list, with the numbers behind each.

    Args:
        save: :func:`save_list` output.
        grow: :func:`grow_list` output.
        per_rep: Customers kept per rep and list.

    Returns:
        rep_name, owner_rep_id, action ("Save" or "Grow"), account_id, account_name, segment,
        cluster_name, recency_days, frequency, last_12m, prior_12m, key_number (revenue at
        stake or revenue change), clv; sorted by rep name, rep id, action (Save first), rank.
    """
    columns = [
        "rep_name", "owner_rep_id", "action", "account_id", "account_name", "segment",
        "cluster_name", "recency_days", "frequency", "last_12m", "prior_12m", "key_number", "clv",
    ]  # fmt: skip
    parts = []
    for order, (action, frame, number) in enumerate(
        (("Save", save, "revenue_at_stake"), ("Grow", grow, "revenue_change"))
    ):
        ranked = frame.assign(
            action=action, action_order=order, key_number=frame[number], rank=np.arange(len(frame))
        )
        parts.append(ranked.groupby("owner_rep_id", sort=False).head(per_rep))
    joined = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    joined = joined.sort_values(
        ["rep_name", "owner_rep_id", "action_order", "rank"], kind="stable"
    ).reset_index(drop=True)
    return joined[columns]


def build_report(data: SegmentationData) -> SegmentationReport:
    """Run every analysis of the report once.

    Args:
        data: From :func:`load_segmentation`.

    Returns:
        The results.
    """
    bookings = data.bookings
    rfm = rfm_table(bookings, data.as_of)
    has_revenue = not bookings.empty and float(bookings["amount"].sum()) > 0
    abc_customers = abc_classes(bookings, "account_id") if has_revenue else None
    abc_products = abc_classes(bookings, "product_id") if has_revenue else None
    curve = concentration_curve(bookings, "account_id") if has_revenue else None
    features = clusters.account_features(bookings, data.as_of)
    found = clusters.cluster_accounts(features, data.n_clusters)
    clv = fit_clv(bookings, data.as_of)
    migration = None
    if data.compare_to is not None and data.previous_bookings is not None:
        before = rfm_table(data.previous_bookings, data.compare_to)
        migration = segment_migration(before, rfm)
    customers = customer_table(
        rfm,
        clusters.revenue_windows(bookings, data.as_of),
        found.assignments,
        abc_customers,
        clv.table,
        data.accounts,
        data.reps,
    )
    save, grow = save_list(customers), grow_list(customers)
    return SegmentationReport(
        data=data,
        rfm=rfm,
        segments=segment_summary(rfm),
        abc_customers=abc_customers,
        abc_products=abc_products,
        curve=curve,
        clusters=found,
        clv=clv,
        migration=migration,
        customers=customers,
        save_list=save,
        grow_list=grow,
        actions=action_lists(save, grow),
    )


# --- sentences -------------------------------------------------------------------------------


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


def cluster_sentence(found: clusters.ClusterResult) -> str:
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


def biggest_migrations(migration: MigrationResult, count: int = 2) -> pd.DataFrame:
    """The largest moves between different segments by revenue (ties: customers, then names).

    Args:
        migration: A :class:`~salesops_lib.analytics.segmentation.migration.MigrationResult`.
        count: How many moves to return.

    Returns:
        segment_before, segment_after, customers, revenue; moves of existing customers between
        two different segments only (not New customer or Gone), with at least one customer.
    """
    counts = migration.counts.stack().rename("customers")
    revenue = migration.revenue.stack().rename("revenue")
    moves = pd.concat([counts, revenue], axis=1).reset_index()
    moves = moves[
        (moves["segment_before"] != moves["segment_after"])
        & (moves["segment_before"] != NEW_CUSTOMER)
        & (moves["segment_after"] != GONE)
        & (moves["customers"] > 0)
    ]
    moves = moves.sort_values(
        ["revenue", "customers", "segment_before", "segment_after"],
        ascending=[False, False, True, True],
        kind="stable",
    )
    return moves.head(count).reset_index(drop=True)


def _customers(count: int) -> str:
    return f"{count:,} customer" + ("" if count == 1 else "s")


def migration_sentence(migration: MigrationResult | None, compare_to: dt.date | None) -> str:
    """The biggest migrations since the earlier snapshot, or why there are none."""
    if compare_to is None:
        return "There is no earlier snapshot to compare with, so no migration is shown."
    if migration is None:
        return f"The snapshot of {compare_to:%d %b %Y} has no data for this region to compare with."
    moves = biggest_migrations(migration)
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
    data = report.data
    return [
        segment_sentence(report.segments, data.region_name, data.as_of),
        abc_sentence(report.abc_customers),
        cluster_sentence(report.clusters),
        clv_sentence(report.clv),
        migration_sentence(report.migration, data.compare_to),
        risk_sentence(report.save_list, report.migration),
    ]


def _html_list(sentences: list[str], css: str = "summary") -> narrative.Html:
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return narrative.Html(f'<ul class="{css}">{items}</ul>')


def _paragraph(text: str) -> narrative.Html:
    return narrative.Html(f"<p>{html.escape(text)}</p>")


# --- what notebook cells display -------------------------------------------------------------


def executive_summary(report: SegmentationReport) -> narrative.Html:
    """The executive summary, every sentence escaped."""
    return _html_list(summary_sentences(report))


def segment_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Customers and revenue per RFM segment, with the suggested action."""
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "the customer segments"
    )
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


def rfm_grid_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """Customers per recency x frequency score cell."""
    gap = missing_data.section_gap(report.data.empty_tables, BOOKINGS_NEEDS, "the RFM grid")
    if gap is not None:
        return gap
    return charts.PngFigure(seg_charts.rfm_grid_heatmap(report.rfm, report.data.region_name))


def abc_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """The concentration curve of revenue over customers."""
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "the revenue concentration curve"
    )
    if gap is not None:
        return gap
    if report.curve is None or report.abc_customers is None:
        return _paragraph("There is no revenue, so there is no concentration curve.")
    return charts.PngFigure(seg_charts.abc_curve(report.curve, report.abc_customers))


def abc_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Count and revenue share of A, B and C customers and products."""
    gap = missing_data.section_gap(report.data.empty_tables, BOOKINGS_NEEDS, "the ABC classes")
    if gap is not None:
        return gap
    if report.abc_customers is None or report.abc_products is None:
        return _paragraph("There is no revenue to classify.")
    rows = []
    for what, frame in (("Customers", report.abc_customers), ("Products", report.abc_products)):
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
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "the choice of the number of clusters"
    )
    if gap is not None:
        return gap
    found = report.clusters
    if found.selection is None:
        reason = found.note or f"The number of clusters was given: {found.k}."
        return _paragraph(reason)
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
    return _html_list(sentences, "notes")


def cluster_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """Heatmap of each cluster's deviation from the average customer, per feature."""
    gap = missing_data.section_gap(report.data.empty_tables, BOOKINGS_NEEDS, "the cluster profiles")
    if gap is not None:
        return gap
    if report.clusters.k <= 1:
        return _paragraph("One group only, so there are no cluster profiles to compare.")
    return charts.PngFigure(seg_charts.cluster_profile_chart(report.clusters.deviations))


def cluster_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Per cluster: size, revenue share and a few average features."""
    gap = missing_data.section_gap(report.data.empty_tables, BOOKINGS_NEEDS, "the cluster table")
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
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "the cluster descriptions"
    )
    if gap is not None:
        return gap
    return _html_list(list(report.clusters.profiles["description"]), "clusters")


def clv_chart(report: SegmentationReport) -> charts.PngFigure | narrative.Html:
    """Distribution of customers' 12-month CLV, or why there is none."""
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "customer lifetime value"
    )
    if gap is not None:
        return gap
    if report.clv.table is None:
        return _paragraph(report.clv.note)
    return charts.PngFigure(seg_charts.clv_distribution(report.clv.table["clv"], CLV_MONTHS))


def clv_parameters(report: SegmentationReport) -> narrative.Html:
    """The fitted model parameters, or why there are none."""
    clv = report.clv
    if clv.bgnbd is None or clv.gamma_gamma is None:
        return _paragraph(clv.note)
    b, g = clv.bgnbd, clv.gamma_gamma
    return _html_list(
        [
            f"BG/NBD (weeks): r = {b.r:.3f}, alpha = {b.alpha:.3f}, a = {b.a:.3f}, b = {b.b:.3f}.",
            f"Gamma-Gamma: p = {g.p:.3f}, q = {g.q:.3f}, gamma = {g.gamma:.3f}.",
        ],
        "notes",
    )


def top_customers_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """The customers with the highest 12-month CLV (names escaped)."""
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "the top customers by lifetime value"
    )
    if gap is not None:
        return gap
    if report.clv.table is None:
        return _paragraph(report.clv.note)
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
    gap = missing_data.section_gap(report.data.empty_tables, BOOKINGS_NEEDS, "segment migration")
    if gap is not None:
        return gap
    if report.migration is None:
        return _paragraph(migration_sentence(None, report.data.compare_to))
    counts = report.migration.counts
    table = counts.copy()
    table.insert(0, "From \\ to", counts.index.astype(str))
    return charts.format_table(table, counts=[str(c) for c in counts.columns])


def migration_summary(report: SegmentationReport) -> narrative.Html:
    """The migration sentence and the valuable customers who slipped into risk segments."""
    sentences = [migration_sentence(report.migration, report.data.compare_to)]
    if report.migration is not None:
        names = dict(
            zip(report.customers["account_id"], report.customers["account_name"], strict=True)
        )
        for row in report.migration.valuable_at_risk.head(TOP_CUSTOMERS).itertuples():
            sentences.append(
                f"{names.get(row.account_id, row.account_id)}: {row.segment_before} to "
                f"{row.segment_after} (revenue to date {narrative.format_money(row.value_before)})."
            )
    return _html_list(sentences, "notes")


def action_table(report: SegmentationReport) -> charts.DisplayTable | narrative.Html:
    """Save and Grow lists per owner rep with the numbers behind each (names escaped)."""
    gap = missing_data.section_gap(
        report.data.empty_tables, BOOKINGS_NEEDS, "the save and grow action lists"
    )
    if gap is not None:
        return gap
    actions = report.actions
    if actions.empty:
        return _paragraph("No customer is on a Save or Grow list.")
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
    "month. Purchases on one day count as one transaction.",
    "Migration: RFM segments at the earlier snapshot against this one; the most valuable fifth "
    "of customers (by revenue at the earlier snapshot) moving into At risk, Can't lose, "
    "Hibernating or Lost are listed.",
    "Save list: top-40% spenders in At risk, Can't lose or Hibernating, by the larger of their "
    "last-12-month and prior-12-month revenue. Grow list: Champions, Loyal, Potential or New "
    "customers whose last 12 months beat the prior 12, by the increase. Five per rep and list.",
)


def method_appendix() -> narrative.Html:
    """The method notes, as an escaped list."""
    return _html_list(list(METHOD_NOTES), "method")


# --- headlines and provenance ----------------------------------------------------------------


def headline_numbers(report: SegmentationReport) -> dict[str, Any]:
    """The report's headline numbers (plain JSON values)."""
    data = report.data
    segments = report.segments.set_index("segment")
    champions = (
        segments.loc["Champions", "revenue_share"] if "Champions" in segments.index else None
    )
    clv_total = None if report.clv.table is None else round(float(report.clv.table["clv"].sum()), 2)
    at_stake = float(report.save_list["revenue_at_stake"].sum()) if len(report.save_list) else 0.0
    return {
        "region": data.region,
        "region_name": data.region_name,
        "snapshot_id": data.snapshot_id,
        "snapshot_checksum": data.snapshot_checksum,
        "compare_to": None if data.compare_to is None else data.compare_to.isoformat(),
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
    data = report.data
    return report_provenance(
        "30-segmentation",
        data.region,
        data.snapshot_id,
        data.snapshot_checksum,
        {"region": region, "as_of": as_of, "compare_to": compare_to, "n_clusters": n_clusters},
        compared_with=data.compare_to,
    )
