"""Behavioural clusters of customer accounts: model selection and stable names.

The features and their scaling are in
:mod:`salesops_lib.analytics.segmentation.features`. scikit-learn is imported inside the
fitting functions only, so importing this module is cheap.

**Models**: k-means (``n_init`` = :data:`KMEANS_N_INIT`) and a Gaussian mixture (full
covariance, ``n_init`` = 1, k-means initialisation) are fitted for every k of the range with
``random_state`` = :data:`RANDOM_STATE`, on a fixed random subsample of at most
:data:`SELECTION_SAMPLE` accounts. The k of k-means is the one with the highest silhouette
(computed on at most :data:`SILHOUETTE_SAMPLE` of them); the k of the mixture the one with the
lowest BIC (fitted on at most :data:`GMM_SAMPLE` of them). The final k-means runs on every
account; the check mixture is fitted on the :data:`GMM_SAMPLE` subsample and predicts all.
Ties go to the smaller k. The reported clusters are the k-means clusters; the mixture's choice
and its agreement with k-means (adjusted Rand index) are shown alongside as a check.

**Stable names** (:func:`cluster_accounts`): clusters are numbered C1, C2, ... by revenue share,
largest first (ties: more accounts first, then the smallest account id), and named after the two
features that set them apart most: the largest absolute deviation of the cluster mean of the
scaled features from the overall mean (0), e.g. ``C1: deep discounts, Software Licenses-heavy``.
The same data therefore gives the same clusters and the same names.

**Small groups**: with fewer than :data:`MIN_ACCOUNTS` accounts there is nothing to cluster and
every account is put in one group ``C1: all customers``; the k range is cut to what the number
of accounts allows (k <= n - 1 for the silhouette). The result's ``note`` says what was done.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation.features import feature_columns, scale_features
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

if TYPE_CHECKING:
    from sklearn.mixture import GaussianMixture

RANDOM_STATE = 0
"""Seed of every model and subsample."""

KMEANS_N_INIT = 4
"""k-means restarts per k."""

SILHOUETTE_SAMPLE = 2000
"""Largest number of accounts the silhouette is computed on."""

SELECTION_SAMPLE = 20000
"""Largest number of accounts k-means is fitted on while choosing k (the final fit uses all)."""

GMM_SAMPLE = 4000
"""Largest number of accounts the Gaussian mixture is fitted on."""

MIN_ACCOUNTS = 10
"""Fewer accounts than this are not clustered."""

DEFAULT_K_RANGE: tuple[int, ...] = tuple(range(2, 9))
"""The k values tried when the number of clusters is chosen automatically."""

_TRAIT_WORDS: dict[str, tuple[str, str]] = {
    "recency_days": ("long since last order", "ordered recently"),
    "frequency": ("frequent orders", "few orders"),
    "monetary": ("high spend", "low spend"),
    "tenure_days": ("long-standing", "recent first order"),
    "discount_depth": ("deep discounts", "light discounts"),
    "growth": ("growing", "shrinking"),
}


# --- model selection -------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSelection:
    """Scores of every k tried and the k each model picks.

    Attributes:
        scores: One row per k: k, silhouette (k-means; NaN when not computable), bic (Gaussian
            mixture; NaN when not fitted).
        kmeans_k: k with the highest silhouette (None when none was computable).
        gmm_k: k with the lowest BIC (None when no mixture was fitted).
    """

    scores: pd.DataFrame
    kmeans_k: int | None
    gmm_k: int | None


def _kmeans(matrix: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    model = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=RANDOM_STATE)
    with threadpool_limits(limits=1):  # one thread: fast on shared cores, same result each run
        return model.fit_predict(matrix)


def _subsample(count: int, limit: int) -> np.ndarray:
    """Sorted positions of a fixed random subsample of at most ``limit`` of ``count`` rows."""
    if count <= limit:
        return np.arange(count)
    rng = np.random.default_rng(RANDOM_STATE)
    return np.sort(rng.choice(count, size=limit, replace=False))


def _gmm(matrix: np.ndarray, k: int) -> GaussianMixture:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    model = GaussianMixture(
        n_components=k,
        covariance_type="full",
        n_init=1,
        max_iter=100,
        reg_covar=1e-4,
        random_state=RANDOM_STATE,
    )
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(matrix)


def usable_k_range(k_range: tuple[int, ...], accounts: int) -> tuple[int, ...]:
    """The ks of ``k_range`` that ``accounts`` accounts allow (2 <= k <= accounts - 1)."""
    return tuple(k for k in sorted(set(k_range)) if 2 <= k <= accounts - 1)


def select_k(matrix: np.ndarray, k_range: tuple[int, ...] = DEFAULT_K_RANGE) -> ModelSelection:
    """Fit k-means and a Gaussian mixture for each k and pick k by silhouette and by BIC.

    k-means is fitted on a fixed subsample of at most :data:`SELECTION_SAMPLE` rows, the
    silhouette computed on at most :data:`SILHOUETTE_SAMPLE` of those and the mixture fitted on
    at most :data:`GMM_SAMPLE` of those.

    Args:
        matrix: Scaled features, one row per account.
        k_range: The k values to try; those the number of rows does not allow are dropped.

    Returns:
        The scores and the chosen ks (ties to the smaller k).
    """
    from sklearn.metrics import silhouette_score

    ks = usable_k_range(k_range, len(matrix))
    matrix = matrix[_subsample(len(matrix), SELECTION_SAMPLE)]
    silhouette_rows = _subsample(len(matrix), SILHOUETTE_SAMPLE)
    gmm_rows = _subsample(len(matrix), GMM_SAMPLE)
    rows = []
    for k in ks:
        labels = _kmeans(matrix, k)
        sampled = labels[silhouette_rows]
        silhouette = (
            float(silhouette_score(matrix[silhouette_rows], sampled))
            if 2 <= len(np.unique(sampled)) <= len(sampled) - 1
            else np.nan
        )
        bic = (
            float(_gmm(matrix[gmm_rows], k).bic(matrix[gmm_rows])) if k < len(gmm_rows) else np.nan
        )
        rows.append((k, silhouette, bic))
    scores = pd.DataFrame(rows, columns=["k", "silhouette", "bic"]).astype(
        {"k": "int64", "silhouette": float, "bic": float}
    )
    return ModelSelection(scores, _best(scores, "silhouette", True), _best(scores, "bic", False))


def _best(scores: pd.DataFrame, column: str, largest: bool) -> int | None:
    valid = scores.dropna(subset=[column])
    if valid.empty:
        return None
    ordered = valid.sort_values([column, "k"], ascending=[not largest, True], kind="stable")
    return int(ordered["k"].iloc[0])


# --- clusters, names and profiles --------------------------------------------------------------


@dataclass(frozen=True)
class ClusterResult:
    """Behavioural clusters of accounts.

    Attributes:
        assignments: One row per account: account_id, cluster (1..k, C1 = largest revenue
            share), cluster_name.
        profiles: One row per cluster in number order: cluster, cluster_name, accounts,
            account_share, revenue, revenue_share, the mean of every raw feature, and
            description (a sentence).
        deviations: Cluster mean of each scaled feature (rows: cluster names; columns: features),
            i.e. its deviation from the overall mean in standard deviations.
        selection: The model-selection scores (None when k was given or nothing was fitted).
        k: Number of clusters.
        method: How k was set: "silhouette", "given" or "fallback".
        gmm_agreement: Adjusted Rand index between the k-means clusters and a Gaussian mixture
            with the same k (None when not computed).
        note: What was done differently for small groups ("" when nothing was).
    """

    assignments: pd.DataFrame
    profiles: pd.DataFrame
    deviations: pd.DataFrame
    selection: ModelSelection | None
    k: int
    method: str
    gmm_agreement: float | None
    note: str


def trait_phrase(feature: str, deviation: float) -> str:
    """Words for a feature that is high (deviation > 0) or low in a cluster.

    Args:
        feature: A feature column name.
        deviation: The cluster's mean of the scaled feature.

    Returns:
        E.g. "deep discounts", "little Hardware" or "Hardware-heavy".
    """
    high = deviation > 0
    if feature in _TRAIT_WORDS:
        return _TRAIT_WORDS[feature][0 if high else 1]
    family = feature.removeprefix("share_")
    return f"{family}-heavy" if high else f"little {family}"


def top_traits(deviations: pd.Series, count: int) -> list[tuple[str, float]]:
    """The ``count`` features with the largest absolute deviation (ties: column order)."""
    order = np.argsort(-np.abs(deviations.to_numpy()), kind="stable")[:count]
    return [(str(deviations.index[i]), float(deviations.iloc[i])) for i in order]


def _renumber(labels: np.ndarray, account_ids: pd.Series, revenue: pd.Series) -> np.ndarray:
    """Map raw labels to 1..k: revenue share desc, then size desc, then smallest account id."""
    frame = pd.DataFrame(
        {"label": labels, "account_id": account_ids.to_numpy(), "revenue": revenue.to_numpy()}
    )
    stats = frame.groupby("label").agg(
        revenue=("revenue", "sum"), size=("account_id", "size"), first=("account_id", "min")
    )
    stats = stats.reset_index().sort_values(
        ["revenue", "size", "first"], ascending=[False, False, True], kind="stable"
    )
    mapping = {int(label): number for number, label in enumerate(stats["label"], start=1)}
    return np.array([mapping[int(label)] for label in labels], dtype="int64")


def describe_cluster(name: str, accounts: int, account_share: float, revenue_share: float,
                     traits: list[tuple[str, float]]) -> str:  # fmt: skip
    """A sentence describing a cluster from its profile.

    Args:
        name: The cluster's name.
        accounts: Accounts in the cluster.
        account_share: Their share of all accounts.
        revenue_share: Their share of all revenue.
        traits: (feature, deviation) pairs, most distinctive first.

    Returns:
        E.g. "C1: deep discounts, Software Licenses-heavy has 210 accounts (15%) and 48% of
        revenue; it stands out for deep discounts (+2.1 sd), ..."
    """
    parts = ", ".join(f"{trait_phrase(f, d)} ({d:+.1f} sd)" for f, d in traits)
    noun = "account" if accounts == 1 else "accounts"
    text = (
        f"{name} has {accounts:,} {noun} ({account_share * 100:.0f}%) and "
        f"{revenue_share * 100:.0f}% of revenue"
    )
    return f"{text}; it stands out for {parts}." if parts else f"{text}."


def _profiles(
    features: pd.DataFrame, scaled: pd.DataFrame, numbers: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, str]]:
    columns = feature_columns(features)
    deviations = scaled.groupby(numbers).mean()[columns]
    names: dict[int, str] = {}
    for number in deviations.index:
        traits = top_traits(deviations.loc[number], 2) if len(deviations) > 1 else []
        words = ", ".join(trait_phrase(f, d) for f, d in traits) or "all customers"
        names[int(number)] = f"C{number}: {words}"
    means = features[columns].groupby(numbers).mean()
    sizes = pd.Series(numbers).value_counts().sort_index()
    revenue = features["monetary"].groupby(numbers).sum()
    total_revenue = float(features["monetary"].sum())
    rows = []
    for number in deviations.index:
        accounts = int(sizes.loc[number])
        revenue_share = float(revenue.loc[number]) / total_revenue if total_revenue else 0.0
        account_share = accounts / len(features)
        traits = top_traits(deviations.loc[number], 3) if len(deviations) > 1 else []
        rows.append(
            {
                "cluster": int(number),
                "cluster_name": names[int(number)],
                "accounts": accounts,
                "account_share": account_share,
                "revenue": float(revenue.loc[number]),
                "revenue_share": revenue_share,
                **{c: float(means.loc[number, c]) for c in columns},
                "description": describe_cluster(
                    names[int(number)], accounts, account_share, revenue_share, traits
                ),
            }
        )
    deviations.index = [names[int(n)] for n in deviations.index]
    return pd.DataFrame(rows), deviations, names


def cluster_accounts(
    features: pd.DataFrame,
    n_clusters: int = 0,
    k_range: tuple[int, ...] = DEFAULT_K_RANGE,
) -> ClusterResult:
    """Cluster accounts on their scaled features and name the clusters deterministically.

    Args:
        features: Output of :func:`account_features`.
        n_clusters: Number of clusters; 0 chooses it by silhouette over ``k_range``.
        k_range: The k values tried when ``n_clusters`` is 0.

    Returns:
        The clusters, their profiles and the model-selection scores.

    Raises:
        ParameterError: ``n_clusters`` is negative, or ``features`` lacks account_id or monetary.
    """
    from sklearn.metrics import adjusted_rand_score

    require_columns(features, ("account_id", "monetary"), "cluster_accounts(features)")
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int | np.integer):
        raise ParameterError(
            f"n_clusters must be a whole number (0 = automatic), got {n_clusters!r}"
        )
    if n_clusters < 0:
        raise ParameterError(f"n_clusters must be 0 (automatic) or more, got {n_clusters}")
    features = features.sort_values("account_id", kind="stable").reset_index(drop=True)
    count = len(features)
    scaled = scale_features(features)
    matrix = scaled.to_numpy()
    selection: ModelSelection | None = None
    note = ""
    if count < MIN_ACCOUNTS:
        k, method = 1, "fallback"
        note = (
            f"Only {count} customer(s) with orders: too few to cluster (at least {MIN_ACCOUNTS} "
            "are needed), so all are shown as one group."
        )
    elif n_clusters:
        k, method = min(int(n_clusters), count - 1), "given"
        if k != n_clusters:
            note = f"{n_clusters} clusters asked for, but {count} customers allow at most {k}."
    else:
        selection = select_k(matrix, k_range)
        if selection.kmeans_k is None:
            k, method = 1, "fallback"
            note = "No silhouette could be computed (too few distinct customers): one group."
        else:
            k, method = selection.kmeans_k, "silhouette"
    labels = _kmeans(matrix, k) if k > 1 else np.zeros(count, dtype="int64")
    numbers = _renumber(labels, features["account_id"], features["monetary"])
    gmm_agreement = None
    if k > 1:
        gmm_labels = _gmm(matrix[_subsample(count, GMM_SAMPLE)], k).predict(matrix)
        gmm_agreement = float(adjusted_rand_score(numbers, gmm_labels))
    profiles, deviations, names = _profiles(features, scaled, numbers)
    assignments = pd.DataFrame(
        {
            "account_id": features["account_id"].to_numpy(),
            "cluster": numbers,
            "cluster_name": [names[int(n)] for n in numbers],
        }
    )
    return ClusterResult(
        assignments=assignments,
        profiles=profiles,
        deviations=deviations,
        selection=selection,
        k=k,
        method=method,
        gmm_agreement=gmm_agreement,
        note=note,
    )
