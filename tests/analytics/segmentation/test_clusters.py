"""Behavioural clusters: features worked out by hand, scaling, model selection, stable names.

Hand-made order book, as of 2025-12-31 (2024 is a leap year):

=====  ===============================================================  =====================
acct   orders (family, amount, discount per line)                        worked features
=====  ===============================================================  =====================
A      O1 2025-12-01: Hardware 100 @0.1, Software 300 @0.3               recency 30, freq 2,
       O2 2024-06-01: Hardware 200 @0.2                                  monetary 600, tenure
                                                                         578, discount 0.2,
                                                                         last 400 / prior 200
                                                                         -> growth 1/3, shares
                                                                         Hardware 2/3, Software
                                                                         1/3
B      O3 2025-12-31: Subscriptions 50 @0.0; O4 2026-01-05 (Training,   recency 0, freq 1,
       after as_of, ignored)                                             monetary 50, tenure 0,
                                                                         growth 1, Subscriptions
                                                                         1
C      O5 2023-06-01: Hardware 80 @0.05                                  recency 944 = tenure,
                                                                         growth 0 (no revenue
                                                                         in either window)
=====  ===============================================================  =====================

Tenure of A: 2024-06-01 -> 2025-06-01 is 365 days, -> 2025-12-01 183 more, -> 12-31 30 more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from salesops_lib.analytics.segmentation import clusters
from salesops_lib.analytics.segmentation import features as feature_module
from salesops_lib.core.errors import ParameterError

AS_OF = "2025-12-31"


def _book() -> pd.DataFrame:
    rows = [
        ("A", "O1", "2025-12-01", 100.0, 0.1, "Hardware"),
        ("A", "O1", "2025-12-01", 300.0, 0.3, "Software"),
        ("A", "O2", "2024-06-01", 200.0, 0.2, "Hardware"),
        ("B", "O3", "2025-12-31", 50.0, 0.0, "Subscriptions"),
        ("B", "O4", "2026-01-05", 999.0, 0.5, "Training"),
        ("C", "O5", "2023-06-01", 80.0, 0.05, "Hardware"),
    ]
    frame = pd.DataFrame(rows, columns=list(feature_module.BOOKING_COLUMNS))
    return frame.assign(order_date=pd.to_datetime(frame["order_date"]))


def test_account_features_match_the_worked_values() -> None:
    features = feature_module.account_features(_book(), AS_OF).set_index("account_id")
    assert list(features.columns) == [
        *feature_module.BASE_FEATURES, "share_Hardware", "share_Software", "share_Subscriptions",
    ]  # fmt: skip
    expected = {
        "A": [30, 2, 600, 578, 0.2, 1 / 3, 2 / 3, 1 / 3, 0],
        "B": [0, 1, 50, 0, 0.0, 1.0, 0, 0, 1],
        "C": [944, 1, 80, 944, 0.05, 0.0, 1, 0, 0],
    }
    for account, values in expected.items():
        np.testing.assert_allclose(features.loc[account].to_numpy(float), values, atol=1e-12)


def test_account_features_do_not_change_the_input() -> None:
    book = _book()
    copy = book.copy()
    feature_module.account_features(book, AS_OF)
    pd.testing.assert_frame_equal(book, copy)


def test_revenue_windows_edges() -> None:
    # 2025-01-01 is 364 days before the as-of date (last window), 2024-12-31 is 365 (prior),
    # 2024-01-02 is 729 (prior), 2024-01-01 is 730 (neither).
    frame = pd.DataFrame(
        {
            "account_id": ["X"] * 4,
            "order_date": pd.to_datetime(["2025-01-01", "2024-12-31", "2024-01-02", "2024-01-01"]),
            "amount": [1.0, 10.0, 100.0, 1000.0],
        }
    )
    windows = feature_module.revenue_windows(frame, AS_OF)
    assert windows.to_dict("records") == [{"account_id": "X", "last_12m": 1.0, "prior_12m": 110.0}]


def test_scale_features_logs_the_skewed_columns_and_standardises() -> None:
    features = feature_module.account_features(_book(), AS_OF)
    scaled = feature_module.scale_features(features)
    recency = np.log1p(np.array([30.0, 0.0, 944.0]))
    expected_recency = (recency - recency.mean()) / recency.std()
    np.testing.assert_allclose(scaled["recency_days"], expected_recency)
    tenure = np.array([578.0, 0.0, 944.0])  # tenure is not logged
    np.testing.assert_allclose(scaled["tenure_days"], (tenure - tenure.mean()) / tenure.std())
    np.testing.assert_allclose(scaled.std(ddof=0).to_numpy(), 1.0)


def _blobs(seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Three planted groups of 12 accounts that differ in discount depth and spend."""
    rng = np.random.default_rng(seed)
    group = np.repeat([0, 1, 2], 12)
    discount = np.array([0.02, 0.20, 0.40])[group] + rng.normal(0, 0.01, len(group))
    monetary = np.array([1_000.0, 50_000.0, 5_000.0])[group] * rng.uniform(0.9, 1.1, len(group))
    features = pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(len(group))],
            "recency_days": 10.0,
            "frequency": 5.0,
            "monetary": monetary,
            "tenure_days": 400.0,
            "discount_depth": discount,
            "growth": 0.0,
            "share_Hardware": 1.0,
        }
    )
    return features, group


def test_planted_groups_are_found_and_numbered_by_revenue() -> None:
    features, group = _blobs()
    result = clusters.cluster_accounts(features)
    assert result.k == 3 and result.method == "silhouette"
    assert result.selection is not None and result.selection.kmeans_k == 3
    labels = result.assignments.set_index("account_id").loc[features["account_id"], "cluster"]
    assert adjusted_rand_score(group, labels) == 1.0
    # Group 1 spends most (50k each), then group 2 (5k), then group 0 (1k).
    assert list(labels.iloc[[0, 12, 24]]) == [3, 1, 2]
    total = features["monetary"].sum()
    expected_share = features["monetary"][group == 1].sum() / total
    c1 = result.profiles.iloc[0]
    assert c1["cluster"] == 1 and c1["accounts"] == 12
    assert c1["revenue_share"] == pytest.approx(expected_share)
    assert c1["cluster_name"].startswith("C1: ") and "high spend" in c1["cluster_name"]
    assert "12 accounts (33%)" in c1["description"]


def test_same_data_same_clusters_and_names() -> None:
    features, _ = _blobs()
    first = clusters.cluster_accounts(features)
    second = clusters.cluster_accounts(features.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(first.assignments, second.assignments)
    pd.testing.assert_frame_equal(first.profiles, second.profiles)


def test_given_number_of_clusters_is_used() -> None:
    features, _ = _blobs()
    result = clusters.cluster_accounts(features, n_clusters=2)
    assert result.k == 2 and result.method == "given" and result.selection is None
    assert result.assignments["cluster"].nunique() == 2


def test_too_few_accounts_fall_back_to_one_group() -> None:
    features, _ = _blobs()
    result = clusters.cluster_accounts(features.head(5))
    assert result.k == 1 and result.method == "fallback"
    assert "too few to cluster" in result.note
    assert set(result.assignments["cluster_name"]) == {"C1: all customers"}


def test_no_accounts_give_an_empty_result() -> None:
    features, _ = _blobs()
    result = clusters.cluster_accounts(features.head(0))
    assert result.assignments.empty and result.k == 1


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_bad_n_clusters_is_refused(bad: object) -> None:
    features, _ = _blobs()
    with pytest.raises(ParameterError, match="n_clusters"):
        clusters.cluster_accounts(features, n_clusters=bad)  # type: ignore[arg-type]


def test_missing_column_is_named() -> None:
    with pytest.raises(ParameterError, match="product_family"):
        feature_module.account_features(_book().drop(columns=["product_family"]), AS_OF)
