"""Bookings variance: price, volume and mix effects between two periods, and against target.

Pure functions over frames with the ``fct_bookings`` columns (order_date, quantity, amount and
the product column, ``product_id`` or ``product_family``) and ``fct_region_targets``
(region_id, month, target_amount, bookings_amount).

Price / volume / mix, per product *i*, base period 0 and current period 1:

* Q_i = sum of quantity, R_i = sum of amount, P_i = R_i / Q_i (average realized unit price),
  QT = sum of Q over all products, m_i = Q_i / QT (the product's share of units, its mix).
* ``volume_effect`` = (QT1 - QT0) x m0_i x P0_i: the change in total units at the base mix and
  base prices.
* ``mix_effect`` = QT1 x (m1_i - m0_i) x P0_i: the shift of units between products, at base
  prices.
* ``price_effect`` = (P1_i - P0_i) x Q1_i: the price change on the current units.
* volume + mix + price = Q1_i P1_i - Q0_i P0_i = R1_i - R0_i = ``total_variance`` exactly.
* A product sold only in the current period has no base price: P0 := P1, so its price effect
  is 0 and its whole amount is mix (its m0 is 0, so its volume effect is 0). A product sold
  only in the base period: P1 := P0, price effect 0, volume + mix = -R0. A period with no units
  at all has m = 0 for every product.
* Money: volume and mix are rounded to cents and the price effect is the total variance (exact,
  in cents) minus both, so the three effects add up to the variance to the cent; the price
  effect then differs from (P1 - P0) x Q1 by at most one cent of rounding.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from salesops_lib.core.frames import require_columns, to_cents

DateLike = dt.date | str | pd.Timestamp


def period_bookings(bookings: pd.DataFrame, start: DateLike, end: DateLike) -> pd.DataFrame:
    """Order lines whose order_date is in [start, end] (both days included).

    Args:
        bookings: Rows of ``fct_bookings`` (order_date, ...).
        start: First day.
        end: Last day.

    Returns:
        A new frame with the rows of the period, all columns kept.

    Raises:
        ParameterError: If order_date is missing.
    """
    require_columns(bookings, ["order_date"], "period_bookings")
    day = pd.to_datetime(bookings["order_date"])
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    return bookings.loc[(day >= first) & (day <= last)].copy()


def _per_product(bookings: pd.DataFrame, by: str, name: str) -> pd.DataFrame:
    require_columns(bookings, [by, "quantity", "amount"], f"price_volume_mix ({name})")
    rows = bookings[[by]].assign(
        quantity=bookings["quantity"].astype(float), cents=to_cents(bookings["amount"])
    )
    return rows.groupby(by).agg(quantity=("quantity", "sum"), cents=("cents", "sum"))


def price_volume_mix(
    base: pd.DataFrame, current: pd.DataFrame, by: str = "product_id"
) -> pd.DataFrame:
    """Split the bookings variance between two periods into volume, mix and price effects.

    Args:
        base: ``fct_bookings`` rows of the base (earlier) period (quantity, amount, ``by``).
        current: ``fct_bookings`` rows of the current period.
        by: Product column: ``"product_id"`` or ``"product_family"``.

    Returns:
        One row per product sold in either period, sorted by ``by``: ``by``, quantity_base,
        quantity_current, amount_base, amount_current, price_base, price_current (P0, P1 after
        the one-period fill), mix_base, mix_current, volume_effect, mix_effect, price_effect
        and total_variance = amount_current - amount_base (formulas in the module docstring).

    Raises:
        ParameterError: If a column is missing.
    """
    b = _per_product(base, by, "base")
    c = _per_product(current, by, "current")
    d = b.join(c, how="outer", lsuffix="_0", rsuffix="_1").fillna(0)
    q0, q1 = d["quantity_0"], d["quantity_1"]
    r0, r1 = d["cents_0"].astype("int64"), d["cents_1"].astype("int64")
    p0 = (r0 / 100) / q0.where(q0 > 0)
    p1 = (r1 / 100) / q1.where(q1 > 0)
    p0, p1 = p0.fillna(p1).fillna(0.0), p1.fillna(p0).fillna(0.0)
    qt0, qt1 = q0.sum(), q1.sum()
    m0 = q0 / qt0 if qt0 else q0 * 0.0
    m1 = q1 / qt1 if qt1 else q1 * 0.0
    volume = np.round((qt1 - qt0) * m0 * p0 * 100).astype("int64")
    mix = np.round(qt1 * (m1 - m0) * p0 * 100).astype("int64")
    total = r1 - r0
    out = pd.DataFrame(
        {
            "quantity_base": q0,
            "quantity_current": q1,
            "amount_base": r0 / 100,
            "amount_current": r1 / 100,
            "price_base": p0,
            "price_current": p1,
            "mix_base": m0,
            "mix_current": m1,
            "volume_effect": volume / 100,
            "mix_effect": mix / 100,
            "price_effect": (total - volume - mix) / 100,
            "total_variance": total / 100,
        }
    )
    return out.rename_axis(by).reset_index().sort_values(by).reset_index(drop=True)


def price_volume_mix_totals(pvm: pd.DataFrame) -> pd.DataFrame:
    """Add up a price/volume/mix table.

    Args:
        pvm: Output of :func:`price_volume_mix`.

    Returns:
        One row: amount_base, amount_current, volume_effect, mix_effect, price_effect,
        total_variance, each the sum over products in exact cents.

    Raises:
        ParameterError: If a column is missing.
    """
    cols = [
        "amount_base", "amount_current", "volume_effect", "mix_effect", "price_effect",
        "total_variance",
    ]  # fmt: skip
    require_columns(pvm, cols, "price_volume_mix_totals")
    return pd.DataFrame({col: [int(to_cents(pvm[col]).sum()) / 100] for col in cols})


def target_variance(
    region_targets: pd.DataFrame,
    first_month: DateLike,
    last_month: DateLike,
    by: str = "region_id",
) -> pd.DataFrame:
    """Bookings against target over a range of months.

    Args:
        region_targets: Rows of ``fct_region_targets`` (region_id, month, target_amount,
            bookings_amount).
        first_month: First month included (any day of it).
        last_month: Last month included (any day of it).
        by: Grouping column (region_id).

    Returns:
        One row per group with a month in the range: ``by``, months, target_amount,
        bookings_amount, variance = bookings - target (exact cents), variance_pct =
        variance / target (NaN when the target is 0).

    Raises:
        ParameterError: If a column is missing.
    """
    require_columns(
        region_targets, [by, "month", "target_amount", "bookings_amount"], "target_variance"
    )
    month = pd.to_datetime(region_targets["month"]).dt.to_period("M")
    first, last = (
        pd.Period(pd.Timestamp(first_month), "M"),
        pd.Period(pd.Timestamp(last_month), "M"),
    )
    rows = region_targets.loc[(month >= first) & (month <= last)]
    rows = rows[[by, "month"]].assign(
        target=to_cents(rows["target_amount"]), booked=to_cents(rows["bookings_amount"])
    )
    out = rows.groupby(by, as_index=False).agg(
        months=("month", "nunique"), target=("target", "sum"), booked=("booked", "sum")
    )
    out["target_amount"] = out.pop("target") / 100
    out["bookings_amount"] = out.pop("booked") / 100
    variance_cents = np.round((out["bookings_amount"] - out["target_amount"]) * 100)
    out["variance"] = variance_cents / 100
    out["variance_pct"] = out["variance"] / out["target_amount"].where(out["target_amount"] != 0)
    return out


def pvm_by_family(by_product: pd.DataFrame) -> pd.DataFrame:
    """Add a per-product price/volume/mix table up to product families, in exact cents.

    Args:
        by_product: :func:`variance.price_volume_mix` by product_id with a product_family
            column.

    Returns:
        One row per family: product_family, amount_base, amount_current, volume_effect,
        mix_effect, price_effect, total_variance (each effect set still sums to the variance).
    """
    cols = ["amount_base", "amount_current", "volume_effect", "mix_effect", "price_effect",
            "total_variance"]  # fmt: skip
    cents = by_product[cols].apply(to_cents).assign(product_family=by_product["product_family"])
    out = cents.groupby("product_family", as_index=False)[cols].sum()
    for col in cols:
        out[col] = out[col] / 100
    return out
