"""Customer segmentation: pure functions from an order book to customer-level answers.

An *order book* is ``fct_bookings`` rows (account_id, order_id, order_date, amount, discount,
product_id, product_family); a *customer* is an account with an order up to the as-of date.
The entry points an analyst uses, and what one row or value of each result is:

* :func:`segment_scope`: everything below at once for one order book, as the analytics store
  computes it per scope (:class:`ScopeSegmentation`).
* :func:`rfm_table`: one row per customer: recency, frequency, monetary value, 1-5 scores and
  RFM segment. :func:`segment_summary`: one row per segment (customers, revenue, shares).
* :func:`abc_classes`: one row per item (customer or product): revenue, rank, shares, A/B/C.
  :func:`concentration_curve`: one row per number of top items (share of items, of revenue).
* :func:`account_features`: one row per customer: behavioural features.
  :func:`cluster_accounts`: a :class:`ClusterResult` (one row per customer with its cluster,
  one per cluster with its profile; k chosen by silhouette unless given).
* :func:`fit_clv`: a :class:`ClvOutcome` whose table has one row per customer with the
  expected spend over the next 12 months (CLV), or a note saying why there is none.
* :func:`segment_migration`: customers and revenue per (segment before, segment after) between
  two RFM tables, and the valuable customers who slipped into a risk segment.
  :func:`biggest_moves`: one row per move between two segments, largest revenue first.
* :func:`customer_table`, :func:`save_list`, :func:`grow_list`, :func:`action_lists`: one row
  per customer (names, owner, value), per customer to save or grow, per (rep, list, customer).

scikit-learn and scipy are imported only inside the fitting functions.
"""

from salesops_lib.analytics.segmentation.abc import abc_classes, concentration_curve
from salesops_lib.analytics.segmentation.actions import (
    action_lists,
    customer_table,
    grow_list,
    save_list,
)
from salesops_lib.analytics.segmentation.clusters import ClusterResult, cluster_accounts
from salesops_lib.analytics.segmentation.clv import ClvOutcome, fit_clv
from salesops_lib.analytics.segmentation.features import account_features
from salesops_lib.analytics.segmentation.migration import (
    MigrationResult,
    biggest_moves,
    segment_migration,
)
from salesops_lib.analytics.segmentation.rfm import rfm_table, segment_summary
from salesops_lib.analytics.segmentation.scope import ScopeSegmentation, segment_scope

__all__ = [
    "ClusterResult",
    "ClvOutcome",
    "MigrationResult",
    "ScopeSegmentation",
    "abc_classes",
    "account_features",
    "action_lists",
    "biggest_moves",
    "cluster_accounts",
    "concentration_curve",
    "customer_table",
    "fit_clv",
    "grow_list",
    "rfm_table",
    "save_list",
    "segment_migration",
    "segment_scope",
    "segment_summary",
]
