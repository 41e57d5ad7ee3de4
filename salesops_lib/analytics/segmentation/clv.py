"""Customer lifetime value: one definition, from the order book to CLV per customer.

:func:`fit_clv` is the metric every report, the analytics store and an analyst use:

* **Who**: every customer (account) with an order up to the as-of date; a *transaction* is a
  customer's purchase day (:func:`summary_from_orders`).
* **Window**: the whole order book up to the as-of date is the calibration period, in weeks.
* **Models**: BG/NBD (repeat purchasing) and Gamma-Gamma (spend per purchase), fitted by maximum
  likelihood (:mod:`salesops_lib.analytics.segmentation.clv_models`).
* **Value**: expected spend over the next :data:`CLV_MONTHS` months, discounted at
  :data:`MONTHLY_DISCOUNT_RATE` a month (:func:`clv_table`).
* **Fallbacks**: with fewer than :data:`MIN_CLV_CUSTOMERS` customers or
  :data:`MIN_REPEAT_CUSTOMERS` repeat buyers, or when a fit fails (no convergence, no finite
  mean spend), there is no CLV and the outcome's ``note`` says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from salesops_lib.analytics.segmentation.clv_models import (
    WEEKS_PER_MONTH,
    BGNBDParams,
    GammaGammaParams,
    customer_lifetime_value,
    expected_average_spend,
    expected_purchases,
    fit_bgnbd,
    fit_gamma_gamma,
    probability_alive,
)
from salesops_lib.analytics.segmentation.rfm import as_of_timestamp, check_order_book
from salesops_lib.core.errors import ParameterError

PERIOD_DAYS: dict[str, int] = {"D": 1, "W": 7}
"""Length in days of the time units :func:`summary_from_orders` accepts."""

CLV_MONTHS = 12
"""Horizon of the CLV, in months."""

MONTHLY_DISCOUNT_RATE = 0.01
"""Monthly discount rate of the CLV (about 12.7% a year)."""

MIN_CLV_CUSTOMERS = 30
"""Fewer customers than this get no CLV."""

MIN_REPEAT_CUSTOMERS = 10
"""Fewer customers with a repeat purchase than this get no CLV."""


@dataclass(frozen=True)
class ClvOutcome:
    """The lifetime-value fit of one order book, or why there is none.

    Attributes:
        table: One row per customer: :func:`summary_from_orders` columns plus
            probability_alive, expected_purchases, expected_average_spend and clv (expected
            spend over the next :data:`CLV_MONTHS` months); None when there is no CLV.
        bgnbd: Fitted BG/NBD parameters, or None.
        gamma_gamma: Fitted Gamma-Gamma parameters, or None.
        customers: Customers with an order up to the as-of date.
        repeat_customers: Those with at least one repeat purchase day.
        note: Why CLV is missing ("" when it is there).
    """

    table: pd.DataFrame | None
    bgnbd: BGNBDParams | None
    gamma_gamma: GammaGammaParams | None
    customers: int
    repeat_customers: int
    note: str


def fit_clv(bookings: pd.DataFrame, as_of: str | dt.date | pd.Timestamp) -> ClvOutcome:
    """Fit BG/NBD and Gamma-Gamma on an order book (weekly periods) and predict each CLV.

    Args:
        bookings: Order book (account_id, order_date, amount); orders after ``as_of`` are
            ignored.
        as_of: End of the calibration period.

    Returns:
        The predictions, or a note saying why there are none (see the module docstring).

    Raises:
        ParameterError: The order book is not usable.
    """
    if bookings.empty:
        return ClvOutcome(None, None, None, 0, 0, "No orders, so no lifetime value.")
    summary = summary_from_orders(bookings, as_of, period="W")
    customers, repeaters = len(summary), int((summary["x"] > 0).sum())
    if customers < MIN_CLV_CUSTOMERS or repeaters < MIN_REPEAT_CUSTOMERS:
        return ClvOutcome(
            None,
            None,
            None,
            customers,
            repeaters,
            f"Only {customers} customer(s), {repeaters} with repeat purchases: the lifetime "
            f"value models need at least {MIN_CLV_CUSTOMERS} customers and "
            f"{MIN_REPEAT_CUSTOMERS} repeat buyers, so no CLV is shown.",
        )
    try:
        bgnbd = fit_bgnbd(summary["x"], summary["t_x"], summary["T"])
        spend = fit_gamma_gamma(summary["x"], summary["zbar"])
        table = clv_table(summary, bgnbd, spend, CLV_MONTHS, MONTHLY_DISCOUNT_RATE)
    except ParameterError as exc:
        note = f"The lifetime value models could not be fitted: {exc}."
        return ClvOutcome(None, None, None, customers, repeaters, note)
    return ClvOutcome(table, bgnbd, spend, customers, repeaters, "")


def summary_from_orders(
    orders: pd.DataFrame, as_of: str | dt.date | pd.Timestamp, period: str = "W"
) -> pd.DataFrame:
    """Per-customer (x, t_x, T, zbar) summary of an order book, as in the published CDNOW file.

    A *transaction* is a customer's purchase day: all orders of one customer on one calendar
    day are summed into one (as Fader & Hardie do). Only orders up to and including ``as_of``
    (the end of the calibration period) count.

    * x: repeat transactions, i.e. purchase days after the first one;
    * t_x: days from the first to the last purchase day, divided by the period length;
    * T: days from the first purchase day to ``as_of``, divided by the period length;
    * zbar: mean amount of the repeat transactions (0 when x = 0).

    Times are exact day differences over 7 for weeks (fractional, e.g. 213 / 7 = 30.43), not
    counts of calendar weeks.

    Args:
        orders: Order book (account_id, order_date, amount).
        as_of: Last day of the calibration period.
        period: Time unit of t_x and T: "W" (weeks, default) or "D" (days).

    Returns:
        One row per customer with a purchase up to ``as_of``, sorted by account_id: account_id,
        first_purchase_date, x (int), t_x, T, zbar, monetary (total spend, first purchase
        included).

    Raises:
        ParameterError: Unusable order book, bad ``as_of`` or unknown ``period``.
    """
    check_order_book(orders)
    if period not in PERIOD_DAYS:
        raise ParameterError(f"period {period!r} is not one of {sorted(PERIOD_DAYS)}")
    end = as_of_timestamp(as_of)
    days = orders[["account_id", "amount"]].assign(day=orders["order_date"].dt.normalize())
    days = days[days["day"] <= end]
    daily = days.groupby(["account_id", "day"], sort=True)["amount"].sum().reset_index()
    first = daily.groupby("account_id")["day"].transform("min")
    daily["is_repeat"] = daily["day"] > first
    repeats = daily[daily["is_repeat"]].groupby("account_id")["amount"]
    summary = daily.groupby("account_id").agg(
        first_purchase_date=("day", "min"),
        last_purchase_date=("day", "max"),
        monetary=("amount", "sum"),
    )
    summary["x"] = repeats.size().reindex(summary.index, fill_value=0).astype("int64")
    summary["zbar"] = repeats.mean().reindex(summary.index, fill_value=0.0).astype(float)
    length = PERIOD_DAYS[period]
    span = summary["last_purchase_date"] - summary["first_purchase_date"]
    summary["t_x"] = span.dt.days / length
    summary["T"] = (end - summary["first_purchase_date"]).dt.days / length
    columns = ["first_purchase_date", "x", "t_x", "T", "zbar", "monetary"]
    return summary[columns].reset_index()


def clv_table(
    summary: pd.DataFrame,
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = WEEKS_PER_MONTH,
) -> pd.DataFrame:
    """Add model predictions to a summary from :func:`summary_from_orders`.

    Args:
        summary: Rows with x, t_x, T and zbar (other columns are kept).
        bgnbd: BG/NBD parameters.
        gamma_gamma: Gamma-Gamma parameters.
        months: CLV horizon in months.
        monthly_discount_rate: Monthly discount rate of the CLV.
        periods_per_month: Time units of t_x and T per month.

    Returns:
        A copy of ``summary`` with probability_alive, expected_purchases (over the horizon),
        expected_average_spend and clv.

    Raises:
        ParameterError: A column is missing or the inputs are invalid.
    """
    missing = [c for c in ("x", "t_x", "T", "zbar") if c not in summary.columns]
    if missing:
        raise ParameterError(
            f"summary has no column {', '.join(map(repr, missing))}; pass summary_from_orders()"
        )
    x, t_x, age, zbar = (summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T", "zbar"))
    horizon = months * periods_per_month
    return summary.assign(
        probability_alive=probability_alive(bgnbd, x, t_x, age),
        expected_purchases=expected_purchases(bgnbd, horizon, x, t_x, age),
        expected_average_spend=expected_average_spend(gamma_gamma, x, zbar),
        clv=customer_lifetime_value(
            bgnbd, gamma_gamma, x, t_x, age, zbar, months, monthly_discount_rate, periods_per_month
        ),
    )
