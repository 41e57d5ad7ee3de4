"""Load the segmentation report: check parameters, read the region's slice of the store.

Every result comes from the analytics store (``an_*`` segmentation tables, built once per
snapshot; see :mod:`salesops_lib.analytics.segmentation.build`), read for the report's scope
only, so a regional report holds its region's customers only. Two parameters with a value other
than their default are computed when the report runs instead:

* ``n_clusters`` other than 0: the region's customers are clustered with that k;
* ``compare_to`` naming another snapshot than the previous one: the migration is computed
  against it.

The report then only joins names and owners, picks the action lists and formats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation.abc import concentration_curve
from salesops_lib.analytics.segmentation.actions import (
    action_lists,
    customer_table,
    grow_list,
    save_list,
)
from salesops_lib.analytics.segmentation.clusters import ClusterResult, cluster_accounts
from salesops_lib.analytics.segmentation.clv import ClvOutcome
from salesops_lib.analytics.segmentation.features import account_features
from salesops_lib.analytics.segmentation.migration import MigrationResult
from salesops_lib.analytics.segmentation.rfm import segment_summary
from salesops_lib.analytics.segmentation.scope import ScopeSegmentation, migration_since
from salesops_lib.analytics.segmentation.store_tables import TABLES, scope_from_tables
from salesops_lib.core.config import ALL_REGIONS, settings
from salesops_lib.core.errors import ParameterError
from salesops_lib.data.snapshot import snapshot_dates_before
from salesops_lib.reports.base import ReportContext, report_context, store_slice

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

NOTEBOOK = "30-segmentation"
MAX_CLUSTERS = 12
BOOKINGS_NEEDS: tuple[str, ...] = ("order_lines",)
"""Snapshot tables every section needs."""


@dataclass(frozen=True)
class SegmentationReport:
    """Everything the segmentation report shows.

    Attributes:
        context: The report's context (region, snapshot, empty tables).
        result: The region's segmentation (from the store, with any on-the-fly parts).
        segments: Customers and revenue per RFM segment (``segment_summary``).
        curve: Concentration curve of revenue over customers, or None without revenue.
        customers: One row per customer: RFM, 12-month windows, cluster, names, owner, CLV.
        save_list: High-value customers at risk.
        grow_list: Growth candidates.
        actions: The action lists per owner rep.
        computed_now: What was computed when the report ran instead of read from the store
            ("clusters", "migration").
    """

    context: ReportContext
    result: ScopeSegmentation
    segments: pd.DataFrame
    curve: pd.DataFrame | None
    customers: pd.DataFrame
    save_list: pd.DataFrame
    grow_list: pd.DataFrame
    actions: pd.DataFrame
    computed_now: tuple[str, ...] = ()

    @property
    def rfm(self) -> pd.DataFrame:
        """The RFM table of the region's customers."""
        return self.result.rfm

    @property
    def clusters(self) -> ClusterResult:
        """The behavioural clusters."""
        return self.result.clusters

    @property
    def clv(self) -> ClvOutcome:
        """The lifetime-value fit."""
        return self.result.clv

    @property
    def migration(self) -> MigrationResult | None:
        """The segment migration, or None."""
        return self.result.migration

    @property
    def compare_to(self) -> dt.date | None:
        """The earlier snapshot compared with, or None."""
        return self.result.compare_to


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


def _with_clusters(
    result: ScopeSegmentation, warehouse: Warehouse, n_clusters: int
) -> ScopeSegmentation:
    """The result with the region's customers clustered into ``n_clusters`` (on the fly)."""
    from salesops_lib.analytics.segmentation.build import scope_bookings

    bookings = scope_bookings(warehouse, result.scope)
    found = cluster_accounts(account_features(bookings, result.as_of), n_clusters)
    customers = result.customers.drop(columns=["cluster", "cluster_name"]).merge(
        found.assignments[["account_id", "cluster", "cluster_name"]], "left", "account_id"
    )
    return dataclasses.replace(result, clusters=found, customers=customers)


def _with_migration(
    result: ScopeSegmentation, snapshots_dir: Path, earlier: dt.date
) -> ScopeSegmentation:
    """The result with the migration since the snapshot of ``earlier`` (on the fly)."""
    from salesops_lib.analytics.segmentation.build import scope_bookings
    from salesops_lib.data.warehouse import Warehouse

    migration = None
    with Warehouse.open(earlier, snapshots_dir=snapshots_dir) as old:
        if result.scope == ALL_REGIONS or result.scope in old.region_ids():
            previous = scope_bookings(old, result.scope)
            migration = migration_since(result.rfm, previous, earlier)
    return dataclasses.replace(result, compare_to=earlier, migration=migration)


def load_report(
    warehouse: Warehouse,
    region: str,
    compare_to: str = "",
    n_clusters: int = 0,
    snapshots_dir: Path | None = None,
) -> SegmentationReport:
    """Check the remaining parameters and read everything the report shows.

    Args:
        warehouse: The open warehouse of the report's snapshot, its store built.
        region: Region id or ``all``.
        compare_to: Earlier snapshot date, or ``""`` for the previous one.
        n_clusters: 0 for automatic, else 2..:data:`MAX_CLUSTERS`.
        snapshots_dir: Snapshot folder; defaults to the configured one.

    Returns:
        The report.

    Raises:
        ParameterError: Bad ``compare_to`` or ``n_clusters``, or a region the store could not
            segment.
    """
    folder = Path(snapshots_dir or settings().snapshots_dir)
    n_clusters = check_n_clusters(n_clusters)
    context = report_context(warehouse, region)
    result = scope_from_tables({name: store_slice(warehouse, name, context) for name in TABLES})
    computed_now: list[str] = []
    if compare_to:
        earlier = resolve_compare_to(folder, context.as_of, compare_to)
        if earlier is not None and earlier != result.compare_to:
            result = _with_migration(result, folder, earlier)
            computed_now.append("migration")
    if n_clusters:
        result = _with_clusters(result, warehouse, n_clusters)
        computed_now.append("clusters")
    accounts = region_accounts(warehouse, region)
    reps = warehouse.table("dim_reps", columns=["rep_id", "rep_name"])
    return report_from_result(context, result, accounts, reps, tuple(computed_now))


REGION_ACCOUNTS_SQL = """
WITH sold AS (
    SELECT account_id, rep_id, count(*) AS lines FROM fct_bookings
    WHERE region_id = ? GROUP BY account_id, rep_id
),
seller AS (
    SELECT account_id, rep_id FROM sold
    QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY lines DESC, rep_id) = 1
)
SELECT a.account_id, a.account_name, seller.rep_id AS owner_rep_id
FROM dim_accounts AS a JOIN seller USING (account_id)
ORDER BY a.account_id
"""


def region_accounts(warehouse: Warehouse, region: str) -> pd.DataFrame:
    """The customers of a region's report, with their name and the rep who owns them there.

    Bookings belong to the region of each order line, so a customer may buy in several regions:
    a region's customers are those with lines booked in it (whatever their home region), and
    the owner shown in a region is the rep with the most of the customer's lines booked there
    (ties: the smallest rep id). The company view lists every account once, with its owner.

    Args:
        warehouse: An open warehouse.
        region: Region id or ``all``.

    Returns:
        One row per customer: account_id, account_name, owner_rep_id; sorted by account_id.
    """
    if region == ALL_REGIONS:
        columns = ["account_id", "account_name", "owner_rep_id"]
        return warehouse.table("dim_accounts", columns=columns)
    return warehouse.query(REGION_ACCOUNTS_SQL, [region])


def report_from_result(
    context: ReportContext,
    result: ScopeSegmentation,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    computed_now: tuple[str, ...] = (),
) -> SegmentationReport:
    """The report of a region's segmentation: names and owners joined, the action lists picked.

    Args:
        context: The report's context.
        result: The region's segmentation.
        accounts: The region's customers (:func:`region_accounts`).
        reps: ``dim_reps`` rows (rep_id, rep_name).
        computed_now: What was computed when the report ran.

    Returns:
        The report.
    """
    customers = customer_table(result.customers, result.clv.table, accounts, reps)
    save, grow = save_list(customers), grow_list(customers)
    curve = None
    if result.abc_customers is not None:
        curve = concentration_curve(result.abc_customers, "account_id", "amount")
    return SegmentationReport(
        context=context,
        result=result,
        segments=segment_summary(result.rfm),
        curve=curve,
        customers=customers,
        save_list=save,
        grow_list=grow,
        actions=action_lists(save, grow),
        computed_now=computed_now,
    )
