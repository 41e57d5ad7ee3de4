"""An order book reduced to what segmentation needs: totals per customer, purchase day, product.

Segmentation never needs an order book's lines one by one: every result is a function of a few
totals (what one row of each frame is, below). :func:`order_book_totals` computes them from
order lines in pandas (what :func:`~salesops_lib.analytics.segmentation.scope.segment_scope` does
with an analyst's frame); :func:`warehouse_totals` computes the same totals in DuckDB from a
snapshot's ``fct_bookings`` (what the analytics store build does), so a build at 10M order lines
never holds the lines as a frame: DuckDB aggregates counts, dates and distinct orders, and only
the numbers to be summed (amount, discount, age in days; sorted) come out, query by query.

Both paths add the same floats in the same order with the same (Kahan) steps as a pandas
groupby, so they agree to the last bit (:func:`kahan_group_sums`): the Gamma-Gamma spend fit
of the lifetime value turns on the last bit of its inputs, so "close" would not be the same.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from salesops_lib.analytics.segmentation.features import BOOKING_COLUMNS as FEATURE_COLUMNS
from salesops_lib.analytics.segmentation.features import (
    DAYS_PER_YEAR,
    account_totals,
    family_line_counts,
)
from salesops_lib.analytics.segmentation.rfm import check_order_book
from salesops_lib.core.frames import require_columns

if TYPE_CHECKING:
    from salesops_lib.data.warehouse import Warehouse

ACCOUNT_TOTALS_COLUMNS: tuple[str, ...] = (
    "account_id", "first_order_date", "last_order_date", "frequency", "monetary",
    "discount_depth", "last_12m", "prior_12m",
)  # fmt: skip
"""Columns of :attr:`OrderBookTotals.accounts`."""

TOTALS_COLUMNS: tuple[str, ...] = (*FEATURE_COLUMNS, "product_id")
"""Order-line columns :func:`order_book_totals` reads (``fct_bookings`` has them all)."""


@dataclass(frozen=True)
class OrderBookTotals:
    """One order book's totals, as of a date (see the module docstring).

    Attributes:
        accounts: One row per customer with an order up to the as-of date, sorted by
            account_id: first_order_date, last_order_date (days), frequency (distinct orders),
            monetary (total amount), discount_depth (mean discount of its lines), last_12m and
            prior_12m (revenue in the 365 days ending on the as-of date and the 365 before);
            see :func:`~salesops_lib.analytics.segmentation.features.account_totals`.
        family_lines: One row per customer x product family with order lines up to the as-of
            date: account_id, product_family, lines (count of order lines).
        daily: One row per customer x purchase day (every day, also after the as-of date):
            account_id, order_date (datetime64, midnight), amount (total of that day).
        account_amounts: One row per customer (all lines): account_id, amount (total).
        product_amounts: One row per product (all lines): product_id, amount (total).
    """

    accounts: pd.DataFrame
    family_lines: pd.DataFrame
    daily: pd.DataFrame
    account_amounts: pd.DataFrame
    product_amounts: pd.DataFrame

    @property
    def has_lines(self) -> bool:
        """Whether the order book had any line at all."""
        return not self.product_amounts.empty


def order_book_totals(
    bookings: pd.DataFrame, as_of: str | dt.date | pd.Timestamp
) -> OrderBookTotals:
    """The totals of an order book held as order lines (pandas).

    Args:
        bookings: Order lines with :data:`TOTALS_COLUMNS` (order_date datetime64, amount and
            discount numbers), e.g. rows of ``fct_bookings``.
        as_of: The date the totals describe.

    Returns:
        The totals.

    Raises:
        ParameterError: A column is missing or the order book is not usable.
    """
    require_columns(bookings, TOTALS_COLUMNS, "segmentation order book")
    check_order_book(bookings, "bookings")
    accounts = account_totals(bookings, as_of)
    lines = bookings[["account_id", "product_id", "amount"]].assign(
        order_date=bookings["order_date"].dt.normalize(), amount=bookings["amount"].astype(float)
    )
    daily = lines.groupby(["account_id", "order_date"], sort=True)["amount"].sum().reset_index()
    return OrderBookTotals(
        accounts=accounts,
        family_lines=family_line_counts(bookings, as_of),
        daily=daily[["account_id", "order_date", "amount"]],
        account_amounts=_sum_by(lines, "account_id"),
        product_amounts=_sum_by(lines, "product_id"),
    )


def _sum_by(lines: pd.DataFrame, key: str) -> pd.DataFrame:
    return lines.groupby(key, sort=True)["amount"].sum().astype(float).reset_index()


# --- the same totals in DuckDB ---------------------------------------------------------------

LINE_ORDER = "order_id, order_date, amount, discount, product_id, product_family"
"""The order of a customer's lines in the pandas path (``fct_bookings`` read ``ORDER BY ALL``)."""

_SCOPE = "($region IS NULL OR region_id = $region)"
_BOOKED = "order_date <= $as_of"
_AGE = "($as_of - order_date)"

ACCOUNTS_SQL = f"""
SELECT account_id,
       count(*) AS lines,
       count(*) FILTER (WHERE {_BOOKED}) AS booked_lines,
       min(order_date) FILTER (WHERE {_BOOKED}) AS first_order_date,
       max(order_date) FILTER (WHERE {_BOOKED}) AS last_order_date,
       count(DISTINCT order_id) FILTER (WHERE {_BOOKED}) AS frequency
FROM fct_bookings
WHERE {_SCOPE}
GROUP BY account_id
ORDER BY account_id
"""
"""One row per customer of the scope (lines of any date): the exact parts of the totals."""

LINES_SQL = f"""
SELECT {_BOOKED} AS booked,
       {_AGE} AS age_days,
       order_date - DATE '1970-01-01' AS day_number,
       products.product_number,
       {{amount}} AS amount_value,
       {{discount}} AS discount_value
FROM fct_bookings
JOIN (
    SELECT product_id, row_number() OVER (ORDER BY product_id) - 1 AS product_number
    FROM (SELECT DISTINCT product_id FROM fct_bookings WHERE {_SCOPE})
) AS products USING (product_id)
WHERE {_SCOPE}
ORDER BY account_id, {LINE_ORDER}
"""
"""The scope's lines as numbers only, in :data:`ACCOUNTS_SQL` order, then line order (the
order of the pandas path): what the sums need, and the day and product of each line."""

FAMILY_LINES_SQL = f"""
SELECT account_id, product_family, count(*) AS lines
FROM fct_bookings
WHERE {_BOOKED} AND {_SCOPE}
GROUP BY ALL
ORDER BY ALL
"""
"""One row per customer x product family (:attr:`OrderBookTotals.family_lines`)."""

PRODUCTS_SQL = f"""
SELECT DISTINCT product_id FROM fct_bookings WHERE {_SCOPE} ORDER BY product_id
"""
"""The scope's products, in the order of their ``product_number`` in :data:`LINES_SQL`."""


def kahan_group_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sums of consecutive groups of ``values``, bit for bit as a pandas groupby sums them.

    pandas adds a group's floats in row order with Kahan compensation, so a total depends on
    the order of the lines in its last bit (and a fit such as Gamma-Gamma can turn on that
    bit). This repeats the same steps in the same order, for all groups at once.

    Args:
        values: The values, group after group, each group in row order.
        counts: The number of values of each group (0 gives a sum of 0).

    Returns:
        One sum per group.
    """
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    longest_first = np.argsort(-counts, kind="stable")
    lengths, firsts = counts[longest_first], starts[longest_first]
    sums = np.zeros(len(counts))
    compensation = np.zeros(len(counts))
    for step in range(int(lengths[0]) if len(lengths) else 0):
        active = int(np.searchsorted(-lengths, -step, side="left"))  # groups longer than step
        y = values[firsts[:active] + step] - compensation[:active]
        t = sums[:active] + y
        compensation[:active] = (t - sums[:active]) - y
        sums[:active] = t
    result = np.empty(len(counts))
    result[longest_first] = sums
    return result


@dataclass(frozen=True)
class _FloatColumn:
    """How to read a number column of ``fct_bookings`` as the floats pandas gets from Arrow.

    A DECIMAL is read as its unscaled integer and multiplied by ``10 ** -scale`` here, exactly
    as Arrow converts it (DuckDB's own conversion differs in the last bit for some values).
    """

    sql: str
    scale: int | None

    @classmethod
    def of(cls, warehouse: Warehouse, column: str) -> _FloatColumn:
        kinds = warehouse.query(
            f"SELECT typeof({column}) AS kind FROM (SELECT {column} FROM fct_bookings LIMIT 1)"
        )["kind"]
        found = re.fullmatch(r"DECIMAL\(\d+,(\d+)\)", kinds.iloc[0]) if len(kinds) else None
        if found is None:
            return cls(f"CAST({column} AS DOUBLE)", None)
        scale = int(found[1])
        return cls(f"CAST({column} * {10**scale} AS BIGINT)", scale)

    def floats(self, values: pd.Series) -> np.ndarray:
        """The fetched values as float64."""
        if self.scale is None:
            return values.to_numpy(dtype=float)
        return values.to_numpy(dtype=np.int64).astype(float) * 10.0**-self.scale


def warehouse_totals(
    warehouse: Warehouse, scope: str, as_of: dt.date, accounts_only: bool = False
) -> OrderBookTotals:
    """The totals of a scope's ``fct_bookings`` rows, computed in DuckDB.

    Counts, dates and distinct orders are aggregated in DuckDB; money and discount sums read
    the line values as floats (sorted, numbers only) and add them with
    :func:`kahan_group_sums`, so they equal :func:`order_book_totals` on the same rows bit for
    bit.

    Args:
        warehouse: An open warehouse.
        scope: ``all`` or a region id.
        as_of: The date the totals describe.
        accounts_only: Compute only :attr:`OrderBookTotals.accounts` (the other frames are
            empty): all that an earlier snapshot's RFM table needs.

    Returns:
        The totals, with the dtypes of :func:`order_book_totals` (text as Arrow-backed strings).
    """
    region = warehouse.check_region(scope)
    params = {"region": region, "as_of": as_of}
    scope_only = {"region": region}

    def fetch(sql: str, values: dict[str, object]) -> pd.DataFrame:
        frame = warehouse.query(sql, values)
        text = [c for c in frame.columns if frame[c].dtype == object]
        return frame.astype(dict.fromkeys(text, pd.StringDtype("pyarrow")))

    amount, discount = (_FloatColumn.of(warehouse, name) for name in ("amount", "discount"))

    everyone = fetch(ACCOUNTS_SQL, params)
    lines = warehouse.query(
        LINES_SQL.format(amount=amount.sql, discount=discount.sql),
        params,
    )
    booked = lines["booked"].to_numpy(dtype=bool)
    amounts = amount.floats(lines["amount_value"])
    age_days = lines["age_days"].to_numpy()
    line_floats = {
        "amount": amounts,
        "discount": discount.floats(lines["discount_value"]),
        "last_12m": np.where(age_days < DAYS_PER_YEAR, amounts, 0.0),
        "prior_12m": np.where(
            (age_days >= DAYS_PER_YEAR) & (age_days < 2 * DAYS_PER_YEAR), amounts, 0.0
        ),
    }
    sums = {
        name: kahan_group_sums(floats[booked], everyone["booked_lines"])
        for name, floats in line_floats.items()
    }
    del booked, line_floats, age_days
    has_booked = (everyone["booked_lines"] > 0).to_numpy()
    accounts = everyone.assign(
        monetary=sums["amount"],
        discount_depth=sums["discount"] / everyone["booked_lines"].where(has_booked),
        last_12m=sums["last_12m"],
        prior_12m=sums["prior_12m"],
    )[has_booked][list(ACCOUNT_TOTALS_COLUMNS)]
    accounts = accounts.reset_index(drop=True).astype(
        {
            "first_order_date": "datetime64[ns]",
            "last_order_date": "datetime64[ns]",
            "frequency": "int64",
        }
    )
    if accounts_only:
        empty = pd.DataFrame()
        return OrderBookTotals(accounts, empty, empty, empty, empty)
    account_ids = everyone["account_id"]
    account_numbers = np.repeat(np.arange(len(everyone)), everyone["lines"].to_numpy())
    day_numbers = lines["day_number"].to_numpy(dtype=np.int64)
    product_numbers = lines["product_number"].to_numpy(dtype=np.int64)
    del lines
    # A stable sort keeps each group's lines in line order, as the pandas groupby adds them.
    by_day = np.lexsort((day_numbers, account_numbers))
    day_accounts, days = account_numbers[by_day], day_numbers[by_day]
    firsts = (
        np.flatnonzero(
            np.r_[True, (day_accounts[1:] != day_accounts[:-1]) | (days[1:] != days[:-1])]
        )
        if len(day_accounts)
        else np.zeros(0, dtype=np.int64)  # no order lines: no customer-days
    )
    daily = pd.DataFrame(
        {
            "account_id": account_ids.iloc[day_accounts[firsts]].reset_index(drop=True),
            "order_date": pd.to_datetime(days[firsts], unit="D").astype("datetime64[ns]"),
            "amount": kahan_group_sums(amounts[by_day], np.diff(np.r_[firsts, len(by_day)])),
        }
    )
    del by_day, day_accounts, days
    products = fetch(PRODUCTS_SQL, scope_only)
    by_product = np.argsort(product_numbers, kind="stable")
    per_product = np.bincount(product_numbers, minlength=len(products))
    return OrderBookTotals(
        accounts=accounts,
        family_lines=fetch(FAMILY_LINES_SQL, params).astype({"lines": "int64"}),
        daily=daily,
        account_amounts=pd.DataFrame(
            {"account_id": account_ids, "amount": kahan_group_sums(amounts, everyone["lines"])}
        ),
        product_amounts=products.assign(amount=kahan_group_sums(amounts[by_product], per_product)),
    )
