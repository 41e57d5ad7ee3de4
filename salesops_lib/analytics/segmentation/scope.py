"""Every segmentation result of one scope (the company or one region), computed together.

:func:`segment_scope` is what the analytics store runs once per scope and what an analyst calls
on any order book: RFM scores and segments, 12-month revenue windows, ABC classes of customers
and products, behavioural clusters (k chosen automatically unless given), customer lifetime
value, and the segment migration since an earlier order book.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from salesops_lib.analytics.segmentation.abc import abc_classes
from salesops_lib.analytics.segmentation.clusters import ClusterResult, cluster_accounts
from salesops_lib.analytics.segmentation.clv import ClvOutcome, fit_clv
from salesops_lib.analytics.segmentation.features import features_from_totals
from salesops_lib.analytics.segmentation.migration import MigrationResult, segment_migration
from salesops_lib.analytics.segmentation.rfm import rfm_scores, rfm_table
from salesops_lib.analytics.segmentation.totals import OrderBookTotals, order_book_totals

BOOKING_COLUMNS: tuple[str, ...] = (
    "account_id", "order_id", "order_date", "amount", "discount", "product_id", "product_family",
)  # fmt: skip
"""Columns of ``fct_bookings`` a scope's order book holds."""

RFM_COLUMNS: list[str] = [
    "account_id", "first_order_date", "last_order_date", "recency_days", "frequency",
    "monetary", "r_score", "f_score", "m_score", "rfm_code", "segment",
]  # fmt: skip
"""Columns of :func:`~salesops_lib.analytics.segmentation.rfm.rfm_table`."""


@dataclass(frozen=True)
class ScopeSegmentation:
    """Every segmentation result of one scope.

    Attributes:
        scope: ``all`` or a region id.
        as_of: The date the results describe.
        customers: One row per customer (an account with an order up to ``as_of``), sorted by
            account_id: the :func:`~salesops_lib.analytics.segmentation.rfm.rfm_table` columns,
            last_12m and prior_12m (revenue in the 365 days ending on ``as_of`` and the 365
            before), cluster (1..k) and cluster_name.
        abc_customers: ABC classes of customers by revenue (``abc_classes`` on account_id), or
            None when there is no revenue.
        abc_products: ABC classes of products by revenue, or None.
        clusters: The behavioural clusters.
        clv: The lifetime-value fit.
        compare_to: The earlier order book's date, or None when there is none.
        migration: Segment migration since ``compare_to``, or None when there is no earlier
            order book for this scope.
    """

    scope: str
    as_of: dt.date
    customers: pd.DataFrame
    abc_customers: pd.DataFrame | None
    abc_products: pd.DataFrame | None
    clusters: ClusterResult
    clv: ClvOutcome
    compare_to: dt.date | None
    migration: MigrationResult | None

    @property
    def rfm(self) -> pd.DataFrame:
        """The RFM table (the ``rfm_table`` columns of :attr:`customers`)."""
        return self.customers[RFM_COLUMNS].copy()


def migration_since(
    rfm: pd.DataFrame, previous_bookings: pd.DataFrame, compare_to: dt.date
) -> MigrationResult:
    """Segment migration from an earlier order book to the customers of ``rfm``.

    Args:
        rfm: The RFM table now.
        previous_bookings: The scope's order book at ``compare_to``.
        compare_to: The earlier date.

    Returns:
        The migration (RFM at ``compare_to`` on the earlier order book against ``rfm``).
    """
    return segment_migration(rfm_table(previous_bookings, compare_to), rfm)


def segment_scope(
    scope: str,
    bookings: pd.DataFrame,
    as_of: dt.date,
    previous_bookings: pd.DataFrame | None = None,
    compare_to: dt.date | None = None,
    n_clusters: int = 0,
) -> ScopeSegmentation:
    """Run every segmentation analysis on one scope's order book.

    Args:
        scope: ``all`` or a region id (recorded only).
        bookings: The scope's ``fct_bookings`` rows (:data:`BOOKING_COLUMNS`, order_date
            datetime64, amount and discount float).
        as_of: The date the results describe.
        previous_bookings: The scope's order book at ``compare_to`` (None: no migration).
        compare_to: The earlier order book's date.
        n_clusters: Number of clusters; 0 chooses it automatically.

    Returns:
        The results.

    Raises:
        ParameterError: The order book is not usable.
    """
    previous = None
    if compare_to is not None and previous_bookings is not None:
        previous = rfm_table(previous_bookings, compare_to)
    return segment_totals(
        scope, order_book_totals(bookings, as_of), as_of, previous, compare_to, n_clusters
    )


def segment_totals(
    scope: str,
    totals: OrderBookTotals,
    as_of: dt.date,
    previous_rfm: pd.DataFrame | None = None,
    compare_to: dt.date | None = None,
    n_clusters: int = 0,
) -> ScopeSegmentation:
    """:func:`segment_scope` from an order book's totals (what the analytics store runs).

    Args:
        scope: ``all`` or a region id (recorded only).
        totals: The scope's order-book totals at ``as_of``.
        as_of: The date the results describe.
        previous_rfm: The RFM table of the scope at ``compare_to`` (None: no migration).
        compare_to: The earlier order book's date.
        n_clusters: Number of clusters; 0 chooses it automatically.

    Returns:
        The results.

    Raises:
        ParameterError: The totals are not usable.
    """
    rfm = rfm_scores(totals.accounts, as_of)
    has_revenue = totals.has_lines and float(totals.product_amounts["amount"].sum()) > 0
    features = features_from_totals(totals.accounts, totals.family_lines, as_of)
    found = cluster_accounts(features, n_clusters)
    windows = totals.accounts[["account_id", "last_12m", "prior_12m"]]
    customers = rfm.merge(windows, "left", "account_id").merge(
        found.assignments[["account_id", "cluster", "cluster_name"]], "left", "account_id"
    )
    abc_customers = abc_products = None
    if has_revenue:
        abc_customers = abc_classes(totals.account_amounts, "account_id")
        abc_products = abc_classes(totals.product_amounts, "product_id")
    migration = None
    if compare_to is not None and previous_rfm is not None:
        migration = segment_migration(previous_rfm, rfm)
    return _object_text(
        ScopeSegmentation(
            scope=scope,
            as_of=as_of,
            customers=customers,
            abc_customers=abc_customers,
            abc_products=abc_products,
            clusters=found,
            clv=fit_clv(totals.daily, as_of),
            compare_to=compare_to,
            migration=migration,
        )
    )


T = TypeVar("T")


def _object_text(value: T) -> T:
    """``value`` with every text column of its frames as plain Python strings (``object``).

    An order book may arrive with Arrow-backed text (compact at millions of lines); the results
    are per customer or product and small, and keep one dtype whatever the input's storage.
    """
    if isinstance(value, pd.DataFrame):
        text = [c for c, kind in value.dtypes.items() if isinstance(kind, pd.StringDtype)]
        return value.astype(dict.fromkeys(text, object)) if text else value  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            field.name: _object_text(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if isinstance(getattr(value, field.name), pd.DataFrame)
            or dataclasses.is_dataclass(getattr(value, field.name))
        }
        return dataclasses.replace(value, **changes) if changes else value
    return value
