"""RFM scoring and segmentation of customers from an order book.

Input is an order book in long format, one row per order line or transaction, with the columns
``account_id`` (the customer), ``order_date`` (datetime64) and ``amount`` (float); an optional
``order_id`` column changes how frequency is counted (see :func:`rfm_table`). ``fct_bookings``
has all four.

Definitions:

* *Recency* is the number of whole days from a customer's last order date to the as-of date
  (0 when the customer ordered on the as-of date). Orders dated after the as-of date are ignored,
  so one order book gives the RFM table at any earlier date.
* *Frequency* is the number of distinct orders: distinct ``order_id`` values when the frame has an
  ``order_id`` column (several lines of one order count once), otherwise distinct order dates
  (several transactions of one customer on one day count once, as in the CDNOW summaries).
* *Monetary* is the total amount of the customer's orders up to the as-of date.
* *Scores* are quintiles 1..5 where 5 is best: most recent, most frequent, highest spend. They
  are computed deterministically, ties included: customers are sorted by ``account_id`` (a
  stable sort), each metric is ranked with ``method="first"`` (so among tied customers the one
  with the smaller account id gets the lower rank and, at a quintile edge, the lower score) and
  the ranks 1..n are cut into five equal-count bins with :func:`pandas.qcut`. Recency is ranked
  on ``-recency_days`` so that a recent order scores high. A lone customer scores 3 on all three.
* *Segments* come from :data:`RFM_SEGMENT_RULES`, one readable table; the first rule whose
  ranges contain a customer's (r, f, m) scores wins. The rules do not overlap and cover every
  (r, f) pair for every m.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.core.errors import ParameterError

ORDER_COLUMNS: tuple[str, ...] = ("account_id", "order_date", "amount")
"""Columns every order book must have."""

_RULE_COLUMNS = ["segment", "r_min", "r_max", "f_min", "f_max", "m_min", "m_max"]
_RULE_ROWS: list[tuple[str, int, int, int, int, int, int, str, str]] = [
    # segment,   r_min..r_max, f_min..f_max, m_min..m_max, description, suggested action
    ("Champions",   4, 5, 4, 5, 1, 5, "Bought recently and often",
     "Reward; ask for referrals and case studies; offer early access"),
    ("Loyal",       3, 3, 3, 5, 1, 5, "Buy often, last order a while ago",
     "Upsell higher-value products; keep in regular account reviews"),
    ("Potential",   4, 5, 2, 3, 1, 5, "Recent buyers with a few orders",
     "Offer a membership or bundle; build the relationship"),
    ("New",         4, 5, 1, 1, 1, 5, "Recent first-time buyers",
     "Onboard well; make the second order easy"),
    ("At risk",     2, 2, 3, 5, 1, 5, "Used to buy often, not recently",
     "Personal outreach; win-back offer before they lapse"),
    ("Can't lose",  1, 1, 4, 5, 1, 5, "Were among the most frequent buyers, long gone",
     "Executive call; find out what went wrong; do not lose to a competitor"),
    ("Hibernating", 2, 3, 1, 2, 1, 5, "Few orders, not recent",
     "Low-cost reactivation campaign; recommend relevant products"),
    ("Lost",        1, 1, 1, 3, 1, 5, "Few orders, longest gone",
     "Include in broad win-back campaigns only; otherwise let go"),
]  # fmt: skip

RFM_SEGMENT_RULES: pd.DataFrame = pd.DataFrame(
    _RULE_ROWS, columns=[*_RULE_COLUMNS, "description", "suggested_action"]
)
"""The segment rules, one row per segment: inclusive score ranges for r, f and m, what the
segment is, and what to do about it. The first matching row wins. Every rule accepts any m score
(m is kept in the table so a team can split a segment on spend by adding a row above it). Treat
it as read-only; :func:`assign_segments` takes another table if a team needs different rules.

The resulting map of (r, f) scores::

           f=1          f=2          f=3          f=4          f=5
    r=5    New          Potential    Potential    Champions    Champions
    r=4    New          Potential    Potential    Champions    Champions
    r=3    Hibernating  Hibernating  Loyal        Loyal        Loyal
    r=2    Hibernating  Hibernating  At risk      At risk      At risk
    r=1    Lost         Lost         Lost         Can't lose   Can't lose
"""

SEGMENT_ORDER: tuple[str, ...] = tuple(RFM_SEGMENT_RULES["segment"])
"""Segment names in rule order (best to worst, roughly), for tables and charts."""


# --- input checks ----------------------------------------------------------------------------


def check_order_book(orders: pd.DataFrame, name: str = "orders") -> None:
    """Raise :class:`ParameterError` unless ``orders`` is a usable order book.

    Args:
        orders: The frame to check (account_id, order_date, amount).
        name: What to call the frame in messages.

    Raises:
        ParameterError: Not a DataFrame, a column missing, ``amount`` not numeric or with missing
            values, ``order_date`` not a timezone-naive datetime64 column or with NaT values, or
            ``account_id`` with missing values. The message names the column and the fix.
    """
    if not isinstance(orders, pd.DataFrame):
        raise ParameterError(f"{name} must be a pandas DataFrame, got {type(orders).__name__}")
    missing = [column for column in ORDER_COLUMNS if column not in orders.columns]
    if missing:
        raise ParameterError(
            f"{name} has no column {', '.join(map(repr, missing))}; pass a frame with columns "
            "account_id, order_date (datetime64) and amount (float), e.g. rows of fct_bookings"
        )
    amount = orders["amount"]
    if not pd.api.types.is_numeric_dtype(amount) or pd.api.types.is_bool_dtype(amount):
        raise ParameterError(
            f"{name}.amount has dtype {amount.dtype}, expected numbers; "
            f"convert it first, e.g. {name}['amount'] = pd.to_numeric({name}['amount'])"
        )
    _no_missing(orders, "amount", name)
    dates = orders["order_date"]
    if not pd.api.types.is_datetime64_dtype(dates):
        raise ParameterError(
            f"{name}.order_date has dtype {dates.dtype}, expected timezone-naive datetime64; "
            f"convert it first, e.g. {name}['order_date'] = pd.to_datetime({name}['order_date'])"
        )
    _no_missing(orders, "order_date", name)
    _no_missing(orders, "account_id", name)


def _no_missing(frame: pd.DataFrame, column: str, name: str) -> None:
    missing = frame[column].isna()
    if missing.any():
        first = frame.index[missing.to_numpy()][0]
        first = first.item() if isinstance(first, np.generic) else first
        raise ParameterError(
            f"{name}.{column} has {int(missing.sum())} missing value(s) (first at index "
            f"{first!r}); drop or fill those rows before calling"
        )


def as_of_timestamp(as_of: str | dt.date | pd.Timestamp) -> pd.Timestamp:
    """Return ``as_of`` as a midnight :class:`pandas.Timestamp`.

    Args:
        as_of: An ISO date string, a date or a timestamp.

    Raises:
        ParameterError: ``as_of`` is not a date.
    """
    try:
        stamp = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"as_of {as_of!r} is not a date; pass e.g. '2025-06-30'") from exc
    if pd.isna(stamp) or stamp.tzinfo is not None:
        raise ParameterError(f"as_of {as_of!r} must be a timezone-naive date, e.g. '2025-06-30'")
    return stamp.normalize()


# --- scores and segments ---------------------------------------------------------------------


def quintile_scores(values: pd.Series, keys: pd.Series) -> pd.Series:
    """Score ``values`` 1..5 by quintile, 5 for the largest, with ties broken by key.

    Args:
        values: One value per customer.
        keys: The customers' ids, aligned with ``values``; ties in ``values`` are broken by a
            stable sort on these (the smaller key ranks lower).

    Returns:
        Integer scores 1..5 with the index of ``values``: the ranks 1..n (``method="first"``
        after sorting by key) cut into five equal-count bins by :func:`pandas.qcut`. A single
        value scores 3; no values give an empty series.
    """
    if len(values) == 0:
        return pd.Series([], index=values.index, dtype="int64")
    if len(values) == 1:
        return pd.Series([3], index=values.index, dtype="int64")
    order = np.argsort(keys.to_numpy(), kind="stable")
    ranks = values.iloc[order].rank(method="first")
    scores = pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype("int64")
    return scores.reindex(values.index)


def assign_segments(
    r_score: pd.Series, f_score: pd.Series, m_score: pd.Series, rules: pd.DataFrame | None = None
) -> pd.Series:
    """Name the segment of each customer from their scores; the first matching rule wins.

    Args:
        r_score: Recency scores 1..5.
        f_score: Frequency scores 1..5, aligned with ``r_score``.
        m_score: Monetary scores 1..5, aligned with ``r_score``.
        rules: A rules table shaped like :data:`RFM_SEGMENT_RULES` (the default).

    Returns:
        The segment names, with the index of ``r_score``.

    Raises:
        ParameterError: Some scores match no rule (the message names the first such triple).
    """
    rules = RFM_SEGMENT_RULES if rules is None else rules
    segments = pd.Series(pd.NA, index=r_score.index, dtype="object")
    for rule in rules.itertuples(index=False):
        matches = (
            segments.isna()
            & r_score.between(rule.r_min, rule.r_max)
            & f_score.between(rule.f_min, rule.f_max)
            & m_score.between(rule.m_min, rule.m_max)
        )
        segments[matches] = rule.segment
    unmatched = segments.isna()
    if unmatched.any():
        first = unmatched.to_numpy().argmax()
        triple = tuple(int(s.iloc[first]) for s in (r_score, f_score, m_score))
        raise ParameterError(f"no segment rule matches scores (r, f, m) = {triple}; fix the rules")
    return segments


def rfm_table(orders: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> pd.DataFrame:
    """One row per customer with recency, frequency, monetary value, scores and segment.

    Args:
        orders: Order book (account_id, order_date, amount, optionally order_id); orders dated
            after ``as_of`` are ignored.
        as_of: The date the table describes (an ISO string, date or timestamp).

    Returns:
        Columns account_id, first_order_date, last_order_date, recency_days (int), frequency
        (int), monetary (float), r_score, f_score, m_score (1..5), rfm_code (e.g. "545") and
        segment; one row per customer with an order up to ``as_of``, sorted by account_id.

    Raises:
        ParameterError: ``orders`` is not a usable order book or ``as_of`` is not a date.
    """
    check_order_book(orders)
    day = as_of_timestamp(as_of)
    columns = [*ORDER_COLUMNS, "order_id"] if "order_id" in orders.columns else list(ORDER_COLUMNS)
    book = orders[columns].assign(order_day=orders["order_date"].dt.normalize())
    book = book[book["order_day"] <= day]
    counted = "order_id" if "order_id" in book.columns else "order_day"
    table = (
        book.groupby("account_id", sort=True)
        .agg(
            first_order_date=("order_day", "min"),
            last_order_date=("order_day", "max"),
            frequency=(counted, "nunique"),
            monetary=("amount", "sum"),
        )
        .reset_index()
    )
    return rfm_scores(table, day)


def rfm_scores(totals: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> pd.DataFrame:
    """:func:`rfm_table` from per-customer totals (the one definition of scores and segments).

    Args:
        totals: One row per customer: account_id, first_order_date, last_order_date (midnight
            datetimes), frequency and monetary as :func:`rfm_table` defines them (other columns
            are ignored), e.g. ``OrderBookTotals.accounts``.
        as_of: The date the totals describe.

    Returns:
        As :func:`rfm_table`, sorted by account_id.
    """
    day = as_of_timestamp(as_of)
    table = (
        totals[["account_id", "first_order_date", "last_order_date", "frequency", "monetary"]]
        .sort_values("account_id", kind="stable")
        .reset_index(drop=True)
    )
    table["recency_days"] = (day - table["last_order_date"]).dt.days.astype("int64")
    table["frequency"] = table["frequency"].astype("int64")
    table["monetary"] = table["monetary"].astype(float)
    keys = table["account_id"]
    table["r_score"] = quintile_scores(-table["recency_days"], keys)
    table["f_score"] = quintile_scores(table["frequency"], keys)
    table["m_score"] = quintile_scores(table["monetary"], keys)
    table["rfm_code"] = (
        table["r_score"].astype(str) + table["f_score"].astype(str) + table["m_score"].astype(str)
    )
    table["segment"] = assign_segments(table["r_score"], table["f_score"], table["m_score"])
    order = [
        "account_id", "first_order_date", "last_order_date", "recency_days", "frequency",
        "monetary", "r_score", "f_score", "m_score", "rfm_code", "segment",
    ]  # fmt: skip
    return table[order]


def segment_summary(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers and revenue per segment.

    Args:
        rfm: Output of :func:`rfm_table` (at least segment and monetary).

    Returns:
        One row per segment of :data:`RFM_SEGMENT_RULES`, in rule order, then any other segment
        found (sorted): segment, customers, customer_share, revenue, revenue_share,
        suggested_action (empty for segments not in the rules). Segments without customers are
        kept with zeros; shares are NaN when there are no customers or no revenue in total.

    Raises:
        ParameterError: ``rfm`` lacks the segment or monetary column.
    """
    missing = [c for c in ("segment", "monetary") if c not in rfm.columns]
    if missing:
        raise ParameterError(
            f"rfm has no column {', '.join(map(repr, missing))}; pass the output of rfm_table()"
        )
    others = sorted(set(rfm["segment"].dropna()) - set(SEGMENT_ORDER))
    names = [*SEGMENT_ORDER, *others]
    grouped = rfm.groupby("segment")["monetary"].agg(["size", "sum"]).reindex(names, fill_value=0)
    customers = grouped["size"].astype("int64").to_numpy()
    revenue = grouped["sum"].astype(float).to_numpy()
    total_customers, total_revenue = customers.sum(), revenue.sum()
    actions = dict(
        zip(RFM_SEGMENT_RULES["segment"], RFM_SEGMENT_RULES["suggested_action"], strict=True)
    )
    return pd.DataFrame(
        {
            "segment": names,
            "customers": customers,
            "customer_share": customers / total_customers if total_customers else np.nan,
            "revenue": revenue,
            "revenue_share": revenue / total_revenue if total_revenue else np.nan,
            "suggested_action": [actions.get(name, "") for name in names],
        }
    )
