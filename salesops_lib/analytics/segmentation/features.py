"""Behavioural features of customer accounts, the inputs of the clusters.

One row per account with an order up to the as-of date, from ``fct_bookings`` rows (see
:func:`account_features`):

* ``recency_days``, ``frequency`` (distinct orders), ``monetary`` (total amount) as in
  :func:`salesops_lib.analytics.segmentation.rfm.rfm_table`;
* ``tenure_days``: days from the first order to the as-of date;
* ``discount_depth``: the mean ``discount`` of the account's order lines;
* ``growth``: symmetric growth of revenue in the last 12 months against the prior 12 months,
  ``(last - prior) / (last + prior)``, in [-1, 1] (0 when both are 0). The *last 12 months* are
  the 365 days ending on the as-of date, the *prior 12 months* the 365 days before those
  (:func:`revenue_windows`);
* ``share_<family>``: the share of the account's order lines in each product family (families
  sorted by name; shares sum to 1). Line counts, not revenue: revenue shares are dominated by the
  expensive families (a licence outweighs many subscription seats) and hide the mix.

**Scaling** (:func:`scale_features`): ``log1p`` of the skewed counts and amounts
(:data:`LOG_FEATURES`), then :class:`~sklearn.preprocessing.StandardScaler` on every column (a
column that never varies becomes all zeros). scikit-learn is imported only when scaling.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation.rfm import as_of_timestamp, check_order_book
from salesops_lib.core.frames import require_columns

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

DAYS_PER_YEAR = 365
"""Days in each revenue window."""


def share_column(family: str) -> str:
    """Name of the feature holding the share of an account's order lines in a product family."""
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
    return features_from_totals(
        account_totals(bookings, as_of), family_line_counts(bookings, as_of), as_of
    )


def _booked_lines(bookings: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The order lines up to ``day``, with order_day (midnight) and float amount and discount."""
    lines = bookings[list(BOOKING_COLUMNS)].assign(
        order_day=bookings["order_date"].dt.normalize(),
        amount=bookings["amount"].astype(float),
        discount=bookings["discount"].astype(float),
    )
    return lines[lines["order_day"] <= day]


def account_totals(bookings: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> pd.DataFrame:
    """One row of totals per account with an order up to ``as_of`` (lines after it ignored).

    Args:
        bookings: Order lines with :data:`BOOKING_COLUMNS` (checked by the caller).
        as_of: The date the totals describe.

    Returns:
        account_id, first_order_date and last_order_date (datetime64, midnight), frequency
        (distinct order_id, int), monetary (total amount), discount_depth (mean discount of the
        lines), last_12m and prior_12m (:func:`revenue_windows`); sorted by account_id.
    """
    day = as_of_timestamp(as_of)
    lines = _booked_lines(bookings, day)
    per_account = lines.groupby("account_id", sort=True).agg(
        first_order_date=("order_day", "min"),
        last_order_date=("order_day", "max"),
        frequency=("order_id", "nunique"),
        monetary=("amount", "sum"),
        discount_depth=("discount", "mean"),
    )
    per_account = per_account.join(revenue_windows(lines, day).set_index("account_id"))
    return per_account.astype({"frequency": "int64"}).reset_index()


def family_line_counts(bookings: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> pd.DataFrame:
    """Order lines per account and product family, up to ``as_of``.

    Returns:
        account_id, product_family, lines (int); one row per pair with a line, sorted.
    """
    lines = _booked_lines(bookings, as_of_timestamp(as_of))
    lines = lines[lines["product_family"].notna()]
    counts = lines.groupby(["account_id", "product_family"], sort=True).size()
    return counts.rename("lines").astype("int64").reset_index()


def features_from_totals(
    totals: pd.DataFrame, family_lines: pd.DataFrame, as_of: str | dt.date | pd.Timestamp
) -> pd.DataFrame:
    """:func:`account_features` from per-account totals (the one definition of the features).

    Args:
        totals: Output of :func:`account_totals` (or the same columns computed elsewhere).
        family_lines: Output of :func:`family_line_counts`.
        as_of: The date the totals describe.

    Returns:
        As :func:`account_features`.
    """
    day = as_of_timestamp(as_of)
    per_account = totals.set_index("account_id")
    both = per_account["last_12m"] + per_account["prior_12m"]
    change = per_account["last_12m"] - per_account["prior_12m"]
    features = pd.DataFrame(
        {
            "recency_days": (day - per_account["last_order_date"]).dt.days.astype(float),
            "frequency": per_account["frequency"].astype(float),
            "monetary": per_account["monetary"].astype(float),
            "tenure_days": (day - per_account["first_order_date"]).dt.days.astype(float),
            "discount_depth": per_account["discount_depth"].astype(float),
            "growth": (change / both.where(both != 0)).fillna(0.0).astype(float),
        },
        index=per_account.index,
    )
    families = sorted(family_lines["product_family"].astype(str).unique())
    by_family = (
        family_lines.astype({"product_family": str})
        .set_index(["account_id", "product_family"])["lines"]
        .unstack(fill_value=0)
        .reindex(index=per_account.index, columns=families, fill_value=0)
        .astype(float)
    )
    totals_per_account = by_family.sum(axis=1)
    shares = by_family.div(totals_per_account.where(totals_per_account != 0), axis=0).fillna(0.0)
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
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(raw.to_numpy())
    return pd.DataFrame(scaled, columns=columns, index=features.index)
