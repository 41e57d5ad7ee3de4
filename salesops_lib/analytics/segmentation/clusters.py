"""Behavioural clusters of customer accounts: features, model selection, stable names.

**Features** (one row per account with an order up to the as-of date, from ``fct_bookings``
rows; see :func:`account_features`):

* ``recency_days``, ``frequency`` (distinct orders), ``monetary`` (total amount) as in
  :func:`salesops_lib.analytics.segmentation.rfm.rfm_table`;
* ``tenure_days``: days from the first order to the as-of date;
* ``discount_depth``: the mean ``discount`` of the account's order lines;
* ``growth``: symmetric growth of revenue in the last 12 months against the prior 12 months,
  ``(last - prior) / (last + prior)``, in [-1, 1] (0 when both are 0). The *last 12 months* are
  the 365 days ending on the as-of date, the *prior 12 months* the 365 days before those;
* ``share_<family>``: the share of the account's order lines in each product family (families
  sorted by name; shares sum to 1). Line counts, not revenue: revenue shares are dominated by the
  expensive families (a licence outweighs many subscription seats) and hide the mix.

**Scaling** (:func:`scale_features`): ``log1p`` of the skewed counts and amounts
(:data:`LOG_FEATURES`), then :class:`~sklearn.preprocessing.StandardScaler` on every column (a
column that never varies becomes all zeros).

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

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from salesops_lib.analytics.segmentation.rfm import as_of_timestamp, check_order_book
from salesops_lib.core.errors import ParameterError
from salesops_lib.core.frames import require_columns

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

BOOKING_COLUMNS: tuple[str, ...] = (
    "account_id",
    "order_id",
    "order_date",
    "amount",
    "discount",
    "product_family",
)
"""Columns :func:`account_features` reads (rows of ``fct_bookings``)."""

BASE_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "discount_depth",
    "growth",
)
"""Features every account has; the family shares follow them."""

LOG_FEATURES: tuple[str, ...] = ("recency_days", "frequency", "monetary")
"""Skewed features transformed with ``log1p`` before standardising."""

_TRAIT_WORDS: dict[str, tuple[str, str]] = {
    "recency_days": ("long since last order", "ordered recently"),
    "frequency": ("frequent orders", "few orders"),
    "monetary": ("high spend", "low spend"),
    "tenure_days": ("long-standing", "recent first order"),
    "discount_depth": ("deep discounts", "light discounts"),
    "growth": ("growing", "shrinking"),
}

DAYS_PER_YEAR = 365


# --- features --------------------------------------------------------------------------------


def share_column(family: str) -> str:
    """Name of the feature holding an account's revenue share of a product family."""
    return f"share_{family}"


def account_features(bookings: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> pd.DataFrame:
    """One row of behavioural features per account (see the module docstring).

    Args:
        bookings: Order lines with :data:`BOOKING_COLUMNS`; lines dated after ``as_of`` are
            ignored.
        as_of: The date the features describe.

    Returns:
        account_id, then :data:`BASE_FEATURES`, then one ``share_<family>`` column per product
        family (sorted by family name); one row per account with an order up to ``as_of``,
        sorted by account_id.

    Raises:
        ParameterError: A column is missing or the order book is not usable.
    """
    require_columns(bookings, BOOKING_COLUMNS, "account_features(bookings)")
    check_order_book(bookings, "bookings")
    day = as_of_timestamp(as_of)
    lines = bookings[list(BOOKING_COLUMNS)].assign(
        order_day=bookings["order_date"].dt.normalize(),
        amount=bookings["amount"].astype(float),
        discount=bookings["discount"].astype(float),
    )
    lines = lines[lines["order_day"] <= day]
    per_account = lines.groupby("account_id", sort=True).agg(
        first_day=("order_day", "min"),
        last_day=("order_day", "max"),
        frequency=("order_id", "nunique"),
        monetary=("amount", "sum"),
        discount_depth=("discount", "mean"),
    )
    per_account = per_account.join(revenue_windows(lines, day).set_index("account_id"))
    both = per_account["last_12m"] + per_account["prior_12m"]
    change = per_account["last_12m"] - per_account["prior_12m"]
    features = pd.DataFrame(
        {
            "recency_days": (day - per_account["last_day"]).dt.days.astype(float),
            "frequency": per_account["frequency"].astype(float),
            "monetary": per_account["monetary"].astype(float),
            "tenure_days": (day - per_account["first_day"]).dt.days.astype(float),
            "discount_depth": per_account["discount_depth"].astype(float),
            "growth": (change / both.where(both != 0)).fillna(0.0).astype(float),
        },
        index=per_account.index,
    )
    families = sorted(lines["product_family"].dropna().astype(str).unique())
    by_family = (
        lines.groupby(["account_id", "product_family"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=per_account.index, columns=families, fill_value=0)
        .astype(float)
    )
    totals = by_family.sum(axis=1)
    shares = by_family.div(totals.where(totals != 0), axis=0).fillna(0.0)
    shares.columns = [share_column(f) for f in families]
    return pd.concat([features, shares], axis=1).reset_index()


def revenue_windows(orders: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> pd.DataFrame:
    """Revenue per account in the last 12 months and the prior 12 months.

    The last 12 months are the 365 days ending on ``as_of`` (an order ``as_of - 364`` days
    counts, one ``as_of - 365`` days goes to the prior window); the prior 12 months the 365
    days before those. Orders after ``as_of`` are ignored.

    Args:
        orders: Order book (account_id, order_date, amount).
        as_of: The end of the last window.

    Returns:
        account_id, last_12m, prior_12m (floats, 0 for no orders); one row per account with an
        order up to ``as_of``, sorted by account_id.

    Raises:
        ParameterError: The order book is not usable.
    """
    check_order_book(orders)
    day = as_of_timestamp(as_of)
    book = orders[["account_id", "amount"]].assign(order_day=orders["order_date"].dt.normalize())
    book = book[book["order_day"] <= day]
    age_days = (day - book["order_day"]).dt.days
    amount = book["amount"].astype(float)
    book = book.assign(
        last_12m=amount.where(age_days < DAYS_PER_YEAR, 0.0),
        prior_12m=amount.where((age_days >= DAYS_PER_YEAR) & (age_days < 2 * DAYS_PER_YEAR), 0.0),
    )
    windows = book.groupby("account_id", sort=True)[["last_12m", "prior_12m"]].sum()
    return windows.astype(float).reset_index()


def feature_columns(features: pd.DataFrame) -> list[str]:
    """The feature columns of an :func:`account_features` frame, in order."""
    return [c for c in features.columns if c != "account_id"]


def scale_features(features: pd.DataFrame) -> pd.DataFrame:
    """Log-transform the skewed features and standardise every feature.

    Args:
        features: Output of :func:`account_features`.

    Returns:
        A frame with the feature columns (not account_id), index of ``features``: ``log1p`` of
        :data:`LOG_FEATURES` (values below 0 are clipped to 0 first), then each column centred
        to mean 0 and scaled to standard deviation 1 (constant columns become 0).
    """
    columns = feature_columns(features)
    raw = features[columns].astype(float)
    for column in LOG_FEATURES:
        if column in raw:
            raw[column] = np.log1p(raw[column].clip(lower=0.0))
    if len(raw) == 0:
        return raw
    scaled = StandardScaler().fit_transform(raw.to_numpy())
    return pd.DataFrame(scaled, columns=columns, index=features.index)


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
