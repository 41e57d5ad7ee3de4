"""The segmentation results of each scope as analytics-store tables, and back.

Every table has a ``scope`` column (``all`` or a region id: results computed over that scope's
order book alone); what one row is:

* ``an_customer_segments``: a customer of the scope (RFM columns, last_12m, prior_12m, cluster);
* ``an_abc_items``: a customer (``items = 'customers'``) or product (``'products'``) with its
  revenue rank, shares and ABC class;
* ``an_cluster_profiles``: a behavioural cluster (size, revenue, description);
* ``an_cluster_features``: a (cluster, feature) pair: the cluster's mean of the raw feature and
  of the scaled feature (its deviation from the average customer in standard deviations);
* ``an_cluster_selection``: a k tried by the automatic choice (silhouette, BIC);
* ``an_customer_values``: a customer's lifetime value inputs and predictions (scopes with a
  CLV fit only);
* ``an_segment_migration``: a (segment before, segment after) cell of the migration matrices;
* ``an_valuable_customers_at_risk``: a valuable customer who moved into a risk segment;
* ``an_segmentation_fits``: the scope itself: how k was chosen, the CLV parameters or why there
  are none, the earlier snapshot compared with, and an error when the scope could not be
  segmented.

:func:`scope_tables` writes one :class:`~salesops_lib.analytics.segmentation.scope.
ScopeSegmentation` as rows; :func:`scope_from_tables` rebuilds it exactly from a scope's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation.clusters import ClusterResult, ModelSelection
from salesops_lib.analytics.segmentation.clv import ClvOutcome
from salesops_lib.analytics.segmentation.clv_models import BGNBDParams, GammaGammaParams
from salesops_lib.analytics.segmentation.migration import MigrationResult
from salesops_lib.analytics.segmentation.scope import RFM_COLUMNS, ScopeSegmentation
from salesops_lib.core.errors import ParameterError

S, F, N, D = "string", "float64", "int64", "datetime64[ns]"
"""Dtypes of the schemas: text, float, whole number (N), timestamp."""
SCHEMAS: dict[str, dict[str, str]] = {
    "an_customer_segments": {
        "scope": S, "account_id": S, "first_order_date": D, "last_order_date": D,
        "recency_days": N, "frequency": N, "monetary": F, "r_score": N, "f_score": N,
        "m_score": N, "rfm_code": S, "segment": S, "last_12m": F, "prior_12m": F, "cluster": N,
        "cluster_name": S,
    },
    "an_abc_items": {
        "scope": S, "items": S, "rank": N, "item_id": S, "amount": F, "share": F,
        "cumulative_share": F, "cumulative_share_before": F, "abc_class": S,
    },
    "an_cluster_profiles": {
        "scope": S, "cluster": N, "cluster_name": S, "accounts": N, "account_share": F,
        "revenue": F, "revenue_share": F, "description": S,
    },
    "an_cluster_features": {
        "scope": S, "cluster": N, "feature_order": N, "feature": S, "mean": F, "deviation": F,
    },
    "an_cluster_selection": {"scope": S, "k": N, "silhouette": F, "bic": F},
    "an_customer_values": {
        "scope": S, "account_id": S, "first_purchase_date": D, "x": N, "t_x": F, "T": F,
        "zbar": F, "monetary": F, "probability_alive": F, "expected_purchases": F,
        "expected_average_spend": F, "clv": F,
    },
    "an_segment_migration": {
        "scope": S, "before_order": N, "after_order": N, "segment_before": S,
        "segment_after": S, "customers": N, "revenue": F,
    },
    "an_valuable_customers_at_risk": {
        "scope": S, "rank": N, "account_id": S, "segment_before": S, "segment_after": S,
        "value_before": F, "value_after": F,
    },
    "an_segmentation_fits": {
        "scope": S, "as_of": D, "compare_to": D, "has_migration": "bool", "customers": N,
        "clusters": N, "cluster_method": S, "k_selection": "bool", "kmeans_k": F, "gmm_k": F,
        "gmm_agreement": F, "cluster_note": S, "clv_customers": N, "clv_repeat_customers": N,
        "bgnbd_r": F, "bgnbd_alpha": F, "bgnbd_a": F, "bgnbd_b": F, "gamma_gamma_p": F,
        "gamma_gamma_q": F, "gamma_gamma_gamma": F, "clv_note": S, "error": S,
    },
}  # fmt: skip
"""Columns and dtypes of every segmentation table, in column order."""

TABLES: tuple[str, ...] = tuple(SCHEMAS)
"""The segmentation tables of the store."""

ABC_COLUMNS = [
    "amount",
    "rank",
    "share",
    "cumulative_share",
    "cumulative_share_before",
    "abc_class",
]
PROFILE_COLUMNS = ["cluster", "cluster_name", "accounts", "account_share", "revenue",
                   "revenue_share"]  # fmt: skip
VALUE_COLUMNS = list(SCHEMAS["an_customer_values"])[1:]
AT_RISK_COLUMNS = ["account_id", "segment_before", "segment_after", "value_before", "value_after"]


def typed(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the columns of ``table`` in order and their dtypes."""
    schema = SCHEMAS[table]
    return frame[list(schema)].astype(schema).reset_index(drop=True)


def empty_tables() -> dict[str, pd.DataFrame]:
    """Every segmentation table with no rows (typed)."""
    return {name: typed(name, pd.DataFrame(columns=list(SCHEMAS[name]))) for name in SCHEMAS}


def _abc_rows(scope: str, items: str, key: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame(columns=list(SCHEMAS["an_abc_items"]))
    return frame.rename(columns={key: "item_id"}).assign(scope=scope, items=items)


def _cluster_feature_rows(scope: str, found: ClusterResult) -> pd.DataFrame:
    profiles, deviations = found.profiles, found.deviations
    rows = [
        (scope, int(profiles["cluster"].iat[position]), order, feature,
         float(profiles[feature].iat[position]), float(deviations[feature].iat[position]))
        for position in range(len(profiles))
        for order, feature in enumerate(deviations.columns)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(SCHEMAS["an_cluster_features"]))


def _migration_rows(scope: str, migration: MigrationResult | None) -> pd.DataFrame:
    if migration is None:
        return pd.DataFrame(columns=list(SCHEMAS["an_segment_migration"]))
    rows = [
        (scope, i, j, before, after, migration.counts.iat[i, j], migration.revenue.iat[i, j])
        for i, before in enumerate(migration.counts.index)
        for j, after in enumerate(migration.counts.columns)
    ]
    return pd.DataFrame(rows, columns=list(SCHEMAS["an_segment_migration"]))


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def fits_row(
    result: ScopeSegmentation | None, scope: str, as_of: dt.date, error: str = ""
) -> pd.DataFrame:
    """The ``an_segmentation_fits`` row of a scope (``result`` None with an ``error``)."""
    found = None if result is None else result.clusters
    clv = None if result is None else result.clv
    b, g = (None, None) if clv is None else (clv.bgnbd, clv.gamma_gamma)
    selection = None if found is None else found.selection
    row = {
        "scope": scope,
        "as_of": pd.Timestamp(as_of),
        "compare_to": pd.Timestamp(result.compare_to) if result and result.compare_to else pd.NaT,
        "has_migration": bool(result is not None and result.migration is not None),
        "customers": 0 if result is None else len(result.customers),
        "clusters": 0 if found is None else found.k,
        "cluster_method": "" if found is None else found.method,
        "k_selection": selection is not None,
        "kmeans_k": _nan(selection.kmeans_k if selection else None),
        "gmm_k": _nan(selection.gmm_k if selection else None),
        "gmm_agreement": _nan(found.gmm_agreement if found else None),
        "cluster_note": "" if found is None else found.note,
        "clv_customers": 0 if clv is None else clv.customers,
        "clv_repeat_customers": 0 if clv is None else clv.repeat_customers,
        **{f"bgnbd_{n}": _nan(getattr(b, n) if b else None) for n in ("r", "alpha", "a", "b")},
        **{f"gamma_gamma_{n}": _nan(getattr(g, n) if g else None) for n in ("p", "q", "gamma")},
        "clv_note": "" if clv is None else clv.note,
        "error": error,
    }
    return pd.DataFrame([row])


def scope_tables(result: ScopeSegmentation) -> dict[str, pd.DataFrame]:
    """One scope's results as rows of every segmentation table (typed, scope column first)."""
    scope = result.scope
    found, clv, migration = result.clusters, result.clv, result.migration
    selection = found.selection.scores if found.selection is not None else None
    frames = {
        "an_customer_segments": result.customers.assign(scope=scope),
        "an_abc_items": pd.concat(
            [
                _abc_rows(scope, "customers", "account_id", result.abc_customers),
                _abc_rows(scope, "products", "product_id", result.abc_products),
            ]
        ),
        "an_cluster_profiles": found.profiles.reindex(
            columns=[*PROFILE_COLUMNS, "description"]
        ).assign(scope=scope),
        "an_cluster_features": _cluster_feature_rows(scope, found),
        "an_cluster_selection": (
            selection if selection is not None else pd.DataFrame(columns=["k", "silhouette", "bic"])
        ).assign(scope=scope),
        "an_customer_values": (
            clv.table if clv.table is not None else pd.DataFrame(columns=VALUE_COLUMNS)
        ).assign(scope=scope),
        "an_segment_migration": _migration_rows(scope, migration),
        "an_valuable_customers_at_risk": (
            migration.valuable_at_risk.assign(
                rank=np.arange(1, len(migration.valuable_at_risk) + 1)
            )
            if migration is not None
            else pd.DataFrame(columns=["rank", *AT_RISK_COLUMNS])
        ).assign(scope=scope),
        "an_segmentation_fits": fits_row(result, scope, result.as_of),
    }
    return {name: typed(name, frame) for name, frame in frames.items()}


# --- back from the store ---------------------------------------------------------------------


def _plain(frame: pd.DataFrame, table: str, drop: tuple[str, ...] = ("scope",)) -> pd.DataFrame:
    """Store rows as the analytics functions return them: typed, object strings, new index."""
    schema = {c: ("object" if t == S else t) for c, t in SCHEMAS[table].items()}
    return frame.astype(schema).drop(columns=list(drop)).reset_index(drop=True)


def _date(value: object) -> dt.date | None:
    return None if pd.isna(value) else pd.Timestamp(value).date()  # type: ignore[arg-type]


def _int_or_none(value: float) -> int | None:
    return None if pd.isna(value) else int(value)


def _abc(rows: pd.DataFrame, items: str, key: str) -> pd.DataFrame | None:
    part = rows[rows["items"] == items]
    if part.empty:
        return None
    part = _plain(part.sort_values("rank", kind="stable"), "an_abc_items", ("scope", "items"))
    return part.rename(columns={"item_id": key})[[key, *ABC_COLUMNS]]


def _clusters(
    tables: Mapping[str, pd.DataFrame], fit: pd.Series, customers: pd.DataFrame
) -> ClusterResult:
    profiles = _plain(tables["an_cluster_profiles"].sort_values("cluster"), "an_cluster_profiles")
    features = tables["an_cluster_features"].sort_values(["cluster", "feature_order"])
    means = features.pivot(index="cluster", columns="feature", values="mean")
    deviations = features.pivot(index="cluster", columns="feature", values="deviation")
    order = list(dict.fromkeys(features["feature"]))
    profiles = profiles[[*PROFILE_COLUMNS, "description"]]
    means = means.reindex(index=profiles["cluster"], columns=order).astype(float)
    wide = pd.concat(
        [profiles[PROFILE_COLUMNS], means.reset_index(drop=True), profiles[["description"]]],
        axis=1,
    )
    deviations = deviations.reindex(index=profiles["cluster"], columns=order).astype(float)
    deviations.index = pd.Index(list(profiles["cluster_name"]))
    deviations.columns = pd.Index(order)
    selection = None
    if bool(fit["k_selection"]):
        scores = _plain(tables["an_cluster_selection"].sort_values("k"), "an_cluster_selection")
        selection = ModelSelection(
            scores, _int_or_none(fit["kmeans_k"]), _int_or_none(fit["gmm_k"])
        )
    return ClusterResult(
        assignments=customers[["account_id", "cluster", "cluster_name"]].copy(),
        profiles=wide,
        deviations=deviations,
        selection=selection,
        k=int(fit["clusters"]),
        method=str(fit["cluster_method"]),
        gmm_agreement=None if pd.isna(fit["gmm_agreement"]) else float(fit["gmm_agreement"]),
        note=str(fit["cluster_note"]),
    )


def _clv(values: pd.DataFrame, fit: pd.Series) -> ClvOutcome:
    counts = int(fit["clv_customers"]), int(fit["clv_repeat_customers"])
    if pd.isna(fit["bgnbd_r"]):
        return ClvOutcome(None, None, None, *counts, str(fit["clv_note"]))
    bgnbd = BGNBDParams(*(float(fit[f"bgnbd_{n}"]) for n in ("r", "alpha", "a", "b")))
    spend = GammaGammaParams(*(float(fit[f"gamma_gamma_{n}"]) for n in ("p", "q", "gamma")))
    table = _plain(values.sort_values("account_id", kind="stable"), "an_customer_values")
    return ClvOutcome(table, bgnbd, spend, *counts, str(fit["clv_note"]))


def _migration(tables: Mapping[str, pd.DataFrame]) -> MigrationResult:
    cells = tables["an_segment_migration"]
    rows = list(dict.fromkeys(cells.sort_values("before_order")["segment_before"]))
    columns = list(dict.fromkeys(cells.sort_values("after_order")["segment_after"]))
    matrices = []
    for value, dtype in (("customers", "int64"), ("revenue", "float64")):
        matrix = cells.pivot(index="segment_before", columns="segment_after", values=value)
        matrix = matrix.reindex(index=rows, columns=columns).astype(dtype)
        matrix.index.name, matrix.columns.name = "segment_before", "segment_after"
        matrices.append(matrix)
    at_risk = tables["an_valuable_customers_at_risk"].sort_values("rank")
    at_risk = _plain(at_risk, "an_valuable_customers_at_risk", ("scope", "rank"))
    return MigrationResult(matrices[0], matrices[1], at_risk[AT_RISK_COLUMNS])


def scope_from_tables(tables: Mapping[str, pd.DataFrame]) -> ScopeSegmentation:
    """Rebuild one scope's results from its rows of every segmentation table.

    Args:
        tables: Table name -> the scope's rows (e.g. from ``store_slice``).

    Returns:
        The results, equal to those :func:`scope_tables` was given.

    Raises:
        ParameterError: The scope has no ``an_segmentation_fits`` row, or it records an error.
    """
    fits = tables["an_segmentation_fits"]
    if len(fits) != 1:
        raise ParameterError(f"the analytics store has {len(fits)} segmentation rows for a scope")
    fit = fits.iloc[0]
    if str(fit["error"]):
        raise ParameterError(f"segmentation of {fit['scope']!r} failed: {fit['error']}")
    customers = _plain(
        tables["an_customer_segments"].sort_values("account_id", kind="stable"),
        "an_customer_segments",
    )
    customers = customers[[*RFM_COLUMNS, "last_12m", "prior_12m", "cluster", "cluster_name"]]
    abc_rows = tables["an_abc_items"]
    return ScopeSegmentation(
        scope=str(fit["scope"]),
        as_of=_date(fit["as_of"]),  # type: ignore[arg-type]
        customers=customers,
        abc_customers=_abc(abc_rows, "customers", "account_id"),
        abc_products=_abc(abc_rows, "products", "product_id"),
        clusters=_clusters(tables, fit, customers),
        clv=_clv(tables["an_customer_values"], fit),
        compare_to=_date(fit["compare_to"]),
        migration=_migration(tables) if bool(fit["has_migration"]) else None,
    )
